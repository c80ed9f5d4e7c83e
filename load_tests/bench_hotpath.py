"""CPU cost of the worker's hot path per reading, in process, as ratios against baselines.

Run: ``python -m load_tests.bench_hotpath [--profile]``. Feeds the load generator's messages
(96-cell snapshots, 10 per envelope) through `TelemetryProcessor.process`, drains the changed
states for the changelog and encodes the rows for binary COPY: everything the worker does per
message except Kafka and the database round trip. In the same run it times two baselines on
the same bytes: `orjson.loads` (the floor of any JSON consumer) and `PackSnapshot` pydantic
validation per reading (the straightforward way), and prints the ratios.
"""

import argparse
import cProfile
import gc
import pstats
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from load_tests.generator import FleetSpec, TimestampText, build_templates, render
from schemas.telemetry import TelemetryBatch
from streams.analytics.state import VehicleState
from streams.dlq import SourcePosition
from streams.processor import FlushPlan, SourceMessage, TelemetryProcessor
from streams.runner import tune_gc
from streams.sink.copy import encode_rows
from streams.sink.tables import TABLES
from streams.statestore import StateStore
from voltstream.settings import PipelineSettings

READINGS_PER_MESSAGE = 10
BATCH_MESSAGES = 150


def messages(vehicles: int, rounds: int) -> list[SourceMessage]:
    """`rounds` envelopes per vehicle, 1 s of event time apart per reading."""
    spec = FleetSpec(vehicles=vehicles, readings_per_message=READINGS_PER_MESSAGE, prefix="bh")
    templates = build_templates(spec)
    stamp = TimestampText()
    start_ms = int(time.time() * 1000) - rounds * READINGS_PER_MESSAGE * 1000 - 60_000
    out: list[SourceMessage] = []
    offset = 0
    for r in range(rounds):
        for v in range(vehicles):
            base = start_ms + r * READINGS_PER_MESSAGE * 1000
            stamps = [stamp(base + k * 1000) for k in range(READINGS_PER_MESSAGE)]
            vid = spec.vehicle_id(v).encode()
            value = render(templates[(v + r) % len(templates)], vid, stamps)
            out.append(SourceMessage(vid, value, SourcePosition("t", v % 4, offset, time.time())))
            offset += 1
    return out


def run_pipeline(batch: list[SourceMessage]) -> Callable[[], None]:
    """A fresh processor; the returned call processes `batch` like the worker does."""
    store: StateStore[VehicleState] = StateStore(
        {}, factory=VehicleState, encode=VehicleState.to_bytes, decode=VehicleState.from_bytes
    )
    processor = TelemetryProcessor(PipelineSettings(rate_limit_per_s=1000.0), store)

    def go() -> None:
        for start in range(0, len(batch), BATCH_MESSAGES):
            plan = FlushPlan()
            now = datetime.now(UTC)
            for message in batch[start : start + BATCH_MESSAGES]:
                processor.process(message, plan, now)
            store.drain()
            for table in TABLES:
                rows = plan.rows.rows(table.name)
                if rows:
                    for _ in encode_rows(table.types, rows):
                        pass
            assert not plan.dead_letters, plan.dead_letters[:1]

    return go


def timed(fn: Callable[[], None]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--gc-threshold",
        type=int,
        default=PipelineSettings().gc_threshold,
        help="young-generation threshold, as the worker sets it (0: the interpreter's default)",
    )
    args = parser.parse_args()
    batch = messages(args.vehicles, args.rounds)
    tune_gc(args.gc_threshold)
    readings = len(batch) * READINGS_PER_MESSAGE
    values = [m.value for m in batch]

    def floor() -> None:
        for value in values:
            orjson.loads(value)

    def pydantic() -> None:
        for value in values:
            TelemetryBatch.model_validate_json(value)

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(run_pipeline(batch))
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    best = {"hot path": float("inf"), "orjson.loads": float("inf"), "pydantic": float("inf")}
    for _ in range(3):
        best["hot path"] = min(best["hot path"], timed(run_pipeline(batch)))
        best["orjson.loads"] = min(best["orjson.loads"], timed(floor))
        best["pydantic"] = min(best["pydantic"], timed(pydantic))
    us = {name: seconds / readings * 1e6 for name, seconds in best.items()}
    print(
        f"{readings:,} readings, 96-cell snapshots, {READINGS_PER_MESSAGE} per message,"
        f" GC threshold {gc.get_threshold()[0]}"
    )
    for name, value in us.items():
        print(f"  {name:<14} {value:7.1f} us CPU per reading")
    print(f"  hot path / orjson.loads   {us['hot path'] / us['orjson.loads']:.2f}x")
    print(f"  hot path / pydantic only  {us['hot path'] / us['pydantic']:.2f}x")


if __name__ == "__main__":
    main()
