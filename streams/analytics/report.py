"""Battery health report over one snapshot or a series of readings (the `voltstream report` CLI)."""

from collections.abc import Iterable
from datetime import datetime

from schemas.alerts import AlertType
from schemas.report import Anomaly, CycleStats, Diagnostics, HealthReport
from schemas.telemetry import PackSample, PackSnapshot
from streams.analytics.profiles import CalibrationProfile
from streams.analytics.state import VehicleState
from streams.analytics.stats import PackStats
from streams.errors import StreamsError

Reading = PackSnapshot | PackSample


class ReportError(StreamsError, ValueError):
    """The readings cannot make one report (none given, or several vehicles mixed)."""


def build_report(
    readings: Iterable[Reading], profile: CalibrationProfile, generated_at: datetime
) -> HealthReport:
    """Replay the readings (in event-time order) through a fresh ``VehicleState``.

    ``battery_soh`` is the final SOH estimate (for one snapshot: seed 001's
    ``current / nominal * 100``); ``anomalies`` holds, per type, the worst anomaly seen in any
    reading (first-seen order); ``diagnostics`` describe the latest snapshot.
    """
    ordered = sorted(readings, key=lambda r: r.timestamp)
    if not ordered:
        raise ReportError("no readings to report on")
    vehicle_id = ordered[0].vehicle_id
    if any(r.vehicle_id != vehicle_id for r in ordered):
        raise ReportError("readings of several vehicles; build one report per vehicle")
    state = VehicleState(vehicle_id)
    worst: dict[AlertType, Anomaly] = {}
    last_stats: PackStats | None = None
    for reading in ordered:
        outcome = state.process(reading, profile)
        if outcome.stats is not None:
            last_stats = outcome.stats
        for anomaly in outcome.anomalies:
            prev = worst.get(anomaly.type)
            if prev is None or anomaly.severity.rank > prev.severity.rank:
                worst[anomaly.type] = anomaly
    state.finish(profile)
    soh = state.health(profile)
    return HealthReport(
        vehicle_id=vehicle_id,
        generated_at=generated_at,
        battery_soh=soh.soh_percent,
        cycle_count=state.reported_cycle_count,
        anomalies=list(worst.values()),
        soh=soh,
        cycles=CycleStats(
            equivalent_full_cycles=round(state.efc, 3),
            deep_discharge_cycles=state.deep_discharge_cycles,
            reported_cycle_count=state.reported_cycle_count,
        ),
        diagnostics=_diagnostics(last_stats),
        readings=len(ordered),
    )


def _diagnostics(stats: PackStats | None) -> Diagnostics:
    if stats is None:
        return Diagnostics()
    return Diagnostics(
        cell_count=stats.cell_count,
        voltage_min_v=stats.v_min,
        voltage_max_v=stats.v_max,
        voltage_spread_v=stats.v_spread,
        temperature_min_c=stats.t_min,
        temperature_max_c=stats.t_max,
        temperature_mean_c=round(stats.t_mean, 4),
    )
