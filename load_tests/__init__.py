"""Load tests and benchmarks: the pipeline harness (`python -m load_tests.pipeline`) and friends."""
