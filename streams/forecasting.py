"""Stream adapter of the degradation predictor: discharge cycles -> SOH/RUL forecasts and alerts."""

import logging
import math
from array import array
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from streams.analytics.discharge import DischargeCycle
from streams.analytics.profiles import CalibrationProfile
from streams.errors import StreamsError

if TYPE_CHECKING:  # the predictor (numpy, torch) is only imported when a forecaster exists
    from streams.predictor.features import CycleFeatures
    from streams.predictor.forecaster import DegradationForecaster

logger = logging.getLogger(__name__)

CYCLE_SOURCE = "stream"
"""``cycle_series.source`` of the cycles the stream derives."""

_FIELDS = (
    "capacity_ah",
    "max_temperature_c",
    "avg_voltage_load_v",
    "time_to_discharge_s",
    "mean_temperature_c",
    "mean_current_a",
    "rest_s",
    "rated_capacity_ah",
)
_OPTIONAL = frozenset({"mean_temperature_c", "mean_current_a", "rest_s"})
_STRIDE = len(_FIELDS)


class CyclePrediction(NamedTuple):
    """One forecast after a closed discharge cycle."""

    predicted_soh: float
    rul_cycles: int | None
    fade_percent_per_cycle: float
    threshold: float
    rapid: bool
    last_soh: float
    history_cycles: int


def cycle_features(cycle: DischargeCycle, rated_capacity_ah: float | None) -> dict[str, object]:
    """The ``cycle_series.features`` object of a stream cycle.

    Keys follow ``streams.predictor.features.FEATURE_NAMES`` (so
    ``CycleFeatures.from_mapping`` reads it back) plus ``capacity_ah``, ``rated_capacity_ah``
    (the vehicle's nominal pack Ah), ``soc_swing_percent`` and ``time_to_discharge_full_s``
    (the session's time under load scaled to a 100 % SOC swing, see ``to_cycle_features``).
    Missing values are null; ``time_to_3p5v_s`` and ``ambient_temperature_c`` are not
    observable from pack telemetry.
    """
    return {
        "max_temperature_c": _finite(cycle.max_temperature_c),
        "mean_temperature_c": _finite(cycle.mean_temperature_c),
        "avg_voltage_load_v": cycle.avg_voltage_load_v,
        "time_to_discharge_s": cycle.time_to_discharge_s,
        "time_to_3p5v_s": None,
        "mean_current_a": cycle.mean_current_a,
        "rest_s": cycle.rest_s,
        "ambient_temperature_c": None,
        "capacity_ah": cycle.capacity_ah,
        "rated_capacity_ah": rated_capacity_ah,
        "soc_swing_percent": cycle.soc_swing_percent,
        "time_to_discharge_full_s": _full_window_s(cycle),
    }


def soh_target(cycle: DischargeCycle, rated_capacity_ah: float | None) -> float | None:
    """Measured SOH of a cycle in percent of nominal (None without capacity or nominal)."""
    if cycle.capacity_ah is None or not rated_capacity_ah:
        return None
    return cycle.capacity_ah / rated_capacity_ah * 100.0


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _none(value: float) -> float | None:
    return None if math.isnan(value) else value


def _full_window_s(cycle: DischargeCycle) -> float | None:
    swing = cycle.soc_swing_percent
    return cycle.time_to_discharge_s * 100.0 / swing if swing > 0.0 else None


class CycleForecasting:
    """Per-vehicle history of usable cycles and the forecaster call.

    Only cycles with a capacity (SOC swing >= the profile's ``discharge_min_swing_percent``)
    enter the history. The history is the last ``forecaster.window`` cycles per vehicle, kept
    **in this process's memory, not in ``VehicleState``**: 50 cycles x 6 floats is ~5 KB of JSON,
    past the state's 2 KB budget. Persistence story: after a restart or a partition move the
    history is empty and forecasts resume once ``forecaster.min_history`` new cycles have
    closed; the ``rapid_degradation`` episode itself lives in ``VehicleState`` (changelog), so
    it is neither lost nor re-fired. ``seed`` primes a vehicle from stored ``cycle_series``
    features (``source = 'stream'``) for a caller that wants to reload it.
    Memory: the 8 numbers the model reads per cycle in one flat ``array('d')`` per vehicle,
    ~3.3 KB per vehicle with a full 50-cycle window.
    """

    def __init__(self, forecaster: "DegradationForecaster") -> None:
        self._forecaster = forecaster
        self._window = max(forecaster.window, 1)
        self._min_history = forecaster.min_history
        self._history: dict[str, array[float]] = {}

    @property
    def vehicles(self) -> int:
        """Vehicles with a cycle history."""
        return len(self._history)

    def history(self, vehicle_id: str) -> list["CycleFeatures"]:
        """The vehicle's usable cycles, oldest first."""
        from streams.predictor.features import CycleFeatures

        flat = self._history.get(vehicle_id)
        if flat is None:
            return []
        out: list[CycleFeatures] = []
        for at in range(0, len(flat), _STRIDE):
            row = dict(zip(_FIELDS, flat[at : at + _STRIDE], strict=True))
            out.append(
                CycleFeatures(
                    capacity_ah=row["capacity_ah"],
                    max_temperature_c=row["max_temperature_c"],
                    avg_voltage_load_v=row["avg_voltage_load_v"],
                    time_to_discharge_s=row["time_to_discharge_s"],
                    mean_temperature_c=_none(row["mean_temperature_c"]),
                    mean_current_a=_none(row["mean_current_a"]),
                    rest_s=_none(row["rest_s"]),
                    rated_capacity_ah=row["rated_capacity_ah"],
                )
            )
        return out

    def _append(self, vehicle_id: str, features: "CycleFeatures") -> int:
        flat = self._history.get(vehicle_id)
        if flat is None:
            flat = self._history[vehicle_id] = array("d")
        for name in _FIELDS:
            value = getattr(features, name)
            flat.append(math.nan if value is None else float(value))
        extra = len(flat) - self._window * _STRIDE
        if extra > 0:
            del flat[:extra]
        return len(flat) // _STRIDE

    def forget(self, vehicle_id: str) -> None:
        """Drop a vehicle's history (its partition moved away)."""
        self._history.pop(vehicle_id, None)

    def seed(self, vehicle_id: str, features: Iterable[Mapping[str, object]]) -> None:
        """Prime a vehicle's history from ``cycle_series.features`` objects, oldest first."""
        from streams.predictor.features import CycleFeatures

        for item in features:
            if item.get("capacity_ah") is None or not item.get("rated_capacity_ah"):
                continue
            data = dict(item)
            full = data.get("time_to_discharge_full_s")
            if full is not None:
                data["time_to_discharge_s"] = full
            self._append(vehicle_id, CycleFeatures.from_mapping(data))

    def observe(
        self,
        vehicle_id: str,
        cycle: DischargeCycle,
        rated_capacity_ah: float | None,
        profile: CalibrationProfile,
    ) -> CyclePrediction | None:
        """Add a closed cycle; a forecast when the history is long enough, else None."""
        features = to_cycle_features(cycle, rated_capacity_ah)
        if features is None:
            return None
        if self._append(vehicle_id, features) < self._min_history:
            return None
        from streams.predictor.forecaster import is_rapid

        try:
            forecast = self._forecaster.predict(self.history(vehicle_id))
        except (StreamsError, ValueError) as exc:  # a bad history must not stop the stream
            logger.warning("forecast for %s failed: %s", vehicle_id, exc)
            return None
        expected = profile.expected_fade_percent_per_cycle
        factor = profile.rapid_degradation_factor
        return CyclePrediction(
            predicted_soh=forecast.predicted_soh,
            rul_cycles=forecast.rul_cycles,
            fade_percent_per_cycle=forecast.fade_percent_per_cycle,
            threshold=factor * expected,
            rapid=is_rapid(forecast, expected, factor),
            last_soh=forecast.last_soh,
            history_cycles=forecast.history_cycles,
        )


def to_cycle_features(
    cycle: DischargeCycle, rated_capacity_ah: float | None
) -> "CycleFeatures | None":
    """The predictor's view of a cycle, or None when it has no capacity (or no nominal Ah).

    ``rated_capacity_ah`` is the vehicle's nominal pack Ah, so ``soh_percent`` is pack SOH and
    ``mean_current_a / rated_capacity_ah`` the C-rate (see ``DischargeCycle``).
    ``time_to_discharge_s`` is scaled to a full 100 % SOC swing: NASA discharges run from full
    to cut-off, EV sessions are partial, and only the full-window time tracks capacity fade.
    """
    capacity = cycle.capacity_ah
    if capacity is None or not rated_capacity_ah or rated_capacity_ah <= 0.0:
        return None
    from streams.predictor.features import CycleFeatures

    full = _full_window_s(cycle)
    return CycleFeatures(
        capacity_ah=capacity,
        max_temperature_c=cycle.max_temperature_c,
        avg_voltage_load_v=(
            cycle.avg_voltage_load_v if cycle.avg_voltage_load_v is not None else float("nan")
        ),
        time_to_discharge_s=full if full is not None else cycle.time_to_discharge_s,
        mean_temperature_c=_finite(cycle.mean_temperature_c),
        mean_current_a=cycle.mean_current_a,
        rest_s=cycle.rest_s,
        rated_capacity_ah=rated_capacity_ah,
    )
