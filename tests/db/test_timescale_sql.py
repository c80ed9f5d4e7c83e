"""The TimescaleDB companions checked on plain PostgreSQL against stubs of the documented API.

TimescaleDB cannot run here, so this test executes every `SELECT <timescale function>(...)` of
the `.timescale.sql` files against stub functions with the documented parameter names (a
misspelt named argument fails), runs each continuous aggregate's query as a plain view (with a
`time_bucket` stub) and compares it with the plain-mode view, and checks the compression
settings name real columns covering each unique key.
"""

import re
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import TupleRow

from tests.fixtures.postgres import db_settings
from voltstream.db.files import load_migrations
from voltstream.db.migrate import migrate
from voltstream.db.variables import policy_variables, substitute

# Signatures as documented for TimescaleDB 2.x (types narrowed to what the files pass).
STUBS = """
CREATE TABLE ts_calls (fn text, relation text, args text);
CREATE FUNCTION by_range(column_name name, partition_interval interval DEFAULT NULL,
                         partition_func regproc DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$ SELECT column_name || ' ' || partition_interval $$;
CREATE FUNCTION create_hypertable(relation regclass, dimension text,
                                  create_default_indexes boolean DEFAULT true,
                                  if_not_exists boolean DEFAULT false,
                                  migrate_data boolean DEFAULT false)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO ts_calls
    VALUES ('create_hypertable', relation::text, dimension || ' ' || if_not_exists)
$$;
CREATE FUNCTION add_compression_policy(hypertable regclass, compress_after interval,
                                       if_not_exists boolean DEFAULT false,
                                       schedule_interval interval DEFAULT NULL,
                                       initial_start timestamptz DEFAULT NULL,
                                       timezone text DEFAULT NULL,
                                       compress_created_before interval DEFAULT NULL)
RETURNS integer LANGUAGE sql AS $$
    INSERT INTO ts_calls VALUES ('add_compression_policy', hypertable::text,
                                 compress_after || ' ' || if_not_exists) RETURNING 1
$$;
CREATE FUNCTION add_retention_policy(relation regclass, drop_after interval,
                                     schedule_interval interval DEFAULT NULL,
                                     if_not_exists boolean DEFAULT false,
                                     initial_start timestamptz DEFAULT NULL,
                                     timezone text DEFAULT NULL,
                                     drop_created_before interval DEFAULT NULL)
RETURNS integer LANGUAGE sql AS $$
    INSERT INTO ts_calls VALUES ('add_retention_policy', relation::text,
                                 drop_after || ' ' || if_not_exists) RETURNING 1
$$;
CREATE FUNCTION add_continuous_aggregate_policy(continuous_aggregate regclass,
                                                start_offset interval, end_offset interval,
                                                schedule_interval interval,
                                                if_not_exists boolean DEFAULT false,
                                                initial_start timestamptz DEFAULT NULL,
                                                timezone text DEFAULT NULL)
RETURNS integer LANGUAGE sql AS $$
    INSERT INTO ts_calls VALUES ('add_continuous_aggregate_policy', continuous_aggregate::text,
                                 coalesce(start_offset::text, 'NULL') || ' ' || end_offset
                                 || ' ' || schedule_interval || ' ' || if_not_exists)
    RETURNING 1
$$;
CREATE FUNCTION remove_continuous_aggregate_policy(continuous_aggregate regclass,
                                                   if_not_exists boolean DEFAULT false,
                                                   if_exists boolean DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO ts_calls VALUES ('remove_continuous_aggregate_policy',
                                 continuous_aggregate::text, if_exists::text)
$$;
CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE
AS $$ SELECT date_bin(bucket_width, ts, TIMESTAMPTZ '2000-01-03 00:00:00+00') $$;
"""

_CAGG = re.compile(
    r"CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)\s+WITH \(timescaledb\.continuous[^)]*\) AS"
    r"(?P<query>.*)WITH NO DATA$",
    re.DOTALL,
)
_COMPRESS = re.compile(
    r"ALTER TABLE (\w+) SET \(\s*timescaledb\.compress,\s*"
    r"timescaledb\.compress_segmentby = '([^']*)',\s*"
    r"timescaledb\.compress_orderby = '([^']*)'\s*\)$"
)


def _statements(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


@pytest.fixture
def plain_schema(empty_db: str) -> Iterator[psycopg.Connection[TupleRow]]:
    migrate(empty_db, db_settings(timescale="off"))
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA ts")
        conn.execute("SET search_path = ts, public")
        conn.execute(STUBS.encode())
        yield conn


def test_timescale_companions_match_the_documented_api(
    plain_schema: psycopg.Connection[TupleRow],
) -> None:
    conn = plain_schema
    settings = db_settings(chunk_interval="6 hours", compress_after="3 days", retention="90 days")
    variables = policy_variables(settings)
    compressed: dict[str, set[str]] = {}
    caggs: list[str] = []
    for migration in load_migrations():
        for statement in _statements(substitute(migration.timescale, variables)):
            if cagg := _CAGG.match(statement):
                conn.execute(f"CREATE VIEW ts.{cagg[1]} AS {cagg['query']}".encode())
                caggs.append(cagg[1])
            elif compress := _COMPRESS.match(statement):
                columns = {compress[2]} | {
                    part.split()[0] for part in compress[3].split(",") if part.strip()
                }
                compressed[compress[1]] = columns
            else:
                assert statement.startswith("SELECT "), statement
                conn.execute(statement.encode())
    calls = conn.execute("SELECT fn, relation, args FROM ts_calls ORDER BY 1, 2").fetchall()
    series = ["battery_alerts", "battery_health", "dead_letters", "pack_cells", "pack_telemetry"]
    assert [(r, a) for f, r, a in calls if f == "create_hypertable"] == [
        (t, "time 06:00:00 true") for t in series
    ]
    assert [r for f, r, a in calls if f == "add_retention_policy"] == series
    assert {a for f, _, a in calls if f == "add_retention_policy"} == {"90 days true"}
    assert sorted(r for f, r, _ in calls if f == "add_compression_policy") == sorted(compressed)
    assert {a for f, _, a in calls if f == "add_compression_policy"} == {"3 days true"}
    # 0002's windowed refresh policies, replaced by 0004's open-ended ones.
    assert sorted((f, r, a) for f, r, a in calls if f.endswith("_continuous_aggregate_policy")) == [
        (
            "add_continuous_aggregate_policy",
            "pack_telemetry_daily",
            "7 days 01:00:00 00:05:00 true",
        ),
        ("add_continuous_aggregate_policy", "pack_telemetry_daily", "NULL 01:00:00 00:05:00 true"),
        (
            "add_continuous_aggregate_policy",
            "pack_telemetry_hourly",
            "3 days 01:00:00 00:05:00 true",
        ),
        ("add_continuous_aggregate_policy", "pack_telemetry_hourly", "NULL 01:00:00 00:05:00 true"),
        ("remove_continuous_aggregate_policy", "pack_telemetry_daily", "true"),
        ("remove_continuous_aggregate_policy", "pack_telemetry_hourly", "true"),
    ]
    assert sorted(caggs) == ["pack_telemetry_daily", "pack_telemetry_hourly"]

    # Compression columns exist and cover each unique key (ON CONFLICT on compressed chunks).
    for table, columns in compressed.items():
        key = conn.execute(
            "SELECT array_agg(a.attname::text) FROM pg_index AS i"
            " JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
            " WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (table,),
        ).fetchone()
        assert key is not None
        key_columns: list[str] = key[0]
        assert set(key_columns) <= columns, table


def test_continuous_aggregates_equal_the_plain_views(
    plain_schema: psycopg.Connection[TupleRow],
) -> None:
    conn = plain_schema
    variables = policy_variables(db_settings())
    for migration in load_migrations():
        for statement in _statements(substitute(migration.timescale, variables)):
            if cagg := _CAGG.match(statement):
                conn.execute(f"CREATE VIEW ts.{cagg[1]} AS {cagg['query']}".encode())
    conn.execute(
        """
        INSERT INTO public.pack_telemetry (time, vehicle_id, kind, pack_voltage_v, pack_current_a,
            soc_percent, temp_c, cell_count, v_min, v_max, v_mean, v_spread, t_min, t_max, t_mean,
            cycle_count, late)
        SELECT timestamptz '2026-01-05 00:00+00' + n * interval '17 minutes', 'V' || (n % 3),
               CASE WHEN n % 2 = 0 THEN 'snapshot' ELSE 'sample' END,
               350 + n, -20 + n, 50 + n % 40, CASE WHEN n % 2 = 1 THEN 25 + n % 7 END,
               CASE WHEN n % 2 = 0 THEN 96 END, 3.5, 3.7, 3.6, 0.2, 20, 30 + n % 5, 25,
               100 + n, n % 10 = 0
        FROM generate_series(0, 300) AS n
        """
    )
    for view in ("pack_telemetry_hourly", "pack_telemetry_daily"):
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                ("public", view),
            ).fetchall()
        ]
        ts_columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                ("ts", view),
            ).fetchall()
        ]
        assert columns == ts_columns
        query = "SELECT * FROM {} ORDER BY bucket, vehicle_id"
        plain = conn.execute(query.format(f"public.{view}").encode()).fetchall()
        timescale = conn.execute(query.format(f"ts.{view}").encode()).fetchall()
        assert len(plain) > 3
        assert plain == timescale
