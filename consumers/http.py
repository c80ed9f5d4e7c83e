"""The forwarders' HTTP endpoint: `/metrics`, `/healthz` (liveness) and `/readyz`."""

import time
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


class Heartbeat:
    """The forwarder loop beats once per iteration; liveness fails when it stalls."""

    def __init__(
        self, stall_after_s: float = 120.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._stall_after_s = stall_after_s
        self._last = clock()
        self.ready = False

    def beat(self) -> None:
        """Record that the loop made progress."""
        self._last = self._clock()

    @property
    def alive(self) -> bool:
        """Whether the loop beat recently."""
        return self._clock() - self._last < self._stall_after_s


class MetricsServer:
    """Serves the registry and the heartbeat on `host:port` (port 0 picks a free one)."""

    def __init__(
        self, registry: CollectorRegistry, heartbeat: Heartbeat, host: str, port: int
    ) -> None:
        self._registry = registry
        self._heartbeat = heartbeat
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(self._registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, _: web.Request) -> web.Response:
        alive = self._heartbeat.alive
        return web.Response(text="ok\n" if alive else "stalled\n", status=200 if alive else 503)

    async def _readyz(self, _: web.Request) -> web.Response:
        ready = self._heartbeat.ready and self._heartbeat.alive
        return web.Response(text="ready\n" if ready else "starting\n", status=200 if ready else 503)

    async def start(self) -> str:
        """Start serving and return the `host:port` actually bound."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        return f"{host}:{port}"

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
