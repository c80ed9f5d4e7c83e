"""Writes small synthetic .mat files in exactly NASA PCoE's structure, for tests and demos."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from streams.predictor.features import FloatArray

CHARGE_FIELDS = (
    "Voltage_measured",
    "Current_measured",
    "Temperature_measured",
    "Current_charge",
    "Voltage_charge",
    "Time",
)
DISCHARGE_FIELDS = (
    "Voltage_measured",
    "Current_measured",
    "Temperature_measured",
    "Current_load",
    "Voltage_load",
    "Time",
    "Capacity",
)
IMPEDANCE_FIELDS = (
    "Sense_current",
    "Battery_current",
    "Current_ratio",
    "Battery_impedance",
    "Rectified_Impedance",
    "Re",
    "Rct",
)
MISSING = "missing"
"""Value in `bad_capacity` that writes an empty Capacity array (as some NASA files have)."""


@dataclass(frozen=True, slots=True)
class CellSpec:
    """Parameters of a synthetic cell's ageing and test schedule."""

    initial_capacity_ah: float = 1.9
    fade_per_cycle_ah: float = 0.004
    noise_ah: float = 0.003
    discharge_current_a: float = 2.0
    cutoff_v: float = 2.7
    ambient_c: int = 24
    rest_h: float = 2.0
    long_rest_every: int = 12
    long_rest_h: float = 72.0
    regeneration_ah: float = 0.03
    sample_s: float = 20.0
    start: datetime = datetime(2008, 4, 2, 15, 25, 41)  # MATLAB datevecs are naive


def _row(values: FloatArray) -> FloatArray:
    return np.asarray(values, dtype=np.float64).reshape(1, -1)


def _struct(fields: tuple[str, ...], values: Mapping[str, Any]) -> Any:
    data = np.empty((1, 1), dtype=[(f, "O") for f in fields])
    data[0, 0] = tuple(values[f] for f in fields)
    return data


def _datevec(t: datetime) -> FloatArray:
    return np.array(
        [[t.year, t.month, t.day, t.hour, t.minute, t.second + t.microsecond / 1e6]],
        dtype=np.float64,
    )


def discharge_curve(
    capacity_ah: float, spec: CellSpec, rng: np.random.Generator
) -> tuple[dict[str, FloatArray], float]:
    """A constant-current discharge to the cut-off voltage, then a short rest (load off)."""
    current = spec.discharge_current_a
    t_end = capacity_ah / current * 3600.0
    t_load = np.arange(0.0, t_end, spec.sample_s)
    t_load = np.append(t_load, t_end)
    frac = t_load / t_end
    volt = 4.15 - 0.55 * frac - (4.15 - 0.55 - spec.cutoff_v) * frac**12
    volt = volt + rng.normal(0.0, 0.002, volt.size)
    volt[-1] = spec.cutoff_v - 0.01
    t_rest = t_end + np.arange(1, 6) * spec.sample_s
    v_rest = spec.cutoff_v + 0.6 * (1 - np.exp(-np.arange(1, 6) / 2.0))
    time_s = np.concatenate([t_load, t_rest])
    volt_all = np.concatenate([volt, v_rest])
    cur = np.concatenate([-current + rng.normal(0, 0.002, t_load.size), np.full(5, -0.002)])
    temp = spec.ambient_c + 14.0 * (time_s / t_end) ** 1.5
    temp[t_load.size :] = temp[t_load.size - 1] - np.arange(1, 6) * 0.2
    data = {
        "Voltage_measured": _row(volt_all),
        "Current_measured": _row(cur),
        "Temperature_measured": _row(temp),
        "Current_load": _row(np.where(time_s <= t_end, -current, 0.0)),
        "Voltage_load": _row(np.concatenate([[0.0], volt_all[1:] - 0.3])),
        "Time": _row(time_s),
    }
    return data, float(time_s[-1])


def _charge(spec: CellSpec) -> dict[str, FloatArray]:
    t = np.arange(0.0, 3 * 3600.0, 60.0)
    v = np.minimum(4.2, 3.6 + t / 9000.0)
    i = np.where(v < 4.2, 1.5, 1.5 * np.exp(-(t - 5400.0) / 1800.0))
    return {
        "Voltage_measured": _row(v),
        "Current_measured": _row(i),
        "Temperature_measured": _row(spec.ambient_c + 2.0 * np.sin(t / 6000.0)),
        "Current_charge": _row(i),
        "Voltage_charge": _row(v + 0.02),
        "Time": _row(t),
    }


def _impedance(rng: np.random.Generator) -> dict[str, Any]:
    z = (0.05 + 0.02j) + rng.normal(0, 1e-3, 48) + 1j * rng.normal(0, 1e-3, 48)
    return {
        "Sense_current": _row(np.ones(48)).astype(np.complex128),
        "Battery_current": z.reshape(1, -1),
        "Current_ratio": (1 / z).reshape(1, -1),
        "Battery_impedance": z.reshape(-1, 1),
        "Rectified_Impedance": z[:39].reshape(-1, 1),
        "Re": np.array([[0.05]]),
        "Rct": np.array([[0.02]]),
    }


def capacities(n: int, spec: CellSpec, rng: np.random.Generator) -> list[float]:
    """Linear fade plus noise plus a recovery jump after each long rest that fades in 3 cycles."""
    out: list[float] = []
    bonus = 0.0
    for k in range(n):
        if k and spec.long_rest_every and k % spec.long_rest_every == 0:
            bonus = spec.regeneration_ah
        cap = spec.initial_capacity_ah - spec.fade_per_cycle_ah * k + bonus
        out.append(cap + float(rng.normal(0.0, spec.noise_ah)))
        bonus *= 0.5
    return out


def write_nasa_mat(
    path: Path,
    battery_id: str,
    n_discharges: int = 40,
    spec: CellSpec = CellSpec(),
    seed: int = 0,
    bad_capacity: Mapping[int, float | str] | None = None,
) -> list[float]:
    """Write `battery_id` to `path` as NASA does: charge, discharge (and every 10th cycle an
    impedance) operations in one `cycle` struct array. `bad_capacity` maps a 1-based discharge
    number to a stored value (0.0, NaN, or `MISSING` for an empty array). Returns the true
    capacities written (before `bad_capacity`)."""
    from scipy.io import savemat  # scipy is needed for .mat files only

    rng = np.random.default_rng(seed)
    caps = capacities(n_discharges, spec, rng)
    bad = dict(bad_capacity or {})
    ops: list[tuple[str, datetime, dict[str, Any]]] = []
    now = spec.start
    ops.append(("impedance", now, _impedance(rng)))
    for k, cap in enumerate(caps, start=1):
        now += timedelta(minutes=30)
        ops.append(("charge", now, _charge(spec)))
        now += timedelta(hours=3.5)
        data, duration = discharge_curve(cap, spec, rng)
        stored = bad.get(k, cap)
        if stored == MISSING:
            data["Capacity"] = np.zeros((0, 0))
        else:
            data["Capacity"] = np.array([[float(stored)]])
        ops.append(("discharge", now, data))
        now += timedelta(seconds=duration)
        if k % 10 == 0:
            ops.append(("impedance", now + timedelta(minutes=5), _impedance(rng)))
        long_rest = spec.long_rest_every and k % spec.long_rest_every == spec.long_rest_every - 1
        now += timedelta(hours=spec.long_rest_h if long_rest else spec.rest_h)
    cycle_dtype = [("type", "O"), ("ambient_temperature", "O"), ("time", "O"), ("data", "O")]
    cycles = np.empty((1, len(ops)), dtype=cycle_dtype)
    field_sets = {
        "charge": CHARGE_FIELDS,
        "discharge": DISCHARGE_FIELDS,
        "impedance": IMPEDANCE_FIELDS,
    }
    for i, (kind, when, data) in enumerate(ops):
        cycles[0, i] = (
            np.array([kind]),
            np.array([[spec.ambient_c]], dtype=np.uint8),
            _datevec(when),
            _struct(field_sets[kind], data),
        )
    top = np.empty((1, 1), dtype=[("cycle", "O")])
    top[0, 0] = (cycles,)
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(str(path), {battery_id: top}, format="5", do_compression=False)
    return caps
