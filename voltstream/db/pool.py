"""The async connection pool of the pipeline, opened and checked before it is handed out."""

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from voltstream.settings import DatabaseSettings

AsyncPool = AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]]


async def open_pool(settings: DatabaseSettings, url: str) -> AsyncPool:
    """Open a pool of `pool_min_size`..`pool_max_size` connections and run one query on it.

    Connections are checked when they are taken from the pool, so one broken by a server restart
    is replaced instead of failing a write. Raises `psycopg_pool.PoolTimeout` (or a psycopg
    error) when the database does not answer within `connect_timeout_s`.
    """
    timeout = settings.connect_timeout_s
    pool: AsyncPool = AsyncConnectionPool(
        url,
        min_size=settings.pool_min_size,
        max_size=max(settings.pool_min_size, settings.pool_max_size),
        timeout=timeout,
        kwargs={"connect_timeout": max(1, round(timeout)), "application_name": "voltstream"},
        check=AsyncConnectionPool.check_connection,
        name="voltstream",
        open=False,
    )
    try:
        await pool.open(wait=True, timeout=timeout)
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
    except (PoolTimeout, psycopg.Error):
        await pool.close()
        raise
    return pool
