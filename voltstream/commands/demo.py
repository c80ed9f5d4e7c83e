"""`voltstream demo`: run the whole pipeline with no configuration and print a fleet summary."""

import argparse
import sys
from pathlib import Path

from voltstream.errors import VoltstreamError


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `demo` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run the pipeline end to end on embedded Kafka and PostgreSQL",
        description="Start an embedded Kafka (librdkafka mock cluster) and an embedded "
        "PostgreSQL unless --kafka/--database-url (or KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL) are "
        "given, migrate, run a worker and a simulated fleet with injected faults, show live "
        "progress and end with a fleet summary. Everything started is cleaned up.",
    )
    parser.add_argument("--vehicles", type=int, default=40, help="fleet size (default 40)")
    parser.add_argument(
        "--duration", type=float, default=45.0, help="seconds of wall-clock time (default 45)"
    )
    parser.add_argument(
        "--simulated-hours", type=float, default=6.0, help="fleet time to replay (default 6 h)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=1, help="readings per Kafka message")
    parser.add_argument(
        "--faults",
        default="demo",
        choices=["none", "default", "demo", "all"],
        help="fault injection rates (default: demo, every fault kind in a small fleet)",
    )
    parser.add_argument("--kafka", help="use this Kafka cluster instead of an embedded one")
    parser.add_argument("--database-url", help="use this database instead of an embedded one")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON to this file")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from voltstream.demo import DemoOptions, run_demo

    options = DemoOptions(
        vehicles=args.vehicles,
        duration_s=args.duration,
        simulated_s=args.simulated_hours * 3600.0,
        seed=args.seed,
        batch_size=args.batch_size,
        kafka=args.kafka,
        database_url=args.database_url,
        faults=args.faults,
        json_summary=args.json,
    )
    try:
        run_demo(options, sys.stdout)
    except VoltstreamError as exc:
        print(f"voltstream demo: {exc}", file=sys.stderr)
        return 1
    return 0
