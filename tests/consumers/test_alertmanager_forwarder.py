"""The Alertmanager forwarder against the Kafka protocol and a real Alertmanager."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from consumers.runner import run_alertmanager_forwarder
from consumers.settings import AlertmanagerForwarderSettings
from tests.consumers.conftest import AlertmanagerBackend
from tests.consumers.helpers import (
    committed_offsets,
    free_port,
    fresh_settings,
    make_alert,
    produce,
    produce_raw,
    resolved,
    wait_until,
)
from voltstream.settings import Settings

pytestmark = pytest.mark.integration


def forwarder_settings(url: str, **overrides: Any) -> AlertmanagerForwarderSettings:
    values: dict[str, Any] = {
        "url": url,
        "group_id": f"am-{uuid.uuid4().hex[:8]}",
        "batch_wait_s": 0.2,
        "backoff_initial_s": 0.1,
        "backoff_max_s": 0.5,
        "session_timeout_s": 6.0,
        **overrides,
    }
    return AlertmanagerForwarderSettings(**values)


class Running:
    """A forwarder task with its registry and metrics address."""

    def __init__(self, settings: Settings, forwarder: AlertmanagerForwarderSettings) -> None:
        self.settings = settings
        self.forwarder = forwarder
        self.registry = CollectorRegistry()
        self.stop = asyncio.Event()
        self.address: str | None = None
        self.task: asyncio.Task[None] | None = None

    def value(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, {"sink": "alertmanager", **labels}) or 0.0

    async def __aenter__(self) -> "Running":
        def started(address: str | None) -> None:
            self.address = address

        self.task = asyncio.create_task(
            run_alertmanager_forwarder(
                self.settings,
                self.forwarder,
                stop=self.stop,
                registry=self.registry,
                on_started=started,
            )
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.task is not None
        self.stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 5)
        except TimeoutError:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


@contextlib.asynccontextmanager
async def forwarding(
    settings: Settings, forwarder: AlertmanagerForwarderSettings
) -> AsyncIterator[Running]:
    async with Running(settings, forwarder) as running:
        yield running


async def test_firing_then_resolved_reaches_alertmanager(
    kafka_bootstrap: str, alertmanager_backend: Callable[[int], AlertmanagerBackend]
) -> None:
    backend = alertmanager_backend(free_port())
    await backend.start()
    settings = fresh_settings(kafka_bootstrap)
    firing = make_alert("EV-AM-1")
    produce(kafka_bootstrap, settings.topics.alerts_topic, [firing])

    forwarder = forwarder_settings(backend.url)
    async with forwarding(settings, forwarder) as running:

        async def is_active() -> bool:
            return any(
                a["labels"].get("alert_id") == firing.alert_id
                for a in await backend.active_alerts()
            )

        await wait_until(is_active, what="the firing alert in Alertmanager")
        active = [
            a for a in await backend.active_alerts() if a["labels"]["alert_id"] == firing.alert_id
        ]
        labels = active[0]["labels"]
        assert labels == {
            "alertname": "overheating",
            "severity": "critical",
            "vehicle_id": "EV-AM-1",
            "alert_id": firing.alert_id,
            "service": "voltstream",
        }
        assert active[0]["annotations"]["message"] == firing.message
        assert active[0]["annotations"]["cells"] == "3,4"
        assert "t_max_c=61.5" in active[0]["annotations"]["evidence"]

        produce(kafka_bootstrap, settings.topics.alerts_topic, [resolved(firing)])

        async def is_gone() -> bool:
            return not await is_active()

        await wait_until(is_gone, what="the alert resolved in Alertmanager")
        assert running.value("voltstream_forwarder_delivered_total") >= 2
        assert running.value("voltstream_forwarder_last_success_timestamp_seconds") > 0

        assert running.address is not None
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{running.address}/metrics") as response,
        ):
            text = await response.text()
        assert 'voltstream_forwarder_delivered_total{sink="alertmanager"}' in text
        assert "voltstream_forwarder_delivery_seconds_bucket" in text
        async with aiohttp.ClientSession() as session:
            for path in ("/healthz", "/readyz"):
                async with session.get(f"http://{running.address}{path}") as response:
                    assert response.status == 200, path

    async def both_committed() -> bool:
        offsets = committed_offsets(
            kafka_bootstrap, forwarder.group_id, settings.topics.alerts_topic
        )
        return sum(offsets.values()) == 2

    await wait_until(both_committed, what="offsets committed after delivery")


async def test_retries_until_alertmanager_comes_up(
    kafka_bootstrap: str, alertmanager_backend: Callable[[int], AlertmanagerBackend]
) -> None:
    port = free_port()
    backend = alertmanager_backend(port)
    settings = fresh_settings(kafka_bootstrap)
    firing = make_alert("EV-AM-2")
    produce(kafka_bootstrap, settings.topics.alerts_topic, [firing])

    async with forwarding(settings, forwarder_settings(backend.url)) as running:
        await wait_until(
            lambda: running.value("voltstream_forwarder_failures_total", reason="connect") >= 2,
            what="failed attempts while Alertmanager is down",
        )
        assert running.value("voltstream_forwarder_delivered_total") == 0
        await backend.start()

        async def delivered() -> bool:
            return any(
                a["labels"].get("alert_id") == firing.alert_id
                for a in await backend.active_alerts()
            )

        await wait_until(delivered, what="delivery once Alertmanager is up")
        assert running.value("voltstream_forwarder_delivered_total") == 1


async def test_offsets_not_committed_before_delivery(
    kafka_bootstrap: str, alertmanager_backend: Callable[[int], AlertmanagerBackend]
) -> None:
    port = free_port()
    backend = alertmanager_backend(port)
    settings = fresh_settings(kafka_bootstrap)
    topic = settings.topics.alerts_topic
    firing = make_alert("EV-AM-3")
    produce(kafka_bootstrap, topic, [firing])
    forwarder = forwarder_settings(backend.url, group_id="am-restart")

    async with forwarding(settings, forwarder) as running:
        await wait_until(
            lambda: running.value("voltstream_forwarder_failures_total", reason="connect") >= 1,
            what="a failed attempt",
        )
    # The forwarder stopped mid-retry: nothing may have been committed.
    assert committed_offsets(kafka_bootstrap, "am-restart", topic) == {}

    await backend.start()
    async with forwarding(settings, forwarder) as running:

        async def delivered() -> bool:
            return any(
                a["labels"].get("alert_id") == firing.alert_id
                for a in await backend.active_alerts()
            )

        await wait_until(delivered, what="re-delivery after restart")
        await wait_until(
            lambda: sum(committed_offsets(kafka_bootstrap, "am-restart", topic).values()) == 1,
            what="the offset committed after delivery",
        )


async def test_undecodable_and_filtered_records_are_skipped(
    kafka_bootstrap: str, alertmanager_backend: Callable[[int], AlertmanagerBackend]
) -> None:
    from schemas.alerts import Severity

    backend = alertmanager_backend(free_port())
    await backend.start()
    settings = fresh_settings(kafka_bootstrap)
    topic = settings.topics.alerts_topic
    info = make_alert("EV-AM-4", severity=Severity.info)
    major = make_alert("EV-AM-4", severity=Severity.major)
    produce_raw(kafka_bootstrap, topic, b"EV-AM-4", b"{not json")
    produce(kafka_bootstrap, topic, [info, major])
    forwarder = forwarder_settings(backend.url, min_severity="major", group_id="am-filter")

    async with forwarding(settings, forwarder) as running:

        async def major_active() -> bool:
            return any(
                a["labels"].get("alert_id") == major.alert_id for a in await backend.active_alerts()
            )

        await wait_until(major_active, what="the major alert")
        await wait_until(
            lambda: running.value("voltstream_forwarder_failures_total", reason="decode") == 1,
            what="the undecodable record counted",
        )
        assert running.value("voltstream_forwarder_filtered_total") == 1
        ids = {a["labels"]["alert_id"] for a in await backend.active_alerts()}
        assert info.alert_id not in ids
    await wait_until(
        lambda: sum(committed_offsets(kafka_bootstrap, "am-filter", topic).values()) == 3,
        what="all three records committed",
    )


async def test_escalation_keeps_one_active_alert_per_id(
    kafka_bootstrap: str, alertmanager_backend: Callable[[int], AlertmanagerBackend]
) -> None:
    from schemas.alerts import Severity

    backend = alertmanager_backend(free_port())
    await backend.start()
    settings = fresh_settings(kafka_bootstrap)
    topic = settings.topics.alerts_topic
    warning = make_alert("EV-AM-5", severity=Severity.warning)
    critical = warning.model_copy(update={"severity": Severity.critical})

    async def severities() -> list[str]:
        return sorted(
            a["labels"]["severity"]
            for a in await backend.active_alerts()
            if a["labels"]["alert_id"] == warning.alert_id
        )

    async with forwarding(settings, forwarder_settings(backend.url)):
        produce(kafka_bootstrap, topic, [warning])

        async def warning_active() -> bool:
            return await severities() == ["warning"]

        await wait_until(warning_active, what="the warning alert")
        produce(kafka_bootstrap, topic, [critical])

        async def escalated() -> bool:
            return await severities() == ["critical"]

        await wait_until(escalated, what="only the critical variant active")
        produce(kafka_bootstrap, topic, [resolved(critical)])

        async def none_active() -> bool:
            return await severities() == []

        await wait_until(none_active, what="the escalated alert resolved")
