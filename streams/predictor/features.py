"""Per-discharge cycle features, the pipeline's `CycleFeatures` and the model's window encoding."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

RATED_CAPACITY_AH = 2.0
"""Rated capacity of the NASA PCoE 18650 cells; SOH = capacity / rated * 100."""

LOAD_CURRENT_THRESHOLD_A = 0.1
"""A sample counts as "under load" when the cell discharges faster than this (|I| > 0.1 A)."""

DEFAULT_AMBIENT_C = 24.0
"""Ambient temperature assumed when a cycle does not report one (NASA's room temperature)."""

KNEE_VOLTAGE_V = 3.5
"""Voltage whose first crossing under load gives `time_to_3p5v_s`."""

FEATURE_NAMES: tuple[str, ...] = (
    "max_temperature_c",
    "mean_temperature_c",
    "avg_voltage_load_v",
    "time_to_discharge_s",
    "time_to_3p5v_s",
    "mean_current_a",
    "rest_s",
    "ambient_temperature_c",
)
"""Cycle-level features stored in `cycle_series.features` (missing values are NaN / JSON null)."""

CHANNELS: tuple[str, ...] = (
    "mask",
    "soh_rel",
    "log_ttd_rel",
    "log_v_rel",
    "tmax_rel",
    "log_rest_h",
    "c_rate",
    "ambient",
    "position",
)
"""Per-timestep model inputs, built by `encode_window` (relative to the window's last cycle).

Left out after a leave-one-battery-out ablation (docs/predictor.md): the absolute SOH level
(B0045 lives at 30-54 % SOH, far outside the other cells, and the LSTM extrapolated wildly),
the time to 3.5 V (meaningless under B0025-B0028's square-wave load) and the self-heating
(mean minus ambient temperature). They stay in `FEATURE_NAMES` and the database.
"""

SCALED_CHANNELS = tuple(c for c in CHANNELS if c not in ("mask", "position"))


@dataclass(frozen=True, slots=True)
class CycleFeatures:
    """One completed discharge session, as the stream or the NASA loader sees it."""

    capacity_ah: float
    max_temperature_c: float
    avg_voltage_load_v: float
    time_to_discharge_s: float
    mean_temperature_c: float | None = None
    time_to_3p5v_s: float | None = None
    mean_current_a: float | None = None
    rest_s: float | None = None
    ambient_temperature_c: float | None = None
    rated_capacity_ah: float = RATED_CAPACITY_AH

    @property
    def soh_percent(self) -> float:
        """State of health in percent of the rated capacity."""
        return self.capacity_ah / self.rated_capacity_ah * 100.0

    def feature_map(self) -> dict[str, float]:
        """The features as a name -> value map, NaN where missing."""
        out: dict[str, float] = {}
        for name in FEATURE_NAMES:
            value = getattr(self, name)
            out[name] = math.nan if value is None else float(value)
        return out

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> "CycleFeatures":
        """Build from a JSON object; accepts `soh_percent` instead of `capacity_ah`."""
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, float | None] = {}
        for key, value in data.items():
            if key not in known or value is None:
                continue
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"{key} must be a number, got {value!r}")
            kwargs[key] = float(value)
        rated = kwargs.get("rated_capacity_ah") or RATED_CAPACITY_AH
        if "capacity_ah" not in kwargs:
            soh = data.get("soh_percent")
            if not isinstance(soh, int | float) or isinstance(soh, bool):
                raise ValueError("each cycle needs capacity_ah or soh_percent")
            kwargs["capacity_ah"] = float(soh) / 100.0 * rated
        for required in ("max_temperature_c", "avg_voltage_load_v", "time_to_discharge_s"):
            if required not in kwargs:
                raise ValueError(f"each cycle needs {required}")
        return cls(
            capacity_ah=_req(kwargs, "capacity_ah"),
            max_temperature_c=_req(kwargs, "max_temperature_c"),
            avg_voltage_load_v=_req(kwargs, "avg_voltage_load_v"),
            time_to_discharge_s=_req(kwargs, "time_to_discharge_s"),
            mean_temperature_c=kwargs.get("mean_temperature_c"),
            time_to_3p5v_s=kwargs.get("time_to_3p5v_s"),
            mean_current_a=kwargs.get("mean_current_a"),
            rest_s=kwargs.get("rest_s"),
            ambient_temperature_c=kwargs.get("ambient_temperature_c"),
            rated_capacity_ah=rated,
        )


def _req(kwargs: Mapping[str, float | None], key: str) -> float:
    value = kwargs.get(key)
    if value is None:
        raise ValueError(f"each cycle needs {key}")
    return value


def discharge_features(
    time_s: FloatArray,
    voltage_v: FloatArray,
    current_a: FloatArray,
    temperature_c: FloatArray,
) -> dict[str, float]:
    """Cycle features from one discharge's samples (current < 0 while discharging).

    `time_to_discharge_s` is the time of the last sample under load (end of the discharge),
    `avg_voltage_load_v` the mean terminal voltage over samples under load, `mean_temperature_c`
    is time-weighted, `time_to_3p5v_s` the first time under load at or below 3.5 V (NaN if never).
    """
    n = min(len(time_s), len(voltage_v), len(current_a), len(temperature_c))
    if n < 2:
        raise ValueError("a discharge needs at least two samples")
    t = np.asarray(time_s[:n], dtype=np.float64)
    v = np.asarray(voltage_v[:n], dtype=np.float64)
    i = np.asarray(current_a[:n], dtype=np.float64)
    temp = np.asarray(temperature_c[:n], dtype=np.float64)
    load = i < -LOAD_CURRENT_THRESHOLD_A
    if not load.any():
        raise ValueError("no sample under load")
    load_idx = np.flatnonzero(load)
    t0 = float(t[0])
    time_to_discharge = float(t[load_idx[-1]]) - t0
    below = np.flatnonzero(load & (v <= KNEE_VOLTAGE_V))
    t35 = float(t[below[0]]) - t0 if below.size else math.nan
    duration = float(t[-1] - t[0])
    if duration > 0:
        mean_temp = float(np.sum((temp[1:] + temp[:-1]) * np.diff(t)) / 2.0 / duration)
    else:
        mean_temp = float(temp.mean())
    return {
        "max_temperature_c": float(temp.max()),
        "mean_temperature_c": mean_temp,
        "avg_voltage_load_v": float(v[load].mean()),
        "time_to_discharge_s": time_to_discharge,
        "time_to_3p5v_s": t35,
        "mean_current_a": float(-i[load].mean()),
    }


def _log_ratio(values: FloatArray, ref: float) -> FloatArray:
    if not (ref > 0 and math.isfinite(ref)):
        return np.zeros_like(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(values / ref)
    return np.where(np.isfinite(out), out, 0.0)


def encode_window(history: Sequence[CycleFeatures], window: int) -> FloatArray:
    """Encode up to `window` cycles (oldest first) as a (window, len(CHANNELS)) array.

    Everything is relative to the last cycle so that cells of different size and scale (a pack
    instead of a cell) look alike: SOH differences in points, log ratios of discharge time and
    load voltage, max-temperature differences; plus rest before each cycle, C-rate and ambient
    temperature as context. Shorter histories are left-padded with zero rows (mask 0).
    Raw, not yet standardised.
    """
    if not history:
        raise ValueError("empty history")
    cycles = list(history)[-window:]
    h = len(cycles)
    last = cycles[-1]
    soh = np.array([c.soh_percent for c in cycles])
    ttd = np.array([c.time_to_discharge_s for c in cycles], dtype=np.float64)
    volt = np.array([c.avg_voltage_load_v for c in cycles], dtype=np.float64)
    tmax = np.array([c.max_temperature_c for c in cycles], dtype=np.float64)
    amb = np.array([_nan(c.ambient_temperature_c) for c in cycles], dtype=np.float64)
    rest = np.array([_nan(c.rest_s) for c in cycles], dtype=np.float64)
    crate = np.array(
        [_nan(c.mean_current_a) / c.rated_capacity_ah for c in cycles], dtype=np.float64
    )
    out = np.zeros((window, len(CHANNELS)), dtype=np.float64)
    rows = out[window - h :]
    col = CHANNELS.index
    rows[:, col("mask")] = 1.0
    rows[:, col("soh_rel")] = soh - last.soh_percent
    rows[:, col("log_ttd_rel")] = _log_ratio(ttd, last.time_to_discharge_s)
    rows[:, col("log_v_rel")] = _log_ratio(volt, last.avg_voltage_load_v)
    rows[:, col("tmax_rel")] = np.nan_to_num(tmax - last.max_temperature_c)
    rows[:, col("log_rest_h")] = np.log1p(np.clip(np.nan_to_num(rest), 0.0, None) / 3600.0)
    rows[:, col("c_rate")] = np.nan_to_num(crate)
    rows[:, col("ambient")] = np.where(np.isfinite(amb), amb, DEFAULT_AMBIENT_C)
    rows[:, col("position")] = (np.arange(h) - (h - 1)) / float(window)
    return out


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True, slots=True)
class WindowSet:
    """Sliding windows over one or more batteries: inputs, last SOH and next-cycle target."""

    battery_ids: tuple[str, ...]
    target_cycle: tuple[int, ...]
    encoded: FloatArray
    last_soh: FloatArray
    target_soh: FloatArray
    soh_history: tuple[FloatArray, ...]

    def __len__(self) -> int:
        return len(self.battery_ids)

    def subset(self, battery_id: str) -> "WindowSet":
        """The windows of one battery."""
        keep = [i for i, b in enumerate(self.battery_ids) if b == battery_id]
        return WindowSet(
            battery_ids=tuple(self.battery_ids[i] for i in keep),
            target_cycle=tuple(self.target_cycle[i] for i in keep),
            encoded=self.encoded[keep],
            last_soh=self.last_soh[keep],
            target_soh=self.target_soh[keep],
            soh_history=tuple(self.soh_history[i] for i in keep),
        )


def build_windows(
    series: Sequence[tuple[str, Sequence[CycleFeatures], Sequence[int]]],
    window: int,
    min_history: int,
) -> WindowSet:
    """Every (history of up to `window` cycles -> next cycle) pair with >= `min_history` cycles.

    `series` holds (battery id, cycles oldest first, cycle index of each cycle).
    """
    ids: list[str] = []
    cycles: list[int] = []
    enc: list[FloatArray] = []
    last: list[float] = []
    target: list[float] = []
    hist: list[FloatArray] = []
    for battery_id, history, index in series:
        soh = np.array([c.soh_percent for c in history], dtype=np.float64)
        for t in range(min_history - 1, len(history) - 1):
            lo = max(0, t + 1 - window)
            ids.append(battery_id)
            cycles.append(int(index[t + 1]))
            enc.append(encode_window(history[lo : t + 1], window))
            last.append(float(soh[t]))
            target.append(float(soh[t + 1]))
            hist.append(soh[lo : t + 1])
    encoded = np.stack(enc) if enc else np.zeros((0, window, len(CHANNELS)), dtype=np.float64)
    return WindowSet(
        battery_ids=tuple(ids),
        target_cycle=tuple(cycles),
        encoded=encoded,
        last_soh=np.array(last, dtype=np.float64),
        target_soh=np.array(target, dtype=np.float64),
        soh_history=tuple(hist),
    )


INPUT_CLIP = 5.0
"""Standardised inputs are clipped to +-5 so that an unseen operating point (another C-rate or
ambient temperature than in training) cannot drive the network far outside its training range."""


def robust_std(mean: FloatArray, std: FloatArray) -> FloatArray:
    """Std with a floor of 5 % of (|mean| + 1): a channel (nearly) constant in training (C-rate,
    ambient) must not turn a small change at inference into a huge standardised value."""
    return np.maximum(std, 0.05 * (np.abs(mean) + 1.0))


def fit_scaler(encoded: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and (floored) std of each scaled channel over the real (unpadded) rows."""
    idx = [CHANNELS.index(c) for c in SCALED_CHANNELS]
    rows = encoded.reshape(-1, encoded.shape[-1])
    rows = rows[rows[:, CHANNELS.index("mask")] > 0][:, idx]
    if rows.shape[0] == 0:
        return np.zeros(len(idx)), np.ones(len(idx))
    mean = rows.mean(axis=0)
    return mean, robust_std(mean, rows.std(axis=0))


def standardise(encoded: FloatArray, mean: FloatArray, std: FloatArray) -> FloatArray:
    """Scale (and clip) the scaled channels of real rows; padded rows stay all zero."""
    idx = [CHANNELS.index(c) for c in SCALED_CHANNELS]
    out = encoded.copy()
    mask = out[..., CHANNELS.index("mask")] > 0
    out[..., idx] = np.clip((out[..., idx] - mean) / std, -INPUT_CLIP, INPUT_CLIP)
    out[~mask] = 0.0
    return out
