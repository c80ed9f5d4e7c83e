"""Run one load scenario: a target, a paced generator, observers; summarise what happened."""

import logging
import math
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import psutil  # type: ignore[import-untyped,unused-ignore]

from load_tests.affinity import CorePlan
from load_tests.faust_baseline import faust_main
from load_tests.generator import FleetSpec, Generator, RunPlan
from load_tests.observe import (
    AlertListener,
    RowProber,
    Sample,
    Sampler,
    diff_buckets,
    histogram_percentiles,
    percentiles,
)
from load_tests.targets import (
    FLUSH_READINGS,
    ChildTarget,
    Progress,
    Target,
    Topology,
    VoltstreamTarget,
    naive_main,
    raw_consume_main,
)
from streams.app import STATE_TABLE
from voltstream.services import Services

logger = logging.getLogger(__name__)

System = Literal["voltstream", "raw_consume", "raw_faust", "naive", "faust_pydantic"]
LATENCY_HISTOGRAM = "voltstream_event_latency_seconds"
#: Frames of these packages are listed in the profile's project breakdown.
PROJECT_DIRS = ("(streams/", "(schemas/", "(voltstream/")


@dataclass(frozen=True)
class Scenario:
    """One measured run."""

    name: str
    system: System
    spec: FleetSpec
    count: int
    duration_s: float
    rate: float | None = None
    workers: int = 1
    alert_interval_s: float = 0.0
    profile: bool = False
    probe: bool = False
    window_bytes: int = 60 << 20
    window_messages: int = 20_000
    worker_env: tuple[tuple[str, str], ...] = ()
    """Extra environment of voltstream workers (tuning experiments)."""
    warmup_readings: int = 4_000
    shards: int = 1
    """Workers on independent topics/groups instead of one consumer group (see README)."""
    pin: bool = True
    """Each process under test on a core of its own, the harness on the rest (`CorePlan`)."""
    partitions: int | None = None
    """Partitions of the scenario's topics; None: the broker's default (4 on the mock)."""
    flush_readings: int = FLUSH_READINGS
    """Readings per batch of the worker and of the Faust baselines' take()."""
    trees: tuple[Path | None, ...] = ()
    """Source tree of each voltstream worker (None: this one), for a paired A/B run."""


@dataclass
class Outcome:
    """What a scenario measured (see `to_dict`)."""

    scenario: Scenario
    figures: dict[str, Any] = field(default_factory=dict)
    series: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (series included)."""
        s = self.scenario
        return {
            "name": s.name,
            "system": s.system,
            "kind": s.spec.kind,
            "readings_per_message": s.spec.readings_per_message,
            "vehicles": s.spec.vehicles,
            "workers": s.workers,
            "target_rate_messages_per_s": s.rate,
            **self.figures,
            "series": self.series,
        }


def ensure_topics(services: Services, topics: Sequence[str], partitions: int | None = None) -> None:
    """Make the topics exist, with `partitions` partitions when given (on the embedded broker:
    through the mock cluster's C API; otherwise it creates them on a metadata request)."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    if not services.embedded_kafka:
        admin = AdminClient({"bootstrap.servers": services.bootstrap_servers})
        futures = admin.create_topics([NewTopic(t, partitions or 8, 1) for t in topics])
        for future in futures.values():
            try:
                future.result(30)
            except Exception as exc:
                logger.debug("create topic: %s", exc)
        return
    if partitions is not None and partitions != services.partitions:
        if services.broker is None or not services.broker.can_create_topics:
            raise RuntimeError(f"the embedded broker cannot create {partitions}-partition topics")
        for topic in topics:
            services.broker.create_topic(topic, partitions)
    producer = Producer({"bootstrap.servers": services.bootstrap_servers, "log_level": 3})
    for topic in topics:
        producer.list_topics(topic, timeout=10)


def _child_config(scenario: Scenario, topology: Topology, workdir: Path) -> dict[str, Any]:
    return {
        "bootstrap_servers": topology.bootstrap_servers,
        "database_url": topology.database_url,
        "topic": topology.telemetry,
        "group": topology.group,
        "partitions": topology.partitions,
        "embedded_kafka": topology.embedded_kafka,
        "readings_per_message": scenario.spec.readings_per_message,
        "kind": scenario.spec.kind,
        "workdir": str(workdir),
        "take": max(1, scenario.flush_readings // scenario.spec.readings_per_message),
        "within": 0.25,
    }


def make_target(
    scenario: Scenario, services: Services, topology: Topology, workdir: Path
) -> Target:
    """The system under test, not started."""
    if scenario.system == "voltstream":
        return VoltstreamTarget(
            topology,
            {**services.worker_env(), **dict(scenario.worker_env)},
            workers=scenario.workers,
            workdir=workdir,
            readings_per_message=scenario.spec.readings_per_message,
            flush_readings=scenario.flush_readings,
            trees=scenario.trees,
        )
    main = {
        "raw_consume": raw_consume_main,
        "naive": naive_main,
        "faust_pydantic": faust_main,
        "raw_faust": faust_main,
    }[scenario.system]
    config = _child_config(scenario, topology, workdir)
    config["process"] = scenario.system != "raw_faust"
    return ChildTarget(scenario.system, main, config)


class Profiler:
    """py-spy on a worker: a flame graph (SVG) and collapsed stacks for the hot-spot table."""

    def __init__(self, pid: int, out_dir: Path, name: str, duration_s: float) -> None:
        self.svg = out_dir / f"{name}.svg"
        self.raw = out_dir / f"{name}.collapsed.txt"
        self.idle = out_dir / f"{name}.idle.collapsed.txt"
        self._duration_s = max(1, int(duration_s))
        exe = shutil.which("py-spy")
        self._procs: list[subprocess.Popen[bytes]] = []
        if exe is None:
            logger.warning("py-spy is not installed (pip install py-spy): no profile")
            return
        common = [exe, "record", "--pid", str(pid), "--duration", str(max(1, int(duration_s)))]
        common += ["--rate", "100", "--nonblocking", "--function"]
        for extra, path in (
            (["--format", "flamegraph"], self.svg),
            (["--format", "raw"], self.raw),
            (["--format", "raw", "--idle"], self.idle),
        ):
            self._procs.append(
                subprocess.Popen(
                    [*common, *extra, "-o", str(path)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def finish(self) -> dict[str, Any]:
        """Wait for py-spy and return the top self-time and cumulative frames."""
        for proc in self._procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.terminate()
        if not self.raw.exists():
            return {}
        out = {"svg": self.svg.name, "collapsed": self.raw.name, **hot_spots(self.raw)}
        if self.idle.exists():
            out["main_thread"] = main_thread_share(self.idle)
        return out


#: The leaf frame of the main thread while it waits in the (uvloop, C) event loop.
_LOOP_IDLE = "Worker.execute_from_commandline"
#: Where a busy main thread is, first match wins (frame names as py-spy prints them).
_MAIN_GROUPS = (
    "TelemetryProcessor.process",
    "Flusher.flush",
    "TelemetryWorker._on_tick",
    "TelemetryWorker._agent",
    "Stream.",
)


def main_thread_share(path: Path) -> dict[str, float]:
    """From an `--idle` profile: how the main (event-loop) thread spent its time, in %."""
    busy: dict[str, int] = {}
    idle = 0
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if not stack or not frames[0].startswith("_run_module_as_main"):
            continue
        count = int(count_text)
        total += count
        if frames[-1].startswith(_LOOP_IDLE):
            idle += count
            continue
        key = next(
            (g for g in _MAIN_GROUPS if any(f.startswith(g) for f in frames)),
            "other (Faust, aiokafka, asyncio)",
        )
        busy[key] = busy.get(key, 0) + count
    if not total:
        return {}
    out = {"idle_in_event_loop": 100.0 * idle / total}
    for frame, count in sorted(busy.items(), key=lambda item: -item[1])[:8]:
        out[frame] = 100.0 * count / total
    return out


def hot_spots(path: Path, top: int = 15) -> dict[str, Any]:
    """Top frames by self samples and by inclusive samples from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = frames[-1]
        own[leaf] = own.get(leaf, 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count

    def ranked(table: dict[str, int], limit: int = top) -> list[dict[str, Any]]:
        best = sorted(table.items(), key=lambda item: -item[1])[:limit]
        return [{"frame": f, "percent": 100.0 * n / max(total, 1)} for f, n in best]

    project = {f: n for f, n in inclusive.items() if any(p in f for p in PROJECT_DIRS)}
    return {
        "samples": total,
        "self": ranked(own),
        "inclusive": ranked(inclusive),
        "inclusive_project": ranked(project, 25),
    }


def _sustained(samples: Sequence[Sample], total: int) -> tuple[float, float, float]:
    """Readings/s between 10 % and 90 % of `total` committed, the run's overall rate, span."""
    if total <= 0 or not samples:
        return math.nan, math.nan, math.nan

    def crossing(level: float) -> float | None:
        for s in samples:
            if s.committed >= level:
                return s.t
        return None

    first = next((s.t for s in samples if s.committed > 0), None)
    last = crossing(total)
    lo, hi = crossing(0.1 * total), crossing(0.9 * total)
    sustained = (
        (0.8 * total) / (hi - lo) if lo is not None and hi is not None and hi > lo else math.nan
    )
    if first is None or last is None or last <= first:
        return sustained, math.nan, math.nan
    return sustained, total / (last - first), last - first


#: A paced worker that keeps up holds a median backlog below this many seconds of its offered
#: load (a batch window and a commit); a saturated one's backlog grows until the producer's
#: window stops the generator, while its committed rate still matches the throttled offer.
KEEPS_UP_MAX_MEDIAN_LAG_S = 1.0


def median_lag_s(lag_readings: Sequence[float], offered_per_s: float) -> float:
    """The median consumer backlog of a run in seconds of its offered load (NaN if unknown)."""
    if not lag_readings or offered_per_s <= 0:
        return math.nan
    return statistics.median(lag_readings) / offered_per_s


def keeps_up(sustained_per_s: float, offered_per_s: float, lag_s: float) -> bool:
    """True when a paced run consumed what was offered without queueing.

    The committed rate alone cannot tell: once the backlog fills the producer's window the
    generator waits, so a saturated worker still commits ~what is sent. Its median backlog
    (`median_lag_s`) then stays at seconds of load instead of a fraction of one.
    """
    return (
        sustained_per_s >= 0.95 * offered_per_s
        and not math.isnan(lag_s)
        and lag_s <= KEEPS_UP_MAX_MEDIAN_LAG_S
    )


def _series(samples: Sequence[Sample], k: int, step_s: float = 0.5) -> dict[str, list[float]]:
    t: list[float] = []
    rate: list[float] = []
    lag: list[float] = []
    previous: Sample | None = None
    for s in samples:
        if previous is None:
            previous = s
            continue
        if s.t - previous.t >= step_s:
            t.append(round(s.t, 3))
            rate.append((s.committed - previous.committed) / (s.t - previous.t))
            lag.append(float(max(0, s.produced - s.consumed)) * k)
            previous = s
    return {"t": t, "readings_per_s": rate, "lag_readings": lag}


def postmaster(database_url: str) -> "psutil.Process | None":
    """The database server's postmaster process, when the server runs on this machine."""
    import psycopg

    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            # Ask while connected: the backend exits with the connection.
            parent = psutil.Process(int(row[0])).parent() if row else None
    except (psycopg.Error, psutil.Error):
        return None
    if parent is None or "postgres" not in parent.name():
        return None
    return parent


def postgres_cpu_s(database_url: str) -> float:
    """CPU seconds used so far by the server's processes (postmaster and its children), when
    the server runs on this machine; NaN when it does not."""
    server = postmaster(database_url)
    if server is None:
        return math.nan
    try:
        own = server.cpu_times()  # children_*: backends that exited and were reaped
        total: float = own.user + own.system + own.children_user + own.children_system
        children = server.children(recursive=True)
    except psutil.Error:
        return math.nan
    for proc in children:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _db_count(database_url: str, prefix: str) -> int:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pack_telemetry WHERE vehicle_id LIKE %s", (f"{prefix}-%",)
        ).fetchone()
    return int(row[0]) if row else 0


def _warm_up(scenario: Scenario, target: Target, topology: Topology) -> Progress:
    """Send a few batches of other vehicles and wait until they are committed (pools, caches,
    fetchers warm); return the progress to subtract from the measured run."""
    spec = replace(scenario.spec, prefix=scenario.spec.prefix + "w", vehicles=500)
    messages = max(1, scenario.warmup_readings // spec.readings_per_message)
    plan = RunPlan(
        count=messages,
        duration_s=60,
        window_bytes=scenario.window_bytes,
        topics=topology.telemetry_topics,
        bootstrap_servers=topology.bootstrap_servers,
    )
    generator = Generator(spec, plan)
    generator.consumed.value = 10**9  # a small fixed count: no window needed
    generator.start()
    summary = generator.finish(90, stop=False)
    deadline = time.time() + 90
    while time.time() < deadline:
        progress = target.progress()
        if progress.committed >= summary.readings:
            return progress
        time.sleep(0.2)
    raise RuntimeError(f"{scenario.name}: warm-up readings were not committed within 90 s")


def cpu_budget(
    wall_s: float,
    consumer_cpu_s: float,
    db_cpu_s: float,
    generator_cpu_s: float,
    harness_cpu_s: float,
    cpus: int,
) -> dict[str, float]:
    """Where the box's cores went during a scenario: mean cores used by each side.

    `consumer` is the system under test (all its processes), `database` the PostgreSQL
    server, `generator` the load generator process (its whole life, start-up included, which
    overstates it by its ~1 s of imports), `harness` this process: the embedded broker's
    librdkafka threads, the sampler, prober and alert listener. `idle` is what was left of
    `cpus` cores; a scenario whose consumer shares the box with everything else is bounded
    by it.
    """
    if not wall_s > 0:
        return {}
    db = 0.0 if math.isnan(db_cpu_s) else db_cpu_s
    used = {
        "consumer": consumer_cpu_s / wall_s,
        "database": db / wall_s,
        "generator": generator_cpu_s / wall_s,
        "harness": harness_cpu_s / wall_s,
    }
    return {**used, "idle": max(0.0, cpus - sum(used.values())), "cpus": float(cpus)}


def run(
    scenario: Scenario, services: Services, workdir: Path, out_dir: Path, prefix: str
) -> Outcome:
    """Run `scenario` end to end against `services`; `prefix` keeps its topics and rows apart."""
    topology = Topology(
        services.bootstrap_servers,
        services.database_url,
        f"{prefix}.",
        scenario.partitions or services.partitions,
        services.embedded_kafka,
        scenario.shards,
    )
    ensure_topics(
        services,
        [
            topic
            for i in range(topology.shards)
            for topic in (
                topology.shard(i).telemetry,
                topology.shard(i).alerts,
                f"{topology.shard(i).prefix}battery.telemetry.dlq",
                # The state table's changelog is co-partitioned with the input.
                f"{topology.shard(i).group}-{STATE_TABLE}-changelog",
            )
        ],
        scenario.partitions,
    )
    target = make_target(scenario, services, topology, workdir / scenario.name)
    try:
        return _measure(scenario, services, topology, target, out_dir)
    finally:
        target.stop()  # also when anything failed: no orphaned workers


def _measure(
    scenario: Scenario, services: Services, topology: Topology, target: Target, out_dir: Path
) -> Outcome:
    """Start `target`, pin it to its cores, and measure it (`_drive`)."""
    outcome = Outcome(scenario)
    outcome.figures["load_average_before"] = os.getloadavg()[0]
    started_at = time.time()
    target.start()
    outcome.figures["startup_s"] = time.time() - started_at
    server = postmaster(services.database_url)
    cores = CorePlan([os.getpid(), *([server.pid] if server is not None else [])])
    try:
        if scenario.pin and cores.isolate(target.pids()):
            outcome.figures["pinned_cores"] = sorted(cores.cores.values())
        return _drive(scenario, services, topology, target, out_dir, outcome)
    finally:
        cores.release()


def _drive(
    scenario: Scenario,
    services: Services,
    topology: Topology,
    target: Target,
    out_dir: Path,
    outcome: Outcome,
) -> Outcome:
    """Warm `target` up, drive the generator, observe, and summarise."""
    spec = scenario.spec
    listener: AlertListener | None = None
    if scenario.alert_interval_s:
        listener = AlertListener(
            services.bootstrap_servers, topology.alerts, f"{topology.group}-al"
        )
        listener.start()
        listener.wait_ready()
    base = _warm_up(scenario, target, topology)
    outcome.figures["warmup_readings"] = base.committed
    baseline_hist: dict[float, float] = {}
    split_before: list[dict[str, float]] = []
    if isinstance(target, VoltstreamTarget):
        baseline_hist = target.histograms(LATENCY_HISTOGRAM)
        split_before = target.split()
    plan = RunPlan(
        count=scenario.count,
        duration_s=scenario.duration_s,
        rate=scenario.rate,
        window_bytes=scenario.window_bytes,
        window_messages=scenario.window_messages,
        alert_interval_s=scenario.alert_interval_s,
        topics=topology.telemetry_topics,
        bootstrap_servers=services.bootstrap_servers,
    )
    generator = Generator(spec, plan)

    def publish(consumed: int) -> None:
        generator.consumed.value = consumed

    def progress() -> tuple[int, int]:
        p = target.progress()
        return p.consumed - base.consumed, p.committed - base.committed

    sampler = Sampler(progress, lambda: int(generator.produced.value), publish, target.pids)
    prober: RowProber | None = None
    if scenario.probe:
        since = datetime.now(UTC) - timedelta(seconds=1)
        prober = RowProber(services.database_url, spec.probes(), since)
        prober.start()
    db_cpu_before = postgres_cpu_s(services.database_url)
    harness = psutil.Process()
    harness_cpu_before = sum(harness.cpu_times()[:2])
    sampler.start()
    generator.start()
    profiler: Profiler | None = None
    if scenario.profile and target.pids():
        profiler = Profiler(
            target.pids()[0], out_dir, f"profile-{scenario.name}", min(scenario.duration_s, 30)
        )
    # Run: until the generator is done and everything it sent is committed, or out of time.
    deadline = time.time() + scenario.duration_s + 60
    summary = None
    while time.time() < deadline:
        time.sleep(0.2)
        if summary is None and generator.done():
            summary = generator.finish()
            deadline = min(deadline, time.time() + 45)
        if summary is not None:
            expected = summary.readings + len(summary.alerts)
            if target.progress().committed - base.committed >= expected:
                break
    if summary is None:
        summary = generator.finish()
    time.sleep(0.3)
    sampler.halt()
    measured_s = time.time() - sampler.started
    harness_cpu_s = sum(harness.cpu_times()[:2]) - harness_cpu_before
    if prober is not None:
        prober.halt()
    if listener is not None:
        time.sleep(0.5)
        listener.halt()
    final = target.final()
    if isinstance(target, VoltstreamTarget):
        outcome.figures["per_worker"] = [
            {
                "partitions": int(after["partitions"]),
                "readings": int(after["readings"] - before["readings"]),
                "cpu_s": after["cpu_s"] - before["cpu_s"],
                "tree": None if tree is None else str(tree),
            }
            for before, after, tree in zip(
                split_before, target.split(), target.trees(), strict=False
            )
        ]
    hist: dict[float, float] = {}
    if isinstance(target, VoltstreamTarget):
        hist = diff_buckets(target.histograms(LATENCY_HISTOGRAM), baseline_hist)
    peak_rss = sampler.peak_rss
    cpu_s = sampler.cpu_s
    runqueue_s = sampler.runqueue_wait_s
    db_cpu_s = postgres_cpu_s(services.database_url) - db_cpu_before
    outcome.figures["load_average_after"] = os.getloadavg()[0]
    expected = summary.readings + len(summary.alerts)
    committed = sampler.samples[-1].committed if sampler.samples else 0
    sustained, overall, span = _sustained(sampler.samples, committed)
    k = spec.readings_per_message
    f = outcome.figures
    f["generator"] = summary.to_dict()
    f["expected_readings"] = expected
    f["committed_readings"] = committed
    f["complete"] = committed >= expected
    f["readings_per_s"] = sustained
    f["readings_per_s_overall"] = overall
    f["messages_per_s"] = sustained / k
    series = _series(sampler.samples, k)
    if scenario.rate:
        offered = scenario.rate * k
        lag_s = median_lag_s(series["lag_readings"], offered)
        f["paced_readings_per_s"] = offered
        f["median_lag_s"] = lag_s
        f["keeps_up"] = keeps_up(sustained, offered, lag_s)
    f["rows_per_s"] = sustained * (2 if spec.kind == "snapshot" else 1)  # + cells row
    f["active_s"] = span
    f["cpu_s"] = cpu_s
    f["runqueue_wait_s"] = runqueue_s
    f["cpu_starved_share"] = runqueue_s / (runqueue_s + cpu_s) if cpu_s else math.nan
    f["cpu_ms_per_1k_readings"] = 1e6 * cpu_s / committed if committed else math.nan
    db_known = 0.0 if math.isnan(db_cpu_s) else db_cpu_s
    f["readings_per_cpu_s"] = committed / (cpu_s + db_known) if cpu_s else math.nan
    f["readings_per_worker_cpu_s"] = committed / cpu_s if cpu_s else math.nan
    f["cores_used"] = cpu_s / span if span and not math.isnan(span) else math.nan
    f["db_cpu_ms_per_1k_readings"] = 1e6 * db_cpu_s / committed if committed else math.nan
    f["peak_rss_mb"] = sum(peak_rss.values())
    f["cpu_budget"] = cpu_budget(
        measured_s, cpu_s, db_cpu_s, summary.cpu_s, harness_cpu_s, os.cpu_count() or 1
    )
    f["counters"] = final
    if scenario.system in ("voltstream", "naive", "faust_pydantic"):
        f["rows_in_db"] = _db_count(services.database_url, spec.prefix)
    if hist:
        f["latency_commit_histogram_s"] = histogram_percentiles(hist)
    if prober is not None:
        f["latency_row_visible_s"] = percentiles([lat for _, lat in prober.points])
        outcome.series["probe_t"] = [round(t - sampler.started, 3) for t, _ in prober.points]
        outcome.series["probe_latency_s"] = [lat for _, lat in prober.points]
    if listener is not None:
        injected = dict(summary.alerts)
        first: dict[str, float] = {}
        types: dict[str, int] = {}
        for alert in listener.alerts:
            if (
                alert.vehicle_id in injected
                and alert.severity == "critical"
                and alert.state == "firing"
                and alert.vehicle_id not in first
            ):
                first[alert.vehicle_id] = alert.received_at - injected[alert.vehicle_id]
                types[alert.type] = types.get(alert.type, 0) + 1
        f["alerts_injected"] = len(injected)
        f["alerts_received"] = len(first)
        f["alert_types"] = types
        f["latency_alert_s"] = percentiles(list(first.values()))
        outcome.series["alert_t"] = [round(injected[v] - sampler.started, 3) for v in first]
        outcome.series["alert_latency_s"] = list(first.values())
    if profiler is not None:
        f["profile"] = profiler.finish()
    outcome.series.update(series)
    return outcome
