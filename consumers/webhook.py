"""Signed webhook delivery with retries, a per-URL failure budget and dead letters."""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import aiohttp
from yarl import URL

from consumers.backoff import Backoff
from consumers.circuit import CircuitBreaker
from consumers.codec import encode_alert
from consumers.dlq import DeadLetterSink, dead_letter_headers
from consumers.errors import DeliveryError
from consumers.metrics import ForwarderMetrics
from consumers.settings import WebhookForwarderSettings
from consumers.signing import signature_headers
from schemas.alerts import Alert

logger = logging.getLogger(__name__)

USER_AGENT = "voltstream-webhook/1"


def target_label(url: str) -> str:
    """A URL safe for logs and metric labels: no credentials, query or fragment."""
    parsed = URL(url)
    return str(parsed.with_user(None).with_query(None).with_fragment(None))


class WebhookTarget:
    """One receiving URL and its failure budget."""

    def __init__(self, url: str, breaker: CircuitBreaker) -> None:
        self.url = url
        self.label = target_label(url)
        self.breaker = breaker


class WebhookSink:
    """POSTs each alert as JSON to every URL; an alert that cannot be delivered to a URL is
    dead-lettered (with the URL in its headers), so nothing is lost."""

    name = "webhook"

    def __init__(
        self,
        settings: WebhookForwarderSettings,
        session: aiohttp.ClientSession,
        metrics: ForwarderMetrics,
        dead_letters: DeadLetterSink,
        *,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if settings.secret is None:
            raise ValueError("WebhookForwarderSettings always has a secret")
        self._settings = settings
        self._session = session
        self._metrics = metrics
        self._dead_letters = dead_letters
        self._secret = settings.secret.get_secret_value().encode("utf-8")
        self._wall_clock = wall_clock
        self._backoff: Backoff = settings.backoff
        self.targets = [
            WebhookTarget(
                url, CircuitBreaker(settings.failure_budget, settings.cooldown_s, monotonic)
            )
            for url in settings.urls
        ]
        for target in self.targets:
            metrics.circuit(target.label, is_open=False)

    async def _post(self, target: WebhookTarget, alert: Alert, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Voltstream-Alert-Id": alert.alert_id,
            "X-Voltstream-Alert-State": str(alert.state),
            **signature_headers(self._secret, body, self._wall_clock()),
        }
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_s)
        try:
            async with self._session.post(
                target.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                if response.status < 300:
                    return
                status = response.status
        except TimeoutError as exc:
            raise DeliveryError("timeout", str(exc) or "request timed out") from exc
        except aiohttp.ClientConnectionError as exc:
            raise DeliveryError("connect", str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise DeliveryError("client", str(exc)) from exc
        retryable = status >= 500 or status in (408, 429)
        reason = "http_5xx" if status >= 500 else "http_4xx"
        raise DeliveryError(reason, f"HTTP {status}", retryable=retryable)

    async def _dead_letter(
        self,
        target: WebhookTarget,
        alert: Alert,
        body: bytes,
        *,
        reason: str,
        attempts: int,
        error: str,
    ) -> None:
        headers = dead_letter_headers(
            reason=reason,
            target=target.label,
            attempts=attempts,
            error=error,
            alert_id=alert.alert_id,
            failed_at=datetime.now(UTC).isoformat(),
        )
        await self._dead_letters.write(alert.vehicle_id, body, headers)
        self._metrics.dead_lettered(reason)
        logger.warning(
            "alert %s dead-lettered for %s: %s (%s)", alert.alert_id, target.label, reason, error
        )

    async def _deliver_one(self, target: WebhookTarget, alert: Alert) -> None:
        body = encode_alert(alert)
        if not target.breaker.allows():
            await self._dead_letter(
                target, alert, body, reason="circuit_open", attempts=0, error="target parked"
            )
            return
        error = ""
        attempts = 0
        for attempt in range(self._settings.max_attempts):
            attempts = attempt + 1
            started = time.perf_counter()
            try:
                await self._post(target, alert, body)
            except DeliveryError as exc:
                error = str(exc)
                self._metrics.failure(exc.reason)
                if target.breaker.record_failure():
                    self._metrics.circuit(target.label, is_open=True)
                    logger.error(
                        "%s parked for %.0fs after %d consecutive failures",
                        target.label,
                        self._settings.cooldown_s,
                        target.breaker.failures,
                    )
                    await self._dead_letter(
                        target, alert, body, reason="circuit_open", attempts=attempts, error=error
                    )
                    return
                if not exc.retryable:
                    await self._dead_letter(
                        target, alert, body, reason="rejected", attempts=attempts, error=error
                    )
                    return
                if attempts < self._settings.max_attempts:
                    await asyncio.sleep(self._backoff.delay(attempt))
                continue
            target.breaker.record_success()
            self._metrics.circuit(target.label, is_open=False)
            self._metrics.delivered(1, time.perf_counter() - started)
            return
        await self._dead_letter(
            target, alert, body, reason="retries_exhausted", attempts=attempts, error=error
        )

    async def _deliver_target(self, target: WebhookTarget, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            await self._deliver_one(target, alert)

    async def deliver(self, alerts: Sequence[Alert]) -> None:
        """Deliver (or dead-letter) every alert to every URL; URLs proceed in parallel, each
        in order. Raises `DeadLetterError` only when the dead-letter topic fails too."""
        if alerts:
            await asyncio.gather(*(self._deliver_target(t, alerts) for t in self.targets))
