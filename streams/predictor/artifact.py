"""The single-file model artifact: LSTM weights, scaling, ridge baseline and metadata."""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from streams.predictor.baselines import RidgeModel
from streams.predictor.errors import ArtifactError, TorchUnavailableError
from streams.predictor.features import CHANNELS, FEATURE_NAMES, FloatArray

ARTIFACT_FORMAT = "voltstream.soh-lstm"
ARTIFACT_VERSION = 1


@dataclass(frozen=True)
class ModelBundle:
    """Everything needed to predict without retraining (state dicts hold torch tensors)."""

    window: int
    min_history: int
    scaler_mean: FloatArray
    scaler_std: FloatArray
    target_scale: float
    hidden1: int
    hidden2: int
    dropout: float
    state_dicts: list[dict[str, Any]]
    ridge: RidgeModel | None
    delta_min: float = -100.0
    delta_max: float = 100.0
    channels: tuple[str, ...] = CHANNELS
    features: tuple[str, ...] = FEATURE_NAMES
    metadata: dict[str, Any] = field(default_factory=dict)


def import_torch() -> Any:
    """Import torch or raise TorchUnavailableError with the install hint."""
    try:
        import torch  # torch is optional: extra [ml]
    except ImportError as exc:
        raise TorchUnavailableError(
            "PyTorch is not installed: install the ML extra, pip install 'voltstream[ml]'"
        ) from exc
    return torch


def _check_primitive(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ArtifactError(f"{where}: non-finite float")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_primitive(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ArtifactError(f"{where}: non-string key {key!r}")
            _check_primitive(item, f"{where}.{key}")
        return
    raise ArtifactError(f"{where}: {type(value).__name__} is not a primitive")


def save_bundle(bundle: ModelBundle, path: Path) -> None:
    """Write the bundle as one torch.save file of tensors and primitives only."""
    torch = import_torch()
    _check_primitive(bundle.metadata, "metadata")
    payload: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "format_version": ARTIFACT_VERSION,
        "window": bundle.window,
        "min_history": bundle.min_history,
        "channels": list(bundle.channels),
        "features": list(bundle.features),
        "scaler_mean": torch.as_tensor(bundle.scaler_mean, dtype=torch.float64),
        "scaler_std": torch.as_tensor(bundle.scaler_std, dtype=torch.float64),
        "target_scale": float(bundle.target_scale),
        "delta_min": float(bundle.delta_min),
        "delta_max": float(bundle.delta_max),
        "hidden1": bundle.hidden1,
        "hidden2": bundle.hidden2,
        "dropout": bundle.dropout,
        "state_dicts": [dict(s) for s in bundle.state_dicts],
        "ridge": None
        if bundle.ridge is None
        else {
            "coef": torch.as_tensor(bundle.ridge.coef, dtype=torch.float64),
            "intercept": float(bundle.ridge.intercept),
            "mean": torch.as_tensor(bundle.ridge.mean, dtype=torch.float64),
            "std": torch.as_tensor(bundle.ridge.std, dtype=torch.float64),
            "alpha": float(bundle.ridge.alpha),
        },
        "metadata": bundle.metadata,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, str(tmp))
    tmp.replace(path)


def _np(value: Any) -> FloatArray:
    return np.asarray(value.detach().cpu().numpy(), dtype=np.float64)


def load_bundle(path: Path) -> ModelBundle:
    """Read an artifact with `torch.load(weights_only=True)` and check its format."""
    torch = import_torch()
    if not path.is_file():
        raise ArtifactError(f"{path}: no such artifact")
    try:
        payload = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ArtifactError(f"{path}: not a loadable artifact: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != ARTIFACT_FORMAT:
        raise ArtifactError(f"{path}: not a {ARTIFACT_FORMAT} artifact")
    if payload.get("format_version") != ARTIFACT_VERSION:
        raise ArtifactError(f"{path}: format version {payload.get('format_version')} unsupported")
    if tuple(payload["channels"]) != CHANNELS:
        raise ArtifactError(f"{path}: input channels differ from this code's {CHANNELS}")
    ridge_raw = payload.get("ridge")
    ridge = (
        None
        if ridge_raw is None
        else RidgeModel(
            coef=_np(ridge_raw["coef"]),
            intercept=float(ridge_raw["intercept"]),
            mean=_np(ridge_raw["mean"]),
            std=_np(ridge_raw["std"]),
            alpha=float(ridge_raw["alpha"]),
        )
    )
    try:
        return ModelBundle(
            window=int(payload["window"]),
            min_history=int(payload["min_history"]),
            scaler_mean=_np(payload["scaler_mean"]),
            scaler_std=_np(payload["scaler_std"]),
            target_scale=float(payload["target_scale"]),
            hidden1=int(payload["hidden1"]),
            hidden2=int(payload["hidden2"]),
            dropout=float(payload["dropout"]),
            state_dicts=list(payload["state_dicts"]),
            ridge=ridge,
            delta_min=float(payload["delta_min"]),
            delta_max=float(payload["delta_max"]),
            channels=tuple(payload["channels"]),
            features=tuple(payload["features"]),
            metadata=dict(payload.get("metadata", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{path}: incomplete artifact: {exc}") from exc
