"""The TimescaleDB companions on a real TimescaleDB server (skipped, test by test, without one).

`tests/db/test_timescale_sql.py` checks the files against stubs on any PostgreSQL; these tests
run only when the session's server (`DATABASE_URL`, the testcontainer, ...) has TimescaleDB, and
check what stubs cannot: the catalog after migrating (hypertables, compression settings, jobs),
the continuous aggregates against the plain-mode views before and after refreshes and
compression, and the sink's COPY / INSERT ... ON CONFLICT path on compressed chunks. Policies
are run by hand (`CALL run_job`), so the tests do not depend on the background scheduler.
"""

import math
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow

from schemas.alerts import AlertState
from streams.analytics.stats import pack_stats
from streams.sink.rows import RowBatch
from streams.sink.writer import BatchWriter
from tests.fixtures.postgres import MigratedTemplate, db_settings
from tests.sink.factories import alert, sample, snapshot, soh
from voltstream.db.files import sql_directory
from voltstream.db.pool import AsyncPool, open_pool

SERIES = ["battery_alerts", "battery_health", "dead_letters", "pack_cells", "pack_telemetry"]
COMPRESSED = ["battery_alerts", "battery_health", "pack_cells", "pack_telemetry"]
SUMMARIES = ["pack_telemetry_daily", "pack_telemetry_hourly"]
# Old enough for every compression policy (compress_after defaults to 7 days).
OLD = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


@pytest.fixture
def timescale_db(migrated_db: str, migrated_template: MigratedTemplate) -> str:
    if not migrated_template.timescale:
        pytest.skip("the server has no TimescaleDB")
    return migrated_db


@pytest.fixture
def conn(timescale_db: str) -> Iterator[psycopg.Connection[TupleRow]]:
    """A connection to the database, whose jobs the scheduler no longer starts on its own."""
    with psycopg.connect(timescale_db, autocommit=True) as connection:
        _pause_jobs(connection)
        yield connection


def _pause_jobs(conn: psycopg.Connection[TupleRow]) -> None:
    """Unschedule this database's jobs and wait for a run already started to end.

    The tests run the policies with `CALL run_job`; a concurrent scheduled run of a refresh
    policy would make such a call fail (LockNotAvailable: concurrent refresh).
    """
    conn.execute("SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
            " AND application_name IN (SELECT application_name FROM timescaledb_information.jobs)"
        ).fetchone()
        if running == (0,):
            return
        time.sleep(0.2)
    pytest.fail("a TimescaleDB job kept running")


def _column(conn: psycopg.Connection[TupleRow], sql: str) -> list[Any]:
    return [row[0] for row in conn.execute(sql.encode()).fetchall()]


def _run_jobs(conn: psycopg.Connection[TupleRow], proc: str) -> None:
    for job in _column(
        conn, f"SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = '{proc}'"
    ):
        conn.execute(f"CALL run_job({int(job)})".encode())


def _compressed_chunks(conn: psycopg.Connection[TupleRow], table: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM timescaledb_information.chunks"
        " WHERE hypertable_name = %s AND is_compressed",
        (table,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_catalog_after_migrating(conn: psycopg.Connection[TupleRow]) -> None:
    assert (
        sorted(_column(conn, "SELECT hypertable_name FROM timescaledb_information.hypertables"))
        == SERIES
    )
    assert (
        sorted(
            _column(
                conn,
                "SELECT hypertable_name FROM timescaledb_information.hypertables"
                " WHERE compression_enabled",
            )
        )
        == COMPRESSED
    )
    settings = conn.execute(
        "SELECT hypertable_name, string_agg(attname, ',' ORDER BY segmentby_column_index)"
        "   FILTER (WHERE segmentby_column_index IS NOT NULL),"
        " string_agg(attname || CASE WHEN orderby_asc THEN '' ELSE ' DESC' END, ','"
        "            ORDER BY orderby_column_index)"
        "   FILTER (WHERE orderby_column_index IS NOT NULL)"
        " FROM timescaledb_information.compression_settings GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert settings == [
        ("battery_alerts", "vehicle_id", "time DESC,alert_id,state"),
        ("battery_health", "vehicle_id", "time DESC"),
        ("pack_cells", "vehicle_id", "time DESC"),
        ("pack_telemetry", "vehicle_id", "time DESC,kind"),
    ]
    jobs = conn.execute(
        "SELECT proc_name, hypertable_name, config->>'compress_after', config->>'drop_after',"
        " config->>'start_offset', config->>'end_offset', schedule_interval"
        " FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL ORDER BY 1, 2"
    ).fetchall()
    five_minutes = timedelta(minutes=5)
    assert jobs == [
        *[("policy_compression", t, "7 days", None, None, None, timedelta(hours=12))
          for t in COMPRESSED],
        # open-ended since 0004 (0002 had 7 days and 3 days)
        ("policy_refresh_continuous_aggregate", "pack_telemetry_daily", None, None,
         None, "01:00:00", five_minutes),
        ("policy_refresh_continuous_aggregate", "pack_telemetry_hourly", None, None,
         None, "01:00:00", five_minutes),
        *[("policy_retention", t, None, "2555 days", None, None, timedelta(days=1))
          for t in SERIES],
    ]  # fmt: skip
    caggs = conn.execute(
        "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
        " ORDER BY 1"
    ).fetchall()
    assert caggs == [(name, False) for name in SUMMARIES]


def _plain_views(conn: psycopg.Connection[TupleRow]) -> None:
    """The plain-mode summaries as views in schema `plain`, over the same pack_telemetry."""
    conn.execute("CREATE SCHEMA plain")
    conn.execute("SET search_path = plain, public")
    conn.execute((sql_directory() / "0002_summaries.plain.sql").read_text().encode())
    conn.execute("SET search_path = public")


def _insert_telemetry(
    conn: psycopg.Connection[TupleRow], start: datetime, end: datetime, step: str
) -> None:
    conn.execute(
        """
        INSERT INTO pack_telemetry (time, vehicle_id, kind, pack_voltage_v, pack_current_a,
            soc_percent, temp_c, odometer_km, cell_count, v_min, v_max, v_mean, v_spread,
            t_min, t_max, t_mean, current_capacity_kwh, cycle_count, late)
        SELECT t, 'V' || (n %% 3), CASE WHEN n %% 2 = 0 THEN 'snapshot' ELSE 'sample' END,
               350 + n * 0.37, -20 + n * 0.013, 50 + n %% 40 + 0.1,
               CASE WHEN n %% 2 = 1 THEN 25.3 + n %% 7 END, 1000 + n * 0.7,
               CASE WHEN n %% 2 = 0 THEN 96 END, 3.5 + (n %% 13) * 0.001, 3.7, 3.6,
               0.2 + (n %% 11) * 0.0137, 20.1, 30 + n %% 5, 25.3 + n %% 3 * 0.11,
               60 - n * 0.0001, 100 + n, n %% 10 = 0
        FROM generate_series(%s::timestamptz, %s::timestamptz, %s::interval)
            WITH ORDINALITY AS g (t, n)
        ON CONFLICT DO NOTHING
        """,
        (start, end, step),
    )


def _assert_summaries_equal(conn: psycopg.Connection[TupleRow], label: str) -> None:
    """Each continuous aggregate returns the plain view's rows (averages up to rounding)."""
    for view in SUMMARIES:
        query = "SELECT * FROM {} ORDER BY bucket, vehicle_id"
        plain = conn.execute(query.format(f"plain.{view}").encode()).fetchall()
        cagg = conn.execute(query.format(f"public.{view}").encode()).fetchall()
        assert len(plain) > 10, (label, view)
        assert [r[:2] for r in cagg] == [r[:2] for r in plain], (label, view)
        for p, c in zip(plain, cagg, strict=True):
            # A float sum depends on the order of the rows, which differs between a view
            # and a (re)materialisation: compare floats to 1e-9 relative, the rest exactly.
            assert all(
                math.isclose(x, y, rel_tol=1e-9)
                if isinstance(x, float) and isinstance(y, float)
                else x == y
                for x, y in zip(p, c, strict=True)
            ), (label, view, p, c)


def test_continuous_aggregates_equal_the_plain_views(conn: psycopg.Connection[TupleRow]) -> None:
    _plain_views(conn)
    now = datetime.now(UTC)
    _insert_telemetry(conn, now - timedelta(days=20), now, "13 minutes")
    _assert_summaries_equal(conn, "real-time only")
    _run_jobs(conn, "policy_refresh_continuous_aggregate")
    _assert_summaries_equal(conn, "after the refresh policies")
    # A manual refresh over everything but the last hour, like the policies' window. (Up to
    # NULL it would materialise the current, incomplete bucket too: rows added to it later stay
    # invisible until the bucket is complete and a policy refreshes it.)
    for view in SUMMARIES:
        conn.execute(
            f"CALL refresh_continuous_aggregate('{view}', NULL, now() - interval '1 hour')".encode()
        )
    _assert_summaries_equal(conn, "manually refreshed")
    _run_jobs(conn, "policy_compression")
    assert _compressed_chunks(conn, "pack_telemetry") >= 10
    _assert_summaries_equal(conn, "after the compression policy")
    # Late rows inside the refresh policies' windows are picked up by their next run.
    _insert_telemetry(conn, now - timedelta(hours=30), now - timedelta(hours=2), "7 minutes")
    _run_jobs(conn, "policy_refresh_continuous_aggregate")
    _assert_summaries_equal(conn, "late rows, after the refresh policies")


def _batch(at: datetime, vehicles: tuple[str, ...] = ("VIN-0001", "VIN-0002")) -> RowBatch:
    """Rows for every compressed table (and dead_letters), all at `at` and shortly after."""
    batch = RowBatch()
    for i, vehicle in enumerate(vehicles):
        snap = snapshot(vehicle, at + timedelta(seconds=i), seed=i)
        batch.add_snapshot(snap, pack_stats(snap), late=True, ingested_at=at)
        batch.add_sample(sample(vehicle, at + timedelta(minutes=1 + i)), True, at)
        batch.touch_vehicle(vehicle, snap.timestamp, "Voltmotors", "V1", "NMC", "default")
        batch.add_health(vehicle, at, soh(), 12.5, 2, predicted_soh=91.0)
        batch.add_alert(alert(vehicle, at=at))
        batch.add_alert(alert(vehicle, AlertState.resolved, at + timedelta(minutes=5)))
        batch.add_dead_letter(
            time=at,
            reason="malformed_json",
            error_class="MalformedJson",
            topic="battery.telemetry",
            partition=i,
            offset=1234,
            detail="",
        )
    return batch


def _counts(conn: psycopg.Connection[TupleRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in SERIES:
        row = conn.execute(f"SELECT count(*) FROM {table}".encode()).fetchone()
        assert row is not None
        counts[table] = int(row[0])
    return counts


@pytest.fixture
async def writer_pool(
    timescale_db: str, conn: psycopg.Connection[TupleRow]
) -> AsyncIterator[AsyncPool]:
    """A pool that logs in as a user who is only a voltstream_writer, like the pipeline's."""
    user = f"sink_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    conn.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{password}' IN ROLE voltstream_writer")
    params = {k: v for k, v in conninfo_to_dict(timescale_db).items() if v is not None}
    params.update(user=user, password=password)
    pool = await open_pool(
        db_settings(pool_min_size=1, pool_max_size=2),
        make_conninfo(**{k: str(v) for k, v in params.items()}),
    )
    try:
        yield pool
    finally:
        await pool.close()
        _drop_role(conn, user)


def _drop_role(conn: psycopg.Connection[TupleRow], user: str) -> None:
    """Drop a login role once its closed sessions have dropped their TEMP staging tables."""
    for _ in range(100):
        try:
            conn.execute(f"DROP ROLE IF EXISTS {user}".encode())
            return
        except psycopg.errors.DependentObjectsStillExist:
            time.sleep(0.1)
    conn.execute(f"DROP ROLE IF EXISTS {user}".encode())


async def test_sink_replays_into_compressed_chunks(
    writer_pool: AsyncPool, conn: psycopg.Connection[TupleRow]
) -> None:
    writer = BatchWriter(writer_pool)
    first = await writer.write(_batch(OLD))
    stored = _counts(conn)
    per_table = {t: n for t, n in first.rows_by_table.items() if t in SERIES}
    assert per_table == stored
    assert stored == {
        "battery_alerts": 4,
        "battery_health": 2,
        "dead_letters": 2,
        "pack_cells": 2,
        "pack_telemetry": 4,
    }
    _run_jobs(conn, "policy_compression")
    for table in COMPRESSED:
        assert _compressed_chunks(conn, table) >= 1, table

    # A replay (as the writer role, which has no DELETE or UPDATE on these tables): the direct
    # COPY hits the unique keys inside compressed chunks, the writer
    # falls back to staging + INSERT ... ON CONFLICT DO NOTHING, and nothing is stored twice.
    again = await writer.write(_batch(OLD))
    assert again.rows_by_table == {**dict.fromkeys(SERIES, 0), "vehicles": 2}
    assert _counts(conn) == stored

    # A batch overlapping the compressed rows stores only its new rows.
    overlap = await writer.write(_batch(OLD, ("VIN-0001", "VIN-0002", "VIN-0003")))
    assert {t: n for t, n in overlap.rows_by_table.items() if t in SERIES} == {
        "battery_alerts": 2,
        "battery_health": 1,
        "dead_letters": 1,
        "pack_cells": 1,
        "pack_telemetry": 2,
    }
    after = _counts(conn)
    assert after == {t: n + overlap.rows_by_table[t] for t, n in stored.items()}
    # The keys stay unique: no row was stored twice in a compressed chunk.
    duplicates = conn.execute(
        "SELECT count(*) FROM (SELECT vehicle_id, time, kind FROM pack_telemetry"
        " GROUP BY 1, 2, 3 HAVING count(*) > 1) AS d"
    ).fetchone()
    assert duplicates == (0,)
    # Compressing again (the policy's next run) still works on the partially compressed chunks.
    _run_jobs(conn, "policy_compression")
    assert _counts(conn) == after
