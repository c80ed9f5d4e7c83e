"""Prometheus metrics of the alert forwarders, registered on an injectable registry."""

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ForwarderMetrics:
    """Every metric a forwarder exports, labelled by `sink` (alertmanager or webhook)."""

    def __init__(self, registry: CollectorRegistry, sink: str) -> None:
        self.registry = registry
        self.sink = sink
        self._consumed = Counter(
            "voltstream_forwarder_consumed",
            "Records read from the alerts topic.",
            ["sink"],
            registry=registry,
        )
        self._filtered = Counter(
            "voltstream_forwarder_filtered",
            "Alerts skipped by the severity, type or vehicle filter.",
            ["sink"],
            registry=registry,
        )
        self._delivered = Counter(
            "voltstream_forwarder_delivered",
            "Alerts accepted by the receiver.",
            ["sink"],
            registry=registry,
        )
        self._failures = Counter(
            "voltstream_forwarder_failures",
            "Failed delivery attempts and undecodable records, by reason.",
            ["sink", "reason"],
            registry=registry,
        )
        self._dead_lettered = Counter(
            "voltstream_forwarder_dead_lettered",
            "Alerts written to the forwarder's dead-letter topic, by reason.",
            ["sink", "reason"],
            registry=registry,
        )
        self._delivery_seconds = Histogram(
            "voltstream_forwarder_delivery_seconds",
            "Duration of one successful delivery request.",
            ["sink"],
            buckets=DELIVERY_BUCKETS,
            registry=registry,
        )
        self._last_success = Gauge(
            "voltstream_forwarder_last_success_timestamp_seconds",
            "UNIX time of the last successful delivery.",
            ["sink"],
            registry=registry,
        )
        self._circuit_open = Gauge(
            "voltstream_forwarder_circuit_open",
            "1 while a webhook target is parked by its failure budget.",
            ["sink", "target"],
            registry=registry,
        )

    def consumed(self, count: int = 1) -> None:
        """Count records read."""
        self._consumed.labels(self.sink).inc(count)

    def filtered(self, count: int = 1) -> None:
        """Count alerts the filter dropped."""
        self._filtered.labels(self.sink).inc(count)

    def delivered(self, count: int, seconds: float) -> None:
        """Count a successful request that delivered `count` alerts in `seconds`."""
        self._delivered.labels(self.sink).inc(count)
        self._delivery_seconds.labels(self.sink).observe(seconds)
        self._last_success.labels(self.sink).set(time.time())

    def failure(self, reason: str) -> None:
        """Count one failed attempt (or an undecodable record) by reason."""
        self._failures.labels(self.sink, reason).inc()

    def dead_lettered(self, reason: str) -> None:
        """Count one alert written to the dead-letter topic."""
        self._dead_lettered.labels(self.sink, reason).inc()

    def circuit(self, target: str, is_open: bool) -> None:
        """Record whether `target` is parked."""
        self._circuit_open.labels(self.sink, target).set(1.0 if is_open else 0.0)
