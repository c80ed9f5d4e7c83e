"""Baseline: the straightforward Faust + pydantic agent a user would write first."""

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.telemetry import PackSample, PackSnapshot, Reading, TelemetryBatch
from streams.analytics.profiles import DEFAULT_PROFILE
from streams.analytics.state import VehicleState
from streams.analytics.stats import pack_stats
from streams.sink.rows import RowBatch


def _parse(raw: bytes, readings_per_message: int, kind: str) -> list[Reading]:
    """Validate one message with pydantic (`model_validate_json`)."""
    if readings_per_message > 1:
        return list(TelemetryBatch.model_validate_json(raw).readings)
    if kind == "sample":
        return [PackSample.model_validate_json(raw)]
    return [PackSnapshot.model_validate_json(raw)]


def faust_main(
    config: dict[str, Any], consumed: Any, committed: Any, ready: Any, stop: Any
) -> None:
    """Run a plain Faust agent (kafka:// driver, concurrency=1) in this (child) process.

    Per `stream.take()` batch: pydantic-validate every message, fold each reading into a
    `VehicleState` kept in a dict, and write the rows through `streams.sink` in one batch.
    """
    import faust
    from faust.worker import Worker

    from streams.sink.writer import BatchWriter
    from voltstream.db.pool import open_pool
    from voltstream.settings import DatabaseSettings

    datadir = Path(config["workdir"]) / "faust-baseline"
    datadir.mkdir(parents=True, exist_ok=True)
    k = int(config["readings_per_message"])
    kind = str(config["kind"])
    app = faust.App(
        config["group"],
        broker=[f"kafka://{host}" for host in config["bootstrap_servers"].split(",")],
        topic_allow_declare=not config["embedded_kafka"],
        topic_partitions=config["partitions"] or 8,
        topic_replication_factor=1,
        web_enabled=False,
        store="memory://",
        datadir=str(datadir),
        consumer_auto_offset_reset="earliest",
        value_serializer="raw",
        key_serializer="raw",
    )
    topic = app.topic(config["topic"], value_serializer="raw", key_serializer="raw")
    states: dict[str, VehicleState] = {}
    pools: list[Any] = []

    async def writer() -> BatchWriter:
        if not pools:
            pools.append(await open_pool(DatabaseSettings(), config["database_url"]))
        return BatchWriter(pools[0])

    async def count_only(stream: Any) -> None:
        """Faust's own delivery rate: take batches and count them, nothing else."""
        async for values in stream.take(config["take"], within=config["within"]):
            consumed.value += len(values)
            committed.value += len(values) * k

    async def telemetry(stream: Any) -> None:
        sink = await writer()
        async for values in stream.take(config["take"], within=config["within"]):
            consumed.value += len(values)  # off the broker, as the worker counts it
            batch = RowBatch()
            ingested_at = datetime.now(UTC)
            readings = 0
            for value in values:
                for reading in _parse(value, k, kind):
                    state = states.get(reading.vehicle_id)
                    if state is None:
                        state = states[reading.vehicle_id] = VehicleState(reading.vehicle_id)
                    outcome = state.process(reading, DEFAULT_PROFILE)
                    if isinstance(reading, PackSnapshot):
                        stats = outcome.stats or pack_stats(reading)
                        batch.add_snapshot(reading, stats, outcome.late, ingested_at)
                    else:
                        batch.add_sample(reading, outcome.late, ingested_at)
                    for alert in outcome.alerts:
                        batch.add_alert(alert)
                    readings += 1
            await sink.write(batch)
            committed.value += readings

    app.agent(topic, name="telemetry", concurrency=1)(
        telemetry if config.get("process", True) else count_only
    )

    async def on_ready(*_: Any, **__: Any) -> None:
        ready.set()

    app.on_rebalance_complete.connect(on_ready)

    # Stopped by SIGTERM (Faust shuts down gracefully); `stop` is for the cooperative baselines.
    del stop
    worker = Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False)
    with contextlib.suppress(SystemExit):
        worker.execute_from_commandline()
