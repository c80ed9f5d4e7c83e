"""`voltstream migrate`: apply the pending SQL migrations to the configured database."""

import argparse
import sys

from pydantic import ValidationError

from voltstream.errors import MigrationError
from voltstream.settings import DatabaseSettings

EXIT_USAGE = 2
EXIT_FAILED = 1


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `migrate` subcommand."""
    parser = subparsers.add_parser(
        "migrate",
        help="apply pending SQL migrations (TimescaleDB objects when the extension is available)",
        description=(
            "Apply the numbered SQL migrations that the database lacks, each in one transaction,"
            " under an advisory lock. Re-running applies nothing."
        ),
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="libpq URL or DSN (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--timescale",
        choices=["auto", "on", "off"],
        default=None,
        help="use TimescaleDB: auto (if available), on (required), off (never);"
        " default: $VOLTSTREAM_DB_TIMESCALE or auto",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the migrations; print what was applied."""
    from voltstream.db.migrate import migrate

    try:
        settings = DatabaseSettings()
    except ValidationError as exc:
        print(f"voltstream migrate: invalid database settings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.timescale is not None:
        settings = settings.model_copy(update={"timescale": args.timescale})
    url = args.database_url or (settings.url.get_secret_value() if settings.url else None)
    if not url:
        print(
            "voltstream migrate: DATABASE_URL is required (or pass --database-url)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        report = migrate(url, settings)
    except MigrationError as exc:
        print(f"voltstream migrate: {exc}", file=sys.stderr)
        return EXIT_FAILED
    mode = f"TimescaleDB {report.timescale_version}" if report.timescale else "plain PostgreSQL"
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.applied:
        for label in report.applied:
            print(f"applied {label}")
        print(f"{len(report.applied)} migration(s) applied ({mode})")
    else:
        print(f"database is up to date ({mode})")
    return 0
