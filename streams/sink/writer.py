"""Writes a RowBatch in one transaction: binary COPY, with staging + ON CONFLICT on duplicates."""

import contextlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from streams.sink.copy import encode_rows
from streams.sink.errors import classify
from streams.sink.rows import Row, RowBatch
from streams.sink.tables import TABLES, Table

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]

_STAGING_DDL = ";\n".join(table.staging_ddl for table in TABLES).encode()
_SAVEPOINT = b"voltstream_direct"
_BEGIN = b"BEGIN"
_BEGIN_DIRECT = b"BEGIN; SAVEPOINT " + _SAVEPOINT
_ROLLBACK_DIRECT = b"ROLLBACK TO SAVEPOINT " + _SAVEPOINT
_COMMIT = b"COMMIT"
_OPEN = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


@dataclass(frozen=True)
class WriteResult:
    """Rows stored per table: inserted rows (vehicles: inserted or updated rows)."""

    rows_by_table: dict[str, int]

    @property
    def total(self) -> int:
        """All stored rows."""
        return sum(self.rows_by_table.values())


class _Encoded:
    """One table's rows and their COPY stream, encoded on first use and then kept."""

    __slots__ = ("_data", "rows", "table")

    def __init__(self, table: Table, rows: Sequence[Row]) -> None:
        self.table = table
        self.rows = rows
        self._data: list[bytes] | None = None

    @property
    def data(self) -> list[bytes]:
        if self._data is None:
            self._data = list(encode_rows(self.table.types, self.rows))
        return self._data


class BatchWriter:
    """Stores RowBatches through a pool; writing the same batch again stores nothing new.

    One transaction per batch, in as few round trips as the protocol allows (8 for a batch of
    snapshots: the transaction is driven with explicit SQL on an autocommit connection, so
    BEGIN travels with the savepoint and COMMIT with the last INSERT). Per table, the rows are
    encoded once for COPY (FORMAT BINARY):
    - fast path: the tables that never merge are COPYed straight in, after one savepoint. That
      succeeds when no row is already stored (the common case: a batch is new), and then it is
      exactly what the slow path would have done;
    - on a unique violation (a replay, or a duplicate inside the batch) the transaction goes
      back to the savepoint and the same data goes to per-connection TEMP staging tables
      (created once per connection, emptied at every commit), then INSERT ... SELECT ...
      ON CONFLICT DO NOTHING;
    - vehicles always take the staging path, with ON CONFLICT DO UPDATE (merging).
    Errors are raised as `TransientDatabaseError` (retry the same batch later) or
    `PermanentDatabaseError`.
    """

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._ready: weakref.WeakSet[AsyncConnection[TupleRow]] = weakref.WeakSet()

    async def write(self, batch: RowBatch) -> WriteResult:
        """Store every row of `batch` in one transaction; the batch itself is left unchanged."""
        work = [_Encoded(table, rows) for table in TABLES if (rows := batch.rows(table.name))]
        if not work:
            return WriteResult(rows_by_table={})
        try:
            async with self._pool.connection() as conn:
                await self._prepare(conn)
                async with conn.cursor() as cur:
                    try:
                        stored = await _store(cur, work)
                    except Exception:
                        if conn.info.transaction_status in _OPEN and not conn.broken:
                            with contextlib.suppress(psycopg.Error):
                                await cur.execute(b"ROLLBACK")
                        raise
        except Exception as exc:
            raise classify(exc) from exc
        return WriteResult(rows_by_table=stored)

    async def _prepare(self, conn: AsyncConnection[TupleRow]) -> None:
        """Once per connection: autocommit mode (the writer sends BEGIN itself) and staging."""
        if conn in self._ready:
            return
        await conn.set_autocommit(True)
        await conn.execute(_STAGING_DDL)
        self._ready.add(conn)


async def _store(cur: AsyncCursor[TupleRow], work: Sequence[_Encoded]) -> dict[str, int]:
    """Run the batch's transaction on an autocommit connection; rows stored per table."""
    stored: dict[str, int] = {}
    direct = [item for item in work if not item.table.merges]
    staged = [item for item in work if item.table.merges]
    await cur.execute(_BEGIN_DIRECT if direct else _BEGIN)
    if direct:
        try:
            for item in direct:
                await _copy(cur, item.table.direct_copy_sql, item.data)
        except psycopg.errors.UniqueViolation:
            await cur.execute(_ROLLBACK_DIRECT)
            staged = direct + staged
        else:
            stored.update((item.table.name, len(item.rows)) for item in direct)
    if not staged:
        await cur.execute(_COMMIT)
        return stored
    for item in staged:
        await _copy(cur, item.table.copy_sql, item.data)
    # One round trip for every INSERT ... SELECT and the COMMIT (no parameters: the simple
    # query protocol runs them in order and stops at the first error).
    inserts = b";\n".join(item.table.insert_sql.encode() for item in staged)
    await cur.execute(inserts + b";\n" + _COMMIT)
    for item in staged:
        stored[item.table.name] = max(cur.rowcount, 0)
        cur.nextset()
    return stored


async def _copy(cur: AsyncCursor[TupleRow], sql: str, data: Sequence[bytes]) -> None:
    async with cur.copy(sql.encode()) as copy:
        for chunk in data:
            await copy.write(chunk)
