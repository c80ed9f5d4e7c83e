"""Equivalent full cycles and deep-discharge cycles."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.analytics.cycles import CycleCounter
from streams.analytics.profiles import DEFAULT_PROFILE

P = DEFAULT_PROFILE


def test_efc_from_charge_throughput() -> None:
    c = CycleCounter()
    # 100 Ah nominal; 50 A charging for 2 h (1 s steps) = 100 Ah in = 1 EFC; discharge ignored
    for k in range(7201):
        c.feed(float(k), None, 50.0, 100.0, P)
    for k in range(7201, 9000):
        c.feed(float(k), None, -80.0, 100.0, P)
    assert c.efc == pytest.approx(1.0, rel=1e-3)


def test_efc_from_soc_rises_ignores_dither() -> None:
    c = CycleCounter()
    t = 0.0
    for soc in [50, 51, 50, 51, 50, 51] * 10:
        t += 1
        c.feed(t, float(soc), None, None, P)
    assert c.efc == 0.0
    for soc in range(51, 101):
        t += 1
        c.feed(t, float(soc), None, None, P)
    assert c.efc == pytest.approx(0.5, abs=0.02)


def test_deep_discharge_counted_once_until_recharged() -> None:
    c = CycleCounter()
    seq = [80, 40, 19, 15, 22, 18, 45, 15, 60, 30, 20, 90, 25]
    for t, soc in enumerate(seq):
        c.feed(float(t), float(soc), None, None, P)
    # 19 (count), 15/18/15 while not re-armed (max 45 < 50), 60 re-arms, 20 counts
    assert c.deep_discharge_cycles == 2


@given(
    st.lists(
        st.tuples(
            st.floats(0.1, 600.0),
            st.one_of(st.none(), st.floats(0.0, 100.0)),
            st.one_of(st.none(), st.floats(-500.0, 500.0)),
        ),
        max_size=80,
    )
)
def test_efc_never_decreases(points: list[tuple[float, float | None, float | None]]) -> None:
    c = CycleCounter()
    t = 0.0
    last = 0.0
    for dt, soc, cur in points:
        t += dt
        c.feed(t, soc, cur, 150.0, P)
        assert c.efc >= last
        last = c.efc
    assert CycleCounter.load(c.dump()).dump() == c.dump()
