"""End to end over the Kafka protocol and a real PostgreSQL: rows, dead letters, alerts, crashes."""

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from streams import dlq
from tests.streams.builders import batch, encode, sample, series, snapshot
from tests.streams.kafkaio import consume, produce, wait_until
from voltstream.workerproc import WorkerProcess, metric_sum

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


def _partitions(env: dict[str, str], name: str) -> int:
    from confluent_kafka import Producer

    topic = _topic(env, name)
    producer = Producer({"bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"], "log_level": 3})
    return len(producer.list_topics(topic, timeout=10).topics[topic].partitions)


def _topic(env: dict[str, str], name: str) -> str:
    return env["VOLTSTREAM_TOPIC_PREFIX"] + name


def test_valid_duplicate_out_of_order_and_bad_messages(
    pipeline_env: dict[str, str], workdir: Path
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    valid: list[tuple[bytes, bytes]] = []
    expected: set[tuple[str, datetime, str]] = set()
    for v in range(6):
        vid = f"EV-{v:03d}"
        for i, at in enumerate(series(start, 30, 10.0)):
            if i % 3 == 0:
                msg = snapshot(vid, at, current_kwh=55.0 - v)
                expected.add((vid, at, "snapshot"))
            else:
                msg = sample(vid, at, soc=60.0 - i * 0.1)
                expected.add((vid, at, "sample"))
            valid.append((vid.encode(), encode(msg)))
    # A batch envelope of three readings of one vehicle, the second one invalid (NaN).
    b_at = series(start + timedelta(minutes=30), 3, 10.0)
    bad_reading = sample("EV-BATCH", b_at[1])
    bad_reading["metrics"]["temp_c"] = float("nan")
    envelope = batch(
        "EV-BATCH", [sample("EV-BATCH", b_at[0]), bad_reading, sample("EV-BATCH", b_at[2])]
    )
    expected |= {("EV-BATCH", b_at[0], "sample"), ("EV-BATCH", b_at[2], "sample")}
    rng = random.Random(5)
    duplicates = rng.sample(valid, 15)
    shuffled = valid[:]
    for i in range(0, len(shuffled) - 4, 9):  # local reordering: out-of-order arrivals
        shuffled[i], shuffled[i + 3] = shuffled[i + 3], shuffled[i]
    bad = [
        (b"EV-000", b"{not json"),
        (b"EV-000", b"\xff\xfe\x00garbage"),
        (b"EV-001", b'{"hello": "world"}'),
        (b"EV-002", encode({**snapshot("EV-002", start), "nominal_capacity_kwh": -1})),
        (
            b"EV-003",
            encode(
                {
                    **snapshot("EV-003", start),
                    "cells": [
                        {"id": 1, "voltage": 3.9, "temperature": 30},
                        {"id": 1, "voltage": 3.9, "temperature": 30},
                    ],
                }
            ),
        ),
        (
            b"EV-004",
            b'{"device_id": "EV-004", "timestamp": "2024-01-01T00:00:00Z", "metrics": '
            b'{"soc_percent": 50, "voltage_v": 380, "current_a": 1, "temp_c": NaN}}',
        ),
        (b"EV-WRONG", encode(sample("EV-005", start))),  # key is not the vehicle
    ]
    messages = shuffled + duplicates + bad + [(b"EV-BATCH", encode(envelope))]

    with WorkerProcess(pipeline_env, workdir=workdir) as worker:
        telemetry = _topic(pipeline_env, "battery.telemetry")
        total = produce(pipeline_env["KAFKA_BOOTSTRAP_SERVERS"], telemetry, messages)
        url = pipeline_env["DATABASE_URL"]
        wait_until(
            lambda: metric_sum(worker.scrape(), "voltstream_messages_consumed_total") >= total,
            120,
            "the worker to consume every message",
        )
        wait_until(
            lambda: _count(url, "SELECT count(*) FROM pack_telemetry") >= len(expected),
            30,
            "rows",
        )
        assert worker.alive(), "a bad message must never stop the worker"
        rows = _count(url, "SELECT count(*) FROM pack_telemetry")
        assert rows == len(expected)
        stored = _count(
            url,
            "SELECT count(*) FROM (SELECT DISTINCT vehicle_id, time, kind FROM pack_telemetry) d",
        )
        assert stored == rows
        snapshots = sum(1 for e in expected if e[2] == "snapshot")
        assert _count(url, "SELECT count(*) FROM pack_cells") == snapshots
        assert _count(url, "SELECT count(*) FROM cell_readings") == snapshots * 96
        letters = consume(
            pipeline_env["KAFKA_BOOTSTRAP_SERVERS"],
            _topic(pipeline_env, "battery.telemetry.dlq"),
            expect=len(bad) + 1,
        )
        wait_until(lambda: "voltstream_consumer_lag{" in str(worker.scrape()), 10, "lag gauge")
        metrics = worker.scrape()
    # The /metrics endpoint of the running worker moved with the data.
    assert metrics["voltstream_worker_ready"] == 1.0
    # The only worker of its group owns every partition of the input.
    assert metric_sum(metrics, "voltstream_assigned_partitions") == _partitions(
        pipeline_env, "battery.telemetry"
    )
    assert metric_sum(metrics, "voltstream_messages_consumed_total") == total
    assert metric_sum(metrics, "voltstream_messages_received_total") == total
    assert metrics['voltstream_agent_seconds_total{phase="process"}'] > 0
    assert metrics['voltstream_agent_seconds_total{phase="input"}'] > 0
    assert metrics['voltstream_rows_written_total{table="pack_telemetry"}'] == len(expected)
    assert metric_sum(metrics, "voltstream_dead_letters_total") == len(bad) + 1
    assert metrics['voltstream_dead_letters_total{reason="key_mismatch"}'] == 1
    assert metrics["voltstream_event_latency_seconds_count"] == total
    assert metrics["voltstream_db_write_seconds_count"] >= 1
    assert metric_sum(metrics, "voltstream_readings_processed_total") == len(expected) + len(
        duplicates
    )
    lags = [v for k, v in metrics.items() if k.startswith("voltstream_consumer_lag{")]
    assert lags
    assert all(v == 0 for v in lags), "caught up: no lag"
    assert len(letters) == len(bad) + 1
    by_value = {m.value(): dict(m.headers() or []) for m in letters}
    for _key, value in bad:
        headers = by_value[value]  # byte for byte
        assert headers[dlq.H_REASON]
        assert headers[dlq.H_TOPIC].decode() == telemetry
        assert int(headers[dlq.H_OFFSET]) >= 0
    reasons = Counter(h[dlq.H_REASON].decode() for h in by_value.values())
    assert reasons["malformed_json"] == 1
    assert reasons["not_utf8"] == 1
    assert reasons["unknown_shape"] == 1
    assert reasons["key_mismatch"] == 1
    batch_headers = by_value[encode(envelope)]
    assert batch_headers[dlq.H_READING_INDEX] == b"1"
    assert _count(url, "SELECT count(*) FROM dead_letters") == len(bad) + 1


def _alert_events(env: dict[str, str]) -> list[dict[str, object]]:
    messages = consume(env["KAFKA_BOOTSTRAP_SERVERS"], _topic(env, "battery.alerts"), idle_s=4.0)
    return [json.loads(m.value()) for m in messages]


def test_thermal_and_imbalance_fire_once_then_resolve_healthy_stays_quiet(
    pipeline_env: dict[str, str], workdir: Path
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    at = series(start, 30, 10.0)
    messages: list[tuple[bytes, bytes]] = []
    for i, t in enumerate(at):
        hot = (7, 62.0) if 8 <= i < 16 else None
        low = (11, 3.70) if 8 <= i < 16 else None
        messages.append((b"EV-HOT", encode(snapshot("EV-HOT", t, hot_cell=hot))))
        messages.append((b"EV-IMB", encode(snapshot("EV-IMB", t, low_cell=low))))
        messages.append((b"EV-OK", encode(snapshot("EV-OK", t))))
    with WorkerProcess(pipeline_env, workdir=workdir) as worker:
        total = produce(
            pipeline_env["KAFKA_BOOTSTRAP_SERVERS"],
            _topic(pipeline_env, "battery.telemetry"),
            messages,
        )
        wait_until(
            lambda: metric_sum(worker.scrape(), "voltstream_messages_consumed_total") >= total,
            120,
            "the worker to consume every message",
        )
        events = _alert_events(pipeline_env)
        assert worker.alive()
    per = Counter((e["vehicle_id"], e["type"], e["state"]) for e in events)
    assert per[("EV-HOT", "overheating", "firing")] == 1
    assert per[("EV-HOT", "overheating", "resolved")] == 1
    assert per[("EV-IMB", "voltage_imbalance", "firing")] == 1
    assert per[("EV-IMB", "voltage_imbalance", "resolved")] == 1
    assert not [e for e in events if e["vehicle_id"] == "EV-OK"], "healthy vehicle alerted"
    hot = next(e for e in events if e["type"] == "overheating" and e["state"] == "firing")
    assert hot["severity"] == "critical"
    assert 7 in hot["cells"]
    ids = {
        e["alert_id"] for e in events if e["vehicle_id"] == "EV-HOT" and e["type"] == "overheating"
    }
    assert len(ids) == 1, "firing and resolved share the deterministic alert id"
    url = pipeline_env["DATABASE_URL"]
    assert _count(url, "SELECT count(*) FROM battery_alerts WHERE vehicle_id = 'EV-OK'") == 0
    assert (
        _count(
            url,
            "SELECT count(*) FROM battery_alerts "
            "WHERE vehicle_id = 'EV-HOT' AND type = 'overheating'",
        )
        == 2
    )


def test_sigkill_mid_stream_loses_and_duplicates_nothing(
    pipeline_env: dict[str, str], workdir: Path, kafka_is_embedded: bool
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    messages: list[tuple[bytes, bytes]] = []
    for i, at in enumerate(series(start, 1000, 5.0)):
        for v in range(12):
            vid = f"EV-K{v}"
            msg = snapshot(vid, at, cells=24) if i % 5 == 0 else sample(vid, at, soc=50 + (i % 40))
            messages.append((vid.encode(), encode(msg)))
    url = pipeline_env["DATABASE_URL"]
    bootstrap = pipeline_env["KAFKA_BOOTSTRAP_SERVERS"]
    telemetry = _topic(pipeline_env, "battery.telemetry")
    first = WorkerProcess(pipeline_env, workdir=workdir, name="first").start()
    try:
        produce(bootstrap, telemetry, messages)
        wait_until(
            lambda: _count(url, "SELECT count(*) FROM pack_telemetry") > len(messages) // 10,
            120,
            "a tenth of the rows",
        )
    finally:
        first.kill()
    killed_at = _count(url, "SELECT count(*) FROM pack_telemetry")
    assert killed_at < len(messages), "the kill must land mid-stream"
    replacement_env = dict(pipeline_env)
    if kafka_is_embedded:
        # librdkafka's mock cluster mishandles a group whose member was SIGKILLed: a member that
        # joins it is often left idle on partitions that have data (about half of the runs here,
        # with or without waiting out the session). The replacement therefore joins a fresh group
        # and replays the topic from the start: the at-least-once worst case. Against a real
        # broker (KAFKA_BOOTSTRAP_SERVERS, testcontainers) it resumes in the same group.
        replacement_env["VOLTSTREAM_APP_ID"] += "-replacement"
    with WorkerProcess(replacement_env, workdir=workdir, name="second"):
        wait_until(
            lambda: _count(url, "SELECT count(*) FROM pack_telemetry") >= len(messages),
            180,
            "every row after the restart",
        )
    assert _count(url, "SELECT count(*) FROM pack_telemetry") == len(messages)
    assert _count(url, "SELECT count(*) FROM pack_cells") == len(messages) // 5


def test_a_restarted_worker_restores_rolling_state_from_the_changelog(
    pipeline_env: dict[str, str], workdir: Path
) -> None:
    """The second worker (same group) must know each vehicle's newest reading time.

    It only can through the state changelog the first one wrote: a reading 15 minutes older
    than the newest one (the allowed lateness is 5) is then stored as late; with an empty
    state it would be an ordinary first reading.
    """
    url = pipeline_env["DATABASE_URL"]
    bootstrap = pipeline_env["KAFKA_BOOTSTRAP_SERVERS"]
    telemetry = _topic(pipeline_env, "battery.telemetry")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    vehicles = [f"EV-R{v}" for v in range(8)]
    first = [
        (vid.encode(), encode(sample(vid, at, soc=70.0 - i * 0.1)))
        for i, at in enumerate(series(start, 21, 60.0))
        for vid in vehicles
    ]
    with WorkerProcess(pipeline_env, workdir=workdir, name="first"):
        produce(bootstrap, telemetry, first)
        wait_until(
            lambda: _count(url, "SELECT count(*) FROM pack_telemetry") == len(first),
            90,
            "the first worker's rows",
        )
    old = start + timedelta(minutes=5, seconds=30)  # newest is start + 20 min
    new = start + timedelta(minutes=21)
    second = [(vid.encode(), encode(sample(vid, old))) for vid in vehicles] + [
        (vid.encode(), encode(sample(vid, new))) for vid in vehicles
    ]
    with WorkerProcess(pipeline_env, workdir=workdir, name="second"):
        produce(bootstrap, telemetry, second)
        wait_until(
            lambda: _count(url, "SELECT count(*) FROM pack_telemetry") == len(first) + 16,
            120,
            "the second worker's rows",
        )
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT vehicle_id, time, late FROM pack_telemetry WHERE time IN (%s, %s)",
            (old, new),
        ).fetchall()
    assert sorted((r[0], r[1] == old, r[2]) for r in rows) == sorted(
        [(vid, True, True) for vid in vehicles] + [(vid, False, False) for vid in vehicles]
    )


def _set_connections(admin_url: str, name: str, allowed: bool) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


def test_database_outage_is_retried_without_losing_or_skipping_messages(
    pipeline_env: dict[str, str], workdir: Path
) -> None:
    url = pipeline_env["DATABASE_URL"]
    name = str(conninfo_to_dict(url)["dbname"])
    admin = make_conninfo(url, dbname="postgres")
    bootstrap = pipeline_env["KAFKA_BOOTSTRAP_SERVERS"]
    telemetry = _topic(pipeline_env, "battery.telemetry")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    first = [(b"EV-DB", encode(sample("EV-DB", t))) for t in series(start, 20, 5.0)]
    during = [
        (b"EV-DB", encode(sample("EV-DB", t)))
        for t in series(start + timedelta(minutes=5), 30, 5.0)
    ]
    with WorkerProcess(pipeline_env, workdir=workdir) as worker:
        produce(bootstrap, telemetry, first)
        wait_until(
            lambda: _count(url, "SELECT count(*) FROM pack_telemetry") == 20, 60, "first rows"
        )
        _set_connections(admin, name, allowed=False)
        try:
            produce(bootstrap, telemetry, during)
            wait_until(
                lambda: metric_sum(worker.scrape(), "voltstream_db_retries_total") >= 2,
                60,
                "the worker to retry the failing write",
            )
            assert worker.alive()
        finally:
            _set_connections(admin, name, allowed=True)
        wait_until(
            lambda: _count(url, "SELECT count(*) FROM pack_telemetry") == 50,
            90,
            "rows after outage",
        )
        assert worker.alive()
