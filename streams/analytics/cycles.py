"""Cycle counting: equivalent full cycles from charge throughput, and deep-discharge cycles."""

from typing import Any

from streams.analytics.profiles import CalibrationProfile

CycleState = list[Any]


class CycleCounter:
    """Equivalent full cycles (EFC) and deep-discharge cycles.

    EFC: when a reading carries a current, charge throughput is integrated (trapezoid, only the
    charging part, gaps longer than ``efc_max_gap_s`` skipped) and ``EFC = Ah in / nominal Ah``
    (the standard definition, relative to the *nominal* capacity). Readings without a current
    use SOC rises instead: ``EFC += rise / 100``, counted with a ratchet (a rise is counted only
    once SOC exceeds the running minimum by ``efc_soc_deadband_percent``) so SOC dithering
    between two quantisation steps does not add cycles. EFC never decreases.

    Deep discharge: a discharge excursion reaching ``SOC <= deep_discharge_soc_percent``
    (20 %, i.e. DoD >= 80 % from full) counts once; the counter re-arms only after the pack is
    recharged to ``SOC >= deep_discharge_rearm_soc_percent`` (50 %).
    """

    __slots__ = ("_armed", "_deep", "_efc", "_last_i", "_last_t", "_soc_low")

    def __init__(self) -> None:
        self._efc = 0.0
        self._deep = 0
        self._armed = True
        self._last_t: float | None = None
        self._last_i = 0.0
        self._soc_low: float | None = None

    @property
    def efc(self) -> float:
        """Equivalent full cycles so far."""
        return self._efc

    @property
    def deep_discharge_cycles(self) -> int:
        """Deep-discharge cycles so far."""
        return self._deep

    def feed(
        self,
        t: float,
        soc: float | None,
        current: float | None,
        nominal_ah: float | None,
        profile: CalibrationProfile,
    ) -> None:
        """Add one reading (epoch seconds, SOC %, A, nominal pack Ah)."""
        last_t = self._last_t
        if last_t is not None and t <= last_t:
            return
        if current is not None and nominal_ah is not None and nominal_ah > 0.0:
            if last_t is not None:
                dt = t - last_t
                mean_i = (self._last_i + current) * 0.5
                if mean_i > 0.0 and dt <= profile.efc_max_gap_s:
                    self._efc += mean_i * dt / 3600.0 / nominal_ah
            self._last_i = current
        elif soc is not None:
            low = self._soc_low
            if low is None or soc < low:
                self._soc_low = soc
            elif soc - low >= profile.efc_soc_deadband_percent:
                self._efc += (soc - low) / 100.0
                self._soc_low = soc
        self._last_t = t
        if soc is not None:
            if self._armed and soc <= profile.deep_discharge_soc_percent:
                self._deep += 1
                self._armed = False
            elif not self._armed and soc >= profile.deep_discharge_rearm_soc_percent:
                self._armed = True

    def dump(self) -> CycleState:
        """Compact JSON-able state."""
        return [self._efc, self._deep, int(self._armed), self._last_t, self._last_i, self._soc_low]

    @classmethod
    def load(cls, data: CycleState) -> "CycleCounter":
        """Inverse of ``dump``."""
        c = cls()
        efc, deep, armed, last_t, last_i, soc_low = data
        c._efc = float(efc)
        c._deep = int(deep)
        c._armed = bool(armed)
        c._last_t = None if last_t is None else float(last_t)
        c._last_i = float(last_i)
        c._soc_low = None if soc_low is None else float(soc_low)
        return c
