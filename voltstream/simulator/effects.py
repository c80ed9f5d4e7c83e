"""Applies active fault windows to a vehicle's measured cell arrays and pack readings."""

import numpy as np

from voltstream.simulator.faults import FaultType, FaultWindow, thermal_offset_c
from voltstream.simulator.pack import FloatArray

MAX_CELL_TEMP_C = 140.0
DEAD_VOLTAGE_V = 0.0
DEAD_TEMPERATURE_C = -40.0
_NEIGHBOUR_SHARE = (1.0, 0.5, 0.25)


def weak_cell_deviation_v(window: FaultWindow, t: float) -> float:
    """Voltage deviation of the weak cell at `t`: grows linearly from `initial` to `magnitude`."""
    span = max(window.end_s - window.start_s, 1e-9)
    frac = min(max((t - window.start_s) / span, 0.0), 1.0)
    return window.initial + (window.magnitude - window.initial) * frac


def thermal_hot_offsets(window: FaultWindow, t: float, base_c: float) -> list[tuple[int, float]]:
    """(cell, temperature rise) of the hot cell (first in `cells`) and its neighbours."""
    hot = window.cells[0]
    rise = thermal_offset_c(window, t, MAX_CELL_TEMP_C - base_c)
    result = []
    for cell in window.cells:
        share = _NEIGHBOUR_SHARE[min(abs(cell - hot), 2)]
        result.append((cell, rise * share))
    return result


class FaultEffects:
    """Mutable per-vehicle fault state (values frozen by stuck sensors)."""

    __slots__ = ("_stuck",)

    def __init__(self) -> None:
        self._stuck: dict[tuple[float, int, str], float] = {}

    def apply_physical(
        self, active: list[FaultWindow], t: float, volts: FloatArray, temps: FloatArray
    ) -> None:
        """Faults of the cells themselves (weak cell, thermal event), in place."""
        for window in active:
            if window.type is FaultType.WEAK_CELL:
                volts[window.cells[0]] += weak_cell_deviation_v(window, t)
            elif window.type is FaultType.THERMAL_EVENT:
                base = float(temps[window.cells[0]])
                for cell, rise in thermal_hot_offsets(window, t, base):
                    temps[cell] += rise

    def apply_sensors(
        self, active: list[FaultWindow], volts: FloatArray, temps: FloatArray
    ) -> None:
        """Sensor faults (stuck, dead), in place, after rounding."""
        for window in active:
            if window.type is FaultType.STUCK_SENSOR:
                cell = window.cells[0]
                target = volts if window.sensor == "voltage" else temps
                key = (window.start_s, cell, window.sensor or "")
                frozen = self._stuck.setdefault(key, float(target[cell]))
                target[cell] = frozen
            elif window.type is FaultType.DEAD_SENSOR:
                cell = window.cells[0]
                if window.sensor == "voltage":
                    volts[cell] = DEAD_VOLTAGE_V
                else:
                    temps[cell] = DEAD_TEMPERATURE_C

    @staticmethod
    def pack_voltage_factor(active: list[FaultWindow]) -> float:
        """Multiplicative error of the pack voltage sensor."""
        factor = 1.0
        for window in active:
            if window.type is FaultType.PACK_VOLTAGE_MISMATCH:
                factor *= window.magnitude
        return factor

    @staticmethod
    def sample_temperature_rise(active: list[FaultWindow], t: float, base_c: float) -> float:
        """Rise of the hottest cell due to a thermal event (for light samples)."""
        rise = 0.0
        for window in active:
            if window.type is FaultType.THERMAL_EVENT:
                rise = max(rise, thermal_offset_c(window, t, MAX_CELL_TEMP_C - base_c))
        return rise


def clip_temperatures(temps: FloatArray) -> FloatArray:
    """Keep physical temperatures inside the schema's plausible range."""
    result: FloatArray = np.minimum(temps, MAX_CELL_TEMP_C)
    return result
