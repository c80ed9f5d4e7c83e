"""`voltstream report`: seed worked examples, series input, and every bad-input class -> exit 2."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from voltstream.cli import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(["report", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


def _snapshot(
    voltages: list[float],
    temperatures: list[float],
    current_kwh: float = 54.9,
    nominal_kwh: float = 60.0,
    vehicle_id: str = "EV-45821",
    timestamp: str = "2025-10-04T10:30:00.000000Z",
) -> dict[str, Any]:
    return {
        "vehicle_id": vehicle_id,
        "timestamp": timestamp,
        "cells": [
            {"id": i, "voltage": v, "temperature": t}
            for i, (v, t) in enumerate(zip(voltages, temperatures, strict=True))
        ],
        "cycle_count": 412,
        "nominal_capacity_kwh": nominal_kwh,
        "current_capacity_kwh": current_kwh,
    }


def _seed_001() -> dict[str, Any]:
    """96 cells: 3.852-4.132 V (spread 0.280 V), 26.45-44.12 C (mean 34.28 C)."""
    voltages = [3.852, 4.132] + [3.95 + 0.001 * (i % 50) for i in range(94)]
    temperatures = [26.45, 44.12] + [34.28 + (0.5 if i % 2 else -0.5) for i in range(94)]
    mean = sum(temperatures) / len(temperatures)
    temperatures[2] += (34.28 - mean) * len(temperatures)
    return _snapshot(voltages, temperatures)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_seed_001_worked_example(run: Run, tmp_path: Path) -> None:
    log = _write(tmp_path, "log.json", json.dumps(_seed_001(), indent=2))
    out = tmp_path / "report.json"
    code, stdout, stderr = run(str(log), "--out", str(out))
    assert code == 0, stderr
    report = json.loads(out.read_text())
    assert report["battery_soh"] == 91.5
    assert report["cycle_count"] == 412
    kinds = {a["type"]: a["severity"] for a in report["anomalies"]}
    assert kinds["voltage_imbalance"] == "major"  # 0.280 V: >= 0.10 major, < 0.30 critical
    assert "overheating" not in kinds  # 44.12 C <= 45 C
    assert "low_soh" not in kinds  # 91.5 % >= 80 %
    assert report["soh"]["method"] == "measured_capacity"
    assert report["diagnostics"]["cell_count"] == 96
    assert report["diagnostics"]["voltage_spread_v"] == pytest.approx(0.28)
    assert "State of Health (SOH): 91.5%" in stdout
    assert "Voltage Range: 3.852V - 4.132V" in stdout
    assert "Voltage Spread: 0.280V" in stdout
    assert "Temperature Range: 26.45°C - 44.12°C" in stdout
    assert "Average Temperature: 34.28°C" in stdout
    assert "Type: voltage_imbalance" in stdout


def test_seed_000_severities(run: Run, tmp_path: Path) -> None:
    voltages = [3.90, 4.01] + [3.95] * 94
    temperatures = [61.0] + [35.0] * 95
    snap = _snapshot(voltages, temperatures, current_kwh=42.6, vehicle_id="VIN-TEST-001")
    log = _write(tmp_path, "log.json", json.dumps(snap))
    out = tmp_path / "r.json"
    code, stdout, stderr = run(str(log), "--out", str(out), "--format", "json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report == json.loads(out.read_text())
    assert report["battery_soh"] == 71.0
    severities = {a["type"]: (a["severity"], a["value"]) for a in report["anomalies"]}
    assert severities["voltage_imbalance"][0] == "major"
    assert severities["voltage_imbalance"][1] == pytest.approx(0.11)
    assert severities["overheating"] == ("critical", 61.0)


def test_seed_000_text_lines(run: Run, tmp_path: Path) -> None:
    snap = _snapshot([3.90, 4.01] + [3.95] * 94, [61.0] + [35.0] * 95, current_kwh=42.6)
    log = _write(tmp_path, "log.json", json.dumps(snap))
    code, stdout, _ = run(str(log), "--out", str(tmp_path / "r.json"))
    assert code == 0
    assert stdout.startswith("--- Battery Health Report ---\nVehicle ID: EV-45821\n")
    assert "State of Health (SOH): 71.0%" in stdout
    assert "  - Type: voltage_imbalance, Severity: major, Value: 0.11" in stdout
    assert "  - Type: overheating, Severity: critical, Value: 61" in stdout


def test_series_json_lines_and_array(run: Run, tmp_path: Path) -> None:
    from voltstream.simulator import FaultRates, Fleet, FleetConfig

    fleet = Fleet(FleetConfig(vehicles=1, duration_s=6 * 3600.0, faults=FaultRates()))
    values = [m.value for m in fleet.messages()]
    jsonl = _write(tmp_path, "series.jsonl", b"\n".join(values) + b"\n")
    code, _, stderr = run(str(jsonl), "--out", str(tmp_path / "a.json"))
    assert code == 0, stderr
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["readings"] == len(values)
    assert report["vehicle_id"] == "EV-00000"
    array = _write(tmp_path, "series.json", "[" + ",".join(v.decode() for v in values[:50]) + "]")
    code, _, stderr = run(str(array), "--out", str(tmp_path / "b.json"))
    assert code == 0, stderr
    assert json.loads((tmp_path / "b.json").read_text())["readings"] == 50


def test_default_output_file(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    log = _write(tmp_path, "log.json", json.dumps(_seed_001()))
    code, _, _ = run(str(log))
    assert code == 0
    assert json.loads((tmp_path / "battery_report_output.json").read_text())["battery_soh"] == 91.5


GOOD = _seed_001()


def _bad_cells() -> str:
    snap = dict(GOOD)
    snap["cells"] = [{"id": 0, "voltage": "high", "temperature": 30.0}]
    return json.dumps(snap)


def _without(key: str) -> str:
    return json.dumps({k: v for k, v in GOOD.items() if k != key})


def _with(**changes: Any) -> str:
    return json.dumps({**GOOD, **changes})


BAD_INPUTS: list[tuple[str, str | bytes, str]] = [
    ("empty", "", "empty file"),
    ("blank", "  \n\n ", "empty file"),
    ("bad_json", '{"vehicle_id": "EV-1", "cells": [', "malformed_json"),
    ("not_utf8", b'{"vehicle_id": "EV-\xff\xfe"}', "not_utf8"),
    ("unknown_shape", '{"hello": "world"}', "unknown_shape"),
    ("scalar", "42", "unknown_shape"),
    ("missing_field", _without("nominal_capacity_kwh"), "nominal_capacity_kwh"),
    ("wrong_type", _bad_cells(), "cells[0].voltage"),
    ("nan", _with(current_capacity_kwh=float("nan")), "current_capacity_kwh"),
    ("negative_cycles", _with(cycle_count=-3), "cycle_count"),
    ("soc_range", _with(soc_percent=150.0), "soc_percent"),
    ("naive_timestamp", _with(timestamp="2025-10-04T10:30:00"), "timestamp"),
    ("future", _with(timestamp="2999-01-01T00:00:00Z"), "future_timestamp"),
    ("empty_array", "[]", "empty"),
    ("array_bad_element", "[" + json.dumps(GOOD) + ",{}]", "element 1"),
    ("array_bad_json", "[" + json.dumps(GOOD) + ",", "malformed_json"),
    (
        "jsonl_bad_line",
        json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n" + '{"vehicle_id": 3}\n',
        ":3: ",
    ),
    ("jsonl_bad_json_line", json.dumps(GOOD) + "\n{oops\n", ":2: malformed_json"),
    (
        "mixed_vehicles",
        json.dumps(GOOD) + "\n" + _with(vehicle_id="EV-OTHER"),
        "2 vehicles",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "expected"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_exits_2_and_writes_nothing(
    run: Run, tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    log = _write(tmp_path, f"{name}.json", content)
    out = tmp_path / "out.json"
    code, stdout, stderr = run(str(log), "--out", str(out))
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("voltstream report: ")
    assert str(log) in stderr or "--profile" in stderr
    assert expected in stderr, stderr
    assert "Traceback" not in stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [log.name]


def test_missing_file_and_unknown_profile(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    code, _, stderr = run(str(tmp_path / "nope.json"), "--out", str(out))
    assert code == 2
    assert "nope.json: cannot read" in stderr
    log = _write(tmp_path, "log.json", json.dumps(GOOD))
    code, _, stderr = run(str(log), "--out", str(out), "--profile", "nosuch")
    assert code == 2
    assert "nosuch" in stderr
    assert "known:" in stderr
    assert not out.exists()


def test_profile_option_changes_thresholds(run: Run, tmp_path: Path) -> None:
    snap = _snapshot([3.30, 3.345] + [3.32] * 94, [30.0] * 96)
    log = _write(tmp_path, "log.json", json.dumps(snap))
    out = tmp_path / "r.json"
    assert run(str(log), "--out", str(out), "--profile", "nmc")[0] == 0
    nmc = {a["type"] for a in json.loads(out.read_text())["anomalies"]}
    assert run(str(log), "--out", str(out), "--profile", "lfp")[0] == 0
    lfp = {a["type"] for a in json.loads(out.read_text())["anomalies"]}
    assert "voltage_imbalance" not in nmc
    assert "voltage_imbalance" in lfp


def test_subprocess_bad_input_has_no_traceback(tmp_path: Path) -> None:
    log = _write(tmp_path, "bad.jsonl", json.dumps(GOOD) + "\nnot json\n")
    result = subprocess.run(
        [sys.executable, "-m", "voltstream", "report", str(log), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"voltstream report: {log}:2: malformed_json")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()
