"""Sink throughput: BatchWriter vs plain psycopg `copy.write_row`, 96-cell snapshots, same data.

    python load_tests/bench_sink.py [--snapshots 40000] [--batch 5000] [--cells 96]
                                    [--repeat 3] [--database-url URL]

Without a URL an embedded PostgreSQL is started. Each method gets its own freshly migrated
database and the same prepared row tuples (one pack_telemetry + one pack_cells row per
snapshot); a snapshot row/s figure counts both rows of a snapshot once.
"""

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.sink.copy import encode_rows
from streams.sink.rows import RowBatch
from streams.sink.tables import PACK_CELLS, PACK_TELEMETRY
from streams.sink.writer import BatchWriter
from voltstream.db.migrate import migrate
from voltstream.db.pool import open_pool
from voltstream.embedded.postgres import EmbeddedPostgres
from voltstream.settings import DatabaseSettings

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TELEMETRY_TYPES = [
    "timestamptz", "text", "text", *["float8"] * 5, "int4", *["float8"] * 7,
    *["float8"] * 2, "int4", "bool", "timestamptz",
]  # fmt: skip
CELLS_TYPES = ["timestamptz", "text", "int4[]", "float4[]", "float4[]", "float4[]"]


@dataclass(frozen=True)
class Cell:
    """A cell reading (the sink's CellLike)."""

    id: int
    voltage: float
    temperature: float
    internal_resistance_mohm: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """A pack snapshot (the sink's SnapshotLike)."""

    vehicle_id: str
    timestamp: datetime
    cells: tuple[Cell, ...]
    cycle_count: int = 321
    nominal_capacity_kwh: float = 75.0
    current_capacity_kwh: float = 69.5
    pack_voltage_v: float | None = 352.8
    pack_current_a: float | None = -42.5
    soc_percent: float | None = 64.0
    odometer_km: float | None = 48_210.5


@dataclass(frozen=True)
class Stats:
    """Pack statistics (the sink's StatsLike)."""

    cell_count: int
    v_min: float
    v_max: float
    v_mean: float
    v_spread: float
    t_min: float
    t_max: float
    t_mean: float


def _stats(cells: tuple[Cell, ...]) -> Stats:
    v = [c.voltage for c in cells]
    t = [c.temperature for c in cells]
    return Stats(
        len(cells),
        min(v),
        max(v),
        sum(v) / len(v),
        max(v) - min(v),
        min(t),
        max(t),
        sum(t) / len(t),
    )


def prepare(snapshots: int, batch_size: int, cells: int, vehicles: int = 500) -> list[RowBatch]:
    """Row batches of distinct snapshots (vehicles round-robin, one per second each)."""
    rnd = random.Random(42)
    batches: list[RowBatch] = []
    ingested = datetime.now(UTC)
    for start in range(0, snapshots, batch_size):
        batch = RowBatch()
        for i in range(start, min(start + batch_size, snapshots)):
            snap = Snapshot(
                vehicle_id=f"VIN{i % vehicles:06d}",
                timestamp=T0 + timedelta(seconds=i // vehicles),
                cells=tuple(
                    Cell(c, rnd.uniform(3.55, 3.75), rnd.uniform(24.0, 31.0)) for c in range(cells)
                ),
            )
            batch.add_snapshot(snap, _stats(snap.cells), False, ingested)
        batches.append(batch)
    return batches


def fresh_database(server_url: str) -> tuple[str, str]:
    """Create and migrate a database; return its name and URL."""
    name = f"vs_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    url = make_conninfo(server_url, dbname=name)
    migrate(url, DatabaseSettings.model_validate({}))
    return name, url


async def run_writer(url: str, batches: list[RowBatch], replays: int = 0) -> float:
    """Seconds for BatchWriter to store every batch, after a warm-up write.

    With `replays`, the batches are first written once untimed and then written `replays`
    times again (every row a duplicate: the staging + ON CONFLICT path).
    """
    settings = DatabaseSettings.model_validate({"pool_min_size": 1, "pool_max_size": 1})
    pool = await open_pool(settings, url)
    try:
        writer = BatchWriter(pool)
        warm = RowBatch()
        warm.touch_vehicle("warm-up", T0)
        await writer.write(warm)
        if replays:
            for batch in batches:
                await writer.write(batch)
        started = time.perf_counter()
        for _ in range(max(1, replays)):
            for batch in batches:
                result = await writer.write(batch)
                expected = 0 if replays else len(batch.rows("pack_cells"))
                assert result.rows_by_table["pack_cells"] == expected
        return (time.perf_counter() - started) / max(1, replays)
    finally:
        await pool.close()


def run_write_row(url: str, batches: list[RowBatch], binary: bool) -> float:
    """Seconds for plain psycopg COPY ... write_row straight into the tables (no dedupe)."""
    fmt = " (FORMAT BINARY)" if binary else ""
    telemetry_copy = f"COPY pack_telemetry ({PACK_TELEMETRY.column_list}) FROM STDIN{fmt}"
    cells_copy = f"COPY pack_cells ({PACK_CELLS.column_list}) FROM STDIN{fmt}"
    # psycopg adapts lists, not the sink's float32 arrays: converted before the clock starts.
    plain = [
        (
            batch.rows("pack_telemetry"),
            [tuple(list(v) if isinstance(v, array) else v for v in row) for row in cells],
        )
        for batch in batches
        for cells in [batch.rows("pack_cells")]
    ]
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for telemetry, cells in plain:
            with conn.transaction(), conn.cursor() as cur:
                for sql, types, rows in (
                    (telemetry_copy, TELEMETRY_TYPES, telemetry),
                    (cells_copy, CELLS_TYPES, cells),
                ):
                    with cur.copy(sql.encode()) as copy:
                        if binary:
                            copy.set_types(types)
                        for row in rows:
                            copy.write_row(row)
        return time.perf_counter() - started


def encode_only(batches: list[RowBatch]) -> float:
    """Seconds spent by the sink's encoder alone on the same rows."""
    started = time.perf_counter()
    for batch in batches:
        for table in (PACK_TELEMETRY, PACK_CELLS):
            for _ in encode_rows(table.types, batch.rows(table.name)):
                pass
    return time.perf_counter() - started


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    """The given server, or an embedded one."""
    if url:
        yield url
        return
    with EmbeddedPostgres() as pg:
        yield pg.url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--cells", type=int, default=96)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per method (best is shown; text COPY once)"
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()

    t = time.perf_counter()
    batches = prepare(args.snapshots, args.batch, args.cells)
    print(
        f"prepared {args.snapshots} snapshots x {args.cells} cells in batches of {args.batch}"
        f" in {time.perf_counter() - t:.1f} s; best of {args.repeat} runs per method"
    )
    methods: dict[str, Callable[[str], float]] = {
        "encode only (sink copy.py, no I/O)": lambda _: encode_only(batches),
        "psycopg write_row, text COPY": lambda url: run_write_row(url, batches, binary=False),
        "psycopg write_row, binary COPY": lambda url: run_write_row(url, batches, binary=True),
        "BatchWriter, new rows": lambda url: asyncio.run(run_writer(url, batches)),
        "BatchWriter, replay (all duplicates)": lambda url: asyncio.run(
            run_writer(url, batches, replays=1)
        ),
    }
    times: dict[str, list[float]] = {label: [] for label in methods}
    slow = {"psycopg write_row, text COPY"}  # ~10x slower: measured once
    with server(args.database_url) as server_url:
        for repetition in range(args.repeat):
            for label, method in methods.items():
                if repetition and label in slow:
                    continue
                name, url = fresh_database(server_url)
                try:
                    times[label].append(method(url))
                finally:
                    with psycopg.connect(server_url, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)'.encode())
    n = args.snapshots
    for label, seconds in times.items():
        best = min(seconds)
        median = statistics.median(seconds)
        print(
            f"{label:<38} best {best:6.2f} s {n / best:>9,.0f} snapshot rows/s"
            f"   (median {n / median:>9,.0f}/s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
