"""Charge-session coulomb counting: integrate charging current between SOC steps -> capacity."""

import math
from typing import Any, NamedTuple

from streams.analytics.profiles import CalibrationProfile

# Serialized form of a tracker: flat list of numbers / None (see ``ChargeSessionTracker.dump``).
SessionState = list[Any]


class CapacityObservation(NamedTuple):
    """One closed charge session.

    ``capacity_ah = (Ah charged between the first and the last SOC step) / (SOC swing / 100)``.
    Measuring between SOC *steps* (edges) instead of between the first and last samples cancels
    SOC quantisation: both edges sit at the same fractional position of a quantum.
    ``rel_std`` is the relative 1-sigma error budget (SOC resolution, sample spacing, current
    noise); ``valid`` is False (with ``reason``) when the session is too thin to use.
    """

    start_s: float
    end_s: float
    capacity_ah: float
    soc_swing_percent: float
    samples: int
    max_gap_s: float
    mean_voltage_v: float | None
    rel_std: float
    valid: bool
    reason: str


class ChargeSessionTracker:
    """Feeds ``(t, soc_percent, current_a)`` points; closes a session on end of charge / gap.

    A session opens when ``current >= session_min_current_a`` (charging, A). It closes at once on
    a direction change (``current <= -session_min_current_a``: discharging again), when the
    current stays near zero for ``session_end_hold_s`` (a pause shorter than that is part of the
    session), or when two points are further apart than ``session_max_gap_s`` (the charge across
    a gap is unknown, so the session ends at the gap). Regenerative-braking blips open sessions
    of a sample or two that close as ``soc_swing`` and are ignored.
    Points with a non-increasing time are ignored (duplicates / accepted out-of-order readings).
    """

    __slots__ = (
        "_active",
        "_ah",
        "_below_since",
        "_e0_ah",
        "_e0_inc",
        "_e0_soc",
        "_e0_t",
        "_e1_ah",
        "_e1_inc",
        "_e1_soc",
        "_e1_t",
        "_flat",
        "_i_sq",
        "_last_i",
        "_last_soc",
        "_last_t",
        "_max_gap",
        "_min_step",
        "_samples",
        "_start",
        "_v_n",
        "_v_sum",
    )

    def __init__(self) -> None:
        self._last_t: float | None = None
        self._last_i = 0.0
        self._last_soc = 0.0
        self._active = False
        self._start = 0.0
        self._ah = 0.0
        self._samples = 0
        self._max_gap = 0.0
        self._below_since: float | None = None
        self._e0_ah: float | None = None
        self._e0_soc = 0.0
        self._e0_t = 0.0
        self._e1_ah = 0.0
        self._e1_soc = 0.0
        self._e1_t = 0.0
        self._min_step = math.inf
        self._i_sq = 0.0
        self._v_sum = 0.0
        self._v_n = 0
        self._e0_inc = 0.0
        self._e1_inc = 0.0
        self._flat = 0

    @property
    def active(self) -> bool:
        """True while a charge session is open."""
        return self._active

    def feed(
        self,
        t: float,
        soc: float,
        current: float,
        profile: CalibrationProfile,
        voltage: float | None = None,
    ) -> CapacityObservation | None:
        """Add one point (epoch seconds, SOC %, A); returns the observation of a closed session."""
        last_t = self._last_t
        obs: CapacityObservation | None = None
        if last_t is not None:
            dt = t - last_t
            if dt <= 0.0:
                return None
            if self._active:
                if dt > profile.session_max_gap_s:
                    obs = self._close(profile)
                else:
                    obs = self._advance(
                        t=t, dt=dt, soc=soc, current=current, profile=profile, voltage=voltage
                    )
        if not self._active and current >= profile.session_min_current_a:
            self._open(t, soc)
        self._last_t = t
        self._last_i = current
        self._last_soc = soc
        return obs

    def flush(self, profile: CalibrationProfile) -> CapacityObservation | None:
        """Close an open session now (end of a report's data)."""
        if not self._active:
            return None
        return self._close(profile)

    def _open(self, t: float, soc: float) -> None:
        self._active = True
        self._start = t
        self._ah = 0.0
        self._samples = 1
        self._max_gap = 0.0
        self._below_since = None
        self._e0_ah = None
        self._e0_soc = soc
        self._e0_t = t
        self._e1_ah = 0.0
        self._e1_soc = soc
        self._e1_t = t
        self._min_step = math.inf
        self._i_sq = 0.0
        self._v_sum = 0.0
        self._v_n = 0
        self._e0_inc = 0.0
        self._e1_inc = 0.0
        self._flat = 0

    def _advance(
        self,
        *,
        t: float,
        dt: float,
        soc: float,
        current: float,
        profile: CalibrationProfile,
        voltage: float | None,
    ) -> CapacityObservation | None:
        if current <= -profile.session_min_current_a:
            return self._close(profile)  # discharging again: the session ended at the last point
        if profile.current_is_interval_mean:
            inc = current * dt / 3600.0  # the value is the mean over (last_t, t]
        else:
            inc = (self._last_i + current) * dt / 7200.0  # instantaneous values: trapezoid
        ah_before = self._ah
        self._ah = ah_before + inc
        self._samples += 1
        self._i_sq += current * current
        if voltage is not None:
            self._v_sum += voltage
            self._v_n += 1
        self._max_gap = max(self._max_gap, dt)
        if soc != self._last_soc:
            step = abs(soc - self._last_soc)
            self._min_step = min(self._min_step, step)
            if self._e0_ah is None:
                self._e0_ah = ah_before
                self._e0_inc = inc
                self._e0_soc = soc
                self._e0_t = t
            self._e1_ah = ah_before
            self._e1_inc = inc
            self._e1_soc = soc
            self._e1_t = t
        elif current >= profile.session_min_current_a:
            self._flat += 1
        if current < profile.session_min_current_a:
            if self._below_since is None:
                self._below_since = t
            elif t - self._below_since >= profile.session_end_hold_s:
                return self._close(profile)
        else:
            self._below_since = None
        return None

    def _close(self, profile: CalibrationProfile) -> CapacityObservation:
        self._active = False
        end = self._last_t if self._last_t is not None else self._start
        e0 = self._e0_ah
        # An SOC step happened somewhere inside its interval: with a quantised SOC (most charging
        # samples repeat the previous value) the crossing is on average mid-interval; with a
        # fine SOC the value at t already includes the whole interval's charge.
        frac = 0.5 if 3 * self._flat > self._samples else 1.0
        swing = self._e1_soc - self._e0_soc if e0 is not None else 0.0
        ah = (
            (self._e1_ah + frac * self._e1_inc) - (e0 + frac * self._e0_inc)
            if e0 is not None
            else 0.0
        )
        capacity = ah / (swing / 100.0) if swing > 0.0 else math.nan
        samples = self._samples
        mean_v = self._v_sum / self._v_n if self._v_n else None
        reason = ""
        if swing < profile.session_min_soc_swing_percent:
            reason = "soc_swing"
        elif samples < profile.session_min_samples:
            reason = "samples"
        elif (self._e1_t - self._e0_t) / swing > profile.session_max_s_per_percent:
            reason = "duration"
        elif not capacity > 0.0:
            reason = "capacity"
        rel_std = self._rel_std(swing, ah, samples) if not reason else math.inf
        return CapacityObservation(
            self._start,
            end,
            capacity,
            swing,
            samples,
            self._max_gap,
            mean_v,
            rel_std,
            not reason,
            reason,
        )

    def _rel_std(self, swing: float, ah: float, samples: int) -> float:
        """Relative 1-sigma error: SOC step timing + resolution, gap integration, sample count."""
        step = self._min_step if math.isfinite(self._min_step) else 1.0
        soc_term = min(step, 1.0) * 0.3 / swing
        rms_i = math.sqrt(self._i_sq / max(samples - 1, 1))
        gap_term = rms_i * self._max_gap / 3600.0 / ah * 0.3 if ah > 0.0 else 1.0
        density_term = 1.0 / samples
        return math.sqrt(soc_term * soc_term + gap_term * gap_term + density_term * density_term)

    def dump(self) -> SessionState:
        """Compact JSON-able state (exact float round trip).

        Without an open session only ``[last_t, last_i, last_soc]``: nothing else is read before
        the next ``_open`` resets it (a closed session's leftovers would cost ~100 bytes of the
        state while the vehicle drives, when the discharge tracker's session is open instead).
        """
        if not self._active:
            return [self._last_t, self._last_i, self._last_soc]
        return [
            self._last_t,
            self._last_i,
            self._last_soc,
            int(self._active),
            self._start,
            self._ah,
            self._samples,
            self._max_gap,
            self._below_since,
            self._e0_ah,
            self._e0_soc,
            self._e0_t,
            self._e1_ah,
            self._e1_soc,
            self._e1_t,
            None if math.isinf(self._min_step) else self._min_step,
            self._i_sq,
            self._v_sum,
            self._v_n,
            self._e0_inc,
            self._e1_inc,
            self._flat,
        ]

    @classmethod
    def load(cls, data: SessionState) -> "ChargeSessionTracker":
        """Inverse of ``dump`` (also of the full form written for idle trackers before)."""
        tr = cls()
        if len(data) == 3:
            last_t, last_i, last_soc = data
            tr._last_t = None if last_t is None else float(last_t)
            tr._last_i = float(last_i)
            tr._last_soc = float(last_soc)
            return tr
        (
            last_t,
            last_i,
            last_soc,
            active,
            start,
            ah,
            samples,
            max_gap,
            below,
            e0_ah,
            e0_soc,
            e0_t,
            e1_ah,
            e1_soc,
            e1_t,
            min_step,
            i_sq,
            v_sum,
            v_n,
            e0_inc,
            e1_inc,
            flat,
        ) = data
        tr._last_t = None if last_t is None else float(last_t)
        tr._last_i = float(last_i)
        tr._last_soc = float(last_soc)
        tr._active = bool(active)
        tr._start = float(start)
        tr._ah = float(ah)
        tr._samples = int(samples)
        tr._max_gap = float(max_gap)
        tr._below_since = None if below is None else float(below)
        tr._e0_ah = None if e0_ah is None else float(e0_ah)
        tr._e0_soc = float(e0_soc)
        tr._e0_t = float(e0_t)
        tr._e1_ah = float(e1_ah)
        tr._e1_soc = float(e1_soc)
        tr._e1_t = float(e1_t)
        tr._min_step = math.inf if min_step is None else float(min_step)
        tr._i_sq = float(i_sq)
        tr._v_sum = float(v_sum)
        tr._v_n = int(v_n)
        tr._e0_inc = float(e0_inc)
        tr._e1_inc = float(e1_inc)
        tr._flat = int(flat)
        return tr
