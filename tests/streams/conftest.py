"""Fixtures for pipeline tests: a fresh migrated database, unique topics, a worker process."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from voltstream.db.migrate import migrate
from voltstream.settings import DatabaseSettings


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    """A new, migrated database on the session's server, dropped afterwards."""
    name = f"vs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(database_url, dbname=name)
    migrate(url, DatabaseSettings())
    yield url
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pipeline_env(
    kafka_bootstrap: str, kafka_is_embedded: bool, fresh_database: str
) -> dict[str, str]:
    """Environment for a worker on unique topics and its own consumer group."""
    run = uuid.uuid4().hex[:8]
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": fresh_database,
        "VOLTSTREAM_TOPIC_PREFIX": f"t{run}.",
        "VOLTSTREAM_APP_ID": f"voltstream-test-{run}",
        "VOLTSTREAM_FLUSH_INTERVAL_S": "0.1",
        "VOLTSTREAM_OFFLINE_CHECK_INTERVAL_S": "1",
        "VOLTSTREAM_SESSION_TIMEOUT_S": "6",
    }
    if kafka_is_embedded:
        env["VOLTSTREAM_TOPIC_DECLARE"] = "false"
        env["VOLTSTREAM_TOPIC_PARTITIONS"] = "4"
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory for worker logs and state."""
    return tmp_path
