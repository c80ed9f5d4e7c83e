"""`voltstream demo`: the whole pipeline on embedded services with a simulated, faulty fleet."""

import contextlib
import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from voltstream.errors import VoltstreamError
from voltstream.settings import Settings
from voltstream.workerproc import WorkerProcess, metric_sum

if TYPE_CHECKING:
    from voltstream.simulator import FaultRates

#: Produce no further ahead of the worker than this many messages (the embedded broker keeps
#: only a few MB per partition).
MAX_IN_FLIGHT = 4_000


def _demo_faults() -> "FaultRates":
    from voltstream.simulator import FaultRates

    # Enough of every fault that a 40-vehicle fleet shows each kind within minutes.
    return FaultRates(
        weak_cell=0.12,
        thermal_event=0.08,
        stuck_sensor=0.08,
        dead_sensor=0.05,
        pack_voltage_mismatch=0.05,
        offline=0.1,
        duplicate=0.005,
        out_of_order=0.005,
        malformed=0.002,
    )


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What the demo runs: fleet size, how long, and which services."""

    vehicles: int = 40
    duration_s: float = 45.0
    simulated_s: float = 6 * 3600.0
    seed: int = 7
    batch_size: int = 1
    kafka: str | None = None
    database_url: str | None = None
    faults: str = "demo"
    json_summary: Path | None = None


@dataclass
class DemoProgress:
    """Counters shared between the producer, the alert reader and the display."""

    produced: int = 0
    produced_valid: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    alert_severities: Counter[str] = field(default_factory=Counter)
    done_producing: bool = False
    error: BaseException | None = None


def _produce(
    settings: Settings,
    options: DemoOptions,
    progress: DemoProgress,
    consumed: Callable[[], float],
    stop: threading.Event,
) -> None:
    """Produce the simulated fleet at a pace spread over the demo's duration."""
    import confluent_kafka

    from voltstream.kafka import producer_config
    from voltstream.simulator import FAULT_PRESETS, Fleet, FleetConfig
    from voltstream.simulator.messages import MessageKind

    start = datetime.now(UTC) - timedelta(seconds=options.simulated_s + 60)
    fleet = Fleet(
        FleetConfig(
            vehicles=options.vehicles,
            seed=options.seed,
            start=start,
            duration_s=options.simulated_s,
            batch_size=options.batch_size,
            faults=_demo_faults() if options.faults == "demo" else FAULT_PRESETS[options.faults],
        )
    )
    producer = confluent_kafka.Producer(producer_config(settings.kafka, **{"linger.ms": 20}))
    topic = settings.topics.telemetry_topic
    speed = options.simulated_s / max(options.duration_s * 0.8, 1.0)
    began = time.monotonic()
    try:
        for message in fleet.messages():
            if stop.is_set():
                break
            wait = message.emit_offset_s / speed - (time.monotonic() - began)
            if wait > 0:
                time.sleep(min(wait, 1.0))
            while progress.produced - consumed() > MAX_IN_FLIGHT and not stop.is_set():
                producer.poll(0.05)
            producer.produce(topic, key=message.key, value=message.value)
            progress.produced += 1
            if message.kind is not MessageKind.MALFORMED:
                progress.produced_valid += 1
            if progress.produced % 500 == 0:
                producer.poll(0)
        producer.flush(30)
    except BaseException as exc:
        progress.error = exc
    finally:
        progress.done_producing = True


def _read_alerts(settings: Settings, progress: DemoProgress, stop: threading.Event) -> None:
    """Count alert events as alert subscribers would see them on the alerts topic."""
    import confluent_kafka

    from voltstream.kafka import consumer_config

    consumer = confluent_kafka.Consumer(
        consumer_config(settings.kafka, f"voltstream-demo-{time.time_ns()}")
    )
    consumer.subscribe([settings.topics.alerts_topic])
    try:
        while not stop.is_set():
            for msg in consumer.consume(500, timeout=0.5):
                value = msg.value()
                if msg.error() is not None or value is None:
                    continue
                alert = json.loads(value)
                if alert.get("state") == "firing":
                    progress.alerts[alert["type"]] += 1
                    progress.alert_severities[alert["severity"]] += 1
    finally:
        consumer.close()


def _query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchall()


def run_demo(options: DemoOptions, out: TextIO) -> dict[str, Any]:
    """Run the demo end to end, print live progress and a fleet summary; return the summary."""
    from voltstream.db.migrate import migrate
    from voltstream.services import provision

    base = Settings()
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="voltstream-demo-")))
        out.write("voltstream demo: starting services...\n")
        services = provision(
            stack,
            bootstrap_servers=options.kafka or base.kafka.bootstrap_servers,
            database_url=options.database_url
            or (base.database.url.get_secret_value() if base.database.url else None),
            workdir=workdir,
        )
        kafka_kind = "embedded (librdkafka mock cluster)" if services.embedded_kafka else "external"
        pg_kind = "embedded PostgreSQL" if services.embedded_postgres else "external"
        out.write(f"  kafka    {services.bootstrap_servers}  [{kafka_kind}]\n")
        out.write(f"  database [{pg_kind}]\n")
        settings = base.with_services(
            bootstrap_servers=services.bootstrap_servers, database_url=services.database_url
        )
        report = migrate(services.database_url, settings.database)
        mode = "TimescaleDB" if report.timescale else "plain PostgreSQL"
        out.write(f"  migrated ({len(report.applied)} migrations, {mode} mode)\n")
        worker = WorkerProcess(services.worker_env(), workdir=workdir)
        out.write("  starting worker (Faust, kafka:// driver)...\n")
        started = time.monotonic()
        stack.enter_context(worker)
        out.write(f"  worker ready in {time.monotonic() - started:.1f} s\n\n")

        progress = DemoProgress()
        stop = threading.Event()
        consumed_cache = {"value": 0.0}

        def consumed() -> float:
            return consumed_cache["value"]

        threads = [
            threading.Thread(
                target=_produce, args=(settings, options, progress, consumed, stop), daemon=True
            ),
            threading.Thread(target=_read_alerts, args=(settings, progress, stop), daemon=True),
        ]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        last_consumed, last_t = 0.0, began
        deadline = began + options.duration_s + 120
        metrics: dict[str, float] = {}
        stalled_at = [0.0, began]
        try:
            while time.monotonic() < deadline:
                time.sleep(1.0)
                metrics = worker.scrape() or metrics
                consumed_cache["value"] = metric_sum(metrics, "voltstream_messages_consumed_total")
                now = time.monotonic()
                rate = (consumed_cache["value"] - last_consumed) / (now - last_t)
                last_consumed, last_t = consumed_cache["value"], now
                alerts = ", ".join(f"{k}={v}" for k, v in sorted(progress.alerts.items()))
                out.write(
                    f"[{now - began:5.1f}s] produced {progress.produced:7d}  consumed "
                    f"{consumed_cache['value']:7.0f}  {rate:7.0f} msg/s  rows "
                    f"{metric_sum(metrics, 'voltstream_rows_written_total'):8.0f}  dlq "
                    f"{metric_sum(metrics, 'voltstream_dead_letters_total'):4.0f}  alerts: "
                    f"{alerts or '-'}\n"
                )
                out.flush()
                if progress.error is not None:
                    raise VoltstreamError(f"producer failed: {progress.error}")
                if not worker.alive():
                    raise VoltstreamError("the worker died:\n" + worker.log_tail())
                if consumed_cache["value"] > stalled_at[0] or progress.produced <= stalled_at[0]:
                    stalled_at[:] = [consumed_cache["value"], now]
                elif now - stalled_at[1] > 30:
                    raise VoltstreamError("the worker stopped consuming:\n" + worker.log_tail())
                if progress.done_producing and consumed_cache["value"] >= progress.produced:
                    time.sleep(2.0)  # let the last alerts reach the alert reader
                    break
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
        elapsed = time.monotonic() - began
        metrics = worker.scrape() or metrics
        worker.stop()
        summary = _summary(services.database_url, progress, metrics, elapsed)
        _print_summary(summary, out)
        if options.json_summary is not None:
            options.json_summary.write_text(json.dumps(summary, indent=2, default=str) + "\n")
        return summary


def _summary(
    database_url: str, progress: DemoProgress, metrics: dict[str, float], elapsed: float
) -> dict[str, Any]:
    tables = {
        name: _query(database_url, f"SELECT count(*) FROM {name}")[0][0]  # noqa: S608 - fixed names
        for name in (
            "pack_telemetry",
            "pack_cells",
            "battery_health",
            "battery_alerts",
            "dead_letters",
            "vehicles",
        )
    }
    bands = dict(
        _query(
            database_url,
            """
            SELECT CASE WHEN soh >= 90 THEN '>= 90 %' WHEN soh >= 80 THEN '80-90 %'
                        WHEN soh >= 70 THEN '70-80 %' ELSE '< 70 %' END AS band, count(*)
            FROM (SELECT DISTINCT ON (vehicle_id) soh_percent AS soh FROM battery_health
                  WHERE soh_percent IS NOT NULL ORDER BY vehicle_id, time DESC) AS latest
            GROUP BY band ORDER BY band
            """,
        )
    )
    alert_rows = _query(
        database_url,
        "SELECT type, severity, count(DISTINCT alert_id) FROM battery_alerts "
        "WHERE state = 'firing' GROUP BY type, severity ORDER BY type, severity",
    )
    dlq = dict(_query(database_url, "SELECT reason, count(*) FROM dead_letters GROUP BY reason"))
    consumed = metric_sum(metrics, "voltstream_messages_consumed_total")
    return {
        "elapsed_s": round(elapsed, 1),
        "messages_produced": progress.produced,
        "messages_consumed": int(consumed),
        "messages_per_s": round(consumed / elapsed, 1) if elapsed else 0.0,
        "rows": tables,
        "soh_bands": bands,
        "alerts_by_type_severity": [list(r) for r in alert_rows],
        "alerts_on_topic": dict(progress.alerts),
        "dead_letters_by_reason": dlq,
    }


def _print_summary(summary: dict[str, Any], out: TextIO) -> None:
    out.write("\n=== fleet summary ===\n")
    out.write(
        f"messages: {summary['messages_produced']} produced, {summary['messages_consumed']} "
        f"consumed in {summary['elapsed_s']} s ({summary['messages_per_s']} msg/s)\n"
    )
    out.write("rows: " + ", ".join(f"{k}={v}" for k, v in summary["rows"].items()) + "\n")
    out.write("vehicles by SOH band: ")
    out.write(", ".join(f"{k}: {v}" for k, v in summary["soh_bands"].items()) or "-")
    out.write("\nalerts (distinct, by type and severity):\n")
    for alert_type, severity, count in summary["alerts_by_type_severity"]:
        out.write(f"  {alert_type:28s} {severity:9s} {count}\n")
    out.write("dead letters by reason: ")
    out.write(", ".join(f"{k}={v}" for k, v in summary["dead_letters_by_reason"].items()) or "-")
    out.write("\n")
