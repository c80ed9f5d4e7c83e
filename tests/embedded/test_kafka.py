"""The embedded broker: the mock cluster's C API creates topics with a chosen partition count."""

from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer

from voltstream.embedded.kafka import MOCK_TOPIC_PARTITIONS, EmbeddedKafka
from voltstream.errors import EmbeddedServiceError


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedKafka]:
    with EmbeddedKafka() as kafka:
        yield kafka


def _partitions(bootstrap: str, topic: str) -> int:
    producer = Producer({"bootstrap.servers": bootstrap, "log_level": 3})
    return len(producer.list_topics(topic, timeout=10).topics[topic].partitions)


def test_created_topic_has_the_partitions_asked_for(broker: EmbeddedKafka) -> None:
    assert broker.can_create_topics
    broker.create_topic("eight", 8)
    assert _partitions(broker.bootstrap_servers, "eight") == 8


def test_other_topics_are_auto_created_with_the_default(broker: EmbeddedKafka) -> None:
    assert _partitions(broker.bootstrap_servers, "auto") == MOCK_TOPIC_PARTITIONS


def test_created_topic_carries_messages_on_every_partition(broker: EmbeddedKafka) -> None:
    broker.create_topic("carry", 8)
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "log_level": 3})
    for partition in range(8):
        producer.produce("carry", value=str(partition).encode(), partition=partition)
    assert producer.flush(10) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap_servers,
            "group.id": "carry",
            "auto.offset.reset": "earliest",
            "log_level": 3,
        }
    )
    consumer.subscribe(["carry"])
    seen: dict[int, bytes] = {}
    try:
        for _ in range(100):
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                seen[message.partition() or 0] = message.value() or b""
            if len(seen) == 8:
                break
    finally:
        consumer.close()
    assert seen == {p: str(p).encode() for p in range(8)}


def test_creating_an_existing_topic_is_a_typed_error(broker: EmbeddedKafka) -> None:
    broker.create_topic("twice", 2)
    with pytest.raises(EmbeddedServiceError):
        broker.create_topic("twice", 2)


def test_a_stopped_broker_cannot_create_topics() -> None:
    kafka = EmbeddedKafka().start()
    kafka.stop()
    with pytest.raises(EmbeddedServiceError):
        kafka.create_topic("late", 2)
    with pytest.raises(EmbeddedServiceError):
        _ = kafka.bootstrap_servers
