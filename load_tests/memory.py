"""Memory per tracked vehicle: `VehicleState` objects after a few readings, and their bytes form."""

import gc
import multiprocessing
import statistics
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]

from load_tests.generator import FleetSpec
from load_tests.rawcopy import readings
from streams.analytics.profiles import DEFAULT_PROFILE
from streams.analytics.state import VehicleState


def _states(n: int, pool: list[list[Any]], prefix: str) -> dict[str, VehicleState]:
    states: dict[str, VehicleState] = {}
    for i in range(n):
        vehicle_id = f"{prefix}-{i:07d}"
        state = VehicleState(vehicle_id)
        for reading in pool[i % len(pool)]:
            state.process(reading, DEFAULT_PROFILE)
        states[vehicle_id] = state
    return states


def _measure(vehicles: int, per_vehicle: int, traced: int, out: Any) -> None:
    spec = FleetSpec(variants=16, prefix="mem")
    start = datetime.now(UTC) - timedelta(minutes=10)
    series = [readings(spec, 16, start + timedelta(seconds=s)) for s in range(per_vehicle)]
    pool = [[series[s][v] for s in range(per_vehicle)] for v in range(16)]
    _states(50, pool, "warm")  # import-time caches and interned strings out of the figure
    gc.collect()
    proc = psutil.Process()
    rss_before = proc.memory_info().rss
    started = time.perf_counter()
    states = _states(vehicles, pool, "rss")
    elapsed = time.perf_counter() - started
    gc.collect()
    rss_after = proc.memory_info().rss
    sizes = [len(s.to_bytes()) for s in states.values()]
    del states
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    kept = _states(traced, pool, "tm")
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out.put(
        {
            "vehicles": vehicles,
            "readings_per_vehicle": per_vehicle,
            "rss_bytes_per_vehicle": (rss_after - rss_before) / vehicles,
            "tracemalloc_vehicles": len(kept),
            "tracemalloc_bytes_per_vehicle": (after - before) / traced,
            "to_bytes_mean": statistics.fmean(sizes),
            "to_bytes_max": max(sizes),
            "process_us_per_reading": elapsed / (vehicles * per_vehicle) * 1e6,
            "target_bytes": 2048,
        }
    )


def measure(vehicles: int, per_vehicle: int = 3, traced: int = 2_000) -> dict[str, Any]:
    """Run the measurement in a fresh process (so the RSS delta is not blurred by the harness)."""
    ctx = multiprocessing.get_context("spawn")
    out: Any = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(vehicles, per_vehicle, traced, out), daemon=True)
    proc.start()
    result: dict[str, Any] = out.get(timeout=900)
    proc.join(30)
    return result
