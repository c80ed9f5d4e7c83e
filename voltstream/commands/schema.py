"""`voltstream schema export`: the JSON Schema of every message, so other teams can validate."""

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `schema` subcommand group."""
    parser = subparsers.add_parser("schema", help="message contracts (JSON Schema)")
    actions = parser.add_subparsers(dest="schema_command", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write one JSON Schema file per message")
    export.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory to write NAME.schema.json files into; "
        "without it, one JSON object with every schema is printed",
    )
    export.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from schemas.jsonschema import export_json_schemas

    schemas = export_json_schemas()
    if args.out is None:
        json.dump(schemas, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, schema in sorted(schemas.items()):
        path = args.out / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(path)
    return 0
