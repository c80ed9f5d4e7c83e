"""round6 against round(x, 6)."""

import math

from hypothesis import example, given
from hypothesis import strategies as st

from streams.analytics.rounding import round6


@given(st.floats(allow_nan=False, allow_infinity=False))
@example(2.675e-6)
@example(0.5e-6)
@example(-1.5e-6)
@example(1e9 + 0.1234565)
@example(5e-324)
def test_round6_is_round_to_six_decimals(x: float) -> None:
    got, want = round6(x), round(x, 6)
    assert abs(got - want) <= 1e-6 * (1 + 1e-9) + abs(want) * 1e-15
    if abs(x) < 1e9:
        k = round(got * 1e6)
        assert got == k / 1e6  # exactly k micro-units
        assert len(repr(got).partition(".")[2].partition("e")[0]) <= 6 or "e" in repr(got)


@given(st.floats(-1e6, 1e6))
def test_round6_agrees_with_round_away_from_ties(x: float) -> None:
    y = x * 1e6
    if abs(y - math.floor(y) - 0.5) > 1e-6:  # not within reach of a half-integer
        assert round6(x) == round(x, 6)


def test_round6_passes_non_finite_values_through() -> None:
    assert math.isnan(round6(math.nan))
    assert round6(math.inf) == math.inf
    assert round6(-math.inf) == -math.inf
    assert round6(1e300) == 1e300
