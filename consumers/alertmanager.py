"""Alertmanager v2 delivery: map alerts to `postableAlerts` and POST them, retrying with backoff."""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from consumers.backoff import Backoff
from consumers.errors import DeliveryError
from consumers.metrics import ForwarderMetrics
from consumers.settings import AlertmanagerForwarderSettings
from schemas.alerts import Alert, AlertState, Severity

logger = logging.getLogger(__name__)

SERVICE_LABEL = "voltstream"
EVIDENCE_MAX_CHARS = 1_000


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _number(value: float) -> str:
    return f"{value:g}"


def evidence_summary(evidence: dict[str, Any]) -> str:
    """Render evidence as `k=v, ...` (lists shortened), at most `EVIDENCE_MAX_CHARS`."""
    parts: list[str] = []
    for key in sorted(evidence):
        value = evidence[key]
        if isinstance(value, list):
            shown = ",".join(_number(v) if isinstance(v, float) else str(v) for v in value[:8])
            text = f"[{shown}{',...' if len(value) > 8 else ''}]"
        elif isinstance(value, float):
            text = _number(value)
        else:
            text = str(value)
        parts.append(f"{key}={text}")
    summary = ", ".join(parts)
    if len(summary) > EVIDENCE_MAX_CHARS:
        summary = summary[: EVIDENCE_MAX_CHARS - 3] + "..."
    return summary


def to_postable(
    alert: Alert,
    *,
    now: datetime,
    firing_ttl_s: float,
    generator_url: str | None = None,
) -> dict[str, Any]:
    """Map one alert to an Alertmanager `postableAlert`.

    Labels identify the alert (Alertmanager deduplicates on them); `startsAt` is `first_seen`.
    A `resolved` event ends it at its `event_time`; a firing one is kept alive until
    `now + firing_ttl_s` unless a `resolved` event arrives first.
    """
    labels = {
        "alertname": str(alert.type),
        "severity": str(alert.severity),
        "vehicle_id": alert.vehicle_id,
        "alert_id": alert.alert_id,
        "service": SERVICE_LABEL,
    }
    annotations = {
        "summary": f"{alert.type} on {alert.vehicle_id}: {_number(alert.value)} {alert.unit} "
        f"(threshold {_number(alert.threshold)} {alert.unit})",
        "message": alert.message,
        "value": _number(alert.value),
        "threshold": _number(alert.threshold),
        "unit": alert.unit,
        "cells": ",".join(str(c) for c in alert.cells),
        "evidence": evidence_summary(dict(alert.evidence)),
        "last_seen": _iso(alert.last_seen),
    }
    starts = alert.first_seen
    if alert.state == AlertState.resolved:
        ends = max(alert.event_time, starts)
    else:
        ends = max(now, alert.last_seen) + timedelta(seconds=firing_ttl_s)
    postable: dict[str, Any] = {
        "labels": labels,
        "annotations": {k: v for k, v in annotations.items() if v},
        "startsAt": _iso(starts),
        "endsAt": _iso(ends),
    }
    if generator_url:
        postable["generatorURL"] = generator_url.format(
            vehicle_id=alert.vehicle_id, alert_id=alert.alert_id
        )
    return postable


def to_postables(
    alert: Alert,
    *,
    now: datetime,
    firing_ttl_s: float,
    generator_url: str | None = None,
) -> list[dict[str, Any]]:
    """The alert itself, then the same alert at each lower severity, ended.

    Workers escalate a firing alert by re-publishing it (same `alert_id`) with a higher
    severity. `severity` is a label, so Alertmanager sees a new alert: ending the lower-severity
    variants at the escalation (or resolution) time keeps one active alert per `alert_id`.
    Ending a variant Alertmanager never saw is harmless (a group that never fired notifies
    nothing).
    """
    postable = to_postable(alert, now=now, firing_ttl_s=firing_ttl_s, generator_url=generator_url)
    postables = [postable]
    rank = Severity(alert.severity).rank
    ends = _iso(max(alert.event_time, alert.first_seen))
    for lower in Severity:
        if lower.rank < rank:
            postables.append(
                {
                    **postable,
                    "labels": {**postable["labels"], "severity": str(lower)},
                    "endsAt": ends,
                }
            )
    return postables


class AlertmanagerSink:
    """POSTs batches to `<url>/api/v2/alerts`; retries retryable failures until they succeed."""

    name = "alertmanager"

    def __init__(
        self,
        settings: AlertmanagerForwarderSettings,
        session: aiohttp.ClientSession,
        metrics: ForwarderMetrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._session = session
        self._metrics = metrics
        self._clock = clock
        self._endpoint = settings.url.rstrip("/") + "/api/v2/alerts"
        self._backoff: Backoff = settings.backoff
        self._headers: dict[str, str] = {"Content-Type": "application/json"}
        self._auth: aiohttp.BasicAuth | None = None
        if settings.bearer_token is not None:
            self._headers["Authorization"] = f"Bearer {settings.bearer_token.get_secret_value()}"
        if settings.basic_auth_username is not None and settings.basic_auth_password is not None:
            self._auth = aiohttp.BasicAuth(
                settings.basic_auth_username, settings.basic_auth_password.get_secret_value()
            )

    async def _post(self, payload: list[dict[str, Any]]) -> None:
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_s)
        try:
            async with self._session.post(
                self._endpoint,
                json=payload,
                headers=self._headers,
                auth=self._auth,
                timeout=timeout,
            ) as response:
                if response.status < 300:
                    return
                text = (await response.text())[:500]
        except TimeoutError as exc:
            raise DeliveryError("timeout", str(exc) or "request timed out") from exc
        except aiohttp.ClientConnectionError as exc:
            raise DeliveryError("connect", str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise DeliveryError("client", str(exc)) from exc
        status = response.status
        retryable = status >= 500 or status in (408, 429)
        reason = "http_5xx" if status >= 500 else f"http_{status}"
        raise DeliveryError(reason, f"HTTP {status}: {text}", retryable=retryable)

    async def _send_until_done(self, alerts: Sequence[Alert]) -> None:
        now = self._clock()
        payload = [
            postable
            for a in alerts
            for postable in to_postables(
                a,
                now=now,
                firing_ttl_s=self._settings.firing_ttl_s,
                generator_url=self._settings.generator_url,
            )
        ]
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                await self._post(payload)
            except DeliveryError as exc:
                self._metrics.failure(exc.reason)
                if not exc.retryable:
                    raise
                delay = self._backoff.delay(attempt)
                attempt += 1
                logger.warning(
                    "Alertmanager delivery of %d alert(s) failed (%s); retry %d in %.1fs",
                    len(alerts),
                    exc,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            self._metrics.delivered(len(alerts), time.perf_counter() - started)
            return

    async def deliver(self, alerts: Sequence[Alert]) -> None:
        """Deliver every alert, in order. Retryable failures are retried without end (the
        offsets stay uncommitted meanwhile); a batch Alertmanager rejects (HTTP 400) is split
        and a single alert it still rejects is logged, counted and skipped."""
        if not alerts:
            return
        try:
            await self._send_until_done(alerts)
        except DeliveryError as exc:
            if len(alerts) > 1:
                for alert in alerts:
                    await self.deliver([alert])
                return
            logger.error("Alertmanager rejected alert %s: %s", alerts[0].alert_id, exc)
            self._metrics.failure("rejected")
