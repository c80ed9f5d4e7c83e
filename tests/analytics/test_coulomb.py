"""Charge-session coulomb counting."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.analytics.coulomb import CapacityObservation, ChargeSessionTracker
from streams.analytics.profiles import DEFAULT_PROFILE

P = DEFAULT_PROFILE


def charge(
    capacity_ah: float,
    soc0: float,
    soc1: float,
    current: float = 30.0,
    period: float = 5.0,
    quantum: float | None = None,
    noise_a: float = 0.0,
    seed: int = 0,
    gap_at: float | None = None,
    gap_s: float = 0.0,
) -> list[CapacityObservation]:
    """Simulate rest -> constant-current charge -> rest; returns closed sessions."""
    rng = random.Random(seed)
    tr = ChargeSessionTracker()
    out: list[CapacityObservation] = []
    t = 0.0
    soc = soc0
    i_prev = 0.0

    def report(s: float) -> float:
        return round(s / quantum) * quantum if quantum else round(s, 3)

    for _ in range(10):  # rest
        obs = tr.feed(t, report(soc), 0.0, P)
        t += period
    while soc < soc1:
        dt = period
        if gap_at is not None and soc >= gap_at:
            dt += gap_s
            gap_at = None
        soc += current * dt / 36.0 / capacity_ah
        t += dt
        i_meas = current + rng.gauss(0.0, noise_a)
        obs = tr.feed(t, report(soc), i_meas, P)
        if obs is not None:
            out.append(obs)
        i_prev = i_meas
    del i_prev
    for _ in range(60):  # rest until the session closes
        t += period
        obs = tr.feed(t, report(soc), 0.0, P)
        if obs is not None:
            out.append(obs)
    return out


def test_exact_capacity_high_resolution_soc() -> None:
    (obs,) = charge(150.0, 30.0, 80.0)
    assert obs.valid
    assert obs.capacity_ah == pytest.approx(150.0, rel=2e-3)
    assert obs.soc_swing_percent == pytest.approx(50.0, abs=0.5)


@pytest.mark.parametrize("quantum", [0.5, 1.0])
def test_quantised_soc_is_cancelled_by_edges(quantum: float) -> None:
    (obs,) = charge(150.0, 30.3, 80.0, quantum=quantum)
    assert obs.valid
    assert obs.capacity_ah == pytest.approx(150.0, rel=5e-3)


def test_current_noise_averages_out() -> None:
    (obs,) = charge(150.0, 20.0, 80.0, noise_a=3.0, seed=4)
    assert obs.capacity_ah == pytest.approx(150.0, rel=5e-3)


def test_small_swing_not_estimable() -> None:
    (obs,) = charge(150.0, 60.0, 75.0)
    assert not obs.valid
    assert obs.reason == "soc_swing"
    assert math.isinf(obs.rel_std)


def test_gap_splits_session() -> None:
    out = charge(150.0, 20.0, 80.0, gap_at=50.0, gap_s=600.0)
    assert len(out) == 2
    assert all(o.valid for o in out)
    assert all(o.capacity_ah == pytest.approx(150.0, rel=5e-3) for o in out)


def test_too_few_samples_not_estimable() -> None:
    (obs,) = charge(150.0, 20.0, 80.0, current=400.0, period=60.0)
    assert not obs.valid


@settings(max_examples=15, deadline=None)
@given(
    st.floats(50.0, 300.0),
    st.floats(5.0, 40.0),
    st.floats(45.0, 60.0),
    st.floats(20.0, 80.0),
)
def test_capacity_recovered(cap: float, soc0: float, swing: float, current: float) -> None:
    (obs,) = charge(cap, soc0, soc0 + swing, current=current, period=10.0, quantum=1.0)
    assert obs.valid
    assert obs.capacity_ah == pytest.approx(cap, rel=1e-2)


def test_dump_load_mid_session() -> None:
    tr = ChargeSessionTracker()
    for k in range(30):
        tr.feed(5.0 * k, 30.0 + 0.1 * k, 30.0 if k > 3 else 0.0, P)
    back = ChargeSessionTracker.load(tr.dump())
    assert back.dump() == tr.dump()
    assert back.active
