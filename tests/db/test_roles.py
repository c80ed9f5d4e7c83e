"""The roles migration: the reader only reads, the writer writes but cannot change the schema."""

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from streams.sink.rows import RowBatch
from streams.sink.writer import BatchWriter
from tests.fixtures.postgres import db_settings
from voltstream.db.pool import open_pool

PASSWORD = "test-password"


@pytest.fixture
def login_as(database_url: str, migrated_db: str) -> Iterator[object]:
    """Create LOGIN users granted a group role; yields a factory returning their URL."""
    created: list[str] = []

    def factory(group: str) -> str:
        user = f"vs_{group.rsplit('_', maxsplit=1)[-1]}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{PASSWORD}' IN ROLE {group}".encode())
        created.append(user)
        return make_conninfo(migrated_db, user=user, password=PASSWORD)

    yield factory
    with psycopg.connect(database_url, autocommit=True) as conn:
        for user in created:
            # The user's temp (staging) tables go away when its sessions have really ended.
            for _ in range(100):
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                    (user,),
                )
                try:
                    conn.execute(f"DROP ROLE IF EXISTS {user}".encode())
                    break
                except psycopg.errors.DependentObjectsStillExist:
                    time.sleep(0.05)


def _insert_vehicle(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO vehicles (vehicle_id) VALUES ('V1')")


def test_roles_are_nologin(migrated_db: str) -> None:
    with psycopg.connect(migrated_db) as conn:
        rows = conn.execute(
            "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'voltstream_%' ORDER BY 1"
        ).fetchall()
    assert rows == [("voltstream_reader", False), ("voltstream_writer", False)]


def test_reader_reads_everything_and_writes_nothing(login_as: object, migrated_db: str) -> None:
    assert callable(login_as)
    url = login_as("voltstream_reader")
    with psycopg.connect(url) as conn:
        for relation in ("pack_telemetry", "cell_readings", "pack_telemetry_daily", "vehicles"):
            conn.execute(f"SELECT * FROM {relation} LIMIT 1".encode()).fetchall()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _insert_vehicle(url)


def test_writer_inserts_but_cannot_alter_or_drop(login_as: object) -> None:
    assert callable(login_as)
    url = login_as("voltstream_writer")
    _insert_vehicle(url)
    for statement in (
        "DROP TABLE pack_telemetry",
        "ALTER TABLE vehicles ADD COLUMN x int",
        "TRUNCATE battery_alerts",
        "DELETE FROM vehicles",
        "UPDATE pack_telemetry SET late = true",
        "CREATE TABLE public.intruder (x int)",
    ):
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement.encode())


async def test_writer_role_is_enough_for_the_sink(login_as: object) -> None:
    assert callable(login_as)
    url = login_as("voltstream_writer")
    pool = await open_pool(db_settings(), url)
    try:
        batch = RowBatch()
        now = datetime(2026, 1, 5, 12, tzinfo=UTC)
        batch.touch_vehicle("V9", now, "Make", "Model", "NMC", "default")
        batch.add_dead_letter(
            time=now,
            reason="malformed_json",
            error_class="MalformedJson",
            topic="t",
            partition=0,
            offset=1,
        )
        result = await BatchWriter(pool).write(batch)
        assert result.rows_by_table == {"vehicles": 1, "dead_letters": 1}
        batch.touch_vehicle("V9", now.replace(hour=13))
        assert (await BatchWriter(pool).write(batch)).rows_by_table["vehicles"] == 1
    finally:
        await pool.close()
