"""Load test of the pipeline against baselines: `python -m load_tests.pipeline --mode quick`."""

import argparse
import contextlib
import logging
import math
import os
import secrets
import string
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from load_tests import brokerlat, memory, rawcopy, report, yardstick
from load_tests.generator import FleetSpec
from load_tests.scenario import Outcome, Scenario, run
from load_tests.targets import FLUSH_READINGS
from voltstream.services import Services, provision

logger = logging.getLogger("load_tests")

#: Tables emptied before each scenario when the database is the harness's own (embedded).
DATA_TABLES = (
    "pack_telemetry",
    "pack_cells",
    "battery_health",
    "battery_alerts",
    "dead_letters",
    "vehicles",
)


#: Largest envelope: its readings are 1 ms apart in event time, so it must fit the worker's
#: per-vehicle token bucket (VOLTSTREAM_RATE_LIMIT_BURST, 20) or readings are rate-limited.
MAX_READINGS_PER_MESSAGE = 20

#: Producer window of the slow per-message baseline (it never waits on the window anyway).
SLOW_WINDOW = 1 << 20
#: Partitions of the scale-out run's topic (the issue: two workers on one 8-partition topic).
SCALEOUT_PARTITIONS = 8


@dataclass(frozen=True)
class Sizes:
    """Counts and time caps of one mode."""

    memory_vehicles: int
    raw_copy_readings: int
    raw_consume: int
    max_messages: int
    max_s: float
    paced_s: float
    alert_interval_s: float
    scaleout_messages: int
    single_messages: int
    samples_messages: int
    naive_s: float
    faust_messages: int
    faust_s: float
    vehicles: int
    sample_vehicles: int
    warmup_readings: int
    broker_latency_messages: int


QUICK = Sizes(
    memory_vehicles=5_000,
    raw_copy_readings=4_000,
    raw_consume=1_500,
    max_messages=800,
    max_s=20,
    paced_s=8,
    alert_interval_s=0.5,
    scaleout_messages=1_000,
    single_messages=8_000,
    samples_messages=20_000,
    naive_s=6,
    faust_messages=400,
    faust_s=12,
    vehicles=4_000,
    sample_vehicles=8_000,
    warmup_readings=1_000,
    broker_latency_messages=20,
)
FULL = Sizes(
    memory_vehicles=100_000,
    raw_copy_readings=40_000,
    raw_consume=30_000,
    max_messages=25_000,
    max_s=40,
    paced_s=40,
    alert_interval_s=0.5,
    scaleout_messages=40_000,
    single_messages=250_000,
    samples_messages=600_000,
    naive_s=20,
    faust_messages=8_000,
    faust_s=30,
    vehicles=20_000,
    sample_vehicles=40_000,
    warmup_readings=4_000,
    broker_latency_messages=50,
)


def _token() -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(4))


def _truncate(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)}")
        conn.execute("CHECKPOINT")


def _storage(url: str) -> dict[str, dict[str, float]]:
    """Bytes per stored row of the two snapshot tables (heap + indexes + TOAST, after VACUUM).

    A hypertable's parent holds no rows, so TimescaleDB's `hypertable_size` (every chunk,
    compressed ones included) replaces `pg_total_relation_size` there.
    """
    import psycopg

    out: dict[str, dict[str, float]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        hypertables: set[str] = set()
        extension = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
        if extension.fetchone():
            hypertables.update(
                name
                for (name,) in conn.execute(
                    "SELECT hypertable_name FROM timescaledb_information.hypertables"
                )
            )
        for table in ("pack_telemetry", "pack_cells"):
            conn.execute(f"VACUUM ANALYZE {table}")
            size_of = "hypertable_size" if table in hypertables else "pg_total_relation_size"
            size, rows = conn.execute(
                f"SELECT {size_of}('{table}'), (SELECT count(*) FROM {table})"
            ).fetchone() or (0, 0)
            out[table] = {
                "bytes": float(size or 0),
                "rows": int(rows),
                "bytes_per_row": float(size or 0) / rows if rows else math.nan,
                "hypertable": table in hypertables,
            }
    return out


class Runner:
    """Runs the scenarios of one invocation against one set of services."""

    def __init__(
        self,
        services: Services,
        workdir: Path,
        out_dir: Path,
        owns_db: bool,
        warmup: int,
        window: tuple[int, int],
        worker_env: tuple[tuple[str, str], ...] = (),
        pin: bool = True,
        flush_readings: int = FLUSH_READINGS,
    ) -> None:
        self.flush_readings = flush_readings
        self.services = services
        self.worker_env = worker_env
        self.pin = pin
        self.window = window
        self.warmup = warmup
        self.workdir = workdir
        self.out_dir = out_dir
        self.owns_db = owns_db
        self.run_id = _token()
        self.index = 0
        self.outcomes: list[Outcome] = []

    def scenario(self, scenario: Scenario) -> Outcome:
        """Run one scenario on an emptied database with fresh topics, vehicles and group."""
        self.index += 1
        prefix = f"{self.run_id}{self.index:02d}"
        scenario = replace(
            scenario,
            spec=replace(scenario.spec, prefix=prefix),
            warmup_readings=self.warmup,
            pin=self.pin,
            flush_readings=self.flush_readings,
        )
        if scenario.system == "voltstream":
            scenario = replace(scenario, worker_env=self.worker_env)
        if scenario.window_bytes != SLOW_WINDOW:
            scenario = replace(
                scenario, window_bytes=self.window[0], window_messages=self.window[1]
            )
        if self.owns_db:
            _truncate(self.services.database_url)
        print(f"-- {scenario.name}: {scenario.system} ...", flush=True)
        started = time.time()
        outcome = run(scenario, self.services, self.workdir, self.out_dir, prefix)
        f = outcome.figures
        print(
            f"   {f['readings_per_s']:,.0f} readings/s, {f['committed_readings']:,}"
            f"/{f['expected_readings']:,} readings, complete={f['complete']},"
            f" {time.time() - started:.0f} s",
            flush=True,
        )
        self.outcomes.append(outcome)
        return outcome


def _find(outcomes: list[Outcome], name: str) -> Outcome | None:
    return next((o for o in outcomes if o.scenario.name == name), None)


def _value(outcome: Outcome | None, key: str = "readings_per_s") -> float:
    if outcome is None:
        return math.nan
    value = outcome.figures.get(key)
    return float(value) if isinstance(value, int | float) else math.nan


def _check(target: str, measured: str, met: bool | None) -> dict[str, Any]:
    return {"target": target, "measured": measured, "met": met}


def summarise(result: dict[str, Any], outcomes: list[Outcome]) -> None:
    """Add the ratios and the target checks to `result`."""
    head = _find(outcomes, "voltstream-max")
    value = _value(head)
    raw = result.get("raw_copy") or {}
    ratios: list[dict[str, Any]] = []

    def ratio(
        name: str,
        baseline: Outcome | None,
        mine: Outcome | None = head,
        target: str = "",
        baseline_value: float | None = None,
    ) -> None:
        ratios.append(
            {
                "baseline": name,
                "baseline_value": _value(baseline) if baseline_value is None else baseline_value,
                "value": _value(mine),
                "baseline_per_cpu_s": _value(baseline, "readings_per_cpu_s"),
                "value_per_cpu_s": _value(mine, "readings_per_cpu_s"),
                "target": target,
            }
        )

    if raw:
        ratio(
            "raw limit: sink writer on pre-decoded rows",
            None,
            baseline_value=raw["sink_writer_readings_per_s"],
        )
        ratio("raw limit: plain binary COPY", None, baseline_value=raw["plain_copy_readings_per_s"])
    ratio("raw limit: librdkafka consume(1000), no processing", _find(outcomes, "raw-consume"))
    ratio("raw limit: Faust agent, take() and count only", _find(outcomes, "raw-faust"))
    ratio(
        "naive: json.loads + INSERT + commit per message", _find(outcomes, "naive"), target=">= 3x"
    )
    ratio("Faust + pydantic agent", _find(outcomes, "faust-pydantic"), target=">= 3.5x")
    samples = _find(outcomes, "voltstream-samples")
    if samples is not None:
        ratio("naive, light samples (seed 003)", _find(outcomes, "naive-samples"), mine=samples)
    result["ratios"] = [r for r in ratios if not math.isnan(r["baseline_value"])]
    checks: list[dict[str, Any]] = []
    if head is not None:
        checks.append(
            _check(">= 10,000 snapshots/s per worker", f"{value:,.0f}/s", value >= 10_000)
        )
        naive = _value(_find(outcomes, "naive"))
        if not math.isnan(naive):
            checks.append(_check(">= 3x naive", f"{value / naive:.2f}x", value >= 3 * naive))
        faust = _value(_find(outcomes, "faust-pydantic"))
        if not math.isnan(faust):
            checks.append(
                _check(">= 3.5x Faust + pydantic", f"{value / faust:.2f}x", value >= 3.5 * faust)
            )
    scale = _find(outcomes, "voltstream-2-workers")
    if scale is not None:
        two = _value(scale)
        checks.append(_check("2 workers >= 18,000 snapshots/s", f"{two:,.0f}/s", two >= 18_000))
        split = scale.figures.get("per_worker") or []
        if len(split) >= 2:
            readings = [w["readings"] for w in split]
            shares = ", ".join(
                f"worker {i}: {w['partitions']} partitions, {w['readings']:,} readings"
                for i, w in enumerate(split)
            )
            # Split: every worker owns partitions and none does more than twice its fair share.
            fair = sum(readings) / len(readings)
            checks.append(
                _check(
                    "workers split the load",
                    shares,
                    all(w["partitions"] > 0 for w in split) and max(readings) <= 2 * fair,
                )
            )
    paced = _find(outcomes, "voltstream-paced")
    if paced is not None:
        row = (paced.figures.get("latency_row_visible_s") or {}).get("p99", math.nan)
        hist = (paced.figures.get("latency_commit_histogram_s") or {}).get("p99", math.nan)
        alert = (paced.figures.get("latency_alert_s") or {}).get("p99", math.nan)
        keeps = paced.figures.get("keeps_up")
        lag_s = paced.figures.get("median_lag_s", math.nan)
        checks.append(
            _check(
                "worker keeps up at 80 % of its max (else latency is queueing)",
                f"{_value(paced):,.0f} of {paced.figures.get('paced_readings_per_s', 0):,.0f}"
                f" readings/s, median backlog {lag_s:.2f} s of load",
                keeps,
            )
        )
        # A worker that did not keep up measured its queue, not the pipeline: say so next to it.
        queueing = "" if keeps in (True, None) else " (queueing: the worker was saturated)"
        checks.append(
            _check(
                "p99 produce -> committed row < 1 s at 80 % of max",
                f"{row:.3f} s (row visible), {hist:.3f} s (histogram){queueing}",
                None if math.isnan(row) else row < 1.0,
            )
        )
        checks.append(
            _check(
                "p99 produce -> critical alert < 2 s at 80 % of max",
                f"{alert:.3f} s{queueing}",
                None if math.isnan(alert) else alert < 2.0,
            )
        )
    mem = result.get("memory")
    if mem:
        per = mem["rss_bytes_per_vehicle"]
        checks.append(
            _check(
                "< 2 KB per tracked vehicle",
                f"{per:,.0f} B in memory, {mem['to_bytes_mean']:,.0f} B serialized",
                per < 2048,
            )
        )
    result["targets"] = checks


def execute(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected scenarios and return the result document (also written to --out)."""
    sizes = QUICK if args.mode == "quick" else FULL
    if args.messages:
        sizes = replace(sizes, max_messages=args.messages)
    k = args.readings_per_message or 10
    only = set(args.only.split(",")) if args.only else None

    def wanted(name: str) -> bool:
        return only is None or name in only

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    result: dict[str, Any] = {
        "mode": args.mode,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "orjson_us_per_reading": yardstick.orjson_us_per_reading(),
            "orjson_us_reference": yardstick.REFERENCE_US,
            "python_us_per_reading": yardstick.python_us_per_reading(),
            "python_us_seen": yardstick.PYTHON_US_SEEN,
        },
        "readings_per_message": k,
        "notes": [],
    }
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vs-load-")))
        services = provision(
            stack,
            bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            database_url=os.environ.get("DATABASE_URL") or None,
            workdir=workdir,
        )
        from voltstream.db.migrate import migrate
        from voltstream.settings import DatabaseSettings

        migrate(services.database_url, DatabaseSettings())
        result["services"] = {
            "kafka": "embedded mock cluster" if services.embedded_kafka else "configured",
            "database": "embedded PostgreSQL" if services.embedded_postgres else "configured",
            "partitions": services.partitions,
        }
        if services.embedded_kafka:
            result["notes"].append(
                "librdkafka's mock cluster auto-creates topics with 4 partitions; the scale-out"
                f" run's topics are created with {SCALEOUT_PARTITIONS} through its C API"
                " (rd_kafka_mock_topic_create). Its group coordinator answers a member whose"
                " SyncGroup arrives after the leader's with INVALID_REQUEST, so the workers run"
                " with VOLTSTREAM_LEADER_SYNC_DELAY_S=1 (the leader waits before assigning)."
            )
        owns_db = services.embedded_postgres or args.truncate
        scaleout = args.scaleout or "group"
        result["scaleout"] = scaleout
        if scaleout == "shards" and args.workers >= 2:
            result["notes"].append(
                "scale-out measured as independent shards (each worker its own topic and"
                " consumer group, vehicles split between them)."
            )
        runner = Runner(
            services,
            workdir,
            out_dir,
            owns_db,
            sizes.warmup_readings,
            (int(args.window_mb * (1 << 20)), args.window_messages),
            args.worker_env,
            pin=args.pin,
            flush_readings=args.flush_readings,
        )
        snap = FleetSpec(kind="snapshot", vehicles=sizes.vehicles, readings_per_message=k)
        sample = FleetSpec(kind="sample", vehicles=sizes.sample_vehicles, readings_per_message=1)

        def do_memory() -> None:
            print("-- memory per vehicle ...", flush=True)
            result["memory"] = memory.measure(sizes.memory_vehicles)

        def do_raw_copy() -> None:
            print("-- raw database limit ...", flush=True)
            if owns_db:
                _truncate(services.database_url)
            spec = replace(snap, prefix=runner.run_id + "rc")
            raw = rawcopy.measure(services.database_url, spec, sizes.raw_copy_readings)
            result["raw_copy"] = {"kind": "snapshot", **raw}

        def do_broker_latency() -> None:
            print("-- broker delivery latency ...", flush=True)
            result["broker_latency"] = brokerlat.measure(
                services.bootstrap_servers, runner.run_id, count=sizes.broker_latency_messages
            )

        def do_max() -> None:
            runner.scenario(
                Scenario(
                    "voltstream-max",
                    "voltstream",
                    snap,
                    sizes.max_messages,
                    sizes.max_s,
                    profile=args.profile,
                )
            )
            result["storage"] = _storage(services.database_url)

        def do_paced() -> None:
            head = _find(runner.outcomes, "voltstream-max")
            rate = args.paced_rate or 0.8 * _value(head, "messages_per_s")
            if math.isnan(rate) or rate <= 0:
                result["notes"].append("paced run skipped: no maximum rate measured")
                return
            runner.scenario(
                Scenario(
                    "voltstream-paced",
                    "voltstream",
                    snap,
                    10**9,
                    sizes.paced_s,
                    rate=rate,
                    alert_interval_s=sizes.alert_interval_s,
                    probe=True,
                )
            )

        full = args.mode == "full"
        single = replace(snap, readings_per_message=1)
        scenarios = [
            Scenario("raw-consume", "raw_consume", snap, sizes.raw_consume, sizes.max_s),
            Scenario(
                "raw-faust",
                "raw_faust",
                snap,
                sizes.raw_consume,
                sizes.max_s,
                profile=args.profile,
            ),
            Scenario(
                "voltstream-2-workers",
                "voltstream",
                snap,
                sizes.scaleout_messages,
                sizes.max_s,
                workers=args.workers,
                profile=args.profile,
                shards=args.workers if scaleout == "shards" else 1,
                partitions=SCALEOUT_PARTITIONS if scaleout == "group" else None,
            )
            if args.workers >= 2
            else None,
            Scenario(
                "voltstream-single",
                "voltstream",
                single,
                sizes.single_messages,
                sizes.max_s,
                profile=args.profile,
            )
            if full and k != 1
            else None,
            Scenario(
                "voltstream-samples",
                "voltstream",
                sample,
                sizes.samples_messages,
                sizes.max_s,
                profile=args.profile,
            )
            if full
            else None,
            Scenario("naive", "naive", snap, 10**9, sizes.naive_s, window_bytes=SLOW_WINDOW),
            Scenario(
                "naive-samples", "naive", sample, 10**9, sizes.naive_s, window_bytes=SLOW_WINDOW
            )
            if full
            else None,
            Scenario("faust-pydantic", "faust_pydantic", snap, sizes.faust_messages, sizes.faust_s),
            Scenario(
                "voltstream-ab",
                "voltstream",
                snap,
                sizes.scaleout_messages,
                sizes.max_s,
                workers=2,
                shards=2,
                trees=(None, args.ab_tree),
            )
            if args.ab_tree is not None
            else None,
        ]
        by_name = {s.name: s for s in scenarios if s is not None}

        def scenario_step(name: str) -> Callable[[], None]:
            return lambda: _ignore(runner.scenario(by_name[name]))

        special: dict[str, Callable[[], None]] = {
            "memory": do_memory,
            "raw-copy": do_raw_copy,
            "broker-latency": do_broker_latency,
            "voltstream-max": do_max,
            "voltstream-paced": do_paced,
        }
        order = [
            "memory",
            "raw-copy",
            "broker-latency",
            "raw-consume",
            "raw-faust",
            "voltstream-max",
            "voltstream-paced",
            "voltstream-2-workers",
            "voltstream-single",
            "voltstream-samples",
            "naive",
            "naive-samples",
            "faust-pydantic",
            "voltstream-ab",
        ]
        steps = [
            (name, special.get(name) or scenario_step(name))
            for name in order
            if name in special or name in by_name
        ]
        for name, step in steps:
            if wanted(name):
                try:
                    step()
                except Exception as exc:
                    logger.exception("%s failed", name)
                    result["notes"].append(f"{name} failed: {type(exc).__name__}: {exc}")
                    if args.fail_fast:
                        raise
        result["scenarios"] = [o.to_dict() for o in runner.outcomes]
        summarise(result, runner.outcomes)
    result["machine"]["orjson_us_per_reading_end"] = yardstick.orjson_us_per_reading()
    result["machine"]["python_us_per_reading_end"] = yardstick.python_us_per_reading()
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write(result, out_dir)
    return result


def _ignore(_: object) -> None:
    return None


def write(result: dict[str, Any], out_dir: Path) -> None:
    """results.json, results.md (also printed) and results.png in `out_dir`."""
    (out_dir / "results.json").write_bytes(
        orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    text = report.markdown(result)
    (out_dir / "results.md").write_text(text)
    report.plot(result, out_dir / "results.png")
    print()
    print(text)
    print(f"results in {out_dir}/results.{{json,md,png}}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m load_tests.pipeline", description=__doc__)
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--out", default="load_tests/results", help="output directory")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="scale-out run with this many workers (full default 2, quick 1)",
    )
    parser.add_argument(
        "--readings-per-message",
        type=int,
        default=None,
        help="readings per Kafka message (batch envelope when > 1; default 10)",
    )
    parser.add_argument(
        "--scaleout",
        choices=("group", "shards"),
        default=None,
        help="workers of the scale-out run share one consumer group (group) or each own a"
        " topic (shards); default: group, on one topic of 8 partitions",
    )
    parser.add_argument(
        "--window-mb",
        type=float,
        default=60.0,
        help="uncompressed MB produced but not yet consumed, at most (the mock broker keeps"
        " ~5 MB compressed per partition)",
    )
    parser.add_argument(
        "--window-messages", type=int, default=20_000, help="...and at most this many messages"
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of the voltstream workers (repeatable), for tuning experiments",
    )
    parser.add_argument(
        "--messages", type=int, default=None, help="messages of the max-throughput run"
    )
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=None,
        help="messages/s of the latency run (default 80 %% of the measured max)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the worker during the max-throughput run (SVG + hot spots)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated steps: memory, raw-copy, broker-latency, raw-consume, raw-faust,"
        " voltstream-max,"
        " voltstream-paced, voltstream-2-workers, voltstream-single,"
        " voltstream-samples, naive, naive-samples, faust-pydantic, voltstream-ab",
    )
    parser.add_argument(
        "--truncate",
        action="store_true",
        help="empty the data tables before each scenario on a configured database"
        " (always done on the embedded one)",
    )
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failing step")
    parser.add_argument(
        "--flush-readings",
        type=int,
        default=FLUSH_READINGS,
        help=f"readings per batch of the worker and the Faust baselines (default {FLUSH_READINGS})",
    )
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="do not pin the processes under test to cores of their own (by default each gets"
        " one and the generator, broker, database and observers share the rest, when a core is"
        " left for them)",
    )
    parser.add_argument(
        "--ab-tree",
        type=Path,
        default=None,
        help="paired A/B: run worker 0 from this tree and worker 1 from the tree at PATH (e.g."
        " `git worktree add /tmp/base main`; same venv), side by side on their own shards of"
        " the same load, and compare their CPU per reading (step voltstream-ab, the only one"
        " unless --only is given)",
    )
    args = parser.parse_args(argv)
    if args.ab_tree is not None:
        args.ab_tree = args.ab_tree.resolve()
        if not (args.ab_tree / "streams" / "app.py").exists():
            parser.error(f"--ab-tree {args.ab_tree} is not a voltstream source tree")
        if args.only is None:
            args.only = "voltstream-ab"
    pairs = [item.partition("=") for item in args.worker_env]
    if any(not key or not sep for key, sep, _ in pairs):
        parser.error("--worker-env takes KEY=VALUE")
    args.worker_env = tuple((key, value) for key, _, value in pairs)
    k = args.readings_per_message
    if k is not None and not 1 <= k <= MAX_READINGS_PER_MESSAGE:
        parser.error(
            f"--readings-per-message must be 1..{MAX_READINGS_PER_MESSAGE}: an envelope's"
            " readings are 1 ms apart, so the worker's per-vehicle burst (20) must hold them all"
        )
    if args.workers is None:
        args.workers = 2 if args.mode == "full" else 1
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point; the exit code is 1 when a scenario failed or lost readings."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result = execute(parse_args(argv))
    failed = any("failed" in n for n in result["notes"])
    incomplete = any(not s.get("complete") for s in result["scenarios"])
    return 1 if failed or incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
