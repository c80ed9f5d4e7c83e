"""Per-battery RMSE/MAE of the LSTM and every baseline, and leave-one-battery-out evaluation."""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from streams.predictor.artifact import ModelBundle
from streams.predictor.baselines import (
    predict_exponential,
    predict_last,
    predict_linear,
    ridge_features,
)
from streams.predictor.features import FloatArray, WindowSet, standardise
from streams.predictor.nasa import BatterySeries, Dataset
from streams.predictor.train import Split, TrainConfig, train_bundle, windows_for

MODELS = ("lstm", "ridge", "last", "linear", "exponential")
POOLED = "all"


@dataclass(frozen=True, slots=True)
class Metrics:
    """Errors of one model on one battery, in SOH percentage points."""

    rmse: float
    mae: float
    n: int


def metrics(pred: FloatArray, truth: FloatArray) -> Metrics:
    """RMSE and MAE of `pred` against `truth`."""
    if truth.size == 0:
        return Metrics(math.nan, math.nan, 0)
    err = pred - truth
    return Metrics(float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err))), int(truth.size))


def lstm_predictor(bundle: ModelBundle) -> Callable[[FloatArray], FloatArray]:
    """Raw encoded windows -> predicted SOH changes in points, clipped to the training range."""
    from streams.predictor.lstm import EnsemblePredictor  # torch is optional

    ensemble = EnsemblePredictor(
        bundle.state_dicts, len(bundle.channels), bundle.hidden1, bundle.hidden2, bundle.dropout
    )

    def predict(encoded: FloatArray) -> FloatArray:
        scaled = standardise(encoded, bundle.scaler_mean, bundle.scaler_std)
        delta = ensemble.predict(scaled) * bundle.target_scale
        return np.clip(delta, bundle.delta_min, bundle.delta_max)

    return predict


def predict_windows(bundle: ModelBundle, windows: WindowSet) -> dict[str, FloatArray]:
    """Next-cycle SOH predicted by every model for every window."""
    out: dict[str, FloatArray] = {}
    hist = windows.soh_history
    out["lstm"] = windows.last_soh + lstm_predictor(bundle)(windows.encoded)
    if bundle.ridge is not None and len(windows):
        rows = np.stack([ridge_features(e) for e in windows.encoded])
        out["ridge"] = windows.last_soh + bundle.ridge.predict(rows)
    out["last"] = np.array([predict_last(h) for h in hist], dtype=np.float64)
    out["linear"] = np.array([predict_linear(h) for h in hist], dtype=np.float64)
    out["exponential"] = np.array([predict_exponential(h) for h in hist], dtype=np.float64)
    return out


Results = dict[str, dict[str, Metrics]]


def battery_roles(bundle: ModelBundle, batteries: Sequence[str]) -> dict[str, str]:
    """train / val / test / unseen for each battery, from the artifact's metadata."""
    meta = bundle.metadata
    roles: dict[str, str] = {}
    for name in batteries:
        if name in meta.get("train_batteries", []):
            roles[name] = "train"
        elif name in meta.get("val_batteries", []):
            roles[name] = "val"
        elif name in meta.get("test_batteries", []):
            roles[name] = "test"
        else:
            roles[name] = "unseen"
    return roles


def evaluate_bundle(bundle: ModelBundle, batteries: Sequence[BatterySeries]) -> Results:
    """Metrics per battery for every model, plus "all" pooled over the windows of batteries
    the model neither trained nor stopped early on (test and unseen cells)."""
    windows = windows_for(batteries, bundle.window, bundle.min_history)
    preds = predict_windows(bundle, windows)
    results: Results = {}
    ids = np.array(windows.battery_ids)
    roles = battery_roles(bundle, [b.battery_id for b in batteries])
    for battery in [b.battery_id for b in batteries]:
        sel = ids == battery
        results[battery] = {m: metrics(p[sel], windows.target_soh[sel]) for m, p in preds.items()}
    held_out = [b for b, r in roles.items() if r in ("test", "unseen")]
    if len(held_out) > 1:
        sel = np.isin(ids, held_out)
        results[POOLED] = {m: metrics(p[sel], windows.target_soh[sel]) for m, p in preds.items()}
    return results


def loo_val_battery(names: Sequence[str], test: str) -> str | None:
    """The validation cell for a held-out `test`: the next battery name after it (cyclic)."""
    ordered = sorted(names)
    others = [n for n in ordered if n != test]
    if len(others) < 2:
        return None
    after = [n for n in others if n > test]
    return after[0] if after else others[0]


COHORT_START_TOLERANCE_S = 86_400.0
"""Cells whose first kept discharge started within a day of each other were cycled together."""


def cohorts(dataset: Dataset) -> list[tuple[str, ...]]:
    """Groups of batteries tested together on one schedule (same first-discharge day).

    Siblings share rest periods and so the timing of capacity recoveries; holding a whole
    cohort out is the honest test of how the model does on a cell from another experiment.
    """
    groups: list[list[str]] = []
    starts: list[float] = []
    for name, series in dataset.batteries.items():
        t0 = series.records[0].start_time.timestamp()
        for group, start in zip(groups, starts, strict=True):
            if abs(t0 - start) <= COHORT_START_TOLERANCE_S:
                group.append(name)
                break
        else:
            groups.append([name])
            starts.append(t0)
    return [tuple(g) for g in groups]


def leave_one_out(
    dataset: Dataset,
    config: TrainConfig,
    batteries: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    by_cohort: bool = False,
) -> tuple[Results, dict[str, Any]]:
    """Train on all other cells (minus one validation cell) and evaluate each held-out cell.

    With `by_cohort`, the held-out cell's whole cohort (see `cohorts`) is left out of training
    and validation, and one model is trained per cohort.
    """
    names = list(dataset.batteries)
    targets = list(batteries) if batteries else names
    dataset.select(targets)
    if by_cohort:
        groups = [tuple(b for b in g if b in targets) for g in cohorts(dataset)]
        folds = [(g, set(c)) for g, c in zip(groups, cohorts(dataset), strict=True) if g]
    else:
        folds = [((t,), {t}) for t in targets]
    results: Results = {}
    info: dict[str, Any] = {}
    pooled: dict[str, list[tuple[FloatArray, FloatArray]]] = {m: [] for m in MODELS}
    for tests, excluded in folds:
        started = time.perf_counter()
        remaining = [n for n in names if n not in excluded]
        val = loo_val_battery([*remaining, tests[-1]], tests[-1]) if remaining else None
        split = Split(
            train=tuple(n for n in remaining if n != val),
            val=(val,) if val else (),
            test=tests,
        )
        bundle = train_bundle(dataset, split, config)
        for test in tests:
            windows = windows_for(dataset.select([test]), bundle.window, bundle.min_history)
            preds = predict_windows(bundle, windows)
            results[test] = {m: metrics(p, windows.target_soh) for m, p in preds.items()}
            for m, p in preds.items():
                pooled[m].append((p, windows.target_soh))
        seconds = time.perf_counter() - started
        for test in tests:
            info[test] = {"train": list(split.train), "val": val, "seconds": round(seconds, 1)}
        if progress is not None:
            progress(f"held out {', '.join(tests)}: val {val}, {seconds:.1f} s")
    results[POOLED] = {
        m: metrics(np.concatenate([p for p, _ in v]), np.concatenate([t for _, t in v]))
        for m, v in pooled.items()
        if v
    }
    return results, info


def winners(results: Results) -> dict[str, str]:
    """The model with the lowest RMSE per battery."""
    out: dict[str, str] = {}
    for battery, per_model in results.items():
        valid = {m: r.rmse for m, r in per_model.items() if r.n and math.isfinite(r.rmse)}
        if valid:
            out[battery] = min(valid, key=lambda m: valid[m])
    return out


def format_table(results: Results, title: str = "", roles: dict[str, str] | None = None) -> str:
    """A plain-text table: RMSE / MAE in % SOH per battery and model, best RMSE marked."""
    models = [m for m in MODELS if any(m in r for r in results.values())]
    best = winners(results)
    roles = roles or {}
    head = f"{'battery':<8} {'role':<8} {'n':>4}  " + "  ".join(f"{m:>15}" for m in models)
    lines = [title] if title else []
    lines += [head, "-" * len(head)]
    for battery, per_model in results.items():
        n = next(iter(per_model.values())).n if per_model else 0
        cells = []
        for m in models:
            r = per_model.get(m)
            if r is None or r.n == 0:
                cells.append(f"{'-':>15}")
                continue
            mark = "*" if best.get(battery) == m else " "
            cells.append(f"{r.rmse:6.3f} / {r.mae:5.3f}{mark}")
        role = roles.get(battery, "held-out" if battery == POOLED else "")
        lines.append(f"{battery:<8} {role:<8} {n:>4}  " + "  ".join(cells))
    lines.append(
        "RMSE / MAE of next-cycle SOH in % SOH (points of rated 2.0 Ah); * = lowest RMSE; "
        "train/val rows are in-sample"
    )
    return "\n".join(lines)


def results_json(results: Results) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """Results as plain JSON-able data (NaN -> null)."""
    return {
        b: {
            m: {
                "rmse": r.rmse if math.isfinite(r.rmse) else None,
                "mae": r.mae if math.isfinite(r.mae) else None,
                "n": r.n,
            }
            for m, r in per_model.items()
        }
        for b, per_model in results.items()
    }
