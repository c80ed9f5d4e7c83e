"""SOH from a measured capacity (seeds 000 and 001)."""

from hypothesis import given
from hypothesis import strategies as st

from schemas.report import Confidence, SohMethod
from streams.analytics.soh import soh_from_capacity


def test_seed_001() -> None:
    est = soh_from_capacity(54.9, 60.0)
    assert est.soh_percent == 91.5
    assert est.method is SohMethod.measured_capacity
    assert est.confidence is Confidence.high
    assert est.capacity_kwh == 54.9


def test_seed_000() -> None:
    assert soh_from_capacity(42.6, 60.0).soh_percent == 71.0


def test_bad_input_not_estimable() -> None:
    assert soh_from_capacity(0.0, 60.0).method is SohMethod.not_estimable
    assert soh_from_capacity(10.0, 0.0).method is SohMethod.not_estimable


@given(st.floats(1.0, 100.0), st.floats(1.0, 100.0), st.floats(10.0, 200.0))
def test_monotone_in_capacity(a: float, b: float, nominal: float) -> None:
    lo, hi = sorted((a, b))
    s_lo = soh_from_capacity(lo, nominal).soh_percent
    s_hi = soh_from_capacity(hi, nominal).soh_percent
    assert s_lo is not None
    assert s_hi is not None
    assert s_lo <= s_hi
