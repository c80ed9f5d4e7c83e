"""Kalman fusion of per-session SOH observations."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.analytics.fusion import CapacityFilter, fuse
from streams.analytics.profiles import DEFAULT_PROFILE

P = DEFAULT_PROFILE


@settings(max_examples=50, deadline=None)
@given(st.floats(60.0, 100.0), st.floats(0.2, 3.0), st.integers(0, 10_000))
def test_converges_to_truth_under_noise(truth: float, noise: float, seed: int) -> None:
    rng = random.Random(seed)
    f = CapacityFilter()
    for _ in range(40):
        f.update(truth + rng.gauss(0.0, noise), noise, P)
    est, std = f.estimate, f.std
    assert est is not None
    assert std is not None
    assert std < noise
    assert abs(est - truth) < 5.0 * max(std, 0.3)


def test_std_shrinks_with_sessions() -> None:
    f = CapacityFilter()
    stds: list[float] = []
    for _ in range(5):
        f.update(90.0, 1.0, P)
        std = f.std
        assert std is not None
        stds.append(std)
    assert stds == sorted(stds, reverse=True)
    assert f.sessions == 5


def test_outlier_rejected_then_level_shift_accepted() -> None:
    f = CapacityFilter()
    for _ in range(5):
        f.update(90.0, 0.5, P)
    assert not f.update(60.0, 0.5, P)
    assert f.estimate is not None
    assert abs(f.estimate - 90.0) < 0.1
    assert not f.update(60.0, 0.5, P)
    assert f.update(60.0, 0.5, P)  # third in a row: a new pack
    assert f.estimate == 60.0
    assert f.sessions == 1


def test_invalid_observations_ignored() -> None:
    f = CapacityFilter()
    assert not f.update(float("nan"), 1.0, P)
    assert not f.update(90.0, 0.0, P)
    assert f.estimate is None


def test_fuse_weights_by_variance() -> None:
    out = fuse(90.0, 0.5, 100.0, 3.0)
    assert 90.0 < out.soh_percent < 90.5
    assert out.std_percent < 0.5


def test_dump_load() -> None:
    f = CapacityFilter()
    f.update(88.0, 1.0, P)
    assert CapacityFilter.load(f.dump()).dump() == f.dump()
