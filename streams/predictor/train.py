"""Training: split by battery, build windows, fit the LSTM ensemble and the ridge baseline."""

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from streams.predictor.artifact import ModelBundle, import_torch
from streams.predictor.baselines import fit_ridge_select, ridge_features
from streams.predictor.errors import DataError
from streams.predictor.features import (
    FloatArray,
    WindowSet,
    build_windows,
    fit_scaler,
    standardise,
)
from streams.predictor.nasa import BatterySeries, Dataset

log = logging.getLogger(__name__)

SEED_TEST = "B0007"
PREFERRED_VAL = ("B0047", "B0046", "B0048", "B0018")


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Window and optimiser settings (defaults are the ones documented in docs/predictor.md)."""

    window: int = 50
    min_history: int = 5
    ensemble: int = 5
    epochs: int = 120
    patience: int = 15
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    hidden1: int = 64
    hidden2: int = 32
    dropout: float = 0.2
    seed: int = 7
    threads: int = 1


@dataclass(frozen=True, slots=True)
class Split:
    """Batteries used to fit, to stop early, and to test."""

    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]


def default_split(
    available: Sequence[str],
    test: Sequence[str] | None = None,
    val: Sequence[str] | None = None,
    train: Sequence[str] | None = None,
) -> Split:
    """Seed 004's split when possible: test B0007; validate on a cell that is neither
    train nor test (B0047 if present, else the last other cell); train on all the rest."""
    names = list(available)
    if test is None:
        test = [SEED_TEST] if SEED_TEST in names and len(names) > 2 else []
    rest = [n for n in names if n not in test]
    if val is None:
        explicit_train = set(train or [])
        candidates = [n for n in rest if n not in explicit_train]
        preferred = [n for n in PREFERRED_VAL if n in candidates]
        if preferred:
            val = [preferred[0]]
        elif len(candidates) > 1 or (candidates and train is not None):
            val = [candidates[-1]]
        else:
            val = []
    if train is None:
        train = [n for n in rest if n not in val]
    for name in (*train, *val, *test):
        if name not in names:
            raise DataError(f"battery {name} not in the data ({', '.join(names)})")
    if set(train) & (set(val) | set(test)) or set(val) & set(test):
        raise DataError("train, validation and test batteries must not overlap")
    if not train:
        raise DataError("no training battery")
    return Split(train=tuple(train), val=tuple(val), test=tuple(test))


def windows_for(batteries: Sequence[BatterySeries], window: int, min_history: int) -> WindowSet:
    """Sliding windows over the given batteries."""
    return build_windows(
        [(b.battery_id, b.history(), [r.cycle_index for r in b.records]) for b in batteries],
        window,
        min_history,
    )


def train_bundle(
    dataset: Dataset,
    split: Split,
    config: TrainConfig = TrainConfig(),
    extra_metadata: dict[str, Any] | None = None,
) -> ModelBundle:
    """Fit the LSTM ensemble (early stopping on `split.val`) and the ridge baseline."""
    import_torch()
    from streams.predictor import lstm  # torch is optional

    lstm.set_threads(config.threads)
    started = time.perf_counter()
    train_w = windows_for(dataset.select(split.train), config.window, config.min_history)
    val_w = windows_for(dataset.select(split.val), config.window, config.min_history)
    if len(train_w) == 0:
        raise DataError(f"no training window: batteries need more than {config.min_history} cycles")
    mean, std = fit_scaler(train_w.encoded)
    y_train = train_w.target_soh - train_w.last_soh
    y_val = val_w.target_soh - val_w.last_soh
    target_scale = max(float(y_train.std()), 1e-3)
    x_train = standardise(train_w.encoded, mean, std)
    x_val = standardise(val_w.encoded, mean, std)
    if len(val_w) == 0:
        log.warning("no validation window: early stopping watches the training loss")
    states: list[dict[str, Any]] = []
    runs: list[dict[str, float | int]] = []
    for k in range(config.ensemble):
        settings = lstm.FitSettings(
            hidden1=config.hidden1,
            hidden2=config.hidden2,
            dropout=config.dropout,
            epochs=config.epochs,
            patience=config.patience,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            weight_decay=config.weight_decay,
            seed=config.seed + k,
        )
        result = lstm.fit(x_train, y_train / target_scale, x_val, y_val / target_scale, settings)
        log.info(
            "member %d: best epoch %d of %d, val loss %.4f, %.1f s",
            k,
            result.best_epoch,
            result.epochs_run,
            result.best_val_loss,
            result.seconds,
        )
        states.append(result.state_dict)
        runs.append(
            {
                "best_epoch": result.best_epoch,
                "epochs_run": result.epochs_run,
                "best_val_loss": result.best_val_loss,
                "seconds": round(result.seconds, 2),
            }
        )
    ridge = fit_ridge_select(
        _ridge_rows(train_w.encoded), y_train, _ridge_rows(val_w.encoded), y_val
    )
    metadata: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(),
        "data_hash": dataset.data_hash,
        "train_batteries": list(split.train),
        "val_batteries": list(split.val),
        "test_batteries": list(split.test),
        "train_windows": len(train_w),
        "val_windows": len(val_w),
        "config": asdict(config),
        "runs": runs,
        "ridge_alpha": ridge.alpha,
        "target": "next-cycle SOH (% of rated 2.0 Ah) as a change from the last cycle's SOH",
        "training_seconds": round(time.perf_counter() - started, 2),
        "torch_version": str(import_torch().__version__),
    }
    metadata.update(extra_metadata or {})
    return ModelBundle(
        window=config.window,
        min_history=config.min_history,
        scaler_mean=mean,
        scaler_std=std,
        target_scale=target_scale,
        hidden1=config.hidden1,
        hidden2=config.hidden2,
        dropout=config.dropout,
        state_dicts=states,
        ridge=ridge,
        delta_min=float(y_train.min()),
        delta_max=float(y_train.max()),
        metadata=metadata,
    )


def _ridge_rows(encoded: FloatArray) -> FloatArray:
    if encoded.shape[0] == 0:
        return np.zeros((0, 0), dtype=np.float64)
    return np.stack([ridge_features(e) for e in encoded])
