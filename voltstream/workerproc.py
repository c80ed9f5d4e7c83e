"""Run `voltstream worker` as a child process and watch it through its /metrics endpoint."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from voltstream.errors import EmbeddedServiceError


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def parse_metrics(text: str) -> dict[str, float]:
    """Parse Prometheus text exposition into `{'name{labels}': value}` (comments skipped)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            continue
    return out


def metric_sum(metrics: Mapping[str, float], name: str) -> float:
    """Sum a metric over all its label sets."""
    return sum(v for k, v in metrics.items() if k == name or k.startswith(name + "{"))


class WorkerProcess:
    """A `voltstream worker` child process with its own metrics port and state directory."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        workdir: Path,
        name: str = "worker",
        log: IO[bytes] | None = None,
        log_level: str | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.metrics_port = free_port()
        self._cwd = cwd
        """Where the child starts: `python -m voltstream` imports the source tree found there."""
        self.workdir = workdir
        self.name = name
        self._env = {
            **os.environ,
            **env,
            "VOLTSTREAM_METRICS_PORT": str(self.metrics_port),
            "VOLTSTREAM_METRICS_HOST": "127.0.0.1",
            "VOLTSTREAM_DATA_DIR": str(workdir / f"{name}-data"),
            "PYTHONUNBUFFERED": "1",
        }
        self._log = log
        self._log_level = log_level or os.environ.get("VOLTSTREAM_WORKER_LOG_LEVEL", "WARNING")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        if self._proc is None:
            raise EmbeddedServiceError("the worker is not running")
        return self._proc.pid

    def start(self, ready_timeout_s: float = 90.0) -> Self:
        """Start the worker and wait until it reports ready (owns partitions)."""
        log_path = self.log_path
        log = self._log or log_path.open("ab")
        self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "voltstream",
                "--log-level",
                self._log_level,
                "worker",
                "--faust-loglevel",
                "info" if self._log_level in ("DEBUG", "INFO") else "warn",
            ],
            env=self._env,
            cwd=self._cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmbeddedServiceError(
                    f"worker exited with {self._proc.returncode}; see {log_path}"
                )
            if self.scrape().get("voltstream_worker_ready") == 1.0:
                return self
            time.sleep(0.25)
        self.stop()
        raise EmbeddedServiceError(
            f"worker not ready after {ready_timeout_s:.0f} s; see {log_path}"
        )

    def scrape(self, names: Sequence[str] = ()) -> dict[str, float]:
        """Read the worker's /metrics (only the samples `names`, if given); empty while it is
        not serving."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        if names:
            url += "?" + urllib.parse.urlencode([("name[]", name) for name in names])
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http, loopback
                body: bytes = response.read()
        except (urllib.error.URLError, OSError):
            return {}
        return parse_metrics(body.decode())

    @property
    def log_path(self) -> Path:
        """Where the worker's output goes."""
        return self.workdir / f"{self.name}.log"

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of the worker's output."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        """Whether the child is still running."""
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """Stop gracefully (SIGTERM), then kill after `timeout_s`; return the exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._proc = None
        return proc.returncode

    def kill(self) -> None:
        """SIGKILL the worker: no shutdown, no final commit (for crash tests)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
