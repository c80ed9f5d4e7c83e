"""Thermal-runaway precursor rule (>= 1 C/s sustained for > 3 s)."""

from streams.analytics.thermal import ThermalRateTracker

RATE, SUSTAIN, GAP = 1.0, 3.0, 60.0


def feed(points: list[tuple[float, float]]) -> list[float]:
    tr = ThermalRateTracker()
    return [tr.update(t, temp, RATE, SUSTAIN, GAP) for t, temp in points]


def test_one_c_per_s_for_four_seconds_fires() -> None:
    out = feed([(float(t), 30.0 + t) for t in range(6)])
    assert out[:4] == [0.0, 0.0, 0.0, 0.0]  # 0..3 s: not longer than 3 s yet
    assert out[4] == 1.0
    assert out[5] == 1.0


def test_short_burst_does_not_fire() -> None:
    pts = [(0.0, 30.0), (1.0, 32.0), (2.0, 34.0), (3.0, 34.0), (4.0, 34.0), (5.0, 34.1)]
    assert max(feed(pts)) == 0.0


def test_just_below_rate_never_fires() -> None:
    assert max(feed([(float(t), 30.0 + 0.95 * t) for t in range(30)])) == 0.0


def test_sparse_snapshots_single_long_step() -> None:
    assert feed([(0.0, 40.0), (30.0, 75.0)])[1] > 1.0
    assert feed([(0.0, 40.0), (30.0, 60.0)])[1] == 0.0


def test_gap_breaks_run() -> None:
    out = feed([(0.0, 30.0), (2.0, 32.0), (100.0, 200.0), (101.0, 201.0)])
    assert max(out) == 0.0


def test_quantised_noise_tolerated() -> None:
    temps = [30.0, 31.0, 31.6, 33.0, 34.0, 34.7, 36.0, 37.0]
    out = feed([(float(t), v) for t, v in enumerate(temps)])
    assert out[-1] >= 1.0


def test_dump_load_round_trip() -> None:
    tr = ThermalRateTracker()
    for t in range(3):
        tr.update(float(t), 30.0 + t, RATE, SUSTAIN, GAP)
    back = ThermalRateTracker.load(tr.dump())
    assert back.dump() == tr.dump()
    assert back.update(4.0, 34.0, RATE, SUSTAIN, GAP) == tr.update(4.0, 34.0, RATE, SUSTAIN, GAP)
