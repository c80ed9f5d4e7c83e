"""Fixtures of the consumers tests: an Alertmanager (the real binary, else an emulation)."""

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.consumers.helpers import (
    ALERTMANAGER_BINARY,
    AlertmanagerProcess,
    HttpReceiver,
    get_json,
)


class AlertmanagerBackend:
    """Starts and stops an Alertmanager on a given port and lists its active alerts."""

    def __init__(self, port: int, real: bool) -> None:
        self.port = port
        self.real = real
        self.url = f"http://127.0.0.1:{port}"
        self._process: AlertmanagerProcess | None = None
        self._receiver: HttpReceiver | None = None

    async def start(self) -> None:
        if self.real:
            self._process = await asyncio.to_thread(AlertmanagerProcess(self.port).start)
        else:
            self._receiver = await HttpReceiver().start(self.port)

    async def stop(self) -> None:
        if self._process is not None:
            await asyncio.to_thread(self._process.stop)
            self._process = None
        if self._receiver is not None:
            await self._receiver.stop()
            self._receiver = None

    async def active_alerts(self) -> list[dict[str, Any]]:
        """Alerts Alertmanager reports as active (GET /api/v2/alerts)."""
        alerts: list[dict[str, Any]] = await asyncio.to_thread(
            get_json, f"{self.url}/api/v2/alerts?active=true&silenced=true&inhibited=true"
        )
        return [a for a in alerts if a.get("status", {}).get("state") == "active"]


@pytest.fixture
async def alertmanager_backend() -> AsyncIterator[Callable[[int], AlertmanagerBackend]]:
    """A factory of Alertmanagers on chosen ports, all stopped after the test."""
    created: list[AlertmanagerBackend] = []

    def make(port: int) -> AlertmanagerBackend:
        # VOLTSTREAM_TEST_ALERTMANAGER=emulated forces the aiohttp emulation.
        real = ALERTMANAGER_BINARY is not None and (
            os.environ.get("VOLTSTREAM_TEST_ALERTMANAGER") != "emulated"
        )
        backend = AlertmanagerBackend(port, real=real)
        created.append(backend)
        return backend

    yield make
    for backend in created:
        await backend.stop()
