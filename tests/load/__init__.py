"""Tests of the load-test harness (load_tests/)."""
