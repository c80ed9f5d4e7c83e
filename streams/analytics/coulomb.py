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

    __slots__ = ("_last_i", "_last_soc", "_last_t", "_s")

    def __init__(self) -> None:
        self._last_t: float | None = None
        self._last_i = 0.0
        self._last_soc = 0.0
        # The open session, None between sessions: most of the time a vehicle is not charging,
        # and an idle tracker is 3 floats (64 B) instead of 22 slots (~210 B).
        self._s: _Session | None = None

    @property
    def active(self) -> bool:
        """True while a charge session is open."""
        return self._s is not None

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
            s = self._s
            if s is not None:
                if dt > profile.session_max_gap_s:
                    obs = self._close(s, profile)
                else:
                    obs = self._advance(
                        s, t=t, dt=dt, soc=soc, current=current, profile=profile, voltage=voltage
                    )
        if self._s is None and current >= profile.session_min_current_a:
            self._s = _Session(t, soc)
        self._last_t = t
        self._last_i = current
        self._last_soc = soc
        return obs

    def flush(self, profile: CalibrationProfile) -> CapacityObservation | None:
        """Close an open session now (end of a report's data)."""
        s = self._s
        if s is None:
            return None
        return self._close(s, profile)

    def _advance(
        self,
        s: "_Session",
        *,
        t: float,
        dt: float,
        soc: float,
        current: float,
        profile: CalibrationProfile,
        voltage: float | None,
    ) -> CapacityObservation | None:
        if current <= -profile.session_min_current_a:
            return self._close(s, profile)  # discharging again: the session ended at the last point
        if profile.current_is_interval_mean:
            inc = current * dt / 3600.0  # the value is the mean over (last_t, t]
        else:
            inc = (self._last_i + current) * dt / 7200.0  # instantaneous values: trapezoid
        ah_before = s.ah
        s.ah = ah_before + inc
        s.samples += 1
        s.i_sq += current * current
        if voltage is not None:
            s.v_sum += voltage
            s.v_n += 1
        s.max_gap = max(s.max_gap, dt)
        if soc != self._last_soc:
            step = abs(soc - self._last_soc)
            s.min_step = min(s.min_step, step)
            if s.e0_ah is None:
                s.e0_ah = ah_before
                s.e0_inc = inc
                s.e0_soc = soc
                s.e0_t = t
            s.e1_ah = ah_before
            s.e1_inc = inc
            s.e1_soc = soc
            s.e1_t = t
        elif current >= profile.session_min_current_a:
            s.flat += 1
        if current < profile.session_min_current_a:
            if s.below_since is None:
                s.below_since = t
            elif t - s.below_since >= profile.session_end_hold_s:
                return self._close(s, profile)
        else:
            s.below_since = None
        return None

    def _close(self, s: "_Session", profile: CalibrationProfile) -> CapacityObservation:
        self._s = None
        end = self._last_t if self._last_t is not None else s.start
        e0 = s.e0_ah
        # An SOC step happened somewhere inside its interval: with a quantised SOC (most charging
        # samples repeat the previous value) the crossing is on average mid-interval; with a
        # fine SOC the value at t already includes the whole interval's charge.
        frac = 0.5 if 3 * s.flat > s.samples else 1.0
        swing = s.e1_soc - s.e0_soc if e0 is not None else 0.0
        ah = (s.e1_ah + frac * s.e1_inc) - (e0 + frac * s.e0_inc) if e0 is not None else 0.0
        capacity = ah / (swing / 100.0) if swing > 0.0 else math.nan
        samples = s.samples
        mean_v = s.v_sum / s.v_n if s.v_n else None
        reason = ""
        if swing < profile.session_min_soc_swing_percent:
            reason = "soc_swing"
        elif samples < profile.session_min_samples:
            reason = "samples"
        elif (s.e1_t - s.e0_t) / swing > profile.session_max_s_per_percent:
            reason = "duration"
        elif not capacity > 0.0:
            reason = "capacity"
        rel_std = s.rel_std(swing, ah, samples) if not reason else math.inf
        return CapacityObservation(
            s.start,
            end,
            capacity,
            swing,
            samples,
            s.max_gap,
            mean_v,
            rel_std,
            not reason,
            reason,
        )

    def dump(self) -> SessionState:
        """Compact JSON-able state (exact float round trip).

        Without an open session only ``[last_t, last_i, last_soc]``: a closed session is dropped
        (its leftovers would cost ~100 bytes of the state while the vehicle drives, when the
        discharge tracker's session is open instead).
        """
        s = self._s
        if s is None:
            return [self._last_t, self._last_i, self._last_soc]
        return [
            self._last_t,
            self._last_i,
            self._last_soc,
            1,
            s.start,
            s.ah,
            s.samples,
            s.max_gap,
            s.below_since,
            s.e0_ah,
            s.e0_soc,
            s.e0_t,
            s.e1_ah,
            s.e1_soc,
            s.e1_t,
            None if math.isinf(s.min_step) else s.min_step,
            s.i_sq,
            s.v_sum,
            s.v_n,
            s.e0_inc,
            s.e1_inc,
            s.flat,
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
        if not active:
            return tr  # an idle tracker written in full (older states): the rest is unused
        se = tr._s = _Session(float(start), float(e0_soc))
        se.ah = float(ah)
        se.samples = int(samples)
        se.max_gap = float(max_gap)
        se.below_since = None if below is None else float(below)
        se.e0_ah = None if e0_ah is None else float(e0_ah)
        se.e0_soc = float(e0_soc)
        se.e0_t = float(e0_t)
        se.e1_ah = float(e1_ah)
        se.e1_soc = float(e1_soc)
        se.e1_t = float(e1_t)
        se.min_step = math.inf if min_step is None else float(min_step)
        se.i_sq = float(i_sq)
        se.v_sum = float(v_sum)
        se.v_n = int(v_n)
        se.e0_inc = float(e0_inc)
        se.e1_inc = float(e1_inc)
        se.flat = int(flat)
        return tr


class _Session:
    """The open charge session of a ``ChargeSessionTracker`` (see there)."""

    __slots__ = (
        "ah",
        "below_since",
        "e0_ah",
        "e0_inc",
        "e0_soc",
        "e0_t",
        "e1_ah",
        "e1_inc",
        "e1_soc",
        "e1_t",
        "flat",
        "i_sq",
        "max_gap",
        "min_step",
        "samples",
        "start",
        "v_n",
        "v_sum",
    )

    def __init__(self, t: float, soc: float) -> None:
        self.start = t
        self.ah = 0.0
        self.samples = 1
        self.max_gap = 0.0
        self.below_since: float | None = None
        self.e0_ah: float | None = None
        self.e0_soc = soc
        self.e0_t = t
        self.e1_ah = 0.0
        self.e1_soc = soc
        self.e1_t = t
        self.min_step = math.inf
        self.i_sq = 0.0
        self.v_sum = 0.0
        self.v_n = 0
        self.e0_inc = 0.0
        self.e1_inc = 0.0
        self.flat = 0

    def rel_std(self, swing: float, ah: float, samples: int) -> float:
        """Relative 1-sigma error: SOC step timing + resolution, gap integration, sample count."""
        step = self.min_step if math.isfinite(self.min_step) else 1.0
        soc_term = min(step, 1.0) * 0.3 / swing
        rms_i = math.sqrt(self.i_sq / max(samples - 1, 1))
        gap_term = rms_i * self.max_gap / 3600.0 / ah * 0.3 if ah > 0.0 else 1.0
        density_term = 1.0 / samples
        return math.sqrt(soc_term * soc_term + gap_term * gap_term + density_term * density_term)
