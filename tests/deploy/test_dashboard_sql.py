"""Every SQL query of every dashboard runs, as a voltstream_reader login, and returns rows."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.deploy.dashboards import SqlQuery, sql_queries
from tests.deploy.fleet_data import populate
from tests.deploy.grafana_macros import QueryContext, expand
from tests.fixtures.postgres import MigratedTemplate, create_database, drop_database

pytestmark = pytest.mark.integration

QUERIES = sql_queries()
# Short ranges read raw rows, medium ones the hourly summary, long ones the daily summary.
RANGES = {"3h": timedelta(hours=3), "2d": timedelta(days=2), "40d": timedelta(days=40)}
VEHICLE = "EV-0001"


@pytest.fixture(scope="module")
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def fleet_db(database_url: str, migrated_template: MigratedTemplate) -> Iterator[str]:
    """A database cloned from the migrated template (like `migrated_db`), for this module."""
    name = create_database(database_url, template=migrated_template.name)
    yield make_conninfo(database_url, dbname=name)
    drop_database(database_url, name)


@pytest.fixture(scope="module")
def reader_db(fleet_db: str, now: datetime) -> Iterator[tuple[str, bool]]:
    """The fleet database, populated, and a LOGIN user that is only a voltstream_reader."""
    migrated_db = fleet_db
    with psycopg.connect(migrated_db) as conn:
        populate(conn, now)
        # With TimescaleDB the summaries are real-time continuous aggregates: no refresh needed.
        timescale = conn.execute(
            "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"
        ).fetchone() == (1,)
    user = f"dash_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{password}' IN ROLE voltstream_reader")
    params = conninfo_to_dict(migrated_db)
    params.update(user=user, password=password)
    try:
        yield make_conninfo(**{k: str(v) for k, v in params.items() if v is not None}), timescale
    finally:
        with psycopg.connect(migrated_db, autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {user}")


def test_dashboards_have_sql() -> None:
    dashboards = {q.dashboard for q in QUERIES}
    assert {"fleet-overview.json", "vehicle-detail.json", "data-quality.json"} <= dashboards
    assert len(QUERIES) >= 25


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_query_runs_and_returns_rows(
    query: SqlQuery, reader_db: tuple[str, bool], now: datetime
) -> None:
    url, timescale = reader_db
    with psycopg.connect(url) as conn:
        conn.execute("SET default_transaction_read_only = on")
        assert conn.execute("SELECT current_user").fetchone() != ("postgres",)
        for label, span in RANGES.items():
            ctx = QueryContext(
                start=now - span, end=now, variables={"vehicle": VEHICLE}, timescaledb=timescale
            )
            sql = expand(query.sql, ctx)
            try:
                rows = conn.execute(sql.encode()).fetchall()
            except psycopg.Error as exc:
                pytest.fail(f"{query} failed over {label}: {exc}\n{sql}")
            assert rows, f"{query} returned no rows over {label}:\n{sql}"
            if query.format == "time_series" and not query.where.startswith("annotation"):
                columns = [c.name for c in conn.execute(sql.encode()).description or []]
                assert columns[0] == "time", f"{query}: time series must start with a time column"


def test_reader_cannot_write(reader_db: tuple[str, bool]) -> None:
    url, _ = reader_db
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM battery_alerts")
