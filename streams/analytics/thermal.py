"""Thermal-runaway precursor: sustained rate of rise of the hottest temperature (GB 38031)."""

import math
from typing import Any

ThermalState = list[Any]


class ThermalRateTracker:
    """dT/dt of the hottest cell temperature with a sustained-duration rule.

    A run starts at the reading *before* the first step whose rate is >= ``rate_c_per_s``; it
    continues while each step rises at >= half that rate (tolerates sensor quantisation) and
    the average rate since the run start stays >= ``rate_c_per_s``. ``update`` returns the run's
    average rate once the run has lasted longer than ``sustain_s`` (GB 38031: >= 1 C/s for
    > 3 s), else 0.0. A gap longer than ``max_gap_s`` ends the run; a reading whose time does
    not increase is ignored.
    """

    __slots__ = ("_last_t", "_last_temp", "_run_t0", "_run_temp0")

    def __init__(self) -> None:
        self._last_t: float | None = None
        self._last_temp = 0.0
        self._run_t0: float | None = None
        self._run_temp0 = 0.0

    def update(
        self, t: float, temp_c: float, rate_c_per_s: float, sustain_s: float, max_gap_s: float
    ) -> float:
        """Add the hottest temperature at ``t`` (epoch s); returns the sustained rate or 0.0."""
        last_t = self._last_t
        if last_t is None or not math.isfinite(temp_c):
            if last_t is None and math.isfinite(temp_c):
                self._last_t = t
                self._last_temp = temp_c
            return 0.0
        dt = t - last_t
        if dt <= 0.0:
            return 0.0
        last_temp = self._last_temp
        self._last_t = t
        self._last_temp = temp_c
        if dt > max_gap_s:
            self._run_t0 = None
            return 0.0
        step = (temp_c - last_temp) / dt
        t0 = self._run_t0
        if t0 is not None:
            avg = (temp_c - self._run_temp0) / (t - t0)
            if step >= 0.5 * rate_c_per_s and avg >= rate_c_per_s:
                return avg if t - t0 > sustain_s else 0.0
            self._run_t0 = None
        if step >= rate_c_per_s:
            self._run_t0 = last_t
            self._run_temp0 = last_temp
            return step if dt > sustain_s else 0.0
        return 0.0

    def dump(self) -> ThermalState:
        """Compact JSON-able state."""
        return [self._last_t, self._last_temp, self._run_t0, self._run_temp0]

    @classmethod
    def load(cls, data: ThermalState) -> "ThermalRateTracker":
        """Inverse of ``dump``."""
        tr = cls()
        last_t, last_temp, run_t0, run_temp0 = data
        tr._last_t = None if last_t is None else float(last_t)
        tr._last_temp = float(last_temp)
        tr._run_t0 = None if run_t0 is None else float(run_t0)
        tr._run_temp0 = float(run_temp0)
        return tr
