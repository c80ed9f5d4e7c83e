"""Helpers for the consumers tests: alerts, producing, waiting, HTTP receivers, Alertmanager."""

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import confluent_kafka
from aiohttp import web

from consumers.codec import encode_alert
from schemas.alerts import Alert, AlertState, AlertType, Severity
from voltstream.settings import MetricsSettings, Settings, TopicSettings

ALERTMANAGER_BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def make_alert(
    vehicle_id: str = "EV-0001",
    *,
    type_: AlertType = AlertType.overheating,
    severity: Severity = Severity.critical,
    state: AlertState = AlertState.firing,
    first_seen: datetime | None = None,
    alert_id: str | None = None,
) -> Alert:
    """A realistic alert; `first_seen` defaults to a minute ago so Alertmanager keeps it."""
    first = first_seen or datetime.now(UTC) - timedelta(minutes=1)
    event = first if state == AlertState.firing else first + timedelta(seconds=30)
    return Alert(
        alert_id=alert_id or f"{vehicle_id}-{type_}-{uuid.uuid4().hex[:8]}",
        vehicle_id=vehicle_id,
        type=type_,
        severity=severity,
        state=state,
        value=61.5,
        threshold=60.0,
        unit="°C",
        cells=(3, 4),
        first_seen=first,
        last_seen=event,
        event_time=event,
        message=f"cell temperature 61.5 °C above 60 °C on {vehicle_id}",
        evidence={"t_max_c": 61.5, "t_mean_c": 35.2, "cells": [3, 4]},
    )


def resolved(alert: Alert) -> Alert:
    """The `resolved` event of a firing alert."""
    end = alert.first_seen + timedelta(seconds=30)
    return alert.model_copy(
        update={"state": AlertState.resolved, "event_time": end, "last_seen": end}
    )


def fresh_settings(bootstrap: str) -> Settings:
    """Settings on a fresh topic prefix, metrics on a free port."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    return Settings(
        topics=TopicSettings(prefix=prefix),
        metrics=MetricsSettings(host="127.0.0.1", port=0),
    ).with_services(bootstrap_servers=bootstrap)


def produce(bootstrap: str, topic: str, alerts: list[Alert]) -> None:
    """Publish alerts the way the workers do (key = vehicle id, value = JSON)."""
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap})
    for alert in alerts:
        producer.produce(topic, key=alert.vehicle_id.encode(), value=encode_alert(alert))
    assert producer.flush(10) == 0


def produce_raw(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    """Publish an arbitrary record."""
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, key=key, value=value)
    assert producer.flush(10) == 0


def committed_offsets(bootstrap: str, group_id: str, topic: str) -> dict[int, int]:
    """Committed offsets of `group_id` per partition (absent: none committed)."""
    consumer = confluent_kafka.Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False}
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = [
            confluent_kafka.TopicPartition(topic, p) for p in metadata.topics[topic].partitions
        ]
        result = consumer.committed(partitions, timeout=10)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in result if tp.offset >= 0}


def read_topic(bootstrap: str, topic: str, count: int, timeout_s: float = 20.0) -> list[Any]:
    """Read `count` records of `topic` from the beginning."""
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        consumer.subscribe([topic])
        while len(records) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                records.append(message)
    finally:
        consumer.close()
    return records


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]], timeout_s: float = 30.0, what: str = ""
) -> None:
    """Poll `predicate` until it is true or fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what or predicate}")


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    """One request an `HttpReceiver` got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """A loopback aiohttp server: `/ok/*` answers 200, `/down/*` 503, and `/api/v2/alerts`
    emulates Alertmanager (POST stores, GET lists the active alerts)."""

    requests: list[Received] = field(default_factory=list)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    runner: web.AppRunner | None = None
    url: str = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Received(request.path, dict(request.headers), body))
        if request.path == "/api/v2/alerts":
            if request.method == "GET":
                return web.json_response(self._active())
            for alert in json.loads(body):
                self.alerts[json.dumps(alert["labels"], sort_keys=True)] = alert
            return web.json_response({})
        if request.path.startswith("/down"):
            return web.Response(status=503)
        return web.Response(status=200)

    def _active(self) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        active = []
        for alert in self.alerts.values():
            ends = datetime.fromisoformat(alert["endsAt"].replace("Z", "+00:00"))
            if ends > now:
                active.append({**alert, "status": {"state": "active"}})
        return active

    async def start(self, port: int = 0) -> "HttpReceiver":
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        host, bound = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{bound}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


ALERTMANAGER_CONFIG = """\
route:
  receiver: blackhole
  group_by: [alertname, vehicle_id]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
"""


class AlertmanagerProcess:
    """The real Alertmanager binary on a loopback port with a temporary config and storage."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._dir = Path(tempfile.mkdtemp(prefix="alertmanager-"))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> "AlertmanagerProcess":
        assert ALERTMANAGER_BINARY is not None
        config = self._dir / "alertmanager.yml"
        config.write_text(ALERTMANAGER_CONFIG)
        (self._dir / "data").mkdir(exist_ok=True)
        self._process = subprocess.Popen(
            [
                ALERTMANAGER_BINARY,
                f"--config.file={config}",
                f"--storage.path={self._dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self._dir / "alertmanager.log").open("wb"),
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = (self._dir / "alertmanager.log").read_text()
                raise RuntimeError(f"alertmanager exited: {log}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response,
            ):
                if response.status == 200:
                    return self
            time.sleep(0.2)
        raise RuntimeError("alertmanager did not become ready")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
            self._process = None
        shutil.rmtree(self._dir, ignore_errors=True)


def get_json(url: str) -> Any:
    """GET a JSON document."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def alertmanager_on(port: int) -> Iterator[AlertmanagerProcess]:
    """Run the real Alertmanager on `port` for the duration of the block."""
    process = AlertmanagerProcess(port).start()
    try:
        yield process
    finally:
        process.stop()
