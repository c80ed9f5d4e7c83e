"""Pipeline-facing forecaster: next-cycle SOH and RUL from completed discharge sessions."""

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streams.predictor.artifact import ModelBundle, load_bundle
from streams.predictor.errors import DataError, PredictorError
from streams.predictor.features import CycleFeatures, FloatArray, encode_window

log = logging.getLogger(__name__)

EOL_SOH_PERCENT = 80.0
"""Remaining useful life counts cycles until SOH reaches 80 % of rated."""
TREND_CYCLES = 20
"""The fade rate is the slope of a line through the last 20 SOH values and the forecast."""
MAX_RUL_CYCLES = 5000
"""Beyond this horizon a linear extrapolation means nothing; RUL is then None."""


@dataclass(frozen=True, slots=True)
class Forecast:
    """Next-cycle SOH, the fade trend and the remaining useful life to 80 % SOH."""

    predicted_soh: float
    rul_cycles: int | None
    last_soh: float
    fade_percent_per_cycle: float
    history_cycles: int


def remaining_useful_life(
    predicted_soh: float,
    fade_percent_per_cycle: float,
    last_soh: float,
    eol_soh_percent: float = EOL_SOH_PERCENT,
) -> int | None:
    """Cycles until SOH <= EOL, the next cycle counting as 1, by linear extrapolation of the
    fade from the forecast; 0 when already at or below EOL, None when not fading."""
    if last_soh <= eol_soh_percent:
        return 0
    if predicted_soh <= eol_soh_percent:
        return 1
    if fade_percent_per_cycle <= 1e-9:
        return None
    cycles = 1 + math.ceil((predicted_soh - eol_soh_percent) / fade_percent_per_cycle)
    return cycles if cycles <= MAX_RUL_CYCLES else None


def fade_rate(soh: FloatArray, predicted: float, cycles: int = TREND_CYCLES) -> float:
    """Fade in % SOH per cycle (positive when SOH falls): the slope of the recent trend."""
    series = np.append(soh[-cycles:], predicted)
    if series.size < 2:
        return 0.0
    x = np.arange(series.size, dtype=np.float64)
    return float(-np.polyfit(x, series, 1)[0])


class DegradationForecaster:
    """Loads a trained artifact once and forecasts from a battery's recent discharge cycles."""

    def __init__(self, bundle: ModelBundle) -> None:
        from streams.predictor.evaluate import lstm_predictor  # needs torch

        self.bundle = bundle
        self._predict: Callable[[FloatArray], FloatArray] = lstm_predictor(bundle)

    @classmethod
    def load(cls, artifact_path: str | Path) -> "DegradationForecaster":
        """Load an artifact (needs torch; raises TorchUnavailableError or ArtifactError)."""
        return cls(load_bundle(Path(artifact_path)))

    @classmethod
    def load_optional(cls, artifact_path: str | Path | None) -> "DegradationForecaster | None":
        """The forecaster, or None (logged) without torch, artifact path or a valid artifact."""
        if artifact_path is None:
            return None
        try:
            return cls.load(artifact_path)
        except PredictorError as exc:
            log.warning("degradation forecaster disabled: %s", exc)
            return None

    @property
    def window(self) -> int:
        """How many recent cycles the model looks at."""
        return self.bundle.window

    @property
    def min_history(self) -> int:
        """The fewest cycles a forecast needs."""
        return self.bundle.min_history

    def predict(self, history: Sequence[CycleFeatures]) -> Forecast:
        """Forecast the next cycle's SOH from completed cycles, oldest first."""
        if len(history) < self.min_history:
            raise DataError(
                f"need at least {self.min_history} completed cycles, got {len(history)}"
            )
        recent = list(history)[-self.window :]
        for c in recent:
            if not (math.isfinite(c.capacity_ah) and c.capacity_ah > 0 and c.rated_capacity_ah > 0):
                raise DataError("capacity_ah and rated_capacity_ah must be positive")
        encoded = encode_window(recent, self.window)[None, :, :]
        delta = float(self._predict(encoded)[0])
        soh = np.array([c.soh_percent for c in recent], dtype=np.float64)
        predicted = float(soh[-1] + delta)
        fade = fade_rate(soh, predicted)
        return Forecast(
            predicted_soh=predicted,
            rul_cycles=remaining_useful_life(predicted, fade, float(soh[-1])),
            last_soh=float(soh[-1]),
            fade_percent_per_cycle=fade,
            history_cycles=len(recent),
        )


def is_rapid(
    forecast: Forecast, profile_expected_fade_per_cycle: float, factor: float = 2.0
) -> bool:
    """True when the forecast fade exceeds `factor` times the profile's expected fade
    (both in % SOH per cycle)."""
    if profile_expected_fade_per_cycle <= 0:
        raise ValueError("profile_expected_fade_per_cycle must be positive")
    return forecast.fade_percent_per_cycle > factor * profile_expected_fade_per_cycle
