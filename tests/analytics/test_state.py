"""Per-vehicle rolling state: ordering, health emission, offline, serialization."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.alerts import AlertState, AlertType
from schemas.report import Confidence, SohEstimate, SohMethod
from streams.analytics.profiles import DEFAULT_PROFILE
from streams.analytics.state import StateDecodeError, VehicleState
from tests.analytics.helpers import at, cells, sample, snapshot, spread_volts

P = DEFAULT_PROFILE


def test_first_snapshot_emits_measured_health_once() -> None:
    st_ = VehicleState("EV-1")
    out = st_.process(snapshot(capacity=54.9, t=0), P)
    assert out.health is not None
    assert out.health.soh_percent == 91.5
    assert out.health.method is SohMethod.measured_capacity
    assert st_.process(snapshot(capacity=54.9, t=1), P).health is None
    changed = st_.process(snapshot(capacity=54.0, t=2), P).health
    assert changed is not None
    assert changed.soh_percent == 90.0


def test_late_reading_does_not_touch_state() -> None:
    st_ = VehicleState("EV-1")
    for k in range(10):
        st_.process(snapshot(t=100.0 + k, current=30.0, soc=50.0 + k), P)
    before = st_.to_bytes()
    hot = [30.0] * 96
    hot[0] = 70.0
    out = st_.process(snapshot(temps=hot, t=100.0 - P.allowed_lateness_s - 1, current=99.0), P)
    assert out.late
    assert out.alerts == []
    assert any(a.type is AlertType.overheating for a in out.anomalies)
    assert st_.to_bytes() == before


def test_out_of_order_within_lateness_is_accepted() -> None:
    st_ = VehicleState("EV-1")
    st_.process(snapshot(t=100.0), P)
    out = st_.process(snapshot(spread_volts(96, 3.6, 3.8), t=95.0), P)
    assert not out.late
    assert [a.type for a in out.alerts] == [AlertType.voltage_imbalance]
    assert st_.last_seen is not None
    assert st_.last_seen == int(at(100.0).timestamp() * 1e6)


def test_alerts_carry_evidence() -> None:
    st_ = VehicleState("EV-1")
    temps = [55.0] * 96
    temps[42] = 61.0
    (alert,) = st_.process(snapshot(temps=temps, t=0), P).alerts
    assert alert.type is AlertType.overheating
    assert alert.cells == (42,)
    assert alert.evidence["hottest_cell"] == 42
    assert alert.evidence["recent_values"] == [61.0]
    assert alert.severity.value == "critical"


def test_offline_fires_and_resolves_when_data_returns() -> None:
    st_ = VehicleState("EV-1")
    assert st_.check_offline(at(0), 900.0) is None
    st_.process(snapshot(t=0), P)
    assert st_.check_offline(at(600), 900.0) is None
    fired = st_.check_offline(at(1000), 900.0)
    assert fired is not None
    assert fired.type is AlertType.device_offline
    assert fired.first_seen == at(0)
    assert st_.check_offline(at(1100), 900.0) is None
    back = VehicleState.from_bytes(st_.to_bytes())
    (resolved,) = back.process(snapshot(t=1200), P).alerts
    assert resolved.state is AlertState.resolved
    assert resolved.alert_id == fired.alert_id


def _charge_series(
    st_: VehicleState, true_ah: float, sessions: int, start: float = 0.0
) -> list[SohEstimate]:
    """Sample-only charge sessions 20 -> 80 % with rests in between; returns health updates."""
    rng = random.Random(0)
    t = start
    soc = 20.0
    healths: list[SohEstimate] = []
    for _ in range(sessions):
        for _ in range(30):
            t += 5.0
            st_.process(sample(t=t, soc=round(soc, 3), current=0.0), P)
        while soc < 80.0:
            t += 5.0
            cur = 40.0
            soc += cur * 5.0 / 36.0 / true_ah
            out = st_.process(sample(t=t, soc=round(soc, 3), current=cur + rng.gauss(0, 0.5)), P)
            if out.health is not None:
                healths.append(out.health)
        for _ in range(40):
            t += 5.0
            out = st_.process(sample(t=t, soc=round(soc, 3), current=0.0), P)
            if out.health is not None:
                healths.append(out.health)
        soc = 20.0
    return healths


def test_coulomb_sessions_fuse_with_bms() -> None:
    st_ = VehicleState("EV-1")
    # 96 cells x 3.65 V, 60 kWh -> 171.2 Ah nominal; true SOH 85 % -> 145.5 Ah
    nominal_ah = 60_000.0 / (96 * 3.65)
    st_.process(snapshot(t=0, capacity=51.0), P)  # BMS says 85 %
    healths = _charge_series(st_, 0.85 * nominal_ah, 3, start=10.0)
    assert len(healths) == 3
    last = healths[-1]
    assert last.method is SohMethod.fused
    assert last.soh_percent == pytest.approx(85.0, abs=0.3)
    assert last.sessions == 3
    assert last.confidence is Confidence.high


def test_bms_reporting_nominal_is_left_out() -> None:
    st_ = VehicleState("EV-1")
    nominal_ah = 60_000.0 / (96 * 3.65)
    st_.process(snapshot(t=0, capacity=60.0), P)
    healths = _charge_series(st_, 0.78 * nominal_ah, 3, start=10.0)
    last = healths[-1]
    assert last.method is SohMethod.coulomb_counting
    assert last.soh_percent == pytest.approx(78.0, abs=0.3)
    out = st_.process(snapshot(t=1e6, capacity=60.0), P)
    assert any(a.type is AlertType.low_soh for a in out.anomalies)


def test_samples_only_without_nominal_not_estimable() -> None:
    st_ = VehicleState("EV-1")
    _charge_series(st_, 150.0, 1)
    assert st_.health(P).method is SohMethod.not_estimable


def test_state_size_under_2kb() -> None:
    for n in (96, 192, 400):
        st_ = VehicleState("EV-" + "x" * 60)
        rng = random.Random(n)
        for k in range(50):
            volts = [round(3.7 + rng.gauss(0, 0.002), 4) for _ in range(n)]
            volts[0] = 3.5  # imbalance + stuck: alerts active, counters populated
            temps = [round(30 + rng.gauss(0, 0.2), 2) for _ in range(n)]
            temps[1] = 62.5
            st_.process(
                snapshot(
                    cell_list=cells(volts, temps),
                    t=5.0 * k,
                    current=40.0,
                    soc=20 + k,
                    pack_v=min(sum(volts) * 1.1, 1500.0),
                ),
                P,
            )
        blob = st_.to_bytes()
        assert len(blob) < 2048, (n, len(blob))


readings = st.lists(
    st.tuples(
        st.floats(-40.0, 30.0),  # time step (negative = out of order / late)
        st.floats(0.0, 100.0),  # soc
        st.floats(-200.0, 200.0),  # current
        st.floats(3.0, 4.3),  # cell 0 voltage
        st.floats(20.0, 80.0),  # cell 0 temperature
        st.booleans(),  # snapshot or sample
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(readings)
def test_to_bytes_round_trips_and_resumes_identically(
    steps: list[tuple[float, float, float, float, float, bool]],
) -> None:
    live = VehicleState("EV-1")
    t = 1000.0
    for dt, soc, cur, v0, t0, is_snap in steps:
        t += dt
        if is_snap:
            volts = [3.7] * 12
            volts[0] = round(v0, 4)
            temps = [30.0] * 12
            temps[0] = round(t0, 2)
            r: object = snapshot(volts, temps, t=t, current=cur, soc=soc, capacity=50.0)
        else:
            r = sample(t=t, soc=soc, current=cur, temp=t0)
        blob = live.to_bytes()
        restored = VehicleState.from_bytes(blob)
        assert restored.to_bytes() == blob
        a = live.process(r, P)  # type: ignore[arg-type]
        b = restored.process(r, P)  # type: ignore[arg-type]
        assert a == b
    assert VehicleState.from_bytes(live.to_bytes()).to_bytes() == live.to_bytes()


def test_from_bytes_rejects_garbage() -> None:
    with pytest.raises(StateDecodeError):
        VehicleState.from_bytes(b"not json")
    with pytest.raises(StateDecodeError):
        VehicleState.from_bytes(b"[99]")
    with pytest.raises(StateDecodeError):
        VehicleState.from_bytes(b'[1,"EV-1"]')


def test_samples_between_snapshots_do_not_clear_cell_alerts() -> None:
    st_ = VehicleState("EV-1")
    (fired,) = st_.process(snapshot(spread_volts(96, 3.6, 3.8), t=0), P).alerts
    for k in range(1, 10):
        assert st_.process(sample(t=k, soc=50.0, current=-20.0), P).alerts == []
    st_.process(snapshot(t=10), P)
    st_.process(snapshot(t=11), P)
    (resolved,) = st_.process(snapshot(t=12), P).alerts
    assert resolved.alert_id == fired.alert_id
    assert resolved.state is AlertState.resolved


def test_sample_only_vehicle_overheating_resolves_on_samples() -> None:
    st_ = VehicleState("EV-1")
    (fired,) = st_.process(sample(t=0, soc=50.0, current=0.0, temp=55.0), P).alerts
    assert fired.type is AlertType.overheating
    assert st_.process(sample(t=1, soc=50.0, current=0.0, temp=44.0), P).alerts == []  # held
    for k in range(2, 4):
        assert st_.process(sample(t=k, soc=50.0, current=0.0, temp=30.0), P).alerts == []
    (resolved,) = st_.process(sample(t=4, soc=50.0, current=0.0, temp=30.0), P).alerts
    assert resolved.state is AlertState.resolved


def test_outcome_carries_cell_values_of_snapshots_only() -> None:
    st_ = VehicleState("EV-1")
    volts = [3.7 + i / 10_000 for i in range(96)]
    temps = [30.0 + i / 100 for i in range(96)]
    out = st_.process(snapshot(volts, temps, t=0), P)
    assert out.volts == volts
    assert out.temps == temps
    late = st_.process(snapshot(volts, temps, t=-P.allowed_lateness_s - 1), P)
    assert late.late
    assert late.volts == volts
    sampled = st_.process(sample(t=1, soc=50.0, current=0.0), P)
    assert (sampled.volts, sampled.temps) == ([], [])
