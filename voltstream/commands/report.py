"""`voltstream report`: battery health report (seed 000/001) from a snapshot or a series file."""

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schemas.report import HealthReport
    from schemas.telemetry import PackSample, PackSnapshot

    Reading = PackSnapshot | PackSample

DEFAULT_OUT = "battery_report_output.json"


class InputError(Exception):
    """The input file cannot be reported on; the message names file, line/element and field."""


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `report` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="battery health report from a diagnostic log (snapshot, JSON array or JSON Lines)",
        description="Read one pack snapshot (seed 001 schema), or a series of snapshots/samples "
        "of one vehicle (JSON array or JSON Lines), print a health summary and write the JSON "
        "report. Invalid input exits with status 2 and writes nothing.",
    )
    parser.add_argument("log", type=Path, metavar="LOG.json", help="input file")
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="stdout format (default text)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path(DEFAULT_OUT), help=f"JSON report file ({DEFAULT_OUT})"
    )
    parser.add_argument("--profile", default=None, help="calibration profile name (nmc, lfp, ...)")
    parser.set_defaults(func=_run)


# -- input ---------------------------------------------------------------------------------------


def _describe(error: Exception) -> str:
    return " ".join(str(error).split())


def _decode(raw: bytes, where: str) -> "list[Reading]":
    from schemas.decode import decode_telemetry
    from schemas.errors import SchemaError

    try:
        results = decode_telemetry(raw)
    except SchemaError as exc:
        raise InputError(f"{where}: {_describe(exc)}") from None
    readings: list[Reading] = []
    for result in results:
        if isinstance(result, SchemaError):
            raise InputError(f"{where}: {_describe(result)}")
        readings.append(result)
    return readings


def _parse_json(raw: bytes) -> Any:
    from schemas.decode import load_json
    from schemas.errors import SchemaError

    try:
        return load_json(raw)
    except SchemaError:
        return _INVALID


_INVALID = object()


def load_readings(path: Path) -> "list[Reading]":
    """Decode every reading of `path`: one message, a JSON array of messages, or JSON Lines."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    name = str(path)
    text = raw.strip()
    if not text:
        raise InputError(f"{name}: empty file")
    lines = [(n, line) for n, line in enumerate(raw.splitlines(), start=1) if line.strip()]
    if text.startswith(b"["):
        return _load_array(raw, name)
    if len(lines) == 1:
        return _decode(raw, name)
    whole = _parse_json(raw)
    if isinstance(whole, dict):  # one pretty-printed message
        return _decode(raw, name)
    readings: list[Reading] = []
    for number, line in lines:
        readings.extend(_decode(line, f"{name}:{number}"))
    return readings


def _load_array(raw: bytes, name: str) -> "list[Reading]":
    from schemas.decode import load_json
    from schemas.errors import SchemaError

    try:
        items = load_json(raw)
    except SchemaError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{name}: not_utf8: the file is not UTF-8 text") from None
        raise InputError(f"{name}: {_describe(exc)}") from None
    if not isinstance(items, list):
        raise InputError(f"{name}: expected a JSON array of messages")
    if not items:
        raise InputError(f"{name}: the JSON array is empty")
    readings: list[Reading] = []
    for index, item in enumerate(items):
        encoded = json.dumps(item).encode("utf-8")
        readings.extend(_decode(encoded, f"{name}: element {index}"))
    return readings


def check_one_vehicle(readings: "list[Reading]", name: str) -> str:
    """The single vehicle id of the readings; several vehicles are an input error."""
    ids = sorted({r.vehicle_id for r in readings})
    if len(ids) != 1:
        shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
        raise InputError(f"{name}: readings of {len(ids)} vehicles ({shown}); give one vehicle")
    return ids[0]


# -- output --------------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:g}"


def render_text(report: "HealthReport", out: Path | None) -> str:
    """The seed 000 style summary."""
    soh = report.soh
    lines = [
        "--- Battery Health Report ---",
        f"Vehicle ID: {report.vehicle_id}",
        f"Generated At: {report.generated_at.isoformat().replace('+00:00', 'Z')}",
        f"Readings: {report.readings}",
        "",
    ]
    if report.battery_soh is None:
        lines.append("State of Health (SOH): not estimable")
    else:
        lines.append(f"State of Health (SOH): {report.battery_soh:.1f}%")
    lines.append(f"  - Method: {soh.method.value}")
    lines.append(f"  - Confidence: {soh.confidence.value}")
    if soh.capacity_kwh is not None:
        lines.append(f"  - Capacity: {soh.capacity_kwh:.2f} kWh")
    if soh.sessions:
        lines.append(f"  - Charge Sessions: {soh.sessions}")
    cycles = report.cycles
    lines += ["", "Cycles:"]
    if cycles.reported_cycle_count is not None:
        lines.append(f"  - Reported Cycle Count: {cycles.reported_cycle_count}")
    lines.append(f"  - Equivalent Full Cycles: {cycles.equivalent_full_cycles:.1f}")
    lines.append(f"  - Deep Discharge Cycles: {cycles.deep_discharge_cycles}")
    lines += ["", f"Anomalies ({len(report.anomalies)}):"]
    for anomaly in report.anomalies:
        cells = f", Cells: {list(anomaly.cells)}" if anomaly.cells else ""
        lines.append(
            f"  - Type: {anomaly.type.value}, Severity: {anomaly.severity.value}, "
            f"Value: {_num(anomaly.value)}{cells}"
        )
    diag = report.diagnostics
    if diag.cell_count is not None:
        lines += ["", "Diagnostics:", f"  - Cells: {diag.cell_count}"]
        if diag.voltage_min_v is not None and diag.voltage_max_v is not None:
            lines.append(
                f"  - Voltage Range: {diag.voltage_min_v:.3f}V - {diag.voltage_max_v:.3f}V"
            )
        if diag.voltage_spread_v is not None:
            lines.append(f"  - Voltage Spread: {diag.voltage_spread_v:.3f}V")
        if diag.temperature_min_c is not None and diag.temperature_max_c is not None:
            lines.append(
                f"  - Temperature Range: {diag.temperature_min_c:.2f}°C - "
                f"{diag.temperature_max_c:.2f}°C"
            )
        if diag.temperature_mean_c is not None:
            lines.append(f"  - Average Temperature: {diag.temperature_mean_c:.2f}°C")
    if out is not None:
        lines += ["", f"Report written to {out}"]
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same directory."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- command -------------------------------------------------------------------------------------


def build(args: argparse.Namespace) -> "HealthReport":
    """Load, validate and report; raises InputError for every user-facing problem."""
    from streams.analytics.profiles import UnknownProfileError, resolve_profile
    from streams.analytics.report import build_report

    readings = load_readings(args.log)
    check_one_vehicle(readings, str(args.log))
    hints = next(
        (r for r in readings if getattr(r, "make", None) or getattr(r, "chemistry", None)), None
    )
    try:
        profile = resolve_profile(
            args.profile,
            getattr(hints, "make", None),
            getattr(hints, "model", None),
            getattr(hints, "chemistry", None),
        )
    except UnknownProfileError as exc:
        from streams.analytics.profiles import PROFILES

        known = ", ".join(sorted(PROFILES))
        raise InputError(f"--profile: {exc} (known: {known})") from None
    try:
        return build_report(readings, profile, datetime.now(UTC))
    except ValueError as exc:
        raise InputError(f"{args.log}: {_describe(exc)}") from None


def _run(args: argparse.Namespace) -> int:
    try:
        report = build(args)
    except InputError as exc:
        print(f"voltstream report: {exc}", file=sys.stderr)
        return 2
    payload = report.model_dump_json(indent=2).encode("utf-8") + b"\n"
    try:
        write_atomically(args.out, payload)
    except OSError as exc:
        print(f"voltstream report: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        sys.stdout.write(payload.decode("utf-8"))
    else:
        sys.stdout.write(render_text(report, args.out))
    return 0
