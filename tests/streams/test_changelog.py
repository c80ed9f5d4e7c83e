"""ChangelogWriter: one record batch per partition, order kept, delivery awaited."""

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from streams.changelog import ChangelogWriter
from streams.errors import StateTooLarge
from streams.statestore import DirtyState
from tests.streams.kafkaio import consume


class FakeBatch:
    """Holds up to `capacity` records, as aiokafka's BatchBuilder holds up to its byte size."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.records: list[tuple[bytes | None, bytes | None]] = []

    def append(self, *, timestamp: float | None, key: bytes | None, value: bytes | None) -> Any:
        assert timestamp is None
        if len(self.records) >= self.capacity or (value is not None and len(value) > 100):
            return None
        self.records.append((key, value))
        return object()


class FakeProducer:
    def __init__(self, capacity: int, fail: bool = False) -> None:
        self.capacity = capacity
        self.fail = fail
        self.sent: list[tuple[str, int, list[tuple[bytes | None, bytes | None]]]] = []
        self.pending: list[asyncio.Future[None]] = []

    def create_batch(self) -> FakeBatch:
        return FakeBatch(self.capacity)

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[None]:
        self.sent.append((topic, partition, list(batch.records)))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        return future

    def deliver(self) -> None:
        for future in self.pending:
            if self.fail:
                future.set_exception(ConnectionError("broker gone"))
            else:
                future.set_result(None)


def _states(n: int, partitions: int = 3) -> list[DirtyState]:
    return [DirtyState(f"EV-{i}", i % partitions, f"state-{i}".encode()) for i in range(n)]


async def test_states_go_out_in_batches_per_partition_in_order() -> None:
    producer = FakeProducer(capacity=4)
    states = _states(20)
    task = asyncio.ensure_future(ChangelogWriter(producer, "cl").publish(states))
    await asyncio.sleep(0.01)
    assert not task.done(), "publish must wait for the broker's acknowledgements"
    producer.deliver()
    await task
    by_partition: dict[int, list[tuple[bytes | None, bytes | None]]] = {}
    for topic, partition, records in producer.sent:
        assert topic == "cl"
        assert 1 <= len(records) <= 4
        by_partition.setdefault(partition, []).extend(records)
    for partition in range(3):
        expected = [(s.vehicle_id.encode(), s.value) for s in states if s.partition == partition]
        assert by_partition[partition] == expected
    # 7, 7 and 6 states per partition in batches of at most 4: two batches each.
    assert len(producer.sent) == 6


async def test_a_failed_delivery_fails_the_publish() -> None:
    producer = FakeProducer(capacity=100, fail=True)
    task = asyncio.ensure_future(ChangelogWriter(producer, "cl").publish(_states(5)))
    await asyncio.sleep(0.01)
    producer.deliver()
    with pytest.raises(ConnectionError):
        await task


async def test_a_state_larger_than_a_batch_is_a_typed_error() -> None:
    producer = FakeProducer(capacity=10)
    states = [*_states(2, partitions=1), DirtyState("EV-big", 0, b"x" * 500)]
    with pytest.raises(StateTooLarge, match="EV-big"):
        await ChangelogWriter(producer, "cl").publish(states)


async def test_nothing_to_publish_sends_nothing() -> None:
    producer = FakeProducer(capacity=10)
    await ChangelogWriter(producer, "cl").publish([])
    assert producer.sent == []


async def test_records_reach_the_broker_on_their_partitions(kafka_bootstrap: str) -> None:
    """Against the real (or embedded) broker: small batches force several per partition."""
    topic = f"changelog-test-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_batch_size=2_000, acks=-1)
    await producer.start()
    try:
        # Partitions exist once the topic does: the embedded broker creates it on first use.
        await producer.send_and_wait(topic, b"warm-up", partition=0)
        partitions = sorted(await producer.partitions_for(topic))
        states = [
            DirtyState(f"EV-{i}", partitions[i % len(partitions)], bytes([i % 256]) * 300)
            for i in range(200)
        ]
        await ChangelogWriter(producer, topic).publish(states)
    finally:
        await producer.stop()
    got = await asyncio.to_thread(consume, kafka_bootstrap, topic, expect=len(states) + 1)
    records = [(m.partition(), m.key(), m.value()) for m in got if m.key() is not None]
    assert len(records) == len(states)
    for partition in partitions:
        sent = [(s.vehicle_id.encode(), s.value) for s in states if s.partition == partition]
        assert [(k, v) for p, k, v in records if p == partition] == sent


def test_the_batch_path_is_taken_only_with_a_batch_capable_producer() -> None:
    from types import SimpleNamespace

    from streams.app import _batch_producer

    batch_capable = FakeProducer(capacity=1)
    app: Any = SimpleNamespace(producer=SimpleNamespace(_producer=batch_capable))
    assert _batch_producer(app) is batch_capable
    not_started: Any = SimpleNamespace(producer=SimpleNamespace(_producer=None))
    assert _batch_producer(not_started) is None
    other_driver: Any = SimpleNamespace(producer=SimpleNamespace())
    assert _batch_producer(other_driver) is None
