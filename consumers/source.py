"""The alerts topic as an async batch source with explicit, after-delivery offset commits."""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import confluent_kafka

from consumers.codec import decode_alert
from consumers.errors import AlertDecodeError, KafkaSourceError
from schemas.alerts import Alert

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One record of the alerts topic: its coordinates, raw value and decoded alert (or error)."""

    topic: str
    partition: int
    offset: int
    value: bytes
    alert: Alert | None
    error: str | None = None


def next_offsets(records: Sequence[AlertRecord]) -> dict[tuple[str, int], int]:
    """The offset to commit per partition: one past the highest record seen."""
    offsets: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        offsets[key] = max(offsets.get(key, 0), record.offset + 1)
    return offsets


def first_offsets(records: Sequence[AlertRecord]) -> dict[tuple[str, int], int]:
    """The lowest offset per partition (where to seek back to re-read a batch)."""
    offsets: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        offsets[key] = min(offsets.get(key, record.offset), record.offset)
    return offsets


class KafkaAlertSource:
    """A confluent-kafka consumer driven from one worker thread.

    Offsets are committed only by `commit`, after the caller has delivered the batch. While a
    batch is being retried the caller `hold`s the source: its partitions are paused and a
    keep-alive task keeps polling, so the consumer stays in its group.
    """

    def __init__(self, config: dict[str, Any], topic: str) -> None:
        self._config = {**config, "enable.auto.commit": False}
        self._topic = topic
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts-consumer")
        self._consumer: Any = None
        self._keepalive: asyncio.Task[None] | None = None
        self.assigned = False

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        self.assigned = True
        logger.info("assigned %s", [(p.topic, p.partition) for p in partitions])

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        logger.info("revoked %s", [(p.topic, p.partition) for p in partitions])

    def _open(self) -> None:
        try:
            consumer = confluent_kafka.Consumer(self._config)
            consumer.subscribe([self._topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        except confluent_kafka.KafkaException as exc:
            raise KafkaSourceError(f"cannot subscribe to {self._topic}: {exc}") from exc
        self._consumer = consumer

    async def start(self) -> None:
        """Create the consumer and subscribe (the group join happens on the first poll)."""
        if self._consumer is None:
            await self._run(self._open)

    @staticmethod
    def _record(message: Any) -> AlertRecord:
        value: bytes = message.value() or b""
        try:
            alert: Alert | None = decode_alert(value)
            error = None
        except AlertDecodeError as exc:
            alert, error = None, exc.detail
        return AlertRecord(
            message.topic(), message.partition(), message.offset(), value, alert, error
        )

    def _consume(self, max_records: int, wait_s: float) -> list[AlertRecord]:
        messages = self._consumer.consume(num_messages=max_records, timeout=wait_s)
        records: list[AlertRecord] = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaSourceError(f"fatal consumer error: {error}")
                logger.warning("consumer error: %s", error)
                continue
            records.append(self._record(message))
        return records

    async def poll_batch(self, max_records: int, wait_s: float) -> list[AlertRecord]:
        """Return up to `max_records` records, waiting at most `wait_s` for them."""
        return await self._run(self._consume, max_records, wait_s)

    def _commit(self, offsets: dict[tuple[str, int], int]) -> bool:
        partitions = [confluent_kafka.TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        try:
            self._consumer.commit(offsets=partitions, asynchronous=False)
        except confluent_kafka.KafkaException as exc:
            # Typically a rebalance took the partitions: their new owner re-delivers.
            logger.warning("offset commit failed (records will be re-delivered): %s", exc)
            return False
        return True

    async def commit(self, records: Sequence[AlertRecord]) -> bool:
        """Commit past `records` (call only once they are delivered); False if Kafka refused."""
        if not records:
            return True
        return await self._run(self._commit, next_offsets(records))

    def _seek(self, offsets: dict[tuple[str, int], int]) -> None:
        for (topic, partition), offset in offsets.items():
            try:
                self._consumer.seek(confluent_kafka.TopicPartition(topic, partition, offset))
            except confluent_kafka.KafkaException as exc:
                logger.info("cannot seek %s[%d] (no longer assigned?): %s", topic, partition, exc)

    async def rewind(self, records: Sequence[AlertRecord]) -> None:
        """Seek back so that `records` are read again by the next poll."""
        if records:
            await self._run(self._seek, first_offsets(records))

    def _pause(self) -> None:
        self._consumer.pause(self._consumer.assignment())

    def _resume(self) -> None:
        self._consumer.resume(self._consumer.assignment())

    def _keepalive_poll(self) -> None:
        message = self._consumer.poll(0.2)
        if message is not None and message.error() is None:
            # A partition assigned while held: put its record back and pause it too.
            self._seek({(message.topic(), message.partition()): message.offset()})
            self._pause()

    async def _keepalive_loop(self) -> None:
        while True:
            await self._run(self._keepalive_poll)
            await asyncio.sleep(1.0)

    async def hold(self) -> None:
        """Pause fetching and keep the group membership alive while a batch is retried."""
        await self._run(self._pause)
        if self._keepalive is None:
            self._keepalive = asyncio.create_task(self._keepalive_loop())

    async def release(self) -> None:
        """Stop the keep-alive and resume fetching."""
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
            self._keepalive = None
        await self._run(self._resume)

    async def close(self) -> None:
        """Leave the group without committing anything more."""
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
            self._keepalive = None
        if self._consumer is not None:
            await self._run(self._consumer.close)
            self._consumer = None
        self._executor.shutdown(wait=False)
