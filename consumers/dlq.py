"""The forwarders' dead-letter topic: undeliverable alerts with why, where and how often."""

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import confluent_kafka

from consumers.errors import DeadLetterError

HEADER_PREFIX = "voltstream-dlq-"


class DeadLetterSink(Protocol):
    """Somewhere an undeliverable alert is kept; `write` returns once it is durable."""

    async def write(self, key: str, value: bytes, headers: Mapping[str, str]) -> None:
        """Store one record or raise `DeadLetterError`."""


def dead_letter_headers(
    *, reason: str, target: str, attempts: int, error: str, alert_id: str, failed_at: str
) -> dict[str, str]:
    """The headers every dead-lettered alert carries."""
    return {
        f"{HEADER_PREFIX}reason": reason,
        f"{HEADER_PREFIX}target": target,
        f"{HEADER_PREFIX}attempts": str(attempts),
        f"{HEADER_PREFIX}error": error[:1000],
        f"{HEADER_PREFIX}alert-id": alert_id,
        f"{HEADER_PREFIX}failed-at": failed_at,
    }


class KafkaDeadLetters:
    """Produces dead letters to a Kafka topic and waits for the broker's acknowledgement."""

    def __init__(self, config: dict[str, Any], topic: str, timeout_s: float = 30.0) -> None:
        self._producer = confluent_kafka.Producer(config)
        self._topic = topic
        self._timeout_s = timeout_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts-dlq")

    @property
    def topic(self) -> str:
        """The dead-letter topic."""
        return self._topic

    def _produce(self, key: str, value: bytes, headers: Mapping[str, str]) -> None:
        errors: list[str] = []

        def on_delivery(error: Any, _message: Any) -> None:
            if error is not None:
                errors.append(str(error))

        try:
            self._producer.produce(
                self._topic,
                key=key.encode("utf-8"),
                value=value,
                headers=[(k, v.encode("utf-8")) for k, v in headers.items()],
                on_delivery=on_delivery,
            )
        except (confluent_kafka.KafkaException, BufferError) as exc:
            raise DeadLetterError(f"cannot produce to {self._topic}: {exc}") from exc
        remaining = self._producer.flush(self._timeout_s)
        if remaining or errors:
            detail = errors[0] if errors else f"{remaining} record(s) not acknowledged"
            raise DeadLetterError(f"dead letter to {self._topic} failed: {detail}")

    async def write(self, key: str, value: bytes, headers: Mapping[str, str]) -> None:
        """Produce one dead letter and wait until the broker has it."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._produce, key, value, dict(headers))

    def close(self) -> None:
        """Flush and release the producer."""
        self._producer.flush(self._timeout_s)
        self._executor.shutdown(wait=False)
