"""The paired A/B figures: per-worker CPU seconds and their table in the report."""

import math
import os
import subprocess
import sys
from pathlib import Path

from load_tests.report import _paired
from load_tests.targets import _cpu_s


def _scenario(*workers: dict[str, object]) -> dict[str, object]:
    return {"name": "voltstream-ab", "per_worker": list(workers)}


def test_cpu_seconds_of_a_live_process_grow_and_a_gone_one_is_nan() -> None:
    before = _cpu_s(os.getpid())
    sum(i * i for i in range(300_000))
    after = _cpu_s(os.getpid())
    assert 0 < before < after
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert math.isnan(_cpu_s(int(child.stdout)))


def test_table_gives_cpu_per_reading_and_ratio_against_worker_zero() -> None:
    lines = _paired(
        _scenario(
            {"readings": 200_000, "cpu_s": 20.0, "tree": None},
            {"readings": 100_000, "cpu_s": 8.0, "tree": str(Path("/tmp/old"))},
        )
    )
    rows = [line for line in lines if line.startswith("| 0") or line.startswith("| 1")]
    assert rows == [
        "| 0 | this tree | 200,000 | 100.0 | 1.00x |",
        "| 1 | /tmp/old | 100,000 | 80.0 | 0.80x |",
    ]


def test_no_table_without_a_second_tree_or_readings_give_a_dash() -> None:
    same = _scenario({"readings": 1, "cpu_s": 1.0, "tree": None}, {"readings": 1, "cpu_s": 1.0})
    assert _paired(same) == []
    assert _paired(_scenario({"readings": 1, "cpu_s": 1.0, "tree": "/x"})) == []
    idle = _paired(
        _scenario(
            {"readings": 0, "cpu_s": 1.0, "tree": None}, {"readings": 5, "cpu_s": 1.0, "tree": "/x"}
        )
    )
    assert "| 0 | this tree | 0 | - | - |" in idle
