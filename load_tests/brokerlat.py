"""Baseline: the broker's own delivery latency to an aiokafka consumer that has caught up."""

import asyncio
import threading
import time
from typing import Any

from load_tests.observe import percentiles

#: aiokafka's fetch_max_wait_ms as Faust's aiokafka driver hard-codes it, and a short one.
FAUST_FETCH_MAX_WAIT_MS = 1500
SHORT_FETCH_MAX_WAIT_MS = 100


async def _probe(bootstrap_servers: str, topic: str, wait_ms: int, count: int) -> list[float]:
    from aiokafka import AIOKafkaConsumer
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap_servers, "linger.ms": 0, "log_level": 3})
    producer.list_topics(topic, timeout=10)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=f"loadtest-brokerlat-{wait_ms}-{time.time_ns()}",
        auto_offset_reset="latest",
        fetch_max_wait_ms=wait_ms,
    )
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        await asyncio.sleep(1.0)

        def produce() -> None:
            for _ in range(count):
                producer.produce(topic, str(time.time()).encode(), b"probe")
                producer.flush(5)
                time.sleep(0.1)

        thread = threading.Thread(target=produce, daemon=True)
        thread.start()
        latencies: list[float] = []
        deadline = time.time() + count * 0.1 + 5
        while len(latencies) < count and time.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for messages in batch.values():
                latencies.extend(now - float(m.value or b"0") for m in messages)
        thread.join(10)
        return latencies
    finally:
        await consumer.stop()


def measure(bootstrap_servers: str, prefix: str, count: int = 30) -> dict[str, Any]:
    """Produce one message every 0.1 s; p50/p99 until an aiokafka consumer has it, per wait."""
    out: dict[str, Any] = {"messages": count}
    for wait_ms in (FAUST_FETCH_MAX_WAIT_MS, SHORT_FETCH_MAX_WAIT_MS):
        topic = f"{prefix}.brokerlat.{wait_ms}"
        latencies = asyncio.run(_probe(bootstrap_servers, topic, wait_ms, count))
        out[f"fetch_max_wait_{wait_ms}ms_s"] = percentiles(latencies)
    return out
