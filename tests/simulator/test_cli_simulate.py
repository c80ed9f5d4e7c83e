"""`voltstream simulate` CLI: JSON Lines output, ground truth file, determinism, bad options."""

import json
from pathlib import Path

import pytest

from tests.simulator.helpers import decode_ok, rejected
from voltstream.cli import main
from voltstream.simulator import parse_duration
from voltstream.simulator.config import InvalidFleetConfig
from voltstream.simulator.pacing import Pacer


def _simulate(tmp_path: Path, name: str, *extra: str) -> tuple[Path, Path]:
    out = tmp_path / f"{name}.jsonl"
    truth = tmp_path / f"{name}.truth.jsonl"
    argv = ["simulate", "--vehicles", "4", "--duration", "2h", "--faults", "all"]
    argv += ["--out", str(out), "--truth", str(truth), "--quiet", *extra]
    assert main(argv) == 0
    return out, truth


def test_writes_messages_and_truth(tmp_path: Path) -> None:
    out, truth = _simulate(tmp_path, "a", "--seed", "3")
    lines = out.read_bytes().splitlines()
    records = [json.loads(line) for line in truth.read_text().splitlines()]
    kinds = {r["record"] for r in records}
    assert {"vehicle", "capacity", "fault", "message"} <= kinds
    odd = {r["line"]: r for r in records if r["record"] == "message"}
    assert odd
    for number, line in enumerate(lines, start=1):
        record = odd.get(number)
        if record is not None and record["kind"] == "malformed":
            assert rejected(line) != []
        else:
            assert decode_ok(line)
    again, truth_again = _simulate(tmp_path, "b", "--seed", "3")
    assert again.read_bytes() == out.read_bytes()
    assert truth_again.read_bytes() == truth.read_bytes()


def test_batches_and_stdout(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    argv = ["simulate", "--vehicles", "2", "--duration", "20m", "--faults", "none"]
    assert main([*argv, "--batch-size", "5", "--quiet"]) == 0
    lines = capsysbinary.readouterr().out.splitlines()
    assert lines
    assert all(json.loads(line)["readings"] for line in lines)


@pytest.mark.parametrize(
    "argv",
    [
        ["--duration", "soon"],
        ["--vehicles", "-1"],
        ["--batch-size", "0"],
        ["--start", "yesterday"],
        ["--start", "2026-01-01T00:00:00"],
        ["--rate", "0"],
        ["--snapshot-period", "7"],
    ],
)
def test_bad_options_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.jsonl"
    assert main(["simulate", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("voltstream simulate: ")
    assert err.count("\n") == 1
    assert not out.exists()


def test_parse_duration() -> None:
    assert parse_duration("3600") == 3600.0
    assert parse_duration("1h30m") == 5400.0
    assert parse_duration("2d") == 172_800.0
    assert parse_duration("90s") == 90.0
    for bad in ("", "1x", "h", "-5", "nan", "1h 2m"):
        with pytest.raises(InvalidFleetConfig):
            parse_duration(bad)


def test_pacer_speed_and_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    realtime = Pacer(speed=2.0, clock=lambda: now[0], sleep=sleep)
    realtime.wait(10.0)
    assert now[0] == pytest.approx(5.0)
    realtime.wait(4.0)  # already due
    assert now[0] == pytest.approx(5.0)
    now[0] = 0.0
    capped = Pacer(rate=4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(9):
        capped.wait(0.0)
    assert now[0] == pytest.approx(2.0)
    fast = Pacer()
    slept.clear()
    fast.wait(1e9)
    assert not slept
