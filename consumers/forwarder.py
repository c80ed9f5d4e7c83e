"""The forwarding loop: poll a batch, filter, deliver, and only then commit its offsets."""

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from consumers.backoff import Backoff
from consumers.errors import ConsumerError
from consumers.filters import AlertFilter
from consumers.http import Heartbeat
from consumers.metrics import ForwarderMetrics
from consumers.source import AlertRecord, KafkaAlertSource
from schemas.alerts import Alert

logger = logging.getLogger(__name__)


class AlertSink(Protocol):
    """A receiver of alerts; `deliver` returns once every alert is delivered (or parked
    durably) and raises `ConsumerError` when the batch must be read again."""

    name: str

    async def deliver(self, alerts: Sequence[Alert]) -> None:
        """Deliver `alerts` in order."""


class Forwarder:
    """At-least-once forwarding from the alerts topic to one sink."""

    def __init__(
        self,
        source: KafkaAlertSource,
        sink: AlertSink,
        metrics: ForwarderMetrics,
        heartbeat: Heartbeat,
        *,
        alert_filter: AlertFilter,
        batch_max: int,
        batch_wait_s: float,
        backoff: Backoff,
    ) -> None:
        self._source = source
        self._sink = sink
        self._metrics = metrics
        self._heartbeat = heartbeat
        self._filter = alert_filter
        self._batch_max = batch_max
        self._batch_wait_s = batch_wait_s
        self._backoff = backoff
        self._redeliveries = 0

    def _select(self, records: Sequence[AlertRecord]) -> list[Alert]:
        alerts: list[Alert] = []
        for record in records:
            if record.alert is None:
                self._metrics.failure("decode")
                logger.error(
                    "skipping undecodable record %s[%d]@%d: %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    record.error,
                )
            elif self._filter.accepts(record.alert):
                alerts.append(record.alert)
            else:
                self._metrics.filtered()
        return alerts

    async def _deliver(self, alerts: Sequence[Alert]) -> None:
        task = asyncio.ensure_future(self._sink.deliver(alerts))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=1.0)
                self._heartbeat.beat()
        finally:
            if not task.done():
                task.cancel()
        task.result()

    async def run_once(self) -> int:
        """Handle one batch; return how many records were committed."""
        records = await self._source.poll_batch(self._batch_max, self._batch_wait_s)
        self._heartbeat.beat()
        self._heartbeat.ready = True
        if not records:
            return 0
        self._metrics.consumed(len(records))
        alerts = self._select(records)
        if alerts:
            await self._source.hold()
            try:
                await self._deliver(alerts)
            except ConsumerError as exc:
                delay = self._backoff.delay(self._redeliveries)
                self._redeliveries += 1
                logger.error("batch not delivered (%s); reading it again in %.1fs", exc, delay)
                await self._source.release()
                await self._source.rewind(records)
                await asyncio.sleep(delay)
                return 0
            await self._source.release()
        self._redeliveries = 0
        await self._source.commit(records)
        return len(records)

    async def run(self, stop: asyncio.Event) -> None:
        """Forward until `stop` is set (a batch in flight is finished first)."""
        await self._source.start()
        try:
            while not stop.is_set():
                await self.run_once()
        finally:
            await self._source.close()
