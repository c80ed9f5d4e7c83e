"""Stuck-sensor tracking."""

import random

from schemas.telemetry import CellReading
from streams.analytics.profiles import DEFAULT_PROFILE
from streams.analytics.sensors import StuckSensorTracker
from streams.analytics.stats import cell_values, summarize
from tests.analytics.helpers import cells

P = DEFAULT_PROFILE


def feed(
    tr: StuckSensorTracker,
    rng: random.Random,
    stuck_v: dict[int, float],
    current: float = 0.0,
    noisy: bool = True,
    stuck_t: dict[int, float] | None = None,
) -> tuple[int, ...]:
    volts = [round(3.7 + (rng.gauss(0, 0.0015) if noisy else 0.0), 4) for _ in range(96)]
    temps = [round(30 + (rng.gauss(0, 0.12) if noisy else 0.0), 2) for _ in range(96)]
    for i, v in stuck_v.items():
        volts[i] = v
    for i, t in (stuck_t or {}).items():
        temps[i] = t
    cl = cells(volts, temps)
    vs, ts = cell_values(cl)
    return tr.update(cl, vs, ts, current, P)


def test_frozen_voltage_detected_after_k_live_readings() -> None:
    rng = random.Random(1)
    tr = StuckSensorTracker()
    outs = [feed(tr, rng, {17: 3.7123}) for _ in range(P.stuck_voltage_readings + 2)]
    assert outs[P.stuck_voltage_readings - 1] == ()
    assert outs[P.stuck_voltage_readings] == (17,)


def test_frozen_temperature_detected() -> None:
    rng = random.Random(2)
    tr = StuckSensorTracker()
    outs = [feed(tr, rng, {}, stuck_t={3: 31.11}) for _ in range(P.stuck_temp_readings + 2)]
    assert outs[-1] == (3,)
    assert outs[P.stuck_temp_readings - 1] == ()


def test_healthy_noisy_pack_never_stuck() -> None:
    rng = random.Random(3)
    tr = StuckSensorTracker()
    assert all(feed(tr, rng, {}) == () for _ in range(3000))


def test_quiet_pack_at_rest_is_not_live() -> None:
    rng = random.Random(4)
    tr = StuckSensorTracker()
    assert all(feed(tr, rng, {}, noisy=False) == () for _ in range(50))


def test_current_change_makes_quiet_pack_live() -> None:
    rng = random.Random(5)
    tr = StuckSensorTracker()
    outs = [
        feed(tr, rng, {}, current=50.0 * (k % 2), noisy=False)
        for k in range(P.stuck_voltage_readings + 2)
    ]
    assert len(outs[-1]) == 96  # every voltage frozen while the current swings


def test_recovery_resets_count() -> None:
    rng = random.Random(6)
    tr = StuckSensorTracker()
    for _ in range(P.stuck_voltage_readings - 1):
        feed(tr, rng, {5: 3.7001})
    feed(tr, rng, {5: 3.7002})
    assert feed(tr, rng, {5: 3.7002}) == ()


def test_dump_load_keeps_counts() -> None:
    rng = random.Random(7)
    tr = StuckSensorTracker()
    for _ in range(P.stuck_voltage_readings):  # first reading only sets the reference
        feed(tr, rng, {8: 3.6543})
    back = StuckSensorTracker.load(tr.dump())
    assert back.dump() == tr.dump()
    assert feed(back, random.Random(8), {8: 3.6543}) == (8,)


def test_signed_zeros_are_equal_and_nan_never_is() -> None:
    """Values compare as floats: 0.0 == -0.0 repeats, NaN never does (not bitwise equality)."""
    rng = random.Random(9)
    tr = StuckSensorTracker()
    outs = []
    for k in range(P.stuck_voltage_readings + 2):
        volts = [round(3.7 + rng.gauss(0, 0.0015), 4) for _ in range(96)]
        volts[11] = 0.0 if k % 2 else -0.0
        volts[12] = float("nan")
        temps = [round(30 + rng.gauss(0, 0.12), 2) for _ in range(96)]
        cl = tuple(
            CellReading.model_construct(id=i, voltage=v, temperature=t)
            for i, (v, t) in enumerate(zip(volts, temps, strict=True))
        )
        outs.append(tr.update(cl, volts, temps, 0.0, P))
    assert outs[-1] == (11,)


def test_values_packed_by_the_caller_give_the_same_verdicts() -> None:
    rng_a, rng_b = random.Random(7), random.Random(7)
    own, given = StuckSensorTracker(), StuckSensorTracker()
    for _ in range(P.stuck_voltage_readings + 2):
        volts = [round(3.7 + rng_a.gauss(0, 0.0015), 4) for _ in range(96)]
        temps = [round(30 + rng_a.gauss(0, 0.12), 2) for _ in range(96)]
        volts[5], temps[9] = 3.7001, 31.5
        rng_b.random()
        cl = cells(volts, temps)
        vs, ts = cell_values(cl)
        _, packed = summarize(cl, vs, ts)
        assert packed is not None
        assert own.update(cl, vs, ts, 0.0, P) == given.update(cl, vs, ts, 0.0, P, packed)
    assert own.dump() == given.dump()
    assert own.update(cl, vs, ts, 0.0, P) == (5, 9)
