"""librdkafka's mock cluster through its C API (ctypes): topics with a chosen partition count."""

import ctypes
from pathlib import Path
from typing import Self

from voltstream.errors import EmbeddedServiceError

_PRODUCER = 0  # rd_kafka_type_t RD_KAFKA_PRODUCER
_ERRSTR = 512


def _library() -> ctypes.CDLL:
    """The librdkafka that confluent-kafka's extension module loaded (its wheel bundles one)."""
    import confluent_kafka

    package = Path(confluent_kafka.__file__).parent
    candidates = sorted((package.parent / "confluent_kafka.libs").glob("librdkafka*.so*"))
    candidates += sorted(package.glob("librdkafka*.so*"))
    names = [str(path) for path in candidates] + ["librdkafka.so.1"]
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(lib, "rd_kafka_mock_cluster_new"):
            return _declare(lib)
    raise EmbeddedServiceError("no librdkafka with the mock cluster API was found")


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, c_int, c_str, size = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t
    lib.rd_kafka_conf_new.restype = p
    lib.rd_kafka_conf_new.argtypes = []
    lib.rd_kafka_conf_set.restype = c_int
    lib.rd_kafka_conf_set.argtypes = [p, c_str, c_str, c_str, size]
    lib.rd_kafka_new.restype = p
    lib.rd_kafka_new.argtypes = [c_int, p, c_str, size]
    lib.rd_kafka_poll.restype = c_int
    lib.rd_kafka_poll.argtypes = [p, c_int]
    lib.rd_kafka_destroy.restype = None
    lib.rd_kafka_destroy.argtypes = [p]
    lib.rd_kafka_mock_cluster_new.restype = p
    lib.rd_kafka_mock_cluster_new.argtypes = [p, c_int]
    lib.rd_kafka_mock_cluster_destroy.restype = None
    lib.rd_kafka_mock_cluster_destroy.argtypes = [p]
    lib.rd_kafka_mock_cluster_bootstraps.restype = c_str
    lib.rd_kafka_mock_cluster_bootstraps.argtypes = [p]
    lib.rd_kafka_mock_topic_create.restype = c_int
    lib.rd_kafka_mock_topic_create.argtypes = [p, c_str, c_int, c_int]
    return lib


class MockCluster:
    """A mock cluster owned by a client handle of its own; `create_topic` sets partitions.

    Topics it has not been told about are auto-created with 4 partitions on first use, as
    with `test.mock.num.brokers`.
    """

    def __init__(self, num_brokers: int = 1) -> None:
        self._num_brokers = num_brokers
        self._lib: ctypes.CDLL | None = None
        self._rk: int | None = None
        self._cluster: int | None = None

    def start(self) -> Self:
        """Create the client handle and the cluster (its brokers listen on loopback)."""
        lib = _library()
        error = ctypes.create_string_buffer(_ERRSTR)
        conf = lib.rd_kafka_conf_new()
        for key, value in ((b"log_level", b"3"), (b"client.id", b"voltstream-embedded-kafka")):
            lib.rd_kafka_conf_set(conf, key, value, error, _ERRSTR)
        rk = lib.rd_kafka_new(_PRODUCER, conf, error, _ERRSTR)  # takes ownership of conf
        if not rk:
            raise EmbeddedServiceError(f"rd_kafka_new failed: {error.value.decode()}")
        cluster = lib.rd_kafka_mock_cluster_new(rk, self._num_brokers)
        if not cluster:
            lib.rd_kafka_destroy(rk)
            raise EmbeddedServiceError("rd_kafka_mock_cluster_new failed")
        self._lib, self._rk, self._cluster = lib, rk, cluster
        return self

    @property
    def bootstrap_servers(self) -> str:
        """The brokers' `host:port` list."""
        lib, cluster = self._running()
        value: bytes = lib.rd_kafka_mock_cluster_bootstraps(cluster)
        return value.decode()

    def create_topic(self, name: str, partitions: int) -> None:
        """Create `name` with `partitions` partitions (it must not exist yet)."""
        lib, cluster = self._running()
        err = lib.rd_kafka_mock_topic_create(cluster, name.encode(), partitions, 1)
        if err:
            raise EmbeddedServiceError(f"cannot create topic {name!r}: error {err}")

    def poll(self) -> None:
        """Serve the handle's queue (its log and error events), so it never fills up."""
        if self._lib is not None and self._rk is not None:
            self._lib.rd_kafka_poll(self._rk, 0)

    def stop(self) -> None:
        """Destroy the cluster and its handle (idempotent)."""
        lib, cluster, rk = self._lib, self._cluster, self._rk
        self._lib = self._cluster = self._rk = None
        if lib is not None and cluster is not None:
            lib.rd_kafka_mock_cluster_destroy(cluster)
        if lib is not None and rk is not None:
            lib.rd_kafka_destroy(rk)

    def _running(self) -> tuple[ctypes.CDLL, int]:
        if self._lib is None or self._cluster is None:
            raise EmbeddedServiceError("the mock cluster is not running")
        return self._lib, self._cluster
