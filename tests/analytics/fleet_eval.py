"""Scores the analytics against a simulated fleet's ground truth (used by test_accuracy)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas.alerts import Alert, AlertState
from schemas.decode import decode_telemetry
from schemas.errors import SchemaError
from schemas.telemetry import PackSnapshot
from streams.analytics.profiles import CalibrationProfile, resolve_profile
from streams.analytics.state import VehicleState
from voltstream.simulator import Fleet, FleetConfig

# Offline check cadence and threshold (the pipeline's timer does the same with wall time).
OFFLINE_CHECK_S = 60.0
SOH_TOLERANCE_PERCENT = 1.0
DETECTION_GRACE_S = 120.0


@dataclass
class Score:
    """Accuracy figures of one fleet run."""

    soh_errors: dict[str, float] = field(default_factory=dict)
    soh_methods: dict[str, str] = field(default_factory=dict)
    windows: int = 0
    detected: int = 0
    missed: list[str] = field(default_factory=list)
    healthy: int = 0
    false_alarm_vehicles: list[str] = field(default_factory=list)
    false_alarm_types: dict[str, int] = field(default_factory=dict)

    @property
    def soh_within(self) -> float:
        """Share of eligible vehicles whose final SOH estimate is within tolerance."""
        if not self.soh_errors:
            return float("nan")
        ok = sum(abs(e) <= SOH_TOLERANCE_PERCENT for e in self.soh_errors.values())
        return ok / len(self.soh_errors)

    @property
    def recall(self) -> float:
        """Share of (fault window, expected alert type) pairs that raised that alert."""
        return self.detected / self.windows if self.windows else float("nan")

    @property
    def false_alarm_rate(self) -> float:
        """Share of fault-free vehicles that raised any unexpected alert."""
        return len(self.false_alarm_vehicles) / self.healthy if self.healthy else float("nan")


def run_fleet(config: FleetConfig, offline_period_s: float = 900.0) -> Score:
    """Simulate, replay every message through ``VehicleState`` and score against the truth."""
    fleet = Fleet(config)
    states: dict[str, VehicleState] = {}
    profiles: dict[str, CalibrationProfile] = {}
    alerts: dict[str, list[Alert]] = defaultdict(list)
    next_check = config.start
    now = config.start
    for message in fleet.messages():
        now = config.start + timedelta(seconds=message.emit_offset_s)
        if now >= next_check:
            for vid, st in states.items():
                alert = st.check_offline(now, offline_period_s)
                if alert is not None:
                    alerts[vid].append(alert)
            next_check = now + timedelta(seconds=OFFLINE_CHECK_S)
        try:
            readings = decode_telemetry(message.value, now=now + timedelta(days=1))
        except SchemaError:
            continue
        for reading in readings:
            if isinstance(reading, SchemaError):
                continue
            vid = reading.vehicle_id
            state = states.get(vid)
            if state is None:
                state = states[vid] = VehicleState(vid)
            profile = profiles.get(vid)
            if profile is None and isinstance(reading, PackSnapshot):
                profile = profiles[vid] = resolve_profile(
                    None, reading.make, reading.model, reading.chemistry
                )
            outcome = state.process(reading, profile or resolve_profile())
            alerts[vid].extend(outcome.alerts)
    truth = fleet.ground_truth()
    end_s = config.duration_s
    score = Score()
    for vid, vt in truth.vehicles.items():
        final = states.get(vid)
        if final is None:
            continue
        profile = profiles.get(vid, resolve_profile())
        final.finish(profile)
        if len(vt.deep_sessions(40.0)) >= 3:
            est = final.health(profile)
            if est.soh_percent is not None:
                score.soh_errors[vid] = est.soh_percent - vt.soh_at(end_s)
                score.soh_methods[vid] = est.method.value
            else:
                score.soh_errors[vid] = float("inf")
        firing = [a for a in alerts[vid] if a.state is AlertState.firing]
        intervals = _intervals(alerts[vid], config.start + timedelta(seconds=end_s))
        if not vt.faults:
            score.healthy += 1
            true_soh = vt.soh_at(end_s)
            unexpected = [a for a in firing if not (a.type.value == "low_soh" and true_soh < 80.5)]
            if unexpected:
                score.false_alarm_vehicles.append(vid)
                for a in unexpected:
                    key = a.type.value
                    score.false_alarm_types[key] = score.false_alarm_types.get(key, 0) + 1
            continue
        for window in vt.faults:
            w_start = config.start + timedelta(seconds=window.start_s)
            w_end = config.start + timedelta(seconds=window.end_s + DETECTION_GRACE_S)
            for expected in window.expected_alerts:
                score.windows += 1
                hit = any(lo <= w_end and hi >= w_start for lo, hi in intervals.get(expected, []))
                if hit:
                    score.detected += 1
                else:
                    score.missed.append(f"{vid}:{window.type.value}:{expected}:{window.sensor}")
    return score


def _intervals(alerts: list[Alert], end: datetime) -> dict[str, list[tuple[datetime, datetime]]]:
    """Per alert type, the [fired, resolved] event-time intervals."""
    open_: dict[str, datetime] = {}
    out: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for a in sorted(alerts, key=lambda a: a.event_time):
        kind = a.type.value
        if a.state is AlertState.firing:
            open_.setdefault(kind, a.event_time)
        elif kind in open_:
            out[kind].append((open_.pop(kind), a.event_time))
    for kind, since in open_.items():
        out[kind].append((since, end))
    return out
