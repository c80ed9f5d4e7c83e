"""Discharge sessions: exact capacity and cycle features from synthetic series, state round trip."""

import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.analytics.discharge import DischargeCycle, DischargeTracker
from streams.analytics.profiles import DEFAULT_PROFILE, LFP
from streams.analytics.state import VehicleState
from tests.analytics.helpers import at, cells, sample, snapshot

P = DEFAULT_PROFILE
T0 = 1_767_225_600.0
CELLS = 96


def drive(
    tr: DischargeTracker,
    *,
    start: float,
    capacity_ah: float,
    current_a: float,
    soc0: float,
    swing: float,
    step_s: float = 10.0,
    cell_v: float = 3.7,
    temp_c: float = 30.0,
) -> tuple[float, list[DischargeCycle]]:
    """Constant-current discharge of `swing` % SOC (continuous SOC); returns (end t, cycles)."""
    out: list[DischargeCycle] = []
    duration = swing / 100.0 * capacity_ah / current_a * 3600.0
    n = round(duration / step_s)
    t = start
    for k in range(n + 1):
        t = start + k * step_s
        soc = soc0 - current_a * k * step_s / 3600.0 / capacity_ah * 100.0
        temp = temp_c + k * step_s / duration * 5.0  # warms by 5 C over the discharge
        c = tr.feed(t, soc, -current_a, cell_v * CELLS, temp, CELLS, P)
        if c is not None:
            out.append(c)
    return t, out


def park(tr: DischargeTracker, start: float, seconds: float, soc: float) -> list[DischargeCycle]:
    """Zero current every 10 s for `seconds`."""
    out = []
    for k in range(1, int(seconds // 10) + 1):
        c = tr.feed(start + 10.0 * k, soc, 0.0, 3.8 * CELLS, 25.0, CELLS, P)
        if c is not None:
            out.append(c)
    return out


def test_constant_current_discharge_gives_exact_capacity_and_features() -> None:
    tr = DischargeTracker()
    end, during = drive(tr, start=T0, capacity_ah=150.0, current_a=75.0, soc0=90.0, swing=60.0)
    assert during == []
    assert tr.active
    (cycle,) = park(tr, end, 300.0, 30.0)
    assert not tr.active
    assert cycle.cycle_index == 1
    assert cycle.capacity_ah == pytest.approx(150.0, rel=1e-7)
    assert cycle.soc_swing_percent == pytest.approx(60.0 - 75.0 * 10 / 3600 / 150 * 100, rel=1e-7)
    assert cycle.time_to_discharge_s == pytest.approx(end - T0)
    assert cycle.end_time == at(end - T0 + (T0 - at(0).timestamp()))
    assert cycle.avg_voltage_load_v == pytest.approx(3.7)
    assert cycle.mean_current_a == pytest.approx(75.0)
    assert cycle.max_temperature_c == pytest.approx(35.0)
    assert 30.0 < cycle.mean_temperature_c < 35.0
    assert cycle.mean_temperature_c == pytest.approx(32.5, abs=0.05)
    assert cycle.rest_s is None


def test_rest_since_previous_cycle_and_index() -> None:
    tr = DischargeTracker()
    end, _ = drive(tr, start=T0, capacity_ah=100.0, current_a=50.0, soc0=90.0, swing=40.0)
    (first,) = park(tr, end, 200.0, 50.0)
    start2 = end + 3600.0
    end2, _ = drive(tr, start=start2, capacity_ah=100.0, current_a=50.0, soc0=50.0, swing=40.0)
    (second,) = park(tr, end2, 200.0, 10.0)
    assert (first.cycle_index, second.cycle_index) == (1, 2)
    assert second.rest_s == pytest.approx(3600.0)
    assert tr.cycles == 2


def test_short_trip_is_a_cycle_without_capacity() -> None:
    tr = DischargeTracker()
    end, _ = drive(tr, start=T0, capacity_ah=100.0, current_a=50.0, soc0=80.0, swing=10.0)
    (cycle,) = park(tr, end, 200.0, 70.0)
    assert cycle.capacity_ah is None
    assert cycle.soc_swing_percent == pytest.approx(10.0 - 50 * 10 / 3600, rel=1e-7)
    lfp = DischargeTracker()
    end, _ = drive(lfp, start=T0, capacity_ah=100.0, current_a=50.0, soc0=80.0, swing=25.0)
    assert lfp.flush(LFP) is not None
    assert LFP.discharge_min_swing_percent == 30.0


def test_pause_shorter_than_hold_and_regen_stay_in_the_session() -> None:
    tr = DischargeTracker()
    t = T0
    soc = 90.0
    cap = 100.0
    for k in range(400):
        t += 10.0
        if 100 <= k < 106:  # a one-minute stop
            cur = 0.0
        elif k % 25 == 0:  # regenerative braking
            cur = 20.0
        else:
            cur = -60.0
        soc -= -cur * 10.0 / 3600.0 / cap * 100.0
        assert tr.feed(t, soc, cur, 355.0, 30.0, CELLS, P) is None
    cycle = tr.flush(P)
    assert cycle is not None
    assert cycle.capacity_ah == pytest.approx(cap, rel=1e-7)


def test_gap_closes_the_session_at_its_last_load_point() -> None:
    tr = DischargeTracker()
    end, _ = drive(tr, start=T0, capacity_ah=100.0, current_a=50.0, soc0=90.0, swing=40.0)
    c = tr.feed(end + 1000.0, 40.0, -50.0, 350.0, 30.0, CELLS, P)
    assert c is not None
    assert c.time_to_discharge_s == pytest.approx(end - T0)
    assert tr.active  # the point after the gap opened a new session


def test_quantised_soc_capacity_within_half_a_step() -> None:
    tr = DischargeTracker()
    cap, cur = 120.0, 60.0
    exact = 90.0
    for k in range(1200):
        t = T0 + 5.0 * k
        soc = float(math.floor(exact))  # BMS reports whole percent
        tr.feed(t, soc, -cur, 360.0, 30.0, CELLS, P)
        exact -= cur * 5.0 / 3600.0 / cap * 100.0
    cycle = tr.flush(P)
    assert cycle is not None
    assert cycle.capacity_ah is not None
    assert cycle.capacity_ah == pytest.approx(cap, rel=0.01)


def test_blip_is_not_a_cycle() -> None:
    tr = DischargeTracker()
    tr.feed(T0, 80.0, -5.0, 350.0, 25.0, CELLS, P)
    tr.feed(T0 + 10, 80.0, -5.0, 350.0, 25.0, CELLS, P)
    assert park(tr, T0 + 10, 300.0, 80.0) == []
    assert tr.cycles == 0


points = st.lists(
    st.tuples(
        st.floats(-20.0, 200.0),  # time step
        st.floats(0.0, 100.0),  # soc
        st.floats(-200.0, 100.0),  # current
        st.one_of(st.none(), st.floats(200.0, 800.0)),  # pack V
        st.floats(-20.0, 70.0),  # temperature
    ),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(points)
def test_state_round_trips_and_resumes_identically(
    steps: list[tuple[float, float, float, float | None, float]],
) -> None:
    live = DischargeTracker()
    t = T0
    for dt, soc, cur, volts, temp in steps:
        t += dt
        blob = json.dumps(live.to_state())
        restored = DischargeTracker.from_state(json.loads(blob))
        assert json.dumps(restored.to_state()) == blob
        a = live.feed(t, soc, cur, volts, temp, CELLS, P)
        b = restored.feed(t, soc, cur, volts, temp, CELLS, P)
        assert a == b
        if a is not None:
            assert a.time_to_discharge_s >= 0.0
            assert a.mean_current_a > 0.0
            assert a.capacity_ah is None or a.capacity_ah > 0.0


@settings(max_examples=40, deadline=None)
@given(
    st.floats(20.0, 400.0),  # capacity Ah
    st.floats(5.0, 300.0),  # current A
    st.floats(30.0, 95.0),  # swing %
)
def test_capacity_is_exact_for_any_constant_current_discharge(
    cap: float, cur: float, swing: float
) -> None:
    tr = DischargeTracker()
    step = min(100.0, max(1.0, swing / 100.0 * cap / cur * 3600.0 / 200.0))  # < the max gap
    drive(tr, start=T0, capacity_ah=cap, current_a=cur, soc0=99.0, swing=swing, step_s=step)
    cycle = tr.flush(P)
    assert cycle is not None
    if cycle.soc_swing_percent >= P.discharge_min_swing_percent:
        assert cycle.capacity_ah == pytest.approx(cap, rel=1e-6)


def test_vehicle_state_yields_cycles_and_reads_old_states() -> None:
    st_ = VehicleState("EV-1")
    soc = 90.0
    t = 0.0
    cycles: list[DischargeCycle] = []
    for k in range(300):
        t = 10.0 * k
        cycles.extend(st_.process(sample(t=t, soc=soc, current=-60.0), P).cycles)
        soc -= 60.0 * 10.0 / 3600.0 / 150.0 * 100.0
    blob = st_.to_bytes()
    old = json.loads(blob)[:17]  # a state written before discharge tracking
    fresh = VehicleState.from_bytes(json.dumps(old).encode())
    assert json.loads(fresh.to_bytes())[17] == [0, None]
    restored = VehicleState.from_bytes(blob)
    for k in range(1, 20):
        out = restored.process(sample(t=t + 10.0 * k, soc=soc, current=0.0), P)
        cycles.extend(out.cycles)
    (cycle,) = cycles
    assert cycle.capacity_ah == pytest.approx(150.0, rel=1e-7)
    assert cycle.avg_voltage_load_v == pytest.approx(350.0 / P.series_cells)


def test_state_with_open_discharge_stays_under_2kb() -> None:
    """test_state's worst case (64-char id, 192 cells, alerts, stuck counters) while driving."""
    for n in (96, 192):
        st_ = VehicleState("EV-" + "x" * 60)
        rng = random.Random(n)
        for k in range(50):
            volts = [round(3.7 + rng.gauss(0, 0.002), 4) for _ in range(n)]
            volts[0] = 3.5
            temps = [round(30 + rng.gauss(0, 0.2), 2) for _ in range(n)]
            temps[1] = 62.5
            st_.process(
                snapshot(
                    cell_list=cells(volts, temps),
                    t=5.0 * k,
                    current=round(-40.0 - rng.uniform(0, 150), 2),
                    soc=round(90 - 0.37 * k, 2),
                    pack_v=round(min(sum(volts) * 1.1, 1500.0), 1),
                ),
                P,
            )
        blob = st_.to_bytes()
        assert len(json.loads(blob)[17]) > 2  # a session is open
        assert len(blob) < 2048, (n, len(blob))
