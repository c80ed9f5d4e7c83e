"""Provision Kafka and PostgreSQL: the configured ones, or embedded ones when none is given."""

import contextlib
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from voltstream.embedded.kafka import MOCK_TOPIC_PARTITIONS, EmbeddedKafka

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    """Where the running services are, and whether they are embedded."""

    bootstrap_servers: str
    database_url: str
    embedded_kafka: bool
    embedded_postgres: bool
    broker: EmbeddedKafka | None = field(default=None, compare=False, repr=False)
    """The embedded broker, when it is one (to create topics with other partition counts)."""

    def worker_env(self) -> dict[str, str]:
        """Environment variables that point a worker process at these services."""
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers, "DATABASE_URL": self.database_url}
        if self.embedded_kafka:
            env["VOLTSTREAM_TOPIC_DECLARE"] = "false"
            env["VOLTSTREAM_TOPIC_PARTITIONS"] = str(MOCK_TOPIC_PARTITIONS)
            env["VOLTSTREAM_LEADER_SYNC_DELAY_S"] = "1.0"
        return env

    @property
    def partitions(self) -> int | None:
        """Partitions per topic when known (the embedded broker's), else None."""
        return MOCK_TOPIC_PARTITIONS if self.embedded_kafka else None


def provision(
    stack: contextlib.ExitStack,
    *,
    bootstrap_servers: str | None,
    database_url: str | None,
    workdir: Path | None = None,
) -> Services:
    """Start whatever is not configured; everything started is stopped when `stack` closes."""
    embedded_kafka = not bootstrap_servers
    broker: EmbeddedKafka | None = None
    if embedded_kafka:
        broker = stack.enter_context(EmbeddedKafka())
        bootstrap_servers = broker.bootstrap_servers
    embedded_pg = not database_url
    if embedded_pg:
        from voltstream.embedded.postgres import EmbeddedPostgres

        base = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vs-pg-")))
        server = stack.enter_context(EmbeddedPostgres(base / "pgdata"))
        database_url = server.url
    assert bootstrap_servers is not None
    assert database_url is not None
    return Services(bootstrap_servers, database_url, embedded_kafka, embedded_pg, broker)
