"""`voltstream alerts tail`: print alerts from the alerts topic as they arrive."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import confluent_kafka

from consumers.codec import decode_alert
from consumers.errors import AlertDecodeError, KafkaSourceError
from consumers.filters import AlertFilter
from schemas.alerts import Alert
from voltstream.kafka import consumer_config
from voltstream.settings import Settings

OutputFormat = Literal["text", "json"]


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_text(alert: Alert) -> str:
    """One colour-free line: time, severity, state, type, vehicle, value/threshold, message."""
    cells = ",".join(str(c) for c in alert.cells) or "-"
    return (
        f"{_iso(alert.event_time)} {str(alert.severity).upper():<8} {alert.state!s:<8} "
        f"{alert.type!s:<26} vehicle={alert.vehicle_id} value={alert.value:g}{alert.unit} "
        f"threshold={alert.threshold:g}{alert.unit} cells={cells} id={alert.alert_id} "
        f"{alert.message}"
    ).replace("\n", " ")


def format_json(alert: Alert) -> str:
    """The alert as one line of JSON (the topic's own representation)."""
    return alert.model_dump_json()


@dataclass(frozen=True, slots=True)
class TailOptions:
    """What to print, how, and when to stop."""

    alert_filter: AlertFilter = field(default_factory=AlertFilter)
    output: OutputFormat = "text"
    from_beginning: bool = False
    max_alerts: int | None = None
    timeout_s: float | None = None


def tail_consumer_config(settings: Settings, from_beginning: bool) -> dict[str, Any]:
    """A throw-away consumer group that never commits."""
    return consumer_config(
        settings.kafka,
        f"voltstream-tail-{uuid.uuid4().hex[:12]}",
        **{
            "auto.offset.reset": "earliest" if from_beginning else "latest",
            "enable.auto.commit": False,
            "client.id": f"{settings.kafka.client_id}-tail",
        },
    )


def tail(
    settings: Settings,
    options: TailOptions,
    out: TextIO,
    err: TextIO,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Print matching alerts until `max_alerts` were printed or `timeout_s` passed; return the
    number printed."""
    render = format_json if options.output == "json" else format_text
    deadline = None if options.timeout_s is None else clock() + options.timeout_s
    consumer = confluent_kafka.Consumer(tail_consumer_config(settings, options.from_beginning))
    printed = 0
    try:
        consumer.subscribe([settings.topics.alerts_topic])
        while options.max_alerts is None or printed < options.max_alerts:
            wait = 0.5 if deadline is None else min(0.5, deadline - clock())
            if wait <= 0:
                break
            message = consumer.poll(wait)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaSourceError(f"fatal consumer error: {error}")
                continue
            try:
                alert = decode_alert(message.value())
            except AlertDecodeError as exc:
                print(f"skipping undecodable record at offset {message.offset()}: {exc}", file=err)
                continue
            if options.alert_filter.accepts(alert):
                print(render(alert), file=out, flush=True)
                printed += 1
    finally:
        consumer.close()
    return printed
