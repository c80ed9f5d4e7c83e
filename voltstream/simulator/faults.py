"""Vehicle fault types, their ground-truth windows and how they are planned per vehicle."""

import math
import random
from dataclasses import dataclass, field
from enum import StrEnum

from voltstream.simulator.config import FaultRates


class FaultType(StrEnum):
    """Physical / device faults injected into a vehicle's data."""

    WEAK_CELL = "weak_cell"  # one cell sags and drifts away from the others: imbalance grows
    THERMAL_EVENT = "thermal_event"  # a cell heats with rising dT/dt (>= 1 C/s), neighbours follow
    STUCK_SENSOR = "stuck_sensor"  # one cell voltage or temperature frozen at its last value
    DEAD_SENSOR = "dead_sensor"  # one cell voltage reads 0.0 V or temperature reads -40.0 C
    PACK_VOLTAGE_MISMATCH = "pack_voltage_mismatch"  # pack voltage sensor off vs sum of cells
    OFFLINE = "offline"  # the device sends nothing


# Alert types (schemas.alerts.AlertType values) a correct pipeline should raise in the window.
EXPECTED_ALERTS: dict[FaultType, tuple[str, ...]] = {
    FaultType.WEAK_CELL: ("voltage_imbalance",),
    FaultType.THERMAL_EVENT: ("thermal_runaway_risk", "overheating"),
    FaultType.STUCK_SENSOR: ("sensor_fault",),
    FaultType.DEAD_SENSOR: ("sensor_fault",),
    FaultType.PACK_VOLTAGE_MISMATCH: ("sensor_fault",),
    FaultType.OFFLINE: ("device_offline",),
}

# (min, max) window length in seconds before clipping to the run.
_DURATION_S: dict[FaultType, tuple[float, float]] = {
    FaultType.WEAK_CELL: (2 * 3600.0, 8 * 3600.0),
    FaultType.THERMAL_EVENT: (420.0, 720.0),
    FaultType.STUCK_SENSOR: (3600.0, 6 * 3600.0),
    FaultType.DEAD_SENSOR: (3600.0, 6 * 3600.0),
    FaultType.PACK_VOLTAGE_MISMATCH: (3600.0, 4 * 3600.0),
    FaultType.OFFLINE: (1200.0, 3 * 3600.0),
}

THERMAL_RAMP_A_C = 2.0  # offset(t) = A * (exp(t / TAU) - 1) until the peak
THERMAL_RAMP_TAU_S = 30.0
THERMAL_HOLD_S = 30.0
THERMAL_COOL_TAU_S = 120.0


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """One injected fault: type, [start_s, end_s) in seconds since the fleet start, cells.

    For a thermal event the hot cell comes first in `cells`, then its neighbours.

    `sensor` is "voltage" or "temperature" for sensor faults; `magnitude` is fault specific:
    weak cell = final voltage deviation (V, negative), thermal = peak offset (C above the
    pack), pack voltage mismatch = multiplicative error (e.g. 0.92), otherwise 0.
    `initial` is the weak cell's deviation at onset (V, negative).
    """

    type: FaultType
    start_s: float
    end_s: float
    cells: tuple[int, ...] = ()
    sensor: str | None = None
    magnitude: float = 0.0
    initial: float = 0.0
    expected_alerts: tuple[str, ...] = field(default=())

    def active(self, t: float) -> bool:
        """Whether `t` (seconds since start) is inside the window."""
        return self.start_s <= t < self.end_s


def _rate(rates: FaultRates, fault: FaultType) -> float:
    return float(getattr(rates, fault.value))


def plan_faults(
    rng: random.Random, rates: FaultRates, duration_s: float, cells: int
) -> tuple[FaultWindow, ...]:
    """Choose this vehicle's fault windows (non-overlapping, inside the run)."""
    windows: list[FaultWindow] = []
    for fault in FaultType:
        if rng.random() >= _rate(rates, fault) or duration_s <= 0:
            continue
        low, high = _DURATION_S[fault]
        length = min(rng.uniform(low, high), 0.6 * duration_s)
        if fault is FaultType.THERMAL_EVENT:
            length = min(rng.uniform(low, high), duration_s * 0.9)
        for _ in range(20):
            earliest = 0.05 * duration_s
            latest = duration_s - length
            if latest <= earliest:
                start = max(0.0, duration_s - length)
            else:
                start = rng.uniform(earliest, latest)
            end = start + length
            if all(end <= w.start_s or start >= w.end_s for w in windows):
                windows.append(_make_window(rng, fault, start, end, cells))
                break
    windows.sort(key=lambda w: w.start_s)
    return tuple(windows)


def _make_window(
    rng: random.Random, fault: FaultType, start: float, end: float, cells: int
) -> FaultWindow:
    cell = rng.randrange(cells)
    expected = EXPECTED_ALERTS[fault]
    if fault is FaultType.WEAK_CELL:
        initial = -rng.uniform(0.06, 0.08)
        final = initial - rng.uniform(0.1, 0.25)
        return FaultWindow(fault, start, end, (cell,), "voltage", final, initial, expected)
    if fault is FaultType.THERMAL_EVENT:
        around = [c for c in range(cell - 2, cell + 3) if 0 <= c < cells and c != cell]
        neighbours = (cell, *around)
        peak = rng.uniform(75.0, 100.0)
        return FaultWindow(fault, start, end, neighbours, "temperature", peak, 0.0, expected)
    if fault in (FaultType.STUCK_SENSOR, FaultType.DEAD_SENSOR):
        sensor = "voltage" if rng.random() < 0.5 else "temperature"
        return FaultWindow(fault, start, end, (cell,), sensor, 0.0, 0.0, expected)
    if fault is FaultType.PACK_VOLTAGE_MISMATCH:
        error = rng.uniform(0.05, 0.12) * (1.0 if rng.random() < 0.5 else -1.0)
        return FaultWindow(fault, start, end, (), "pack_voltage", 1.0 + error, 0.0, expected)
    return FaultWindow(fault, start, end, (), None, 0.0, 0.0, expected)


def thermal_offset_c(window: FaultWindow, t: float, max_offset_c: float) -> float:
    """Temperature rise of the hot cell at `t`: exponential ramp, hold at peak, cool down."""
    peak = min(window.magnitude, max_offset_c)
    tau = t - window.start_s
    if tau < 0:
        return 0.0
    ramp = THERMAL_RAMP_A_C * (_exp(tau / THERMAL_RAMP_TAU_S) - 1.0)
    if ramp < peak:
        return ramp
    # time the ramp reached the peak
    t_peak = THERMAL_RAMP_TAU_S * math.log(peak / THERMAL_RAMP_A_C + 1.0)
    since = tau - t_peak - THERMAL_HOLD_S
    if since <= 0:
        return peak
    return peak * math.exp(-since / THERMAL_COOL_TAU_S)


def _exp(x: float) -> float:
    return math.exp(min(x, 50.0))
