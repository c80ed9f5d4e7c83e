"""`voltstream simulate --kafka`: every message reaches the topic, keyed by vehicle id."""

import time
import uuid
from pathlib import Path

import confluent_kafka
import pytest

from voltstream.cli import main

pytestmark = pytest.mark.integration


def test_simulate_produces_to_kafka(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic = f"sim-test-{uuid.uuid4().hex[:8]}"
    base = ["simulate", "--vehicles", "3", "--duration", "15m", "--faults", "all", "--quiet"]
    base += ["--start", "2026-01-05T07:00:00Z"]
    out = tmp_path / "expected.jsonl"
    assert main([*base, "--out", str(out)]) == 0
    expected = out.read_bytes().splitlines()
    assert main([*base, "--kafka", kafka_bootstrap, "--topic", topic]) == 0
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"sim-test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    received: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + 60.0
    try:
        while len(received) < len(expected) and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=1.0):
                key, value = msg.key(), msg.value()
                if msg.error() is None and isinstance(key, bytes) and isinstance(value, bytes):
                    received.append((key, value))
    finally:
        consumer.close()
    assert sorted(v for _, v in received) == sorted(expected)
    for key, value in received:
        if value.startswith(b'{"schema_version":1,"vehicle_id":"'):
            assert value[34:].startswith(key + b'"')
