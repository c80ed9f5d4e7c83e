"""Assemble and run a forwarder process: Kafka source, sink, metrics endpoint, shutdown."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

import aiohttp
from prometheus_client import CollectorRegistry

from consumers.alertmanager import AlertmanagerSink
from consumers.dlq import KafkaDeadLetters
from consumers.forwarder import AlertSink, Forwarder
from consumers.http import Heartbeat, MetricsServer
from consumers.metrics import ForwarderMetrics
from consumers.settings import (
    AlertmanagerForwarderSettings,
    WebhookForwarderSettings,
    _ForwarderSettings,
)
from consumers.source import KafkaAlertSource
from consumers.webhook import WebhookSink
from voltstream.kafka import consumer_config, producer_config
from voltstream.settings import Settings

logger = logging.getLogger(__name__)

SinkFactory = Callable[[aiohttp.ClientSession, ForwarderMetrics], AlertSink]


async def run_forwarder(
    settings: Settings,
    forwarder: _ForwarderSettings,
    sink_name: str,
    make_sink: SinkFactory,
    *,
    stop: asyncio.Event,
    registry: CollectorRegistry | None = None,
    on_started: Callable[[str | None], Awaitable[None] | None] | None = None,
) -> None:
    """Run one forwarder until `stop` is set; `on_started` gets the metrics address."""
    registry = registry if registry is not None else CollectorRegistry()
    metrics = ForwarderMetrics(registry, sink_name)
    heartbeat = Heartbeat()
    server: MetricsServer | None = None
    address: str | None = None
    if settings.metrics.enabled:
        server = MetricsServer(registry, heartbeat, settings.metrics.host, settings.metrics.port)
        address = await server.start()
        logger.info("metrics on http://%s/metrics", address)
    client_id = f"{settings.kafka.client_id}-{sink_name}"
    config = consumer_config(
        settings.kafka,
        forwarder.group_id,
        **{"client.id": client_id, **forwarder.consumer_overrides},
    )
    source = KafkaAlertSource(config, settings.topics.alerts_topic)
    try:
        async with aiohttp.ClientSession() as session:
            loop = Forwarder(
                source,
                make_sink(session, metrics),
                metrics,
                heartbeat,
                alert_filter=forwarder.alert_filter,
                batch_max=forwarder.batch_max,
                batch_wait_s=forwarder.batch_wait_s,
                backoff=forwarder.backoff,
            )
            if on_started is not None:
                result = on_started(address)
                if result is not None:
                    await result
            await loop.run(stop)
    finally:
        if server is not None:
            await server.stop()


async def run_alertmanager_forwarder(
    settings: Settings,
    forwarder: AlertmanagerForwarderSettings,
    *,
    stop: asyncio.Event,
    registry: CollectorRegistry | None = None,
    on_started: Callable[[str | None], Awaitable[None] | None] | None = None,
) -> None:
    """Forward the alerts topic to Alertmanager until `stop` is set."""

    def make_sink(session: aiohttp.ClientSession, metrics: ForwarderMetrics) -> AlertSink:
        return AlertmanagerSink(forwarder, session, metrics)

    await run_forwarder(
        settings,
        forwarder,
        AlertmanagerSink.name,
        make_sink,
        stop=stop,
        registry=registry,
        on_started=on_started,
    )


async def run_webhook_forwarder(
    settings: Settings,
    forwarder: WebhookForwarderSettings,
    *,
    stop: asyncio.Event,
    registry: CollectorRegistry | None = None,
    on_started: Callable[[str | None], Awaitable[None] | None] | None = None,
) -> None:
    """Forward the alerts topic to the webhook URLs until `stop` is set."""
    dead_letters = KafkaDeadLetters(
        producer_config(settings.kafka, **{"client.id": f"{settings.kafka.client_id}-webhook-dlq"}),
        settings.topics.qualified(forwarder.dlq_topic),
    )

    def make_sink(session: aiohttp.ClientSession, metrics: ForwarderMetrics) -> AlertSink:
        return WebhookSink(forwarder, session, metrics, dead_letters)

    try:
        await run_forwarder(
            settings,
            forwarder,
            WebhookSink.name,
            make_sink,
            stop=stop,
            registry=registry,
            on_started=on_started,
        )
    finally:
        dead_letters.close()


def run_until_signalled(
    main: Callable[[asyncio.Event], Awaitable[None]], grace_s: float = 10.0
) -> None:
    """Run `main(stop)` on a fresh event loop; SIGINT/SIGTERM set `stop`, and a batch still
    being retried after `grace_s` is abandoned uncommitted (it is re-delivered on restart)."""

    async def supervise() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(main(stop))

        def on_signal() -> None:
            stop.set()
            loop.call_later(grace_s, task.cancel)

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, on_signal)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(supervise())
