"""Hot-path cost: ``VehicleState.process`` on 96-cell snapshots (budget ~25 us on a quiet core)."""

import random
import time

from schemas.telemetry import PackSnapshot
from streams.analytics.profiles import DEFAULT_PROFILE
from streams.analytics.state import VehicleState
from tests.analytics.helpers import cells, snapshot

# Generous ceiling so a loaded CI box does not flake; a regression to per-cell objects, numpy
# calls or pydantic construction on the healthy path costs several times the budget and fails.
CEILING_US = 150.0


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


def test_process_96_cells_within_budget() -> None:
    us = measure_us(stream(1000))
    print(f"VehicleState.process, 96-cell snapshot: {us:.1f} us")
    assert us < CEILING_US
