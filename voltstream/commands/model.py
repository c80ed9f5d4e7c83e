"""`voltstream model`: train, evaluate, predict with and ingest data for the SOH forecaster."""

import argparse
import importlib.util
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NO_TORCH_EXIT = 2
INSTALL_HINT = "voltstream model needs PyTorch: install the ML extra, pip install 'voltstream[ml]'"
CYCLE_SERIES_COLUMNS = (
    "source",
    "battery_id",
    "cycle_index",
    "time",
    "features",
    "soh_target",
    "capacity_ah",
)


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `model` command and its subcommands."""
    parser = subparsers.add_parser(
        "model", help="next-cycle SOH forecaster (NASA PCoE LSTM and baselines)"
    )
    parser.set_defaults(func=lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="model_command", metavar="{train,evaluate,loo,predict,ingest}")

    train = sub.add_parser("train", help="train the LSTM and write a single-file artifact")
    _data_arg(train)
    train.add_argument("--out", required=True, type=Path, help="artifact file to write")
    train.add_argument("--train", type=_names, help="training batteries, comma separated")
    train.add_argument("--val", type=_names, help="early-stopping batteries (default B0047)")
    train.add_argument("--test", type=_names, help="test batteries (default B0007)")
    _train_args(train)
    _format_arg(train)
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="per-battery RMSE/MAE of the model and baselines")
    _data_arg(evaluate)
    evaluate.add_argument("--artifact", type=Path, help="trained artifact (not with --loo)")
    evaluate.add_argument("--loo", action="store_true", help="leave-one-battery-out instead")
    evaluate.add_argument(
        "--cohort", action="store_true", help="with --loo: hold out the test cell's whole cohort"
    )
    evaluate.add_argument("--batteries", type=_names, help="with --loo: cells to hold out")
    _train_args(evaluate)
    _format_arg(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    loo = sub.add_parser("loo", help="leave-one-battery-out: train on the others, test each")
    _data_arg(loo)
    loo.add_argument(
        "--cohort",
        action="store_true",
        help="hold out the test cell's whole cohort (cells cycled together)",
    )
    loo.add_argument("--batteries", type=_names, help="cells to hold out (default all)")
    _train_args(loo)
    _format_arg(loo)
    loo.set_defaults(func=cmd_loo, loo=True)

    predict = sub.add_parser(
        "predict", help="read the last cycles as JSON on stdin, print predicted_soh and RUL"
    )
    predict.add_argument("--artifact", required=True, type=Path)
    predict.add_argument("--input", type=Path, help="read this JSON file instead of stdin")
    predict.set_defaults(func=cmd_predict)

    ingest = sub.add_parser("ingest", help="load NASA cycles into the cycle_series table")
    _data_arg(ingest)
    ingest.add_argument("--database-url", help="PostgreSQL URL (default: voltstream settings)")
    ingest.set_defaults(func=cmd_ingest)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _names(text: str) -> list[str]:
    return [n.strip().upper() for n in text.split(",") if n.strip()]


def _data_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        nargs="+",
        type=Path,
        help="NASA .mat files, discharge CSVs (capacity.csv beside) or folders of them "
        "(default: $VOLTSTREAM_NASA_DATA or ../shared/data/nasa_pcoe)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log dropped cycles etc.")


def _format_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _train_args(parser: argparse.ArgumentParser) -> None:
    from streams.predictor.train import TrainConfig

    d = TrainConfig()
    parser.add_argument("--window", type=int, default=d.window, help="cycles per window")
    parser.add_argument(
        "--min-history",
        type=int,
        default=d.min_history,
        help="fewest cycles before a first forecast (shorter windows padded)",
    )
    parser.add_argument("--epochs", type=int, default=d.epochs, help="maximum epochs")
    parser.add_argument("--patience", type=int, default=d.patience)
    parser.add_argument("--ensemble", type=int, default=d.ensemble, help="LSTMs averaged")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads")


def _config(args: argparse.Namespace) -> Any:
    from streams.predictor.train import TrainConfig

    return TrainConfig(
        window=args.window,
        min_history=args.min_history,
        epochs=args.epochs,
        patience=args.patience,
        ensemble=args.ensemble,
        seed=args.seed,
        threads=args.threads,
    )


def _torch_missing() -> bool:
    if importlib.util.find_spec("torch") is None:
        print(INSTALL_HINT, file=sys.stderr)
        return True
    return False


def _setup_logging(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "verbose", False):
        logging.getLogger("streams.predictor").setLevel(logging.INFO)


def _load(args: argparse.Namespace) -> Any:
    from streams.predictor.nasa import default_data_dir, load_dataset

    paths: Sequence[Path] = args.data or [default_data_dir()]
    return load_dataset(list(paths))


def _fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 1


def cmd_train(args: argparse.Namespace) -> int:
    """`voltstream model train`."""
    if _torch_missing():
        return NO_TORCH_EXIT
    _setup_logging(args)
    from streams.predictor.artifact import save_bundle
    from streams.predictor.errors import PredictorError
    from streams.predictor.evaluate import (
        battery_roles,
        evaluate_bundle,
        format_table,
        results_json,
    )
    from streams.predictor.train import default_split, train_bundle

    try:
        dataset = _load(args)
        split = default_split(list(dataset.batteries), args.test, args.val, args.train)
        started = time.perf_counter()
        bundle = train_bundle(dataset, split, _config(args))
        seconds = time.perf_counter() - started
        results = evaluate_bundle(bundle, dataset.select(list(dataset.batteries)))
        bundle.metadata["metrics"] = results_json(results)
        save_bundle(bundle, args.out)
    except PredictorError as exc:
        return _fail(exc)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "artifact": str(args.out),
                    "training_seconds": round(seconds, 1),
                    "split": {"train": split.train, "val": split.val, "test": split.test},
                    "metrics": bundle.metadata["metrics"],
                },
                indent=2,
            )
        )
    else:
        print(
            f"trained in {seconds:.1f} s on {', '.join(split.train)}; "
            f"early stopping on {', '.join(split.val) or '-'}; wrote {args.out}"
        )
        roles = battery_roles(bundle, list(dataset.batteries))
        print(format_table(results, roles=roles))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`voltstream model evaluate`."""
    if args.loo:
        return cmd_loo(args)
    if args.artifact is None:
        print("error: --artifact is required (or use --loo)", file=sys.stderr)
        return 2
    if _torch_missing():
        return NO_TORCH_EXIT
    _setup_logging(args)
    from streams.predictor.artifact import load_bundle
    from streams.predictor.errors import PredictorError
    from streams.predictor.evaluate import (
        battery_roles,
        evaluate_bundle,
        format_table,
        results_json,
    )

    try:
        bundle = load_bundle(args.artifact)
        dataset = _load(args)
        results = evaluate_bundle(bundle, dataset.select(list(dataset.batteries)))
    except PredictorError as exc:
        return _fail(exc)
    roles = battery_roles(bundle, list(dataset.batteries))
    if args.format == "json":
        print(
            json.dumps(
                {
                    "artifact": str(args.artifact),
                    "data_hash": dataset.data_hash,
                    "trained_on_data_hash": bundle.metadata.get("data_hash"),
                    "roles": roles,
                    "metrics": results_json(results),
                },
                indent=2,
            )
        )
    else:
        same = bundle.metadata.get("data_hash") == dataset.data_hash
        print(
            f"artifact {args.artifact} (window {bundle.window}, "
            f"{len(bundle.state_dicts)} LSTM(s)); data {'same as' if same else 'differs from'} "
            "the training data"
        )
        print(format_table(results, roles=roles))
    return 0


def cmd_loo(args: argparse.Namespace) -> int:
    """`voltstream model loo` / `evaluate --loo`."""
    if _torch_missing():
        return NO_TORCH_EXIT
    _setup_logging(args)
    from streams.predictor.errors import PredictorError
    from streams.predictor.evaluate import (
        format_table,
        leave_one_out,
        results_json,
    )

    started = time.perf_counter()
    try:
        dataset = _load(args)
        results, info = leave_one_out(
            dataset,
            _config(args),
            args.batteries,
            progress=lambda msg: print(msg, file=sys.stderr),
            by_cohort=args.cohort,
        )
    except PredictorError as exc:
        return _fail(exc)
    seconds = time.perf_counter() - started
    kind = "leave-one-cohort-out" if args.cohort else "leave-one-battery-out"
    if args.format == "json":
        print(
            json.dumps(
                {
                    "mode": kind,
                    "seconds": round(seconds, 1),
                    "folds": info,
                    "metrics": results_json(results),
                },
                indent=2,
            )
        )
    else:
        print(
            format_table(
                results, title=f"{kind} ({seconds:.0f} s)", roles={b: "test" for b in info}
            )
        )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """`voltstream model predict`: JSON cycles on stdin -> predicted_soh (+ RUL) as JSON."""
    if _torch_missing():
        return NO_TORCH_EXIT
    from streams.predictor.errors import PredictorError
    from streams.predictor.features import CycleFeatures
    from streams.predictor.forecaster import DegradationForecaster

    try:
        raw = args.input.read_text() if args.input else sys.stdin.read()
        data = json.loads(raw)
        if isinstance(data, dict):
            data = data.get("cycles")
        if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
            raise ValueError('expected a JSON list of cycle objects (or {"cycles": [...]})')
        history = [CycleFeatures.from_mapping(c) for c in data]
        forecast = DegradationForecaster.load(args.artifact).predict(history)
    except (PredictorError, ValueError, OSError) as exc:
        return _fail(exc)
    print(
        json.dumps(
            {
                "predicted_soh": round(forecast.predicted_soh, 4),
                "rul_cycles": forecast.rul_cycles,
                "last_soh": round(forecast.last_soh, 4),
                "fade_percent_per_cycle": round(forecast.fade_percent_per_cycle, 5),
                "history_cycles": forecast.history_cycles,
            }
        )
    )
    return 0


def _database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return str(args.database_url)
    from voltstream.settings import Settings

    url = Settings().database.url
    if url is None:
        raise LookupError("no database URL: pass --database-url or set DATABASE_URL")
    return url.get_secret_value()


def ingest_records(conn: Any, records: Sequence[Any]) -> int:
    """COPY records into a staging table, then INSERT ... ON CONFLICT DO NOTHING into
    cycle_series; returns the number of new rows. `conn` is a psycopg connection."""
    from psycopg.types.json import Jsonb

    cols = ", ".join(CYCLE_SERIES_COLUMNS)
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _cycle_series_stage "
            "(LIKE cycle_series INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cur.copy(f"COPY _cycle_series_stage ({cols}) FROM STDIN") as copy:
            for r in records:
                copy.write_row(
                    (
                        r.source,
                        r.battery_id,
                        r.cycle_index,
                        r.start_time,
                        Jsonb(r.features_json()),
                        r.soh_percent,
                        r.capacity_ah,
                    )
                )
        cur.execute(
            f"INSERT INTO cycle_series ({cols}) SELECT {cols} FROM _cycle_series_stage "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
        inserted = int(cur.rowcount)
    conn.commit()
    return inserted


def cmd_ingest(args: argparse.Namespace) -> int:
    """`voltstream model ingest`: fill cycle_series from NASA files (no torch needed)."""
    _setup_logging(args)
    import psycopg

    from streams.predictor.errors import PredictorError

    try:
        dataset = _load(args)
        url = _database_url(args)
    except (PredictorError, LookupError) as exc:
        return _fail(exc)
    records = [r for s in dataset.batteries.values() for r in s.records]
    dropped = sum(len(s.dropped) for s in dataset.batteries.values())
    try:
        with psycopg.connect(url) as conn:
            inserted = ingest_records(conn, records)
    except psycopg.Error as exc:
        return _fail(exc)
    print(
        f"cycle_series: {inserted} new of {len(records)} cycles from "
        f"{len(dataset.batteries)} batteries ({dropped} bad cycles skipped)"
    )
    return 0
