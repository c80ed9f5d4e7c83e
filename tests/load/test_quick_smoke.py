"""Smoke test of `python -m load_tests.pipeline --mode quick` on its smallest path."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

MESSAGES = 9_000  # three worker batches (3,000 readings each): a sustained rate needs several

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, int]:
    out = tmp_path_factory.mktemp("load")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "load_tests.pipeline",
            "--mode",
            "quick",
            "--only",
            "memory,raw-copy,voltstream-max",
            "--messages",
            str(MESSAGES),
            "--readings-per-message",
            "1",
            "--out",
            str(out),
        ],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        timeout=280,
        check=False,
    )
    assert (out / "results.json").exists(), completed.stdout[-4000:] + completed.stderr[-4000:]
    return json.loads((out / "results.json").read_text()), out, completed.returncode


def test_run_succeeds(result: tuple[dict[str, Any], Path, int]) -> None:
    data, _, returncode = result
    assert data["notes"] == [] or all("failed" not in n for n in data["notes"]), data["notes"]
    assert returncode == 0


def test_every_reading_is_committed_and_stored(result: tuple[dict[str, Any], Path, int]) -> None:
    data, _, _ = result
    (run,) = [s for s in data["scenarios"] if s["name"] == "voltstream-max"]
    assert run["generator"]["messages"] == MESSAGES
    assert run["expected_readings"] == MESSAGES
    assert run["committed_readings"] == MESSAGES
    assert run["rows_in_db"] == MESSAGES
    assert run["complete"] is True
    counters = run["counters"]
    assert counters["voltstream_dead_letters_total"] == 0
    assert counters["voltstream_rate_limited_total"] == 0


def test_figures_are_sane(result: tuple[dict[str, Any], Path, int]) -> None:
    data, _, _ = result
    (run,) = [s for s in data["scenarios"] if s["name"] == "voltstream-max"]
    for key in ("readings_per_s", "messages_per_s", "cpu_s", "peak_rss_mb", "readings_per_cpu_s"):
        assert _positive(run[key]), (key, run[key])
    assert run["messages_per_s"] == pytest.approx(run["readings_per_s"])  # one reading each
    latency = run["latency_commit_histogram_s"]
    assert latency["n"] == MESSAGES
    assert latency["p50"] > 0
    assert latency["p50"] <= latency["p95"]
    assert latency["p95"] <= latency["p99"]
    assert run["series"]["t"]
    assert max(run["series"]["readings_per_s"]) > 0
    raw = data["raw_copy"]
    assert _positive(raw["sink_writer_readings_per_s"])
    assert _positive(raw["plain_copy_readings_per_s"])
    memory = data["memory"]
    assert _positive(memory["rss_bytes_per_vehicle"])
    assert memory["to_bytes_mean"] > 0
    assert memory["to_bytes_mean"] <= memory["to_bytes_max"]
    budget = run["cpu_budget"]
    assert _positive(budget["consumer"])
    assert _positive(budget["generator"])
    assert budget["idle"] <= budget["cpus"]
    machine = data["machine"]
    assert _positive(machine["orjson_us_per_reading"])
    assert _positive(machine["orjson_us_per_reading_end"])
    assert _positive(machine["python_us_per_reading"])
    assert _positive(machine["python_us_per_reading_end"])
    storage = data["storage"]
    assert storage["pack_telemetry"]["rows"] >= MESSAGES
    assert _positive(storage["pack_cells"]["bytes_per_row"])


def test_outputs_are_written(result: tuple[dict[str, Any], Path, int]) -> None:
    _, out, _ = result
    text = (out / "results.md").read_text()
    assert "| voltstream-max | voltstream |" in text
    assert "Interpreter speed: a fixed pure-Python loop" in text
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
