"""`voltstream worker`: run the stream processor against the configured Kafka and database."""

import argparse
import sys

from voltstream.errors import VoltstreamError


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `worker` subcommand."""
    parser = subparsers.add_parser(
        "worker",
        help="run the Faust stream worker",
        description="Consume telemetry, keep per-vehicle state, write rows and publish alerts. "
        "Configured by KAFKA_* , DATABASE_URL and VOLTSTREAM_* environment variables.",
    )
    parser.add_argument("--kafka", help="bootstrap servers (overrides KAFKA_BOOTSTRAP_SERVERS)")
    parser.add_argument("--database-url", help="PostgreSQL URL (overrides DATABASE_URL)")
    parser.add_argument(
        "--faust-loglevel", default="warn", choices=["crit", "error", "warn", "info", "debug"]
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from streams.runner import run_worker
    from voltstream.settings import Settings

    try:
        settings = Settings().with_services(
            bootstrap_servers=args.kafka, database_url=args.database_url
        )
        return run_worker(settings, loglevel=args.faust_loglevel)
    except VoltstreamError as exc:
        print(f"voltstream worker: {exc}", file=sys.stderr)
        return 2
