"""Instructions per reading of the in-process hot path, counted by callgrind: a noise-free A/B.

Run: ``python -m load_tests.bench_instructions [--tree PATH ...]`` (needs ``valgrind``). Timings on
a shared machine move by 10-30 % between runs minutes apart; an instruction count does not
(about +-0.5 % here, PYTHONHASHSEED fixed). Each tree is measured as two runs under
``valgrind --tool=callgrind``: one that builds the `bench_hotpath` workload (envelopes of 10
96-cell snapshots) and warms a processor, and one that does the same and then processes the
workload; the difference over the readings is the hot path's cost. ``--tree`` adds other
source trees (e.g. ``git worktree add /tmp/base HEAD~1``), each imported from its own
directory, and prints each one's count against the first. Instructions are not time (cache
misses and branch mispredictions do not count), so read them next to ``bench_hotpath``.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_CHILD = """
import sys
from load_tests.bench_hotpath import messages, run_pipeline
from streams.runner import tune_gc
from voltstream.settings import PipelineSettings
import streams
assert streams.__file__.startswith(sys.argv[3]), streams.__file__
batch = messages(int(sys.argv[2]), 2)
tune_gc(PipelineSettings().gc_threshold)
run_pipeline(batch[:40])()
go = run_pipeline(batch)
if sys.argv[1] == "run":
    go()
"""
_COLLECTED = re.compile(rb"Collected : (\d+)")
READINGS_PER_VEHICLE = 2 * 10  # two envelopes of ten snapshots


def _instructions(tree: Path, mode: str, vehicles: int) -> int:
    with tempfile.TemporaryDirectory(prefix="vs-icount-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/out",
                sys.executable,
                "-c",
                _CHILD,
                mode,
                str(vehicles),
                str(tree),
            ],
            cwd=tree,
            env=env,
            capture_output=True,
            check=True,
        )
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(done.stderr.decode(errors="replace")[-2000:])
    return int(found.group(1))


def per_reading(tree: Path, vehicles: int) -> float:
    """Hot-path instructions per reading of the source tree at `tree` (two callgrind runs)."""
    with ThreadPoolExecutor(2) as pool:
        setup, run = pool.map(lambda mode: _instructions(tree, mode, vehicles), ("setup", "run"))
    return (run - setup) / (vehicles * READINGS_PER_VEHICLE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", type=Path, default=[], help="another tree")
    parser.add_argument("--vehicles", type=int, default=200)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    trees = [Path.cwd(), *args.tree]
    first: float | None = None
    for tree in trees:
        count = per_reading(tree.resolve(), args.vehicles)
        first = count if first is None else first
        print(f"{count:11,.0f} instructions per reading  {count / first:5.3f}x  {tree}")


if __name__ == "__main__":
    main()
