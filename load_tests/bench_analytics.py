"""Hot-path cost of the analytics: ``VehicleState.process`` per 96-cell snapshot, as a ratio.

Run: ``python -m load_tests.bench_analytics``. Prints microseconds per snapshot for the state
update and, in the same run, for a baseline that only reads the cell values off the models
(the floor of any pure-Python pass), so the figure is comparable across noisy machines.
"""

import random
import time

from schemas.telemetry import PackSnapshot
from streams.analytics.profiles import DEFAULT_PROFILE
from streams.analytics.state import VehicleState
from tests.analytics.helpers import cells, snapshot

BUDGET_US = 25.0


def stream(n: int) -> list[PackSnapshot]:
    rng = random.Random(0)
    out = []
    for k in range(n):
        volts = [round(3.7 + rng.gauss(0, 0.0015), 4) for _ in range(96)]
        temps = [round(30 + rng.gauss(0, 0.12), 2) for _ in range(96)]
        out.append(
            snapshot(
                cell_list=cells(volts, temps),
                t=5.0 * k,
                current=round(rng.uniform(-150, 40), 2),
                soc=round(50 + 0.01 * k, 3),
                pack_v=round(sum(volts), 2),
            )
        )
    return out


def measure_us(readings: list[PackSnapshot]) -> float:
    best = float("inf")
    for _ in range(5):
        st = VehicleState("EV-1")
        process = st.process
        p = DEFAULT_PROFILE
        t = time.perf_counter()
        for r in readings:
            process(r, p)
        best = min(best, (time.perf_counter() - t) / len(readings) * 1e6)
    return best


def to_bytes_us(readings: list[PackSnapshot]) -> float:
    """``VehicleState.to_bytes`` (once per changed vehicle per flush) after the whole stream."""
    st = VehicleState("EV-1")
    for r in readings:
        st.process(r, DEFAULT_PROFILE)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(200):
            st.to_bytes()
        best = min(best, (time.perf_counter() - t) / 200 * 1e6)
    return best


def baseline_us(readings: list[PackSnapshot]) -> float:
    """Only read voltages and temperatures off every cell: the floor of a Python pass."""
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for r in readings:
            [c.voltage for c in r.cells]
            [c.temperature for c in r.cells]
        best = min(best, (time.perf_counter() - t) / len(readings) * 1e6)
    return best


def main() -> None:
    readings = stream(1000)
    us = measure_us(readings)
    floor = baseline_us(readings)
    print(f"VehicleState.process, 96-cell snapshot: {us:.1f} us (budget {BUDGET_US:.0f} us)")
    print(f"baseline (read cell values only):       {floor:.1f} us")
    print(f"ratio process / baseline:               {us / floor:.1f}x")
    print(f"VehicleState.to_bytes, 96 cells:        {to_bytes_us(readings):.1f} us")


if __name__ == "__main__":
    main()
