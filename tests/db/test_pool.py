"""open_pool: opened and checked, or an error when the database does not answer."""

from pathlib import Path

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from tests.fixtures.postgres import db_settings
from voltstream.db.pool import open_pool


async def test_pool_is_open_and_usable(migrated_db: str) -> None:
    pool = await open_pool(db_settings(pool_min_size=2, pool_max_size=3), migrated_db)
    try:
        assert pool.get_stats()["pool_size"] >= 2
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT current_setting('application_name')")
            assert await cur.fetchone() == ("voltstream",)
    finally:
        await pool.close()


async def test_unreachable_database_fails_fast(tmp_path: Path) -> None:
    url = f"postgresql://nobody@/nowhere?host={tmp_path}"
    with pytest.raises((PoolTimeout, psycopg.OperationalError)):
        await open_pool(db_settings(connect_timeout_s=1), url)
