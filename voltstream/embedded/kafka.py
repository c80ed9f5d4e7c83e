"""An embedded Kafka broker: librdkafka's mock cluster, speaking the Kafka protocol on loopback."""

import logging
import threading
from types import TracebackType
from typing import Any, Self

from voltstream.embedded.mockcluster import MockCluster
from voltstream.errors import EmbeddedServiceError

logger = logging.getLogger(__name__)

#: Partitions the mock cluster gives every auto-created topic.
MOCK_TOPIC_PARTITIONS = 4


class EmbeddedKafka:
    """A single-broker mock cluster that lives as long as this object is open.

    The mock cluster auto-creates topics (with `MOCK_TOPIC_PARTITIONS` partitions) but does not
    answer CreateTopics, so Faust must run with `topic_allow_declare=False` against it;
    `create_topic` makes a topic with another partition count through the cluster's C API. It
    keeps only a few MB per partition: producers must not run far ahead of consumers.
    """

    def __init__(self, num_brokers: int = 1, start_timeout_s: float = 10.0) -> None:
        self._num_brokers = num_brokers
        self._start_timeout_s = start_timeout_s
        self._cluster: MockCluster | None = None
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

    @property
    def can_create_topics(self) -> bool:
        """Whether `create_topic` works (the mock cluster's C API was found)."""
        return self._cluster is not None

    def create_topic(self, name: str, partitions: int) -> None:
        """Create topic `name` with `partitions` partitions, before any client uses it."""
        if self._cluster is None:
            raise EmbeddedServiceError(
                f"cannot create {name!r}: the mock cluster's C API is not available"
            )
        self._cluster.create_topic(name, partitions)

    def start(self) -> Self:
        """Start the mock cluster and wait until its brokers answer metadata requests."""
        import confluent_kafka

        if self._bootstrap is not None:
            return self
        try:
            cluster: MockCluster | None = MockCluster(self._num_brokers).start()
        except EmbeddedServiceError as exc:
            logger.info("mock cluster C API unavailable (%s): topics get 4 partitions", exc)
            cluster = None
        config: dict[str, Any] = {"client.id": "voltstream-embedded-kafka", "log_level": 3}
        if cluster is not None:
            config["bootstrap.servers"] = cluster.bootstrap_servers
        else:
            config.update({"test.mock.num.brokers": self._num_brokers, "bootstrap.servers": ""})
        try:
            # With the C API, a plain client that checks the brokers answer; without it, the
            # client whose `test.mock.num.brokers` owns the cluster.
            handle = confluent_kafka.Producer(config)
            metadata = handle.list_topics(timeout=self._start_timeout_s)
        except confluent_kafka.KafkaException as exc:
            if cluster is not None:
                cluster.stop()
            raise EmbeddedServiceError(f"cannot start the embedded Kafka broker: {exc}") from exc
        brokers = sorted(metadata.brokers.values(), key=lambda b: b.id)
        if not brokers:
            if cluster is not None:
                cluster.stop()
            raise EmbeddedServiceError("the embedded Kafka broker reported no brokers")
        self._cluster = cluster
        self._handle = handle
        self._bootstrap = ",".join(f"{b.host}:{b.port}" for b in brokers)
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, name="embedded-kafka", daemon=True)
        self._poller.start()
        logger.info("embedded Kafka broker on %s", self._bootstrap)
        return self

    def _poll(self) -> None:
        # Serve the handles' callbacks so librdkafka's internal queues never fill up.
        while not self._stop.wait(0.5):
            self._handle.poll(0)
            if self._cluster is not None:
                self._cluster.poll()

    def stop(self) -> None:
        """Stop the mock cluster (idempotent)."""
        if self._bootstrap is None:
            return
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
        self._handle.flush(1)
        self._handle = None
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None
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
