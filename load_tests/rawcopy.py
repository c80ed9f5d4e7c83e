"""Baseline: what the database takes when rows arrive pre-decoded (no Kafka, no processing)."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from load_tests.generator import FleetSpec, build_templates, render
from schemas.telemetry import PackSample, PackSnapshot, Reading
from streams.analytics.stats import pack_stats
from streams.fastpath import FastDecoder
from streams.sink.copy import encode_rows
from streams.sink.rows import RowBatch
from streams.sink.tables import PACK_CELLS, PACK_TELEMETRY, Table


def readings(spec: FleetSpec, count: int, start: datetime) -> list[Reading]:
    """`count` decoded readings of the generator's messages, distinct (vehicle, time) each."""
    decoder = FastDecoder()
    templates = build_templates(spec)
    k = spec.readings_per_message
    out: list[Reading] = []
    index = 0
    while len(out) < count:
        at = start + timedelta(milliseconds=index * k)
        stamps = [
            (at + timedelta(milliseconds=j)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3].encode() + b"Z"
            for j in range(k)
        ]
        vehicle = spec.vehicle_id(index % spec.vehicles).encode()
        raw = render(templates[index % len(templates)], vehicle, stamps)
        decoded = decoder.decode(raw, at + timedelta(seconds=1))
        out.extend(r for r in decoded if isinstance(r, PackSnapshot | PackSample))
        index += 1
    return out[:count]


def row_batches(items: list[Reading], batch_readings: int) -> list[RowBatch]:
    """The sink's row batches for `items` (pack_telemetry and, for snapshots, pack_cells)."""
    now = datetime.now(UTC)
    batches: list[RowBatch] = []
    for offset in range(0, len(items), batch_readings):
        batch = RowBatch()
        for reading in items[offset : offset + batch_readings]:
            if isinstance(reading, PackSnapshot):
                batch.add_snapshot(reading, pack_stats(reading), False, now)
            else:
                batch.add_sample(reading, False, now)
        batches.append(batch)
    return batches


async def _writer_rate(database_url: str, batches: list[RowBatch]) -> float:
    from streams.sink.writer import BatchWriter
    from voltstream.db.pool import open_pool
    from voltstream.settings import DatabaseSettings

    pool = await open_pool(DatabaseSettings(), database_url)
    try:
        writer = BatchWriter(pool)
        started = time.perf_counter()
        for batch in batches:
            await writer.write(batch)
        return time.perf_counter() - started
    finally:
        await pool.close()


def _copy_rate(database_url: str, batches: list[RowBatch]) -> float:
    tables: tuple[Table, ...] = (PACK_TELEMETRY, PACK_CELLS)
    with psycopg.connect(database_url, application_name="loadtest-rawcopy") as conn:
        started = time.perf_counter()
        for batch in batches:
            with conn.transaction(), conn.cursor() as cur:
                for table in tables:
                    rows = batch.rows(table.name)
                    if not rows:
                        continue
                    sql = f"COPY {table.name} ({table.column_list}) FROM STDIN (FORMAT BINARY)"
                    with cur.copy(sql.encode()) as copy:
                        for chunk in encode_rows(table.types, rows):
                            copy.write(chunk)
        return time.perf_counter() - started


def measure(
    database_url: str, spec: FleetSpec, count: int, batch_readings: int = 2_000
) -> dict[str, Any]:
    """Readings/s the sink writer and a plain binary COPY store, rows prepared beforehand."""
    base = datetime.now(UTC).replace(microsecond=0)
    writer_items = readings(
        FleetSpec(**{**spec.__dict__, "prefix": spec.prefix + "w"}), count, base
    )
    copy_items = readings(FleetSpec(**{**spec.__dict__, "prefix": spec.prefix + "c"}), count, base)
    writer_batches = row_batches(writer_items, batch_readings)
    copy_batches = row_batches(copy_items, batch_readings)
    writer_s = asyncio.run(_writer_rate(database_url, writer_batches))
    copy_s = _copy_rate(database_url, copy_batches)
    rows_per_reading = 2 if spec.kind == "snapshot" else 1
    return {
        "readings": count,
        "batch_readings": batch_readings,
        "rows_per_reading": rows_per_reading,
        "sink_writer_readings_per_s": count / writer_s,
        "plain_copy_readings_per_s": count / copy_s,
        "sink_writer_s": writer_s,
        "plain_copy_s": copy_s,
    }
