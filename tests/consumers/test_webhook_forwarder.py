"""The webhook forwarder: signed deliveries, failure budget with dead letters, filters."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from consumers.runner import run_webhook_forwarder
from consumers.settings import WebhookForwarderSettings
from consumers.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from schemas.alerts import Alert, Severity
from tests.consumers.helpers import (
    HttpReceiver,
    committed_offsets,
    fresh_settings,
    make_alert,
    produce,
    read_topic,
    wait_until,
)
from voltstream.settings import Settings

pytestmark = pytest.mark.integration

SECRET = "s3cret-for-tests"


def webhook_settings(urls: list[str], **overrides: Any) -> WebhookForwarderSettings:
    values: dict[str, Any] = {
        "urls": urls,
        "secret": SECRET,
        "group_id": f"wh-{uuid.uuid4().hex[:8]}",
        "batch_wait_s": 0.2,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.2,
        "session_timeout_s": 6.0,
        **overrides,
    }
    return WebhookForwarderSettings(**values)


@contextlib.asynccontextmanager
async def forwarding(
    settings: Settings, forwarder: WebhookForwarderSettings, registry: CollectorRegistry
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_webhook_forwarder(settings, forwarder, stop=stop, registry=registry)
    )
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def receiver() -> AsyncIterator[HttpReceiver]:
    server = await HttpReceiver().start()
    yield server
    await server.stop()


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, {"sink": "webhook", **labels}) or 0.0


async def test_alerts_are_posted_signed(kafka_bootstrap: str, receiver: HttpReceiver) -> None:
    settings = fresh_settings(kafka_bootstrap)
    alerts = [make_alert("EV-WH-1"), make_alert("EV-WH-2")]
    produce(kafka_bootstrap, settings.topics.alerts_topic, alerts)
    registry = CollectorRegistry()
    forwarder = webhook_settings([f"{receiver.url}/ok/hook"])

    async with forwarding(settings, forwarder, registry):
        await wait_until(lambda: len(receiver.requests) == 2, what="two webhook posts")
    received = {Alert.model_validate_json(r.body).alert_id: r for r in receiver.requests}
    assert set(received) == {a.alert_id for a in alerts}
    for request in receiver.requests:
        assert request.headers["Content-Type"] == "application/json"
        assert verify(
            SECRET.encode(),
            request.body,
            request.headers[TIMESTAMP_HEADER],
            request.headers[SIGNATURE_HEADER],
        )
        # A tampered body or a wrong secret does not verify.
        assert not verify(
            SECRET.encode(),
            request.body + b" ",
            request.headers[TIMESTAMP_HEADER],
            request.headers[SIGNATURE_HEADER],
        )
        assert not verify(
            b"wrong",
            request.body,
            request.headers[TIMESTAMP_HEADER],
            request.headers[SIGNATURE_HEADER],
        )
    assert sample(registry, "voltstream_forwarder_delivered_total") == 2
    assert (
        sum(
            committed_offsets(
                kafka_bootstrap, forwarder.group_id, settings.topics.alerts_topic
            ).values()
        )
        == 2
    )


async def test_failure_budget_parks_url_and_dead_letters(
    kafka_bootstrap: str, receiver: HttpReceiver
) -> None:
    settings = fresh_settings(kafka_bootstrap)
    alerts = [make_alert("EV-WH-3") for _ in range(3)]
    produce(kafka_bootstrap, settings.topics.alerts_topic, alerts)
    registry = CollectorRegistry()
    good, bad = f"{receiver.url}/ok/a", f"{receiver.url}/down/b?token=abc"
    forwarder = webhook_settings(
        [good, bad], failure_budget=2, max_attempts=3, cooldown_s=300, batch_max=10
    )

    async with forwarding(settings, forwarder, registry):
        await wait_until(
            lambda: (
                sample(registry, "voltstream_forwarder_dead_lettered_total", reason="circuit_open")
                == 3
            ),
            what="three dead letters",
        )
        await wait_until(
            lambda: (
                sum(
                    committed_offsets(
                        kafka_bootstrap, forwarder.group_id, settings.topics.alerts_topic
                    ).values()
                )
                == 3
            ),
            what="offsets committed once dead-lettered",
        )
    good_posts = [r for r in receiver.requests if r.path == "/ok/a"]
    bad_posts = [r for r in receiver.requests if r.path == "/down/b"]
    assert len(good_posts) == 3  # the healthy URL is not held back by the parked one
    assert len(bad_posts) == 2  # the budget: two consecutive failures, then parked
    assert (
        sample(registry, "voltstream_forwarder_circuit_open", target=f"{receiver.url}/down/b") == 1
    )

    dlq_topic = settings.topics.qualified("battery.alerts.webhook.dlq")
    letters = read_topic(kafka_bootstrap, dlq_topic, 3)
    assert len(letters) == 3
    assert {Alert.model_validate_json(m.value()).alert_id for m in letters} == {
        a.alert_id for a in alerts
    }
    for message in letters:
        headers = {k: v.decode() for k, v in message.headers()}
        assert headers["voltstream-dlq-reason"] == "circuit_open"
        assert headers["voltstream-dlq-target"] == f"{receiver.url}/down/b"  # no query/token
        assert headers["voltstream-dlq-alert-id"] in {a.alert_id for a in alerts}
        assert message.key() == b"EV-WH-3"
    attempts = sorted(int(dict(m.headers())["voltstream-dlq-attempts"].decode()) for m in letters)
    assert attempts == [0, 0, 2]


async def test_severity_and_type_filters(kafka_bootstrap: str, receiver: HttpReceiver) -> None:
    from schemas.alerts import AlertType

    settings = fresh_settings(kafka_bootstrap)
    info = make_alert("EV-WH-4", severity=Severity.info)
    major_overheat = make_alert("EV-WH-4", severity=Severity.major)
    critical_soh = make_alert("EV-WH-4", severity=Severity.critical, type_=AlertType.low_soh)
    produce(kafka_bootstrap, settings.topics.alerts_topic, [info, major_overheat, critical_soh])
    registry = CollectorRegistry()
    forwarder = webhook_settings(
        [f"{receiver.url}/ok/filtered"], min_severity="major", types="overheating,sensor_fault"
    )

    async with forwarding(settings, forwarder, registry):
        await wait_until(
            lambda: sample(registry, "voltstream_forwarder_consumed_total") == 3,
            what="all three records read",
        )
        await wait_until(lambda: len(receiver.requests) == 1, what="one delivery")
        await asyncio.sleep(0.5)
    assert [json.loads(r.body)["alert_id"] for r in receiver.requests] == [major_overheat.alert_id]
    assert sample(registry, "voltstream_forwarder_filtered_total") == 2
