"""Produce and consume with confluent-kafka in tests."""

import time
import uuid
from collections.abc import Callable, Iterable

import confluent_kafka


def produce(bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes]]) -> int:
    """Produce messages in order and wait for delivery; return how many."""
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    n = 0
    for key, value in messages:
        producer.produce(topic, key=key, value=value)
        n += 1
        if n % 200 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0
    return n


def consume(
    bootstrap: str,
    topic: str,
    *,
    expect: int | None = None,
    idle_s: float = 3.0,
    timeout_s: float = 60.0,
) -> list[confluent_kafka.Message]:
    """Read `topic` from the beginning until `expect` messages or `idle_s` without any."""
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    out: list[confluent_kafka.Message] = []
    deadline = time.monotonic() + timeout_s
    last = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = consumer.consume(500, timeout=0.5)
            got = [m for m in batch if m.error() is None]
            if got:
                out.extend(got)
                last = time.monotonic()
            if expect is not None and len(out) >= expect and time.monotonic() - last > 1.0:
                break
            if expect is None and out and time.monotonic() - last > idle_s:
                break
    finally:
        consumer.close()
    return out


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `predicate` until true or fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
