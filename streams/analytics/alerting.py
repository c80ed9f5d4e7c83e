"""Hysteresis alerting: anomalies per reading -> firing / escalated / resolved alerts."""

import hashlib
from collections.abc import Sequence
from datetime import datetime

from schemas.alerts import Alert, AlertState, AlertType, Severity
from schemas.report import Anomaly
from streams.analytics.profiles import CalibrationProfile
from streams.analytics.stats import PackStats
from streams.analytics.timeutil import from_us, to_us

_SEVERITIES = tuple(sorted(Severity, key=lambda s: s.rank))
_RECENT = 5
_OFFLINE = AlertType.device_offline.value
_RAPID = AlertType.rapid_degradation.value
Evidence = dict[str, float | int | str | list[float] | list[int] | None]
TrackerState = list[list[object]]


def alert_id(vehicle_id: str, kind: AlertType | str, first_seen: datetime) -> str:
    """Deterministic id: sha256 of ``vehicle|type|first_seen.isoformat()``, first 24 hex chars."""
    key = f"{vehicle_id}|{kind}|{first_seen.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


class _Entry:
    """Per-type episode: pending (counting towards firing) or active (firing)."""

    __slots__ = (
        "active",
        "cells",
        "clear",
        "first_us",
        "last_us",
        "pending",
        "recent",
        "severity",
        "threshold",
        "unit",
        "value",
    )

    def __init__(self, first_us: int) -> None:
        self.active = False
        self.first_us = first_us
        self.last_us = first_us
        self.pending = 0
        self.clear = 0
        self.severity = 0
        self.value = 0.0
        self.threshold = 0.0
        self.unit = ""
        self.cells: tuple[int, ...] = ()
        self.recent: list[float] = []

    def dump(self, kind: str) -> list[object]:
        return [
            kind,
            int(self.active),
            self.first_us,
            self.last_us,
            self.pending,
            self.clear,
            self.severity,
            self.value,
            self.threshold,
            self.unit,
            list(self.cells),
            list(self.recent),
        ]

    @classmethod
    def load(cls, row: list[object]) -> "_Entry":
        e = cls(int(row[2]))  # type: ignore[call-overload]
        e.active = bool(row[1])
        e.last_us = int(row[3])  # type: ignore[call-overload]
        e.pending = int(row[4])  # type: ignore[call-overload]
        e.clear = int(row[5])  # type: ignore[call-overload]
        e.severity = int(row[6])  # type: ignore[call-overload]
        e.value = float(row[7])  # type: ignore[arg-type]
        e.threshold = float(row[8])  # type: ignore[arg-type]
        e.unit = str(row[9])
        e.cells = tuple(int(c) for c in row[10])  # type: ignore[attr-defined]
        e.recent = [float(v) for v in row[11]]  # type: ignore[attr-defined]
        return e


def stats_evidence(stats: PackStats | None) -> Evidence:
    """Weakest / strongest / hottest cells and pack extremes for an alert's evidence."""
    if stats is None:
        return {}
    return {
        "weakest_cell": stats.v_min_cell,
        "strongest_cell": stats.v_max_cell,
        "hottest_cell": stats.t_max_cell,
        "coldest_cell": stats.t_min_cell,
        "v_min_v": stats.v_min,
        "v_max_v": stats.v_max,
        "v_spread_v": stats.v_spread,
        "t_max_c": stats.t_max,
        "t_min_c": stats.t_min,
    }


class AlertTracker:
    """Per-vehicle hysteresis state, keyed by alert type.

    Fire: the anomaly is present for ``fire_after_readings`` consecutive readings; the episode's
    ``first_seen`` is the event time of the first of them and ``alert_id`` hashes it, so a
    replay of the same readings yields the same id. Escalation: a higher severity while firing
    emits one update (same id); lower severities emit nothing (the alert keeps its worst
    severity). Resolve: after ``clear_after_readings`` consecutive readings where the anomaly is
    absent *and* the value is below threshold minus the profile's hysteresis margin (the caller
    passes the types still inside the band as ``held``). A flapping value therefore neither
    re-fires nor resolves.

    ``rapid_degradation`` is not driven by readings but by degradation forecasts (one per
    closed discharge cycle, see ``observe_forecast``); its episode is kept apart from the
    per-reading entries so that it neither costs nor clears anything on the hot path.
    """

    __slots__ = ("_entries", "_rapid")

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._rapid: _Entry | None = None

    @property
    def has_entries(self) -> bool:
        """True when some type is pending or firing."""
        return bool(self._entries)

    @property
    def has_offline(self) -> bool:
        """True while ``device_offline`` is firing."""
        return _OFFLINE in self._entries

    @property
    def active(self) -> frozenset[str]:
        """Types with a firing alert."""
        return frozenset(k for k, e in self._entries.items() if e.active)

    def observe(
        self,
        vehicle_id: str,
        anomalies: Sequence[Anomaly],
        at: datetime,
        profile: CalibrationProfile,
        *,
        held: frozenset[str] = frozenset(),
        stats: PackStats | None = None,
    ) -> list[Alert]:
        """Advance by one reading at event time ``at``; returns the alerts to publish."""
        entries = self._entries
        if not entries and not anomalies:
            return []
        now = to_us(at)
        worst: dict[str, Anomaly] = {}
        for a in anomalies:
            prev = worst.get(a.type.value)
            if prev is None or a.severity.rank > prev.severity.rank:
                worst[a.type.value] = a
        out: list[Alert] = []
        for kind, a in worst.items():
            e = entries.get(kind)
            if e is None:
                e = entries[kind] = _Entry(now)
            e.last_us = now
            e.clear = 0
            e.value = a.value
            e.cells = a.cells
            e.unit = a.unit
            recent = e.recent
            recent.append(a.value)
            if len(recent) > _RECENT:
                del recent[0]
            rank = a.severity.rank
            if not e.active:
                e.pending += 1
                if rank > e.severity:
                    e.severity = rank
                    e.threshold = a.threshold
                if e.pending >= _fire_after(profile, kind):
                    e.active = True
                    out.append(
                        self._alert(
                            vehicle_id,
                            kind=kind,
                            e=e,
                            state=AlertState.firing,
                            now=now,
                            a=a,
                            stats=stats,
                        )
                    )
            elif rank > e.severity:
                e.severity = rank
                e.threshold = a.threshold
                out.append(
                    self._alert(
                        vehicle_id,
                        kind=kind,
                        e=e,
                        state=AlertState.firing,
                        now=now,
                        a=a,
                        stats=stats,
                    )
                )
        for kind in [k for k in entries if k not in worst and k != _OFFLINE]:
            e = entries[kind]
            if not e.active:
                del entries[kind]
                continue
            if kind in held:
                e.clear = 0
                continue
            e.clear += 1
            if e.clear >= profile.clear_after_readings:
                del entries[kind]
                out.append(
                    self._alert(
                        vehicle_id,
                        kind=kind,
                        e=e,
                        state=AlertState.resolved,
                        now=now,
                        a=None,
                        stats=stats,
                    )
                )
        return out

    def fire_offline(
        self, vehicle_id: str, last_seen: datetime, now: datetime, silent_s: float, period_s: float
    ) -> Alert | None:
        """Fire ``device_offline`` once per silence (first_seen = last reading's time)."""
        kind = AlertType.device_offline.value
        if kind in self._entries:
            return None
        e = self._entries[kind] = _Entry(to_us(last_seen))
        e.active = True
        e.severity = Severity.major.rank
        e.value = silent_s
        e.threshold = period_s
        e.unit = "s"
        e.recent = [silent_s]
        return self._alert(
            vehicle_id, kind=kind, e=e, state=AlertState.firing, now=to_us(now), a=None, stats=None
        )

    def observe_forecast(
        self,
        vehicle_id: str,
        at: datetime,
        *,
        rapid: bool,
        fade_percent_per_cycle: float,
        threshold: float,
        evidence: Evidence | None = None,
    ) -> Alert | None:
        """``rapid_degradation`` from one forecast at event time ``at`` (a cycle's end).

        Fires once per episode (first_seen = the first rapid forecast, so the id is
        replay-stable); later rapid forecasts only update the episode; the first forecast back
        at or under ``threshold`` resolves it. Value and threshold are in % SOH per cycle.
        """
        now = to_us(at)
        e = self._rapid
        if e is not None:
            e.last_us = now
            e.value = fade_percent_per_cycle
            e.recent.append(fade_percent_per_cycle)
            if len(e.recent) > _RECENT:
                del e.recent[0]
            e.pending += 1
            if rapid:
                return None
            self._rapid = None
            state, anomaly = AlertState.resolved, None
        elif rapid:
            e = self._rapid = _Entry(now)
            e.active = True
            e.pending = 1
            e.severity = Severity.warning.rank
            e.value = fade_percent_per_cycle
            e.threshold = threshold
            e.unit = "%/cycle"
            e.recent = [fade_percent_per_cycle]
            state = AlertState.firing
            anomaly = Anomaly(
                type=AlertType.rapid_degradation,
                severity=Severity.warning,
                value=fade_percent_per_cycle,
                threshold=threshold,
                unit=e.unit,
                message=(
                    f"forecast capacity fade {fade_percent_per_cycle:.3f} %/cycle exceeds "
                    f"{threshold:.3f} %/cycle"
                ),
            )
        else:
            return None
        return self._alert(
            vehicle_id,
            kind=_RAPID,
            e=e,
            state=state,
            now=now,
            a=anomaly,
            stats=None,
            extra=evidence,
        )

    def resolve_offline(self, vehicle_id: str, at: datetime) -> Alert | None:
        """Resolve a firing ``device_offline`` because data came back."""
        e = self._entries.pop(AlertType.device_offline.value, None)
        if e is None:
            return None
        now = to_us(at)
        e.value = (now - e.first_us) / 1e6
        return self._alert(
            vehicle_id, kind=_OFFLINE, e=e, state=AlertState.resolved, now=now, a=None, stats=None
        )

    @staticmethod
    def _alert(
        vehicle_id: str,
        *,
        kind: str,
        e: _Entry,
        state: AlertState,
        now: int,
        a: Anomaly | None,
        stats: PackStats | None,
        extra: Evidence | None = None,
    ) -> Alert:
        first = from_us(e.first_us)
        evidence = stats_evidence(stats)
        evidence["recent_values"] = list(e.recent)
        evidence["readings"] = e.pending
        if extra:
            evidence.update(extra)
        if a is not None:
            message = a.message
        elif state is AlertState.resolved:
            message = f"{kind} resolved"
        else:
            message = f"{kind}: no data for {e.value:.0f} s (expected every {e.threshold:g} s)"
        return Alert(
            alert_id=alert_id(vehicle_id, kind, first),
            vehicle_id=vehicle_id,
            type=AlertType(kind),
            severity=_SEVERITIES[e.severity],
            state=state,
            value=e.value,
            threshold=e.threshold,
            unit=e.unit,
            cells=e.cells,
            first_seen=first,
            last_seen=from_us(e.last_us),
            event_time=from_us(now),
            message=message,
            evidence=evidence,
        )

    def dump(self) -> TrackerState:
        """Compact JSON-able state (entries sorted by type for a stable encoding)."""
        rows = [self._entries[k].dump(k) for k in sorted(self._entries)]
        if self._rapid is not None:
            rows.append(self._rapid.dump(_RAPID))
        return rows

    @classmethod
    def load(cls, data: TrackerState) -> "AlertTracker":
        """Inverse of ``dump``."""
        tr = cls()
        for row in data:
            kind = str(row[0])
            if kind == _RAPID:
                tr._rapid = _Entry.load(row)
            else:
                tr._entries[kind] = _Entry.load(row)
        return tr


def _fire_after(profile: CalibrationProfile, kind: str) -> int:
    for name, n in profile.fire_after_overrides:
        if name == kind:
            return n
    return profile.fire_after_readings
