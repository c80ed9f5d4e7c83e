"""`voltstream alerts tail`: print alerts from the alerts topic as they arrive."""

import argparse
import sys

from pydantic import ValidationError


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `alerts` command and its `tail` subcommand."""
    parser = subparsers.add_parser("alerts", help="inspect the alerts topic")
    commands = parser.add_subparsers(dest="alerts_command", metavar="SUBCOMMAND", required=True)
    tail = commands.add_parser(
        "tail",
        help="print alerts as they arrive",
        description="Print alerts from the alerts topic, one line each, until --max or "
        "--timeout. Exit status 1 when --max alerts were not seen before --timeout.",
    )
    tail.add_argument(
        "--severity",
        default="info",
        choices=["info", "warning", "major", "critical"],
        help="minimum severity (default: info)",
    )
    tail.add_argument(
        "--type",
        dest="types",
        action="append",
        default=[],
        metavar="TYPE",
        help="only this alert type (repeatable)",
    )
    tail.add_argument(
        "--vehicle",
        dest="vehicles",
        action="append",
        default=[],
        metavar="VEHICLE_ID",
        help="only this vehicle (repeatable)",
    )
    tail.add_argument("--format", dest="output", choices=["text", "json"], default="text")
    tail.add_argument(
        "--from-beginning", action="store_true", help="start at the oldest retained alert"
    )
    tail.add_argument("--max", dest="max_alerts", type=int, default=None, metavar="N")
    tail.add_argument("--timeout", dest="timeout_s", type=float, default=None, metavar="S")
    tail.add_argument("--bootstrap-servers", default=None, help="override KAFKA_BOOTSTRAP_SERVERS")
    tail.set_defaults(func=run_tail)


def run_tail(args: argparse.Namespace) -> int:
    """Entry point of `voltstream alerts tail`."""
    from consumers.errors import ConsumerError
    from consumers.filters import AlertFilter
    from consumers.tail import TailOptions, tail
    from voltstream.errors import VoltstreamError
    from voltstream.settings import Settings

    try:
        settings = Settings().with_services(bootstrap_servers=args.bootstrap_servers)
        options = TailOptions(
            alert_filter=AlertFilter.build(args.severity, args.types, args.vehicles),
            output=args.output,
            from_beginning=args.from_beginning,
            max_alerts=args.max_alerts,
            timeout_s=args.timeout_s,
        )
        printed = tail(settings, options, sys.stdout, sys.stderr)
    except (ValidationError, ValueError, VoltstreamError, ConsumerError) as exc:
        print(f"voltstream alerts tail: {exc}", file=sys.stderr)
        return 2
    if args.max_alerts is not None and printed < args.max_alerts:
        return 1
    return 0
