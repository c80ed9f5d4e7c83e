"""Writes a RowBatch in one transaction: binary COPY to TEMP staging, then INSERT ON CONFLICT."""

import asyncio
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from streams.sink.copy import encode_rows
from streams.sink.errors import classify
from streams.sink.rows import RowBatch
from streams.sink.tables import TABLES, Table

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]
Encoded = asyncio.Future[list[bytes]]

_STAGING_DDL = ";\n".join(table.staging_ddl for table in TABLES).encode()

#: Batches with fewer rows are encoded on the event loop (a thread costs more than it saves).
BACKGROUND_ENCODING_MIN_ROWS = 2_000


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

    Large batches are encoded table by table in a helper thread while the server is busy with
    the previous table's COPY and INSERT, so client encoding and server work overlap.
    """

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._staged: weakref.WeakSet[AsyncConnection[TupleRow]] = weakref.WeakSet()

    async def write(self, batch: RowBatch) -> WriteResult:
        """Store every row of `batch` in one transaction; the batch itself is left unchanged."""
        work = [(table, tuple(rows)) for table in TABLES if (rows := batch.rows(table.name))]
        if not work:
            return WriteResult(rows_by_table={})
        encoded = _start_encoding(work)
        stored: dict[str, int] = {}
        try:
            async with self._pool.connection() as conn:
                await self._ensure_staging(conn)
                async with conn.transaction(), conn.cursor() as cur:
                    for (table, _), chunks in zip(work, encoded, strict=True):
                        async with cur.copy(table.copy_sql.encode()) as copy:
                            for chunk in await chunks:
                                await copy.write(chunk)
                        await cur.execute(table.insert_sql.encode())
                        stored[table.name] = max(cur.rowcount, 0)
        except Exception as exc:
            raise classify(exc) from exc
        finally:
            for future in encoded:
                future.add_done_callback(_consume)
        return WriteResult(rows_by_table=stored)

    async def _ensure_staging(self, conn: AsyncConnection[TupleRow]) -> None:
        """Create this connection's staging tables in their own committed transaction."""
        if conn in self._staged:
            return
        async with conn.transaction():
            await conn.execute(_STAGING_DDL)
        self._staged.add(conn)


def _start_encoding(work: Sequence[tuple[Table, Sequence[Any]]]) -> list[Encoded]:
    """One future per table with its COPY data; filled in order, in a thread for big batches."""
    loop = asyncio.get_running_loop()
    futures: list[Encoded] = [loop.create_future() for _ in work]

    def produce(settle: Any) -> None:
        for (table, rows), future in zip(work, futures, strict=True):
            try:
                data = list(encode_rows(table.types, rows))
            except Exception as exc:  # delivered to the awaiting coroutine
                settle(_settle, future, None, exc)
            else:
                settle(_settle, future, data, None)

    if sum(len(rows) for _, rows in work) < BACKGROUND_ENCODING_MIN_ROWS:
        produce(lambda fn, *args: fn(*args))
    else:
        thread = threading.Thread(
            target=produce, args=(loop.call_soon_threadsafe,), name="sink-encode", daemon=True
        )
        thread.start()
    return futures


def _settle(future: Encoded, data: list[bytes] | None, exc: Exception | None) -> None:
    if future.done():  # the write was abandoned
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        assert data is not None
        future.set_result(data)


def _consume(future: Encoded) -> None:
    """Mark an abandoned future's exception as retrieved (the write already failed)."""
    if not future.cancelled():
        future.exception()
