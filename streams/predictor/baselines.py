"""Honest next-cycle SOH baselines: last value, linear and exponential trend fits, ridge."""

import math
from dataclasses import dataclass

import numpy as np

from streams.predictor.features import (
    CHANNELS,
    INPUT_CLIP,
    SCALED_CHANNELS,
    FloatArray,
    robust_std,
)

RIDGE_LAST_STEPS = 10
"""The ridge model sees the last 10 encoded cycles plus two whole-window trend summaries."""
RIDGE_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)


def predict_last(soh: FloatArray) -> float:
    """Repeat the last SOH (persistence)."""
    return float(soh[-1])


def predict_linear(soh: FloatArray) -> float:
    """Least-squares line through the window's SOH against position, evaluated one step ahead."""
    h = soh.size
    if h < 2:
        return float(soh[-1])
    x = np.arange(h, dtype=np.float64)
    slope, intercept = np.polyfit(x, soh, 1)
    return float(slope * h + intercept)


def predict_exponential(soh: FloatArray) -> float:
    """Fit SOH = a * exp(b * k) (a line through log SOH) over the window, one step ahead."""
    h = soh.size
    if h < 2 or np.any(soh <= 0):
        return float(soh[-1])
    x = np.arange(h, dtype=np.float64)
    b, log_a = np.polyfit(x, np.log(soh), 1)
    value = math.exp(log_a + b * h)
    return value if math.isfinite(value) else float(soh[-1])


def ridge_features(encoded: FloatArray) -> FloatArray:
    """Ridge inputs from one raw encoded window (window, channels): last steps + trend summary."""
    idx = [CHANNELS.index(c) for c in SCALED_CHANNELS]
    mask = encoded[:, CHANNELS.index("mask")] > 0
    tail = encoded[-RIDGE_LAST_STEPS:, idx] * mask[-RIDGE_LAST_STEPS:, None]
    soh_rel = encoded[mask, CHANNELS.index("soh_rel")]
    h = soh_rel.size
    if h >= 2:
        x = np.arange(h, dtype=np.float64)
        slope = float(np.polyfit(x, soh_rel, 1)[0])
    else:
        slope = 0.0
    summary = np.array([slope, float(soh_rel.mean()), float(h)], dtype=np.float64)
    return np.concatenate([tail.reshape(-1), summary])


@dataclass(frozen=True, slots=True)
class RidgeModel:
    """Closed-form ridge regression on standardised (floored std, clipped) features."""

    coef: FloatArray
    intercept: float
    mean: FloatArray
    std: FloatArray
    alpha: float

    @classmethod
    def fit(cls, x: FloatArray, y: FloatArray, alpha: float) -> "RidgeModel":
        """Fit on rows `x` (n, d) and targets `y` (n,)."""
        mean = x.mean(axis=0)
        std = robust_std(mean, x.std(axis=0))
        xs = np.clip((x - mean) / std, -INPUT_CLIP, INPUT_CLIP)
        y_mean = float(y.mean())
        d = xs.shape[1]
        coef = np.linalg.solve(xs.T @ xs + alpha * np.eye(d), xs.T @ (y - y_mean))
        return cls(coef=coef, intercept=y_mean, mean=mean, std=std, alpha=alpha)

    def predict(self, x: FloatArray) -> FloatArray:
        """Predicted targets for rows `x` (n, d)."""
        xs = np.clip((x - self.mean) / self.std, -INPUT_CLIP, INPUT_CLIP)
        return np.asarray(xs @ self.coef + self.intercept)


def fit_ridge_select(
    x_train: FloatArray, y_train: FloatArray, x_val: FloatArray, y_val: FloatArray
) -> RidgeModel:
    """Choose alpha on the validation rows, then refit on the training rows with it."""
    best: RidgeModel | None = None
    best_err = math.inf
    for alpha in RIDGE_ALPHAS:
        model = RidgeModel.fit(x_train, y_train, alpha)
        if x_val.shape[0] == 0:
            return RidgeModel.fit(x_train, y_train, 10.0)
        err = float(np.mean((model.predict(x_val) - y_val) ** 2))
        if err < best_err:
            best, best_err = model, err
    assert best is not None
    return best
