"""Battery health reports: seed 000 and 001 worked examples, series reports."""

from datetime import UTC, datetime

import pytest

from schemas.alerts import AlertType, Severity
from schemas.report import Confidence, SohMethod
from streams.analytics.profiles import DEFAULT_PROFILE
from streams.analytics.report import ReportError, build_report
from tests.analytics.helpers import sample, snapshot

P = DEFAULT_PROFILE
GENERATED = datetime(2026, 1, 2, tzinfo=UTC)


def seed_001_snapshot() -> object:
    volts = [3.852, 4.132] + [round(3.9 + 0.002 * (i % 20), 3) for i in range(94)]
    temps = [26.45, 44.12] + [round(30.0 + 0.1 * (i % 40), 2) for i in range(94)]
    return snapshot(volts, temps, capacity=54.9, nominal=60.0, cycle_count=412)


def test_seed_001_worked_example() -> None:
    report = build_report([seed_001_snapshot()], P, GENERATED)  # type: ignore[list-item]
    assert report.battery_soh == 91.5
    assert report.cycle_count == 412
    assert report.soh.method is SohMethod.measured_capacity
    assert report.soh.confidence is Confidence.high
    imbalance = {a.type: a for a in report.anomalies}[AlertType.voltage_imbalance]
    assert imbalance.value == pytest.approx(0.280)
    d = report.diagnostics
    assert (d.voltage_min_v, d.voltage_max_v, d.voltage_spread_v) == (3.852, 4.132, 0.28)
    assert (d.temperature_min_c, d.temperature_max_c) == (26.45, 44.12)
    assert d.cell_count == 96
    assert report.readings == 1
    assert report.generated_at == GENERATED
    payload = report.model_dump(mode="json")
    assert list(payload)[3:6] == ["battery_soh", "cycle_count", "anomalies"]


def test_seed_000_severities() -> None:
    volts = [3.70, 3.81] + [3.75] * 94
    temps = [61.0] + [58.0] * 95
    report = build_report([snapshot(volts, temps, capacity=42.6, nominal=60.0)], P, GENERATED)
    found = {a.type: a for a in report.anomalies}
    assert report.battery_soh == 71.0
    assert report.soh.method is SohMethod.measured_capacity
    assert report.soh.confidence is Confidence.high
    assert found[AlertType.voltage_imbalance].severity is Severity.major
    assert found[AlertType.voltage_imbalance].value == pytest.approx(0.11)
    assert found[AlertType.overheating].severity is Severity.critical
    assert found[AlertType.overheating].value == 61
    assert found[AlertType.low_soh].severity is Severity.warning


def test_series_keeps_worst_per_type_and_latest_diagnostics() -> None:
    hot = [48.0] * 96
    hot[3] = 52.0
    series = [
        snapshot(temps=hot, t=0, soc=80.0, current=-50.0),
        snapshot(t=60, soc=15.0, current=-50.0),
        snapshot(t=120, soc=60.0, current=40.0),
    ]
    report = build_report(list(reversed(series)), P, GENERATED)
    assert report.readings == 3
    (overheat,) = report.anomalies
    assert overheat.severity is Severity.major
    assert overheat.cells == (3,)
    assert report.diagnostics.temperature_max_c == 30.0
    assert report.cycles.deep_discharge_cycles == 1


def test_samples_only_report() -> None:
    report = build_report([sample(t=0, soc=50.0, current=0.0)], P, GENERATED)
    assert report.battery_soh is None
    assert report.cycle_count is None
    assert report.soh.method is SohMethod.not_estimable
    assert report.diagnostics.cell_count is None


def test_report_errors() -> None:
    with pytest.raises(ReportError):
        build_report([], P, GENERATED)
    with pytest.raises(ReportError):
        build_report([snapshot(vehicle_id="EV-1"), snapshot(vehicle_id="EV-2")], P, GENERATED)
