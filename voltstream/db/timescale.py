"""Whether TimescaleDB is used: the `timescale` setting (auto|on|off) against the server."""

import logging
from dataclasses import dataclass
from typing import Literal

import psycopg
from psycopg.rows import TupleRow

from voltstream.errors import MigrationError

logger = logging.getLogger(__name__)

TimescaleMode = Literal["auto", "on", "off"]
Connection = psycopg.Connection[TupleRow]


@dataclass(frozen=True)
class TimescaleStatus:
    """The outcome of detection: whether to use TimescaleDB, and its installed version."""

    enabled: bool
    version: str | None = None


def installed_version(conn: Connection) -> str | None:
    """The version of the `timescaledb` extension installed in this database, if any."""
    row = conn.execute(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    ).fetchone()
    return None if row is None else str(row[0])


def is_available(conn: Connection) -> bool:
    """Whether the server has the extension's files (it may still need shared_preload_libraries)."""
    row = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    return row is not None


def ensure_timescale(conn: Connection, mode: TimescaleMode) -> TimescaleStatus:
    """Decide the mode, creating the extension when it is available and wanted.

    `conn` must be in autocommit mode: a failed CREATE EXTENSION must not abort anything else.
    `off` never uses TimescaleDB (even if installed); `on` raises MigrationError when it cannot
    be used; `auto` uses it when CREATE EXTENSION succeeds and logs why not otherwise.
    """
    if mode == "off":
        return TimescaleStatus(enabled=False)
    version = installed_version(conn)
    if version is not None:
        return TimescaleStatus(enabled=True, version=version)
    if not is_available(conn):
        if mode == "on":
            raise MigrationError("timescale=on but the server has no timescaledb extension")
        logger.info("timescaledb is not available: using plain PostgreSQL")
        return TimescaleStatus(enabled=False)
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg.Error as exc:
        if mode == "on":
            raise MigrationError(
                f"timescale=on but CREATE EXTENSION timescaledb failed: {exc}"
            ) from exc
        logger.warning("CREATE EXTENSION timescaledb failed (%s): using plain PostgreSQL", exc)
        return TimescaleStatus(enabled=False)
    return TimescaleStatus(enabled=True, version=installed_version(conn))
