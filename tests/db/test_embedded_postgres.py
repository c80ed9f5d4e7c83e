"""EmbeddedPostgres: start, URL, idempotent stop, temporary vs given data directory."""

from pathlib import Path

import psycopg
import pytest

from voltstream.embedded.postgres import EmbeddedPostgres
from voltstream.errors import EmbeddedServiceError


def test_temporary_cluster_is_deleted_on_stop() -> None:
    server = EmbeddedPostgres()
    with pytest.raises(EmbeddedServiceError):
        _ = server.url
    with server:
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
        with psycopg.connect(server.url_for("template1")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("template1",)
        root = server._temp_root
        assert root is not None
        assert root.exists()
        assert server.start() is server  # already running: a no-op
    assert not root.exists()
    server.stop()  # idempotent
    with pytest.raises(EmbeddedServiceError):
        _ = server.url


def test_given_data_directory_is_kept_and_reused(tmp_path: Path) -> None:
    data = tmp_path / "pg"
    with EmbeddedPostgres(data) as server, psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE kept")
    assert (data / "PG_VERSION").exists()
    with EmbeddedPostgres(data) as server, psycopg.connect(server.url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'kept'").fetchone()
        assert row == (1,)
