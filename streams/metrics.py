"""Prometheus metrics of the stream worker, registered on an injectable registry."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Latency buckets from 5 ms to 60 s: DB batches and end-to-end event latency.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


class WorkerMetrics:
    """Every metric the worker exports; tests pass a fresh `CollectorRegistry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.messages_consumed = Counter(
            "voltstream_messages_consumed",
            "Kafka messages consumed from the telemetry topic: committed and acked.",
            ["topic"],
            registry=registry,
        )
        self.messages_received = Counter(
            "voltstream_messages_received",
            "Kafka messages the agent took from the telemetry topic (consumed counts them "
            "again once their batch is committed).",
            ["topic"],
            registry=registry,
        )
        self.readings_processed = Counter(
            "voltstream_readings_processed",
            "Readings (snapshots or samples) validated and processed.",
            ["kind"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "voltstream_dead_letters",
            "Messages or readings routed to the dead-letter topic, by reason.",
            ["reason"],
            registry=registry,
        )
        self.alerts_emitted = Counter(
            "voltstream_alerts_emitted",
            "Alert events published to the alerts topic.",
            ["type", "severity", "state"],
            registry=registry,
        )
        self.rows_written = Counter(
            "voltstream_rows_written",
            "Rows inserted into the database (duplicates skipped by ON CONFLICT excluded).",
            ["table"],
            registry=registry,
        )
        self.db_write_seconds = Histogram(
            "voltstream_db_write_seconds",
            "Duration of one batched database write (COPY + insert-select, one transaction).",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.db_retries = Counter(
            "voltstream_db_retries",
            "Transient database errors retried without moving past the batch.",
            registry=registry,
        )
        self.event_latency_seconds = Histogram(
            "voltstream_event_latency_seconds",
            "Kafka message timestamp to row committed.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "voltstream_consumer_lag",
            "Messages between the committed-to-be offset and the partition's high watermark.",
            ["topic", "partition"],
            registry=registry,
        )
        self.vehicles_tracked = Gauge(
            "voltstream_vehicles_tracked",
            "Vehicles whose rolling state this worker holds.",
            registry=registry,
        )
        self.rate_limited = Counter(
            "voltstream_rate_limited",
            "Readings over the per-vehicle flood limit (routed to the dead-letter topic).",
            registry=registry,
        )
        self.offline_vehicles = Gauge(
            "voltstream_offline_vehicles",
            "Vehicles currently silent for longer than their expected period.",
            registry=registry,
        )
        self.late_readings = Counter(
            "voltstream_late_readings",
            "Readings older than the allowed lateness (stored, flagged, not folded into state).",
            registry=registry,
        )
        self.assigned_partitions = Gauge(
            "voltstream_assigned_partitions",
            "Partitions of the topic this worker owns since the last rebalance.",
            ["topic"],
            registry=registry,
        )
        self.ready = Gauge(
            "voltstream_worker_ready",
            "1 once the worker owns partitions and consumes, 0 while starting or rebalancing.",
            registry=registry,
        )
        self.batch_size = Histogram(
            "voltstream_batch_readings",
            "Readings per flushed batch.",
            buckets=(1, 10, 50, 100, 500, 1000, 2500, 5000, 10000),
            registry=registry,
        )
        self.agent_seconds = Counter(
            "voltstream_agent_seconds",
            "Wall-clock seconds of the telemetry agent by phase: input (waiting for the next "
            "batch), process (decode, analytics, rows), commit_wait (waiting for the previous "
            "batch's commit).",
            ["phase"],
            registry=registry,
        )
