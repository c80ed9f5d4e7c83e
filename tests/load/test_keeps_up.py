"""The paced run's keeps-up verdict: committed rate and backlog, from the lag series."""

import math

import pytest

from load_tests.scenario import keeps_up, median_lag_s


def test_median_lag_is_in_seconds_of_offered_load() -> None:
    assert median_lag_s([0.0, 400.0, 800.0, 10_000.0, 200.0], 4_000.0) == pytest.approx(0.1)


def test_no_series_or_no_offer_gives_no_lag() -> None:
    assert math.isnan(median_lag_s([], 4_000.0))
    assert math.isnan(median_lag_s([100.0], 0.0))


def test_a_worker_with_a_small_backlog_keeps_up() -> None:
    assert keeps_up(3_270.0, 3_281.0, median_lag_s([0.0, 520.0, 430.0, 100.0, 700.0], 3_281.0))


def test_a_saturated_worker_matching_the_throttled_rate_does_not_keep_up() -> None:
    # As on 2026-12-07: 98 % of the offered rate committed, but a backlog of ~10k readings held
    # by the producer's window (2.4 s of load).
    lag = median_lag_s([150.0, 2_780.0, 9_810.0, 12_460.0, 13_620.0], 4_159.0)
    assert lag > 1.0
    assert not keeps_up(4_075.0, 4_159.0, lag)


def test_a_worker_below_the_offered_rate_does_not_keep_up() -> None:
    assert not keeps_up(3_000.0, 4_000.0, 0.05)


def test_an_unknown_backlog_or_rate_is_not_keeping_up() -> None:
    assert not keeps_up(4_000.0, 4_000.0, math.nan)
    assert not keeps_up(math.nan, 4_000.0, 0.05)
