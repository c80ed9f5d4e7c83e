"""Writes a RowBatch in one transaction: binary COPY to TEMP staging, then INSERT ON CONFLICT."""

import weakref
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from streams.sink.copy import encode_rows
from streams.sink.errors import classify
from streams.sink.rows import RowBatch
from streams.sink.tables import TABLES

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

    Per table: COPY (FORMAT BINARY) into a per-connection TEMP staging table (created once per
    connection, emptied at every commit), then one INSERT ... SELECT ... ON CONFLICT DO NOTHING
    (vehicles: DO UPDATE, merging). All tables commit together or not at all. Errors are raised
    as `TransientDatabaseError` (retry the same batch later) or `PermanentDatabaseError`.
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
                        async with cur.copy(table.copy_sql.encode()) as copy:
                            for chunk in encode_rows(table.types, rows):
                                await copy.write(chunk)
                        await cur.execute(table.insert_sql.encode())
                        stored[table.name] = max(cur.rowcount, 0)
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
