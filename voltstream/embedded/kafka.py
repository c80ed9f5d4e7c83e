"""An embedded Kafka broker: librdkafka's mock cluster, speaking the Kafka protocol on loopback."""

import logging
import threading
from types import TracebackType
from typing import Any, Self

from voltstream.errors import EmbeddedServiceError

logger = logging.getLogger(__name__)

#: Partitions the mock cluster gives every auto-created topic.
MOCK_TOPIC_PARTITIONS = 4


class EmbeddedKafka:
    """A single-broker mock cluster that lives as long as this object is open.

    The mock cluster auto-creates topics (with `MOCK_TOPIC_PARTITIONS` partitions) but does not
    answer CreateTopics, so Faust must run with `topic_allow_declare=False` against it. It keeps
    only a few MB per partition: producers must not run far ahead of consumers.
    """

    def __init__(self, num_brokers: int = 1, start_timeout_s: float = 10.0) -> None:
        self._num_brokers = num_brokers
        self._start_timeout_s = start_timeout_s
        self._handle: Any = None
        self._bootstrap: str | None = None
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The `host:port` list of the mock brokers."""
        if self._bootstrap is None:
            raise EmbeddedServiceError("the embedded Kafka broker is not running")
        return self._bootstrap

    def start(self) -> Self:
        """Start the mock cluster and wait until its brokers answer metadata requests."""
        import confluent_kafka

        if self._handle is not None:
            return self
        try:
            handle = confluent_kafka.Producer(
                {
                    "test.mock.num.brokers": self._num_brokers,
                    "bootstrap.servers": "",
                    "client.id": "voltstream-embedded-kafka",
                    "log_level": 3,
                }
            )
            metadata = handle.list_topics(timeout=self._start_timeout_s)
        except confluent_kafka.KafkaException as exc:
            raise EmbeddedServiceError(f"cannot start the embedded Kafka broker: {exc}") from exc
        brokers = sorted(metadata.brokers.values(), key=lambda b: b.id)
        if not brokers:
            raise EmbeddedServiceError("the embedded Kafka broker reported no brokers")
        self._handle = handle
        self._bootstrap = ",".join(f"{b.host}:{b.port}" for b in brokers)
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, name="embedded-kafka", daemon=True)
        self._poller.start()
        logger.info("embedded Kafka broker on %s", self._bootstrap)
        return self

    def _poll(self) -> None:
        # Serve the handle's callbacks so librdkafka's internal queues never fill up.
        while not self._stop.wait(0.5):
            self._handle.poll(0)

    def stop(self) -> None:
        """Stop the mock cluster (idempotent)."""
        if self._handle is None:
            return
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
        self._handle.flush(1)
        self._handle = None
        self._bootstrap = None
        self._poller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
