"""Anomaly detection: each type on both sides of its thresholds."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.alerts import AlertType, Severity
from schemas.report import Anomaly
from streams.analytics.anomalies import detect, still_elevated
from streams.analytics.profiles import DEFAULT_PROFILE, LFP, CalibrationProfile
from streams.analytics.stats import cell_stats, pack_stats
from tests.analytics.helpers import cells, sample, snapshot, spread_volts

P = DEFAULT_PROFILE


def run(snap: object, profile: CalibrationProfile = P, **kw: object) -> dict[AlertType, Anomaly]:
    stats = pack_stats(snap) if hasattr(snap, "cells") else None  # type: ignore[arg-type]
    found = detect(stats, snap, profile, **kw)  # type: ignore[arg-type]
    assert len({a.type for a in found}) == len(found), "one anomaly per type"
    return {a.type: a for a in found}


def test_healthy_pack_is_clean() -> None:
    assert run(snapshot(pack_v=3.7 * 96)) == {}


@pytest.mark.parametrize(
    ("spread", "severity"),
    [
        (0.05, None),
        (0.051, Severity.warning),
        (0.099, Severity.warning),
        (0.10, Severity.major),
        (0.11, Severity.major),
        (0.28, Severity.major),
        (0.30, Severity.critical),
    ],
)
def test_voltage_imbalance_bands(spread: float, severity: Severity | None) -> None:
    found = run(snapshot(spread_volts(96, 3.7, round(3.7 + spread, 4))))
    a = found.get(AlertType.voltage_imbalance)
    if severity is None:
        assert a is None
    else:
        assert a is not None
        assert a.severity is severity
        assert a.value == pytest.approx(spread)
        assert a.unit == "V"
        assert a.cells == (0, 1)


@pytest.mark.parametrize(
    ("temp", "severity"),
    [
        (45.0, None),
        (45.1, Severity.warning),
        (50.0, Severity.major),
        (59.9, Severity.major),
        (60.0, Severity.critical),
        (61.0, Severity.critical),
    ],
)
def test_overheating_bands(temp: float, severity: Severity | None) -> None:
    temps = [40.0] * 96
    temps[7] = temp
    a = run(snapshot(temps=temps)).get(AlertType.overheating)
    if severity is None:
        assert a is None
    else:
        assert a is not None
        assert a.severity is severity
        assert a.cells == (7,)
        assert a.value == temp
        assert a.unit == "C"


def test_overheating_from_sample() -> None:
    assert run(sample(t=0, soc=50, current=0, temp=61.0))[AlertType.overheating].severity is (
        Severity.critical
    )
    assert run(sample(t=0, soc=50, current=0, temp=44.0)) == {}


def test_seed_000_severities() -> None:
    volts = spread_volts(96, 3.70, 3.81)
    temps = [35.0] * 95 + [61.0]
    found = run(snapshot(volts, temps), soh_percent=71.0)
    assert found[AlertType.voltage_imbalance].severity is Severity.major
    assert found[AlertType.voltage_imbalance].value == pytest.approx(0.11)
    assert found[AlertType.overheating].severity is Severity.critical
    assert found[AlertType.overheating].value == 61.0


@pytest.mark.parametrize(
    ("spread", "severity"),
    [(12.0, None), (12.5, Severity.warning), (19.9, Severity.warning), (20.0, Severity.major)],
)
def test_temperature_spread(spread: float, severity: Severity | None) -> None:
    temps = [25.0] * 96
    temps[3] = 25.0 + spread
    a = run(snapshot(temps=temps)).get(AlertType.temperature_spread)
    assert (a.severity if a else None) is severity
    if a:
        assert a.cells == (3, 0)


@pytest.mark.parametrize(
    ("soh", "severity"),
    [(80.0, None), (79.9, Severity.warning), (70.0, Severity.warning), (69.9, Severity.major)],
)
def test_low_soh(soh: float, severity: Severity | None) -> None:
    a = run(snapshot(), soh_percent=soh).get(AlertType.low_soh)
    assert (a.severity if a else None) is severity


@pytest.mark.parametrize(("rate", "fires"), [(0.0, False), (0.99, False), (1.0, True), (3.0, True)])
def test_thermal_runaway_risk(rate: float, fires: bool) -> None:
    a = run(snapshot(), thermal_rate_c_per_s=rate).get(AlertType.thermal_runaway_risk)
    assert (a is not None) is fires
    if a:
        assert a.severity is Severity.critical
        assert a.unit == "C/s"


@pytest.mark.parametrize(
    ("volt", "profile", "severity"),
    [
        (4.25, P, None),
        (4.26, P, Severity.major),
        (4.45, P, Severity.critical),
        (2.8, P, None),
        (2.79, P, Severity.major),
        (3.75, LFP, None),
        (3.76, LFP, Severity.major),
        (2.4, LFP, Severity.major),
    ],
)
def test_cell_voltage_out_of_range(
    volt: float, profile: CalibrationProfile, severity: Severity | None
) -> None:
    nominal = profile.cell_nominal_v
    volts = [nominal] * 96
    volts[5] = volt
    a = run(snapshot(volts), profile).get(AlertType.cell_voltage_out_of_range)
    assert (a.severity if a else None) is severity
    if a:
        assert a.cells == (5,)


def test_dead_voltage_sensor_is_sensor_fault_not_imbalance() -> None:
    volts = [3.7] * 96
    volts[9] = 0.0
    found = run(snapshot(volts))
    assert set(found) == {AlertType.sensor_fault}
    assert found[AlertType.sensor_fault].cells == (9,)
    assert found[AlertType.sensor_fault].severity is Severity.major


def test_dead_temperature_sensor() -> None:
    temps = [30.0] * 96
    temps[2] = -40.0
    found = run(snapshot(temps=temps))
    assert set(found) == {AlertType.sensor_fault}
    temps[2] = -39.0
    assert AlertType.sensor_fault not in run(snapshot(temps=temps))


@pytest.mark.parametrize(("error", "fires"), [(0.0, False), (0.019, False), (0.05, True)])
def test_pack_voltage_mismatch(error: float, fires: bool) -> None:
    pack_v = 3.7 * 96 * (1.0 + error)
    found = run(snapshot(pack_v=pack_v))
    assert (AlertType.sensor_fault in found) is fires


def test_stuck_cells_reported() -> None:
    a = run(snapshot(), stuck_cells=(4, 8))[AlertType.sensor_fault]
    assert a.cells == (4, 8)


def test_imbalance_ir_drop_allowance_under_load() -> None:
    volts = spread_volts(96, 3.7, 3.76)  # 0.06 V spread
    pack_v = round(sum(volts), 2)
    at_rest = run(snapshot(volts, pack_v=pack_v, current=0.0))
    assert at_rest[AlertType.voltage_imbalance].severity is Severity.warning
    # 2C (60 kWh pack, ~355 V -> ~338 A): allowance 0.03 V -> warning band starts at 0.08 V
    loaded = run(snapshot(volts, pack_v=pack_v, current=-338.0))
    assert AlertType.voltage_imbalance not in loaded
    volts = spread_volts(96, 3.7, 3.79)
    a = run(snapshot(volts, pack_v=round(sum(volts), 2), current=-338.0))
    assert a[AlertType.voltage_imbalance].severity is Severity.warning
    assert a[AlertType.voltage_imbalance].threshold == pytest.approx(0.08, abs=0.001)


def test_still_elevated_hysteresis_band() -> None:
    low = cell_stats(cells(spread_volts(4, 3.7, 3.745)))
    high = cell_stats(cells(spread_volts(4, 3.7, 3.735)))
    snap = snapshot()
    assert still_elevated(AlertType.voltage_imbalance, low, snap, P, None)
    assert not still_elevated(AlertType.voltage_imbalance, high, snap, P, None)
    assert still_elevated(AlertType.low_soh, None, snap, P, 80.5)
    assert not still_elevated(AlertType.low_soh, None, snap, P, 81.5)
    assert not still_elevated(AlertType.sensor_fault, low, snap, P, None)


@given(
    st.lists(st.floats(3.0, 4.3), min_size=2, max_size=100),
    st.lists(st.floats(-10.0, 90.0), min_size=100, max_size=100),
    st.randoms(use_true_random=False),
)
def test_decisions_independent_of_cell_order(
    volts: list[float], temps: list[float], rnd: object
) -> None:
    cl = cells(volts, temps[: len(volts)])
    shuffled = list(cl)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = run(snapshot(cell_list=cl))
    b = run(snapshot(cell_list=tuple(shuffled)))
    assert {k: (v.severity, v.value, v.cells) for k, v in a.items()} == {
        k: (v.severity, v.value, v.cells) for k, v in b.items()
    }
