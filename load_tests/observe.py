"""Watch a run: progress and cost sampler, row-latency prober, alerts listener, percentiles."""

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import psutil  # type: ignore[import-untyped,unused-ignore]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    """One observation, `t` seconds after the scenario started."""

    t: float
    produced: int
    consumed: int
    committed: int
    cpu_s: float
    rss_mb: float


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MB, or its current RSS where unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
        return float(psutil.Process(pid).memory_info().rss) / (1 << 20)
    except (OSError, psutil.Error):
        return 0.0


def runqueue_wait_s(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a CPU (Linux schedstat)."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    except OSError:
        return 0.0
    return total / 1e9


class Sampler(threading.Thread):
    """Polls a target's progress, feeds the generator's window, and records CPU and memory."""

    def __init__(
        self,
        progress: Callable[[], tuple[int, int]],
        produced: Callable[[], int],
        publish_consumed: Callable[[int], None],
        pids: Callable[[], list[int]],
        interval_s: float = 0.2,
        cost_every: int = 3,
    ) -> None:
        super().__init__(name="sampler", daemon=True)
        self._progress = progress
        self._produced = produced
        self._publish = publish_consumed
        self._pids = pids
        self._interval = interval_s
        self._cost_every = cost_every
        self._halt = threading.Event()
        self._procs: dict[int, psutil.Process] = {}
        self._cpu_start: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}
        self._wait_start: dict[int, float] = {}
        self._wait_last: dict[int, float] = {}
        self.peak_rss: dict[int, float] = {}
        self.samples: list[Sample] = []
        self.started = time.time()

    def _cost(self) -> tuple[float, float]:
        rss = 0.0
        for pid in self._pids():
            proc = self._procs.get(pid)
            try:
                if proc is None:
                    proc = self._procs[pid] = psutil.Process(pid)
                    times = proc.cpu_times()
                    self._cpu_start[pid] = times.user + times.system
                    self._wait_start[pid] = runqueue_wait_s(pid)
                times = proc.cpu_times()
                self._cpu_last[pid] = times.user + times.system
                self._wait_last[pid] = runqueue_wait_s(pid)
                rss += float(proc.memory_info().rss) / (1 << 20)
                self.peak_rss[pid] = peak_rss_mb(pid)
            except psutil.Error:
                continue
        return self.cpu_s, rss

    @property
    def cpu_s(self) -> float:
        """CPU seconds of the target's processes since sampling began."""
        return sum(self._cpu_last[p] - self._cpu_start[p] for p in self._cpu_last)

    @property
    def runqueue_wait_s(self) -> float:
        """Seconds the target's threads waited for a CPU since sampling began."""
        return sum(self._wait_last[p] - self._wait_start[p] for p in self._wait_last)

    def run(self) -> None:
        """Sample until `halt()`."""
        tick = 0
        cpu, rss = self._cost()
        while not self._halt.is_set():
            consumed, committed = self._progress()
            self._publish(consumed)
            if tick % self._cost_every == 0:
                cpu, rss = self._cost()
            tick += 1
            self.samples.append(
                Sample(time.time() - self.started, self._produced(), consumed, committed, cpu, rss)
            )
            self._halt.wait(self._interval)
        self._cost()

    def halt(self) -> None:
        """Stop sampling (take a last cost reading first)."""
        self._halt.set()
        self.join(10)


class RowProber(threading.Thread):
    """Polls the database for new rows of probe vehicles: produce -> row visible latency.

    Each poll asks, per probe vehicle, for rows newer than the last one seen (primary key
    lookups). A row first seen by the poll started at `t` became visible between the previous
    poll's start and `t`: the midpoint is taken (so +- half the interval).
    """

    _SQL = (
        "SELECT p.vehicle_id, p.time FROM unnest(%s::text[], %s::timestamptz[]) AS w(v, t)"
        " JOIN pack_telemetry p ON p.vehicle_id = w.v AND p.time > w.t"
    )

    def __init__(
        self, database_url: str, probes: Sequence[str], since: datetime, interval_s: float = 0.1
    ) -> None:
        super().__init__(name="row-prober", daemon=True)
        self._url = database_url
        self._probes = list(probes)
        self._last = {p: since for p in self._probes}
        self._interval = interval_s
        self._halt = threading.Event()
        self.points: list[tuple[float, float]] = []
        """(seen at, latency s) per row."""

    def run(self) -> None:
        """Poll until `halt()`."""
        import psycopg

        with psycopg.connect(self._url, autocommit=True, application_name="loadtest-prober") as c:
            previous = time.time()
            while not self._halt.is_set():
                started = time.time()
                vehicles = list(self._last)
                rows = c.execute(self._SQL, (vehicles, [self._last[v] for v in vehicles]))
                seen = (previous + started) / 2
                for vehicle, at in rows.fetchall():
                    self.points.append((seen, seen - at.timestamp()))
                    if at > self._last[vehicle]:
                        self._last[vehicle] = at
                previous = started
                self._halt.wait(self._interval)

    def halt(self) -> None:
        """Stop polling."""
        self._halt.set()
        self.join(10)


@dataclass
class AlertSeen:
    """An alert event read from the alerts topic."""

    vehicle_id: str
    type: str
    severity: str
    state: str
    event_time: float
    received_at: float


@dataclass(eq=False)
class AlertListener(threading.Thread):
    """Consumes the alerts topic from the beginning and records each alert's arrival time."""

    bootstrap_servers: str
    topic: str
    group: str
    alerts: list[AlertSeen] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(name="alert-listener", daemon=True)
        self._halt = threading.Event()
        self._ready = threading.Event()

    def run(self) -> None:
        """Consume until `halt()`."""
        from confluent_kafka import Consumer

        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "group.id": self.group,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "log_level": 3,
            }
        )
        consumer.subscribe([self.topic], on_assign=lambda _c, _p: self._ready.set())
        while not self._halt.is_set():
            message = consumer.poll(0.05)
            if message is None or message.error() is not None:
                continue
            received = time.time()
            try:
                body = orjson.loads(message.value() or b"{}")
                event_time = datetime.fromisoformat(body["event_time"]).timestamp()
                self.alerts.append(
                    AlertSeen(
                        body["vehicle_id"],
                        body["type"],
                        body["severity"],
                        body["state"],
                        event_time,
                        received,
                    )
                )
            except (orjson.JSONDecodeError, KeyError, ValueError):
                logger.warning("unreadable alert: %r", message.value())
        consumer.close()

    def wait_ready(self, timeout_s: float = 30.0) -> bool:
        """Wait until the consumer owns the alerts topic's partitions."""
        return self._ready.wait(timeout_s)

    def halt(self) -> None:
        """Stop consuming."""
        self._halt.set()
        self.join(10)


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 95, 99)) -> dict[str, float]:
    """`{'p50': ..., 'p95': ..., 'p99': ..., 'max': ...}` (nearest rank), NaN when empty."""
    if not values:
        return {f"p{q:g}": math.nan for q in qs} | {"max": math.nan, "n": 0}
    ordered = sorted(values)
    n = len(ordered)
    out = {f"p{q:g}": ordered[min(n - 1, max(0, math.ceil(q / 100 * n) - 1))] for q in qs}
    return out | {"max": ordered[-1], "n": n}


def histogram_percentiles(
    buckets: Mapping[float, float], qs: Sequence[float] = (50, 95, 99)
) -> dict[str, float]:
    """Percentiles from cumulative Prometheus buckets `{le: count}`, interpolated linearly."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    out: dict[str, Any] = {"n": total}
    for q in qs:
        rank = q / 100 * total
        lower_bound, lower_count = 0.0, 0.0
        value = math.nan
        for bound in bounds:
            count = buckets[bound]
            if count >= rank and total > 0:
                if math.isinf(bound):
                    value = lower_bound
                else:
                    span = count - lower_count
                    fraction = (rank - lower_count) / span if span else 1.0
                    value = lower_bound + (bound - lower_bound) * fraction
                break
            lower_bound, lower_count = bound, count
        out[f"p{q:g}"] = value
    return out


def diff_buckets(after: Mapping[float, float], before: Mapping[float, float]) -> dict[float, float]:
    """Bucket counts observed between two scrapes."""
    return {le: after[le] - before.get(le, 0.0) for le in after}
