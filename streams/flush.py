"""Commit a flush plan: rows to the database (retrying), then alerts, dead letters and state."""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from schemas.alerts import Alert
from streams.dlq import DeadLetter
from streams.metrics import WorkerMetrics
from streams.processor import FlushPlan
from streams.sink.errors import TransientDatabaseError
from streams.sink.rows import RowBatch
from streams.sink.writer import WriteResult
from streams.statestore import DirtyState

logger = logging.getLogger(__name__)


class Outputs(Protocol):
    """Where a flush publishes; each call returns once the broker acknowledged delivery."""

    async def publish_alerts(self, alerts: Sequence[Alert]) -> None:
        """Publish alert events to the alerts topic."""

    async def publish_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Publish dead letters to the dead-letter topic."""

    async def publish_state(self, states: Sequence[DirtyState]) -> None:
        """Write changed vehicle states to the state changelog."""


class Writer(Protocol):
    """The batch writer (see `streams.sink.writer.BatchWriter`)."""

    async def write(self, batch: RowBatch) -> WriteResult:
        """Write one batch in one transaction; idempotent by the tables' unique keys."""


class Flusher:
    """Write a plan's rows (retrying transient errors forever, with backoff), then publish.

    Order matters for at-least-once delivery: rows are committed first, then alerts and dead
    letters are delivered, then the changed states go to the changelog; only then may the
    caller ack the messages. A crash at any point replays the messages, and the unique keys
    (which include the time column) and deterministic alert ids make the replay harmless.
    """

    def __init__(
        self,
        writer: Writer,
        outputs: Outputs,
        metrics: WorkerMetrics | None = None,
        *,
        retry_max_s: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._writer = writer
        self._outputs = outputs
        self._metrics = metrics
        self._retry_max_s = retry_max_s
        self._sleep = sleep

    async def flush(self, plan: FlushPlan) -> WriteResult | None:
        """Commit everything in `plan`; returns the write result (None when nothing to write)."""
        for letter in plan.dead_letters:
            source = letter.source
            plan.rows.add_dead_letter(
                time=datetime.fromtimestamp(source.timestamp, UTC),
                reason=letter.reason,
                error_class=letter.error_class,
                topic=source.topic,
                partition=source.partition,
                offset=source.offset,
                vehicle_id=letter.vehicle_id,
                detail=letter.message,
            )
        result = await self._write(plan.rows) if len(plan.rows) else None
        committed_at = time.time()
        if plan.alerts:
            await self._outputs.publish_alerts(plan.alerts)
        if plan.dead_letters:
            await self._outputs.publish_dead_letters(plan.dead_letters)
        if plan.states:
            await self._outputs.publish_state(plan.states)
        self._record(plan, result, committed_at)
        return result

    async def _write(self, rows: RowBatch) -> WriteResult:
        delay = 0.1
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                result = await self._writer.write(rows)
            except TransientDatabaseError as exc:
                attempt += 1
                if self._metrics is not None:
                    self._metrics.db_retries.inc()
                logger.warning("transient database error (attempt %d), retrying: %s", attempt, exc)
                await self._sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self._retry_max_s)
                continue
            if self._metrics is not None:
                self._metrics.db_write_seconds.observe(time.perf_counter() - started)
            return result

    def _record(self, plan: FlushPlan, result: WriteResult | None, committed_at: float) -> None:
        metrics = self._metrics
        if metrics is None:
            return
        for kind, count in plan.readings.items():
            metrics.readings_processed.labels(kind).inc(count)
        for letter in plan.dead_letters:
            metrics.dead_letters.labels(letter.reason).inc()
        for alert in plan.alerts:
            metrics.alerts_emitted.labels(alert.type, alert.severity, alert.state).inc()
        if result is not None:
            for table, count in result.rows_by_table.items():
                metrics.rows_written.labels(table).inc(count)
        if plan.late:
            metrics.late_readings.inc(plan.late)
        if plan.rate_limited:
            metrics.rate_limited.inc(plan.rate_limited)
        observe = metrics.event_latency_seconds.observe
        for produced_at in plan.message_timestamps:
            observe(max(0.0, committed_at - produced_at))
        metrics.batch_size.observe(sum(plan.readings.values()))
