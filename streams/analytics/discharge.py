"""Discharge sessions -> cycle-level features (capacity, temperatures, load voltage) per vehicle."""

import math
from datetime import datetime
from typing import Any, NamedTuple

from streams.analytics.profiles import CalibrationProfile
from streams.analytics.rounding import round6
from streams.analytics.timeutil import from_us

# Serialized form of a tracker: flat list of numbers / None (see ``DischargeTracker.to_state``).
DischargeState = list[Any]

# The sums behind the means (cell volts, amps, C*s) are rounded to 1e-6 (`round6`) as they are
# updated, so the serialized session stays short (the state's 2 KB budget); rounding live, not at
# serialization, keeps a restored tracker bit-identical to the live one. The Ah integral is not
# rounded (a per-step bias would add up over thousands of samples); only its values at the two
# SOC edges are, to 1 uAh, a one-off error of < 1e-8 of a pack's capacity.

MIN_LOAD_SAMPLES = 3
"""A discharge session with fewer points under load is a blip (e.g. a pre-conditioning burst) and
yields no cycle."""


class DischargeCycle(NamedTuple):
    """One closed discharge session, in the units of NASA PCoE's per-cell cycle features.

    Mapping to ``streams.predictor.features.CycleFeatures`` (NASA: one 18650 cell, 1S1P):

    - ``capacity_ah``: *pack* Ah = Ah discharged between the first and last SOC step under load
      / (SOC swing / 100) (coulomb counting, regenerative braking netted in). Only set when the
      swing is at least the profile's ``discharge_min_swing_percent``; a short trip's SOC swing
      is too coarse for a capacity. SOH = ``capacity_ah`` / nominal pack Ah, which is what
      NASA's capacity / 2.0 Ah rated is per cell.
    - ``mean_current_a``: mean *pack* discharge current under load (A, positive). The model only
      sees it as a C-rate (``mean_current_a / rated_capacity_ah``), so pack current over pack
      nominal Ah is the same number as NASA's cell current over cell Ah.
    - ``avg_voltage_load_v``: mean *cell* terminal voltage under load = pack V / series cells
      (NASA's ``Voltage_measured`` scale, 2.7-4.2 V); None when no pack voltage was reported.
    - ``max_temperature_c`` / ``mean_temperature_c``: hottest cell (snapshots) or the pack
      temperature (samples); the mean is time-weighted over intervals under load.
    - ``time_to_discharge_s``: from the first to the last point under load (NASA: start of the
      discharge to the cut-off). An EV session is a partial discharge; ``soc_swing_percent``
      lets a consumer scale it to a full-window equivalent.
    - ``rest_s``: from the previous cycle's last point under load to this session's start
      (None for a vehicle's first cycle).
    """

    cycle_index: int
    end_time: datetime
    capacity_ah: float | None
    max_temperature_c: float
    avg_voltage_load_v: float | None
    time_to_discharge_s: float
    mean_temperature_c: float
    mean_current_a: float
    rest_s: float | None
    soc_swing_percent: float


class DischargeTracker:
    """Feeds one point per reading; closes a discharge session on charge / pause / gap.

    Same rules as ``coulomb.ChargeSessionTracker`` with the sign flipped: a session opens when
    ``current <= -session_min_current_a`` (discharging, A). It closes when the current stays
    above that (a pause, or charging) for ``session_end_hold_s`` — so regenerative-braking
    blips and stops at traffic lights stay inside the session, their charge netted into the Ah
    — or when two points are further apart than ``session_max_gap_s``. The session ends at its
    last point under load. Capacity is measured between SOC *steps* seen under load (edges), like
    the charge tracker, which cancels SOC quantisation. Points with a non-increasing time are
    ignored. Times inside a session are kept as offsets from its start (exact round trip).
    """

    __slots__ = (
        "_active",
        "_ah",
        "_below",
        "_e0_ah",
        "_e0_inc",
        "_e0_soc",
        "_e1_ah",
        "_e1_inc",
        "_e1_soc",
        "_flat",
        "_i_sum",
        "_index",
        "_last",
        "_last_i",
        "_last_soc",
        "_load_dt",
        "_load_end",
        "_n_load",
        "_prev_end",
        "_start",
        "_t_int",
        "_t_max",
        "_v_n",
        "_v_sum",
    )

    def __init__(self) -> None:
        self._index = 0
        self._prev_end: float | None = None
        self._active = False
        self._reset(0.0, 0.0, 0.0)

    def _reset(self, start: float, soc: float, current: float) -> None:
        self._start = start
        self._last = 0.0
        self._last_i = current
        self._last_soc = soc
        self._ah = 0.0
        self._below: float | None = None
        self._e0_ah: float | None = None
        self._e0_inc = 0.0
        self._e0_soc = soc
        self._e1_ah = 0.0
        self._e1_inc = 0.0
        self._e1_soc = soc
        self._flat = 0
        self._n_load = 1
        self._i_sum = -current
        self._v_sum = 0.0
        self._v_n = 0
        self._t_max = -math.inf
        self._t_int = 0.0
        self._load_dt = 0.0
        self._load_end = 0.0

    @property
    def active(self) -> bool:
        """True while a discharge session is open."""
        return self._active

    @property
    def cycles(self) -> int:
        """Cycles closed so far (the index of the last one)."""
        return self._index

    def feed(
        self,
        t: float,
        soc: float,
        current: float,
        pack_v: float | None,
        hottest_c: float,
        cells: int,
        profile: CalibrationProfile,
    ) -> DischargeCycle | None:
        """Add a point (epoch s, SOC %, pack A, pack V, hottest C, series cells); a closed cycle."""
        threshold = profile.session_min_current_a
        if not self._active:
            if current <= -threshold:
                self._open(t, soc, current, pack_v, hottest_c, cells or profile.series_cells)
            return None
        off = t - self._start
        dt = off - self._last
        if dt <= 0.0:
            return None
        if dt > profile.session_max_gap_s:
            done = self._close(profile)
            if current <= -threshold:
                self._open(t, soc, current, pack_v, hottest_c, cells or profile.series_cells)
            return done
        if profile.current_is_interval_mean:
            inc = -current * dt / 3600.0  # the value is the mean over (last, t]
        else:
            inc = -(self._last_i + current) * dt / 7200.0  # instantaneous values: trapezoid
        ah_before = self._ah
        self._ah = ah_before + inc
        if current <= -threshold:
            if soc != self._last_soc:
                edge_ah = round6(ah_before)
                edge_inc = round6(inc)
                if self._e0_ah is None:
                    self._e0_ah = edge_ah
                    self._e0_inc = edge_inc
                    self._e0_soc = soc
                self._e1_ah = edge_ah
                self._e1_inc = edge_inc
                self._e1_soc = soc
            else:
                self._flat += 1
            self._n_load += 1
            self._i_sum = round6(self._i_sum - current)
            if pack_v is not None:
                self._v_sum = round6(self._v_sum + pack_v / (cells or profile.series_cells))
                self._v_n += 1
            if not math.isnan(hottest_c):
                self._t_max = max(self._t_max, hottest_c)
                self._t_int = round6(self._t_int + hottest_c * dt)
                self._load_dt += dt
            self._load_end = off
            self._below = None
        elif self._below is None:
            self._below = off
        elif off - self._below >= profile.session_end_hold_s:
            self._last = off
            self._last_i = current
            self._last_soc = soc
            return self._close(profile)
        self._last = off
        self._last_i = current
        self._last_soc = soc
        return None

    def _open(
        self,
        t: float,
        soc: float,
        current: float,
        pack_v: float | None,
        hottest_c: float,
        cells: int,
    ) -> None:
        self._active = True
        self._reset(t, soc, current)
        if pack_v is not None:
            self._v_sum = round6(pack_v / cells)
            self._v_n = 1
        self._t_max = -math.inf if math.isnan(hottest_c) else hottest_c

    def _close(self, profile: CalibrationProfile) -> DischargeCycle | None:
        self._active = False
        if self._n_load < MIN_LOAD_SAMPLES:
            return None
        end = self._start + self._load_end
        rest = None if self._prev_end is None else self._start - self._prev_end
        self._prev_end = end
        self._index += 1
        e0 = self._e0_ah
        frac = 0.5 if 3 * self._flat > self._n_load else 1.0  # see coulomb.ChargeSessionTracker
        swing = self._e0_soc - self._e1_soc if e0 is not None else 0.0
        ah = 0.0
        if e0 is not None:
            ah = (self._e1_ah + frac * self._e1_inc) - (e0 + frac * self._e0_inc)
        capacity = (
            ah / (swing / 100.0)
            if swing >= profile.discharge_min_swing_percent and ah > 0.0
            else None
        )
        t_max = self._t_max if self._t_max > -math.inf else math.nan
        mean_t = self._t_int / self._load_dt if self._load_dt > 0.0 else t_max
        return DischargeCycle(
            cycle_index=self._index,
            end_time=from_us(round(end * 1e6)),
            capacity_ah=capacity,
            max_temperature_c=t_max,
            avg_voltage_load_v=self._v_sum / self._v_n if self._v_n else None,
            time_to_discharge_s=self._load_end,
            mean_temperature_c=mean_t,
            mean_current_a=self._i_sum / self._n_load,
            rest_s=rest,
            soc_swing_percent=swing,
        )

    def flush(self, profile: CalibrationProfile) -> DischargeCycle | None:
        """Close an open session now (end of a report's data)."""
        return self._close(profile) if self._active else None

    def to_state(self) -> DischargeState:
        """Compact JSON-able state: ``[index, prev_end]`` while idle, plus the session if open."""
        head: DischargeState = [self._index, self._prev_end]
        if not self._active:
            return head
        return [
            *head,
            self._start,
            self._last,
            self._last_i,
            self._last_soc,
            self._ah,
            self._below,
            self._e0_ah,
            self._e0_inc,
            self._e0_soc,
            self._e1_ah,
            self._e1_inc,
            None if self._e1_soc == self._last_soc else self._e1_soc,  # usually equal: omitted
            self._flat,
            self._n_load,
            self._i_sum,
            self._v_sum,
            None if self._v_n == self._n_load else self._v_n,
            None if math.isinf(self._t_max) else self._t_max,
            self._t_int,
            self._load_dt,
            None if self._load_end == self._last else self._load_end,
        ]

    @classmethod
    def from_state(cls, data: DischargeState) -> "DischargeTracker":
        """Inverse of ``to_state``."""
        tr = cls()
        tr._index = int(data[0])
        tr._prev_end = None if data[1] is None else float(data[1])
        if len(data) == 2:
            return tr
        (
            start,
            last,
            last_i,
            last_soc,
            ah,
            below,
            e0_ah,
            e0_inc,
            e0_soc,
            e1_ah,
            e1_inc,
            e1_soc,
            flat,
            n_load,
            i_sum,
            v_sum,
            v_n,
            t_max,
            t_int,
            load_dt,
            load_end,
        ) = data[2:]
        tr._active = True
        tr._start = float(start)
        tr._last = float(last)
        tr._last_i = float(last_i)
        tr._last_soc = float(last_soc)
        tr._ah = float(ah)
        tr._below = None if below is None else float(below)
        tr._e0_ah = None if e0_ah is None else float(e0_ah)
        tr._e0_inc = float(e0_inc)
        tr._e0_soc = float(e0_soc)
        tr._e1_ah = float(e1_ah)
        tr._e1_inc = float(e1_inc)
        tr._e1_soc = tr._last_soc if e1_soc is None else float(e1_soc)
        tr._flat = int(flat)
        tr._n_load = int(n_load)
        tr._i_sum = float(i_sum)
        tr._v_sum = float(v_sum)
        tr._v_n = tr._n_load if v_n is None else int(v_n)
        tr._t_max = -math.inf if t_max is None else float(t_max)
        tr._t_int = float(t_int)
        tr._load_dt = float(load_dt)
        tr._load_end = tr._last if load_end is None else float(load_end)
        return tr
