"""The migrations runner against a real server: idempotence, tampering, concurrency, modes."""

import threading
from pathlib import Path

import psycopg
import pytest

from tests.fixtures.postgres import MigratedTemplate, db_settings
from voltstream.db.files import load_migrations, sql_directory
from voltstream.db.migrate import LOCK_KEY, migrate
from voltstream.errors import MigrationError

ALL = ["0001_core", "0002_summaries", "0003_roles", "0004_summary_refresh"]
TABLES = {
    "pack_telemetry",
    "pack_cells",
    "battery_health",
    "battery_alerts",
    "cycle_series",
    "dead_letters",
    "vehicles",
    "schema_migrations",
}
VIEWS = {"cell_readings", "pack_telemetry_hourly", "pack_telemetry_daily"}


def _relations(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relkind FROM pg_class AS c"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'p')"
        ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def test_migrate_twice_applies_nothing_the_second_time(empty_db: str) -> None:
    first = migrate(empty_db, db_settings())
    assert first.applied == ALL
    second = migrate(empty_db, db_settings())
    assert second.applied == []
    assert second.timescale == first.timescale
    with psycopg.connect(empty_db) as conn:
        rows = conn.execute(
            "SELECT version, name, mode FROM schema_migrations ORDER BY 1"
        ).fetchall()
    mode = "timescale" if first.timescale else "plain"
    assert rows == [
        (1, "core", mode),
        (2, "summaries", mode),
        (3, "roles", mode),
        (4, "summary_refresh", mode),
    ]


def test_every_table_and_view_exists_in_either_mode(migrated_db: str) -> None:
    relations = _relations(migrated_db)
    assert set(relations) >= TABLES
    # Plain views in plain mode, continuous aggregates (views too) with TimescaleDB.
    assert {name for name, kind in relations.items() if kind == "v"} >= VIEWS


def test_timescale_off_skips_timescale_files_and_keeps_the_names(empty_db: str) -> None:
    report = migrate(empty_db, db_settings(timescale="off"))
    assert report.applied == ALL
    assert report.timescale is False
    relations = _relations(empty_db)
    assert {relations[v] for v in VIEWS} == {"v"}
    with psycopg.connect(empty_db) as conn:
        summary = conn.execute("SELECT * FROM pack_telemetry_daily").fetchall()
        installed = conn.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"
        ).fetchone()
        # A server image may pre-install the extension in every database; off still means
        # no TimescaleDB objects.
        hypertables = (
            conn.execute("SELECT count(*) FROM timescaledb_information.hypertables").fetchone()
            if installed
            else (0,)
        )
    assert summary == []
    assert hypertables == (0,)


def test_timescale_on_without_the_extension_is_an_error(
    empty_db: str, migrated_template: MigratedTemplate
) -> None:
    if migrated_template.timescale:
        pytest.skip("the server has TimescaleDB")
    with pytest.raises(MigrationError, match="timescaledb"):
        migrate(empty_db, db_settings(timescale="on"))
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (0,)


def test_a_changed_migration_is_an_error(empty_db: str, tmp_path: Path) -> None:
    for entry in sql_directory().iterdir():
        (tmp_path / entry.name).write_text(entry.read_text())
    migrate(empty_db, db_settings(), directory=tmp_path)
    path = tmp_path / "0002_summaries.plain.sql"
    path.write_text(path.read_text() + "\n-- an innocent edit\n")
    with pytest.raises(MigrationError, match="0002_summaries was changed"):
        migrate(empty_db, db_settings(), directory=tmp_path)


def test_a_migration_unknown_to_the_files_is_an_error(empty_db: str, tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x int);")
    (tmp_path / "0002_b.sql").write_text("CREATE TABLE b (x int);")
    migrate(empty_db, db_settings(), directory=tmp_path)
    (tmp_path / "0002_b.sql").unlink()
    with pytest.raises(MigrationError, match="0002_b"):
        migrate(empty_db, db_settings(), directory=tmp_path)


def test_a_failing_migration_leaves_no_trace_and_stops(empty_db: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE ok (x int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (x int);\nSELECT no_such_function();")
    (tmp_path / "0003_later.sql").write_text("CREATE TABLE later (x int);")
    with pytest.raises(MigrationError, match="0002_bad"):
        migrate(empty_db, db_settings(), directory=tmp_path)
    relations = _relations(empty_db)
    assert "ok" in relations
    assert "half" not in relations
    assert "later" not in relations
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (x int);")
    assert migrate(empty_db, db_settings(), directory=tmp_path).applied == [
        "0002_bad",
        "0003_later",
    ]


def test_companion_selection_and_policy_variables(empty_db: str, tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x int);")
    (tmp_path / "0001_a.timescale.sql").write_text("SELECT create_hypertable('nope');")
    (tmp_path / "0001_a.plain.sql").write_text(
        "-- a plain companion\nCREATE VIEW keep AS SELECT :'retention'::interval AS r, 1 AS x;"
    )
    report = migrate(empty_db, db_settings(timescale="off", retention="9 days"), directory=tmp_path)
    assert report.applied == ["0001_a"]
    with psycopg.connect(empty_db) as conn:
        row = conn.execute("SELECT r::text FROM keep").fetchone()
    assert row == ("9 days",)


def test_concurrent_migrators_serialise(empty_db: str) -> None:
    barrier = threading.Barrier(2)
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            applied.append(migrate(empty_db, db_settings()).applied)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(applied, key=len) == [[], ALL]
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (len(ALL),)


def test_unreachable_database_is_a_migration_error(tmp_path: Path) -> None:
    url = f"postgresql://nobody@/nowhere?host={tmp_path}"
    with pytest.raises(MigrationError, match="cannot connect"):
        migrate(url, db_settings(connect_timeout_s=1))


def test_shipped_files_round_trip_through_load(empty_db: str) -> None:
    report = migrate(empty_db, db_settings())
    assert report.applied == [m.label for m in load_migrations()]


def test_a_migrator_waits_for_the_advisory_lock(empty_db: str) -> None:
    done = threading.Event()
    result: list[list[str]] = []
    with psycopg.connect(empty_db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))

        def run() -> None:
            result.append(migrate(empty_db, db_settings()).applied)
            done.set()

        thread = threading.Thread(target=run)
        thread.start()
        waiting = 0
        for _ in range(100):
            row = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            ).fetchone()
            waiting = int(row[0]) if row else 0
            if waiting:
                break
            done.wait(0.05)
        assert waiting == 1
        assert not done.is_set()
        holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        thread.join(timeout=60)
    assert result == [ALL]


def test_turning_timescale_off_on_a_timescale_database_warns(empty_db: str) -> None:
    migrate(empty_db, db_settings(timescale="off"))
    with psycopg.connect(empty_db) as conn:
        conn.execute("UPDATE schema_migrations SET mode = 'timescale'")
    report = migrate(empty_db, db_settings(timescale="off"))
    assert report.applied == []
    assert len(report.warnings) == 1
    assert "migrated with TimescaleDB" in report.warnings[0]
