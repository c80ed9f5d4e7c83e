"""Forward-only SQL migrations: numbered files applied in order, once each, under a lock."""

import logging
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable

import psycopg

from voltstream.db.files import Migration, load_migrations
from voltstream.db.timescale import Connection, TimescaleStatus, ensure_timescale
from voltstream.db.variables import policy_variables, substitute
from voltstream.errors import MigrationError
from voltstream.settings import DatabaseSettings

logger = logging.getLogger(__name__)

#: Key of the session-level advisory lock that serialises concurrent migrators of one database.
LOCK_KEY = 0x766F_6C74_7374_726D  # "voltstrm"

_HISTORY_DDL = b"""
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    mode       text        NOT NULL  -- 'timescale' | 'plain': which companion files ran
)
"""


@dataclass(frozen=True)
class MigrationReport:
    """What one `migrate` call did: the versions it applied (`NNNN_name`) and the mode."""

    applied: list[str]
    timescale: bool
    timescale_version: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Applied:
    version: int
    name: str
    checksum: str
    mode: str


def migrate(
    url: str, settings: DatabaseSettings, *, directory: Traversable | None = None
) -> MigrationReport:
    """Apply every pending migration to the database at `url`; raise MigrationError on failure.

    Each version runs in its own transaction together with its `schema_migrations` row, so a
    failed version leaves no trace and a re-run retries it. Concurrent callers serialise on
    `pg_advisory_lock(LOCK_KEY)`; the later ones find nothing left to apply.
    """
    migrations = load_migrations(directory)
    try:
        conn = psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=max(1, round(settings.connect_timeout_s)),
            application_name="voltstream-migrate",
        )
    except psycopg.Error as exc:
        raise MigrationError(f"cannot connect to the database: {exc}") from exc
    with conn:
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            return _migrate_locked(conn, migrations, settings)
        except psycopg.Error as exc:
            raise MigrationError(f"migration failed: {exc}") from exc
        finally:
            if not conn.broken:
                try:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
                except psycopg.Error:
                    logger.debug("advisory unlock failed; closing the session releases it")


def _migrate_locked(
    conn: Connection, migrations: list[Migration], settings: DatabaseSettings
) -> MigrationReport:
    conn.execute(_HISTORY_DDL)
    history = _history(conn)
    if settings.timescale == "auto" and {row.mode for row in history.values()} == {"plain"}:
        # auto keeps the mode the database was first migrated in.
        status = TimescaleStatus(enabled=False)
    else:
        status = ensure_timescale(conn, settings.timescale)
    warnings = _verify(history, migrations, status, settings)
    variables = policy_variables(settings)
    mode = "timescale" if status.enabled else "plain"
    applied: list[str] = []
    for migration in migrations:
        if migration.version in history:
            continue
        try:
            with conn.transaction():
                for script in migration.scripts(status.enabled):
                    conn.execute(substitute(script, variables).encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, mode)"
                    " VALUES (%s, %s, %s, %s)",
                    (migration.version, migration.name, migration.checksum, mode),
                )
        except psycopg.Error as exc:
            raise MigrationError(f"migration {migration.label} failed: {exc}") from exc
        logger.info("applied migration %s (%s)", migration.label, mode)
        applied.append(migration.label)
    return MigrationReport(
        applied=applied,
        timescale=status.enabled,
        timescale_version=status.version,
        warnings=warnings,
    )


def _history(conn: Connection) -> dict[int, _Applied]:
    rows = conn.execute("SELECT version, name, checksum, mode FROM schema_migrations").fetchall()
    return {
        int(v): _Applied(version=int(v), name=str(n), checksum=str(c), mode=str(m))
        for v, n, c, m in rows
    }


def _verify(
    history: dict[int, _Applied],
    migrations: list[Migration],
    status: TimescaleStatus,
    settings: DatabaseSettings,
) -> list[str]:
    """Check the applied versions against the files; return warnings about mode changes."""
    known = {m.version: m for m in migrations}
    warnings: list[str] = []
    for version, row in sorted(history.items()):
        migration = known.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {version:04d}_{row.name}, which these files lack"
                " (was it applied by a newer voltstream?)"
            )
        if row.checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.label} was changed after it was applied"
                f" (checksum {row.checksum[:12]} in the database, {migration.checksum[:12]} now);"
                " migrations are forward-only: add a new one instead"
            )
        if (
            status.enabled
            and row.mode == "plain"
            and migration.scripts(True) != migration.scripts(False)
        ):
            message = (
                f"migration {migration.label} was applied without TimescaleDB; its"
                " TimescaleDB objects are missing (migrate a new database to use them)"
            )
            if settings.timescale == "on":
                raise MigrationError(message)
            warnings.append(message)
    if not status.enabled and any(row.mode == "timescale" for row in history.values()):
        warnings.append(
            "the database was migrated with TimescaleDB but it is not used now"
            f" (timescale={settings.timescale}); new versions run their plain-PostgreSQL files"
        )
    for message in warnings:
        logger.warning("%s", message)
    return warnings
