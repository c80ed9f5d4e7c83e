"""The per-vehicle flood limit counts event time, not arrival time."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.ratelimit import EventTimeRateLimiter


def test_burst_then_limited_within_the_same_second() -> None:
    limiter = EventTimeRateLimiter(rate=10, burst=20)
    allowed = [limiter.allow("v", 1000.0) for _ in range(25)]
    assert allowed.count(True) == 20
    assert allowed[20:] == [False] * 5


def test_backlog_replayed_fast_is_not_limited_when_event_time_is_honest() -> None:
    limiter = EventTimeRateLimiter(rate=10, burst=20)
    # 10,000 readings one every 0.2 s of event time (5/s), processed in a tight loop.
    assert all(limiter.allow("v", 1000.0 + i * 0.2) for i in range(10_000))


def test_vehicles_have_separate_buckets() -> None:
    limiter = EventTimeRateLimiter(rate=1, burst=1)
    assert limiter.allow("a", 0.0)
    assert not limiter.allow("a", 0.0)
    assert limiter.allow("b", 0.0)


def test_out_of_order_readings_do_not_refill() -> None:
    limiter = EventTimeRateLimiter(rate=1, burst=1)
    assert limiter.allow("v", 100.0)
    assert not limiter.allow("v", 50.0)  # older event time: the clock does not go back
    assert limiter.allow("v", 101.0)


def test_rejects_nonsense_parameters() -> None:
    with pytest.raises(ValueError, match="rate"):
        EventTimeRateLimiter(rate=0, burst=5)


@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 50),
    duration=st.floats(1, 100),
    hz=st.floats(1, 500),
)
def test_never_admits_more_than_rate_times_duration_plus_burst(
    rate: float, burst: int, duration: float, hz: float
) -> None:
    limiter = EventTimeRateLimiter(rate=rate, burst=burst)
    n = int(duration * hz)
    admitted = sum(limiter.allow("v", i / hz) for i in range(n))
    assert admitted <= rate * (n / hz) + burst + 1e-9
