"""The root exception of the `consumers` package and its narrow subclasses."""


class ConsumerError(Exception):
    """Base class of every error raised by the `consumers` package."""


class ForwarderConfigError(ConsumerError):
    """Forwarder settings are missing or contradict each other."""


class AlertDecodeError(ConsumerError):
    """A record on the alerts topic is not a valid `schemas.alerts.Alert`."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class DeliveryError(ConsumerError):
    """One delivery attempt to a receiver failed.

    `reason` is a short metric label (`connect`, `timeout`, `http_5xx`, `http_4xx`, ...);
    `retryable` tells whether the same request may succeed later.
    """

    def __init__(self, reason: str, detail: str, *, retryable: bool = True) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.retryable = retryable


class DeadLetterError(ConsumerError):
    """An undeliverable alert could not be written to the dead-letter topic either."""


class KafkaSourceError(ConsumerError):
    """The alerts consumer failed (subscription, commit or fatal client error)."""
