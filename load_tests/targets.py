"""Systems under test: voltstream worker(s) and the baseline consumers, each in its own process."""

import math
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psutil  # type: ignore[import-untyped,unused-ignore]

from voltstream.workerproc import WorkerProcess, metric_sum


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (NaN once it is gone)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return math.nan
    return float(times.user + times.system)


@dataclass(frozen=True)
class Progress:
    """Messages consumed and readings committed (to the database, or just consumed for raw)."""

    consumed: int
    committed: int


class Target(Protocol):
    """A consumer of the telemetry topic whose progress, processes and cost can be observed."""

    name: str

    def start(self) -> None:
        """Start and return once it consumes (owns partitions)."""

    def pids(self) -> list[int]:
        """Processes whose CPU and memory are charged to it."""

    def progress(self) -> Progress:
        """Current counters."""

    def final(self) -> dict[str, float]:
        """Counters worth reporting after the run (dead letters, rate-limited, ...)."""

    def stop(self) -> None:
        """Stop it."""


@dataclass(frozen=True)
class Topology:
    """Where a target reads and writes: broker, database, topic names, consumer group."""

    bootstrap_servers: str
    database_url: str
    prefix: str
    partitions: int | None
    embedded_kafka: bool
    shards: int = 1
    """Independent pipelines (own topic and group each); 1 is the usual single topic."""

    def shard(self, index: int) -> "Topology":
        """The topology of shard `index` (itself when there is one shard)."""
        if self.shards == 1:
            return self
        return Topology(
            self.bootstrap_servers,
            self.database_url,
            f"{self.prefix}s{index}.",
            self.partitions,
            self.embedded_kafka,
        )

    @property
    def telemetry_topics(self) -> tuple[str, ...]:
        """Every shard's input topic."""
        return tuple(self.shard(i).telemetry for i in range(self.shards))

    @property
    def telemetry(self) -> str:
        """The input topic."""
        return f"{self.prefix}battery.telemetry"

    @property
    def alerts(self) -> str:
        """The alerts topic."""
        return f"{self.prefix}battery.alerts"

    @property
    def group(self) -> str:
        """Consumer group / Faust app id."""
        return f"loadtest-{self.prefix.rstrip('.')}"


#: Readings per worker batch (`VOLTSTREAM_FLUSH_MAX_MESSAGES` = this // K): a batch costs one
#: fetch-and-commit cycle, whose fixed wait (~0.1 s on the mock broker) 2,000-reading batches
#: paid ~127 times per 250k readings (7.5-8.3k readings/s); 3,000 gave 8.7-9.0k/s with p99
#: latency still < 1 s at 80 %, 5,000 gave 10.1k/s but 2.5 s p99 at 80 %.
FLUSH_READINGS = 3_000


_PROGRESS = ("voltstream_messages_received_total", "voltstream_readings_processed_total")
_SPLIT = ("voltstream_assigned_partitions", "voltstream_readings_processed_total")


class VoltstreamTarget:
    """One or more `voltstream worker` processes in one consumer group."""

    def __init__(
        self,
        topology: Topology,
        worker_env: Mapping[str, str],
        *,
        workers: int,
        workdir: Path,
        readings_per_message: int,
        name: str = "voltstream",
        flush_readings: int = FLUSH_READINGS,
        trees: Sequence[Path | None] = (),
    ) -> None:
        self.name = name
        self._trees = [trees[i] if i < len(trees) else None for i in range(workers)]
        self._workdir = workdir
        flush_messages = max(1, flush_readings // readings_per_message)
        self._envs = [
            {
                **worker_env,
                "VOLTSTREAM_TOPIC_PREFIX": topology.shard(i % topology.shards).prefix,
                "VOLTSTREAM_APP_ID": topology.shard(i % topology.shards).group,
                "VOLTSTREAM_FLUSH_MAX_MESSAGES": str(flush_messages),
                **(
                    {"VOLTSTREAM_TOPIC_PARTITIONS": str(topology.partitions)}
                    if topology.partitions
                    else {}
                ),
            }
            for i in range(workers)
        ]
        self._count = workers
        self.workers: list[WorkerProcess] = []
        self._last: dict[tuple[str, ...], list[dict[str, float]]] = {}

    def start(self) -> None:
        """Start the workers one after the other, then wait until every one is ready."""
        self._workdir.mkdir(parents=True, exist_ok=True)
        for index in range(self._count):
            worker = WorkerProcess(
                self._envs[index],
                workdir=self._workdir,
                name=f"worker{index}",
                cwd=self._trees[index],
            )
            worker.start()
            self.workers.append(worker)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if all(w.scrape().get("voltstream_worker_ready") == 1.0 for w in self.workers):
                return
            time.sleep(0.25)
        raise RuntimeError("voltstream workers did not all become ready")

    def pids(self) -> list[int]:
        """The worker processes."""
        return [w.pid for w in self.workers if w.alive()]

    def scrape(self, names: Sequence[str] = ()) -> list[dict[str, float]]:
        """Every worker's metrics, or only the samples `names` (the last good scrape of a
        worker that does not answer)."""
        scraped = [w.scrape(names) for w in self.workers]
        last = self._last.setdefault(tuple(names), [])
        if len(last) != len(scraped):
            last[:] = [{} for _ in scraped]
        for index, metrics in enumerate(scraped):
            if metrics:
                last[index] = metrics
        return last

    def progress(self) -> Progress:
        """Messages consumed and readings committed, summed over the workers."""
        # Only these two samples: a full scrape every 0.2 s costs the worker ~3 % of its CPU.
        metrics = self.scrape(_PROGRESS)
        # Taken off the broker by the agent (the broker-retention window counts these); the
        # batch may still be processing or committing.
        consumed = sum(metric_sum(m, "voltstream_messages_received_total") for m in metrics)
        committed = sum(metric_sum(m, "voltstream_readings_processed_total") for m in metrics)
        return Progress(int(consumed), int(committed))

    def split(self) -> list[dict[str, float]]:
        """Per worker: input partitions owned, readings committed and CPU seconds so far."""
        return [
            {
                "partitions": int(metric_sum(m, "voltstream_assigned_partitions")),
                "readings": int(metric_sum(m, "voltstream_readings_processed_total")),
                "cpu_s": _cpu_s(worker.pid) if worker.alive() else math.nan,
            }
            for m, worker in zip(self.scrape(_SPLIT), self.workers, strict=True)
        ]

    def trees(self) -> list[Path | None]:
        """The source tree each worker runs (None: this one)."""
        return list(self._trees)

    def final(self) -> dict[str, float]:
        """Totals of the counters that tell whether the run was clean."""
        metrics = self.scrape()
        names = (
            "voltstream_dead_letters_total",
            "voltstream_rate_limited_total",
            "voltstream_late_readings_total",
            "voltstream_db_retries_total",
            "voltstream_alerts_emitted_total",
            "voltstream_db_write_seconds_sum",
            "voltstream_db_write_seconds_count",
            "voltstream_batch_readings_sum",
            "voltstream_batch_readings_count",
        )
        out = {n: sum(metric_sum(m, n) for m in metrics) for n in names}
        for phase in ("input", "process", "commit_wait"):
            key = f'voltstream_agent_seconds_total{{phase="{phase}"}}'
            out[key] = sum(m.get(key, 0.0) for m in metrics)
        for table in ("pack_telemetry", "pack_cells"):
            key = f'voltstream_rows_written_total{{table="{table}"}}'
            out[key] = sum(m.get(key, 0.0) for m in metrics)
        return out

    def histograms(self, name: str) -> dict[float, float]:
        """Cumulative bucket counts of histogram `name` summed over the workers: {le: count}."""
        out: dict[float, float] = {}
        prefix = f'{name}_bucket{{le="'
        for metrics in self.scrape():
            for key, value in metrics.items():
                if key.startswith(prefix):
                    le = key[len(prefix) :].split('"', 1)[0]
                    bound = float("inf") if le == "+Inf" else float(le)
                    out[bound] = out.get(bound, 0.0) + value
        return out

    def stop(self) -> None:
        """Stop every worker."""
        for worker in self.workers:
            worker.stop()


ChildMain = Callable[..., None]


class ChildTarget:
    """A baseline consumer in a spawned child process, reporting through shared counters."""

    def __init__(self, name: str, main: ChildMain, config: dict[str, Any]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.name = name
        self._consumed = ctx.Value("q", 0, lock=False)
        self._committed = ctx.Value("q", 0, lock=False)
        self._ready = ctx.Event()
        self._stop = ctx.Event()
        self._process = ctx.Process(
            target=main,
            args=(config, self._consumed, self._committed, self._ready, self._stop),
            name=name,
            daemon=True,
        )

    def start(self) -> None:
        """Start the child and wait until its consumer owns partitions."""
        self._process.start()
        deadline = time.monotonic() + 90
        while not self._ready.wait(0.25):
            if not self._process.is_alive():
                raise RuntimeError(f"{self.name} exited with {self._process.exitcode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not become ready")

    def pids(self) -> list[int]:
        """The child process."""
        pid = self._process.pid
        return [pid] if pid is not None and self._process.is_alive() else []

    def progress(self) -> Progress:
        """The shared counters."""
        return Progress(int(self._consumed.value), int(self._committed.value))

    def final(self) -> dict[str, float]:
        """Nothing beyond the counters."""
        return {}

    def stop(self) -> None:
        """Ask the child to stop; terminate it if it does not."""
        if self._process.pid is None:
            return
        self._stop.set()
        self._process.join(3)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)


def _consumer(config: dict[str, Any], ready: Any, **extra: Any) -> Any:
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": config["bootstrap_servers"],
            "group.id": config["group"],
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "log_level": 3,
            **extra,
        }
    )
    consumer.subscribe([config["topic"]], on_assign=lambda _c, _p: ready.set())
    return consumer


def raw_consume_main(
    config: dict[str, Any], consumed: Any, committed: Any, ready: Any, stop: Any
) -> None:
    """librdkafka's raw rate: `consume(1000)` in a loop, touching each value, nothing else."""
    consumer = _consumer(config, ready, **{"fetch.max.bytes": 64 << 20})
    k = int(config["readings_per_message"])
    count = 0
    size = 0
    while not stop.is_set():
        for message in consumer.consume(1000, 0.1):
            if message.error() is None:
                count += 1
                size += len(message.value() or b"")
        consumed.value = count
        committed.value = count * k
    consumer.close()


_NAIVE_SNAPSHOT = """
WITH t AS (
    INSERT INTO pack_telemetry (time, vehicle_id, kind, pack_voltage_v, pack_current_a,
        soc_percent, odometer_km, cell_count, v_min, v_max, v_mean, v_spread, t_min, t_max,
        t_mean, nominal_capacity_kwh, current_capacity_kwh, cycle_count)
    VALUES (%s, %s, 'snapshot', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT DO NOTHING
)
INSERT INTO pack_cells (time, vehicle_id, voltages, temperatures)
VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING
"""

_NAIVE_SAMPLE = """
INSERT INTO pack_telemetry (time, vehicle_id, kind, pack_voltage_v, pack_current_a,
    soc_percent, temp_c)
VALUES (%s, %s, 'sample', %s, %s, %s, %s) ON CONFLICT DO NOTHING
"""


def _naive_params(reading: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    if "metrics" in reading:
        m = reading["metrics"]
        return _NAIVE_SAMPLE, (
            reading["timestamp"],
            reading["device_id"],
            m["voltage_v"],
            m["current_a"],
            m["soc_percent"],
            m["temp_c"],
        )
    volts = [c["voltage"] for c in reading["cells"]]
    temps = [c["temperature"] for c in reading["cells"]]
    v_min, v_max, t_min, t_max = min(volts), max(volts), min(temps), max(temps)
    return _NAIVE_SNAPSHOT, (
        reading["timestamp"],
        reading["vehicle_id"],
        reading.get("pack_voltage_v"),
        reading.get("pack_current_a"),
        reading.get("soc_percent"),
        reading.get("odometer_km"),
        len(volts),
        v_min,
        v_max,
        sum(volts) / len(volts),
        v_max - v_min,
        t_min,
        t_max,
        sum(temps) / len(temps),
        reading["nominal_capacity_kwh"],
        reading["current_capacity_kwh"],
        reading["cycle_count"],
        reading["timestamp"],
        reading["vehicle_id"],
        volts,
        temps,
    )


def naive_main(
    config: dict[str, Any], consumed: Any, committed: Any, ready: Any, stop: Any
) -> None:
    """Seed 003's design on Kafka: per message json.loads, INSERT(s), DB commit, offset commit."""
    import json

    import psycopg

    consumer = _consumer(config, ready)
    conn = psycopg.connect(config["database_url"], application_name="loadtest-naive")
    count = 0
    readings = 0
    while not stop.is_set():
        message = consumer.poll(0.1)
        if message is None or message.error() is not None:
            continue
        body = json.loads(message.value())
        items = body.get("readings", [body])
        with conn.cursor() as cur:
            for item in items:
                sql, params = _naive_params(item)
                cur.execute(sql, params)
        conn.commit()
        consumer.commit(message=message, asynchronous=True)
        count += 1
        readings += len(items)
        consumed.value = count
        committed.value = readings
    consumer.close()
    conn.close()
