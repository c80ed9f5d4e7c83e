"""Writes a RowBatch in one transaction: binary COPY, with staging + ON CONFLICT on duplicates."""

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from streams.sink.copy import encode_rows
from streams.sink.errors import classify
from streams.sink.rows import RowBatch
from streams.sink.tables import TABLES, Table

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]

_STAGING_DDL = ";\n".join(table.staging_ddl for table in TABLES).encode()


@dataclass(frozen=True)
class WriteResult:
    """Rows stored per table: inserted rows (vehicles: inserted or updated rows)."""

    rows_by_table: dict[str, int]

    @property
    def total(self) -> int:
        """All stored rows."""
        return sum(self.rows_by_table.values())


class BatchWriter:
    """Stores RowBatches through a pool; writing the same batch again stores nothing new.

    One transaction per batch; per table, the rows are encoded once for COPY (FORMAT BINARY):
    - fast path: COPY straight into the table inside a savepoint. It succeeds when no row is
      already stored (the common case: a batch is new), and then it is exactly what the
      slow path would have done;
    - on a unique violation (a replay, or a duplicate inside the batch) the savepoint is rolled
      back and the same data goes to a per-connection TEMP staging table (created once per
      connection, emptied at every commit), then INSERT ... SELECT ... ON CONFLICT DO NOTHING;
    - vehicles always take the staging path, with ON CONFLICT DO UPDATE (merging).
    Errors are raised as `TransientDatabaseError` (retry the same batch later) or
    `PermanentDatabaseError`.
    """

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._staged: weakref.WeakSet[AsyncConnection[TupleRow]] = weakref.WeakSet()

    async def write(self, batch: RowBatch) -> WriteResult:
        """Store every row of `batch` in one transaction; the batch itself is left unchanged."""
        work = [(table, rows) for table in TABLES if (rows := batch.rows(table.name))]
        if not work:
            return WriteResult(rows_by_table={})
        stored: dict[str, int] = {}
        try:
            async with self._pool.connection() as conn:
                await self._ensure_staging(conn)
                async with conn.transaction(), conn.cursor() as cur:
                    for table, rows in work:
                        data = list(encode_rows(table.types, rows))
                        if not table.merges and await _copy_direct(conn, cur, table, data):
                            stored[table.name] = len(rows)
                        else:
                            stored[table.name] = await _copy_staged(cur, table, data)
        except Exception as exc:
            raise classify(exc) from exc
        return WriteResult(rows_by_table=stored)

    async def _ensure_staging(self, conn: AsyncConnection[TupleRow]) -> None:
        """Create this connection's staging tables in their own committed transaction."""
        if conn in self._staged:
            return
        async with conn.transaction():
            await conn.execute(_STAGING_DDL)
        self._staged.add(conn)


async def _copy_direct(
    conn: AsyncConnection[TupleRow],
    cur: AsyncCursor[TupleRow],
    table: Table,
    data: Sequence[bytes],
) -> bool:
    """COPY into the table under a savepoint; False (rolled back) if a key is already there."""
    try:
        async with conn.transaction(), cur.copy(table.direct_copy_sql.encode()) as copy:
            for chunk in data:
                await copy.write(chunk)
    except psycopg.errors.UniqueViolation:
        return False
    return True


async def _copy_staged(cur: AsyncCursor[TupleRow], table: Table, data: Sequence[bytes]) -> int:
    """COPY into the staging table, then move the rows not yet stored; return how many."""
    async with cur.copy(table.copy_sql.encode()) as copy:
        for chunk in data:
            await copy.write(chunk)
    await cur.execute(table.insert_sql.encode())
    return max(cur.rowcount, 0)
