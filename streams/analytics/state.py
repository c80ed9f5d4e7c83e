"""Per-vehicle rolling state: one ``process`` call per reading, compact bytes for a Faust table."""

import json
import math
from datetime import datetime
from typing import Any, NamedTuple, cast

import orjson

from schemas.alerts import Alert, AlertType
from schemas.report import Anomaly, Confidence, SohEstimate, SohMethod
from schemas.telemetry import PackSample, PackSnapshot
from streams.analytics.alerting import AlertTracker, Evidence
from streams.analytics.anomalies import VALUE_HYSTERESIS, detect, still_elevated
from streams.analytics.coulomb import CapacityObservation, ChargeSessionTracker
from streams.analytics.cycles import CycleCounter
from streams.analytics.discharge import DischargeCycle, DischargeTracker
from streams.analytics.fusion import CapacityFilter, fuse
from streams.analytics.profiles import CalibrationProfile
from streams.analytics.sensors import StuckSensorTracker
from streams.analytics.soh import NOT_ESTIMABLE, soh_percent
from streams.analytics.stats import CellSummary, PackStats, cell_values, summarize
from streams.analytics.thermal import ThermalRateTracker
from streams.analytics.timeutil import from_us, to_us
from streams.errors import StreamsError

Reading = PackSnapshot | PackSample
STATE_VERSION = 1
_HYSTERESIS_KINDS = frozenset(k.value for k in VALUE_HYSTERESIS)
# Serialized form of a tracker that was never created (see ``VehicleState.__init__``).
_FRESH_THERMAL = ThermalRateTracker().dump()
_FRESH_FILTER = CapacityFilter().dump()
_FRESH_SENSORS = StuckSensorTracker().dump()


class StateDecodeError(StreamsError, ValueError):
    """``VehicleState.from_bytes`` got bytes that are not a serialized state."""


class Outcome(NamedTuple):
    """Result of one ``VehicleState.process`` call.

    ``health`` is set only when the SOH estimate changed (first capacity, a closed charge
    session, a new BMS capacity value). ``late`` readings did not touch the rolling state and
    produce no alerts, but ``stats`` / ``anomalies`` are still computed so they can be stored.
    ``cycles`` holds the discharge session this reading closed, if any (see ``discharge``).
    ``volts`` / ``temps`` are the snapshot's cell voltages / temperatures by position (as from
    ``stats.cell_values``), so a row builder need not read them off the cells again; empty for
    pack samples and snapshots without cells. ``packed32`` is the same values as native float32
    bytes, volts then temps (see ``stats.summarize``; None when some value is not finite).
    """

    stats: PackStats | None
    anomalies: list[Anomaly]
    alerts: list[Alert]
    health: SohEstimate | None
    efc: float
    late: bool
    cycles: tuple[DischargeCycle, ...] = ()
    # NamedTuple fields, not class attributes: the shared default is never mutated here.
    volts: list[float] = []  # noqa: RUF012
    temps: list[float] = []  # noqa: RUF012
    packed32: bytes | None = None


def _outcome(fields: tuple[Any, ...]) -> Outcome:
    """``Outcome(*fields)`` without the namedtuple's Python-level ``__new__`` (hot path)."""
    return _new_tuple(Outcome, fields)


_new_tuple = tuple.__new__


class VehicleState:
    """Everything rolling for one vehicle (see ``process``); serializable with ``to_bytes``."""

    __slots__ = (
        "_alerts",
        "_bms_kwh",
        "_cycles",
        "_discharge",
        "_filter",
        "_health_key",
        "_last_us",
        "_n_cells",
        "_nominal_ah",
        "_nominal_kwh",
        "_reported_cycles",
        "_sensors",
        "_sessions",
        "_soh",
        "_thermal",
        "_thermal_pack",
        "last_observation",
        "vehicle_id",
    )

    def __init__(self, vehicle_id: str) -> None:
        self.vehicle_id = vehicle_id
        self._last_us: int | None = None
        self._sessions = ChargeSessionTracker()
        self._cycles = CycleCounter()
        self._discharge = DischargeTracker()
        # Created on first use (None until then): many vehicles never need some of them (no
        # alert, no accepted charge session, only snapshots or only samples), and each empty
        # tracker would cost 64-120 B of live state per vehicle.
        self._filter: CapacityFilter | None = None
        self._thermal: ThermalRateTracker | None = None
        self._thermal_pack: ThermalRateTracker | None = None
        self._alerts: AlertTracker | None = None
        self._sensors: StuckSensorTracker | None = None
        self._bms_kwh: float | None = None
        self._nominal_kwh: float | None = None
        self._n_cells = 0
        self._nominal_ah: float | None = None
        self._reported_cycles: int | None = None
        self._soh: float | None = None
        self._health_key: tuple[object, ...] | None = None
        self.last_observation: CapacityObservation | None = None

    # ------------------------------------------------------------------ accessors
    @property
    def last_seen(self) -> int | None:
        """Event time of the newest accepted reading, microseconds since the epoch."""
        return self._last_us

    @property
    def efc(self) -> float:
        """Equivalent full cycles."""
        return self._cycles.efc

    @property
    def deep_discharge_cycles(self) -> int:
        """Deep-discharge cycles."""
        return self._cycles.deep_discharge_cycles

    @property
    def reported_cycle_count(self) -> int | None:
        """Last ``cycle_count`` reported by the BMS."""
        return self._reported_cycles

    @property
    def nominal_ah(self) -> float | None:
        """Nominal pack capacity in Ah (see ``nominal_ah``), once known."""
        return self._nominal_ah

    @property
    def soh_percent(self) -> float | None:
        """Current best SOH estimate."""
        return self._soh

    # ------------------------------------------------------------------ hot path
    def process(
        self, reading: Reading, profile: CalibrationProfile, summary: CellSummary | None = None
    ) -> Outcome:
        """Advance the rolling state by one reading (see ``Outcome``).

        ``summary`` is the snapshot's ``stats.summarize_many`` result when the caller computed
        it for several snapshots at once; otherwise the cells are summarized here.

        A reading older than the newest accepted one by more than ``allowed_lateness_s`` is
        *late*: only its stats/anomalies are computed. A reading within the lateness (or a
        duplicate time) is accepted for anomalies and alerting, but the time-integrating
        trackers (charge sessions, cycles, dT/dt, stuck sensors) only take readings that move
        time forward, so a reordered stream cannot corrupt them.
        """
        at = reading.timestamp
        us = to_us(at)
        last = self._last_us
        stats: PackStats | None = None
        snapshot = reading if isinstance(reading, PackSnapshot) else None
        if snapshot is not None and snapshot.cells:
            cells = snapshot.cells
            if summary is None:
                volts, temps = cell_values(cells)
                stats, packed32 = summarize(cells, volts, temps)
            else:
                volts, temps, stats, packed32 = summary
        else:
            volts = []
            temps = []
            packed32 = None
        if last is not None and us < last - int(profile.allowed_lateness_s * 1e6):
            anomalies = detect(stats, reading, profile, 0.0, soh_percent=self._soh)
            return _outcome(
                (stats, anomalies, [], None, self._cycles.efc, True, (), volts, temps, packed32)
            )
        alerts: list[Alert] = []
        tracker = self._alerts
        if tracker is not None and tracker.has_offline:
            back = tracker.resolve_offline(self.vehicle_id, at)
            if back is not None:
                alerts.append(back)
        changed = False
        if snapshot is not None:
            current = snapshot.pack_current_a
            soc = snapshot.soc_percent
            pack_v = snapshot.pack_voltage_v
            n = stats.cell_count if stats is not None else self._n_cells
            if snapshot.nominal_capacity_kwh != self._nominal_kwh or n != self._n_cells:
                self._set_nominal(snapshot.nominal_capacity_kwh, n, profile)
                changed = True
            if snapshot.current_capacity_kwh != self._bms_kwh:
                self._bms_kwh = snapshot.current_capacity_kwh
                changed = True
            self._reported_cycles = snapshot.cycle_count
            hottest = stats.t_max if stats is not None else math.nan
        else:
            m = cast(PackSample, reading).metrics
            current = m.current_a
            soc = m.soc_percent
            pack_v = m.voltage_v
            hottest = m.temp_c
            if self._nominal_ah is None and profile.nominal_capacity_kwh is not None:
                self._set_nominal(profile.nominal_capacity_kwh, 0, profile)
        rate = 0.0
        stuck: tuple[int, ...] = ()
        cycles: tuple[DischargeCycle, ...] = ()
        if last is None or us > last:
            t = us / 1e6
            if stats is not None:
                thermal = self._thermal
                if thermal is None:
                    thermal = self._thermal = ThermalRateTracker()
            else:
                thermal = self._thermal_pack
                if thermal is None:
                    thermal = self._thermal_pack = ThermalRateTracker()
            rate = thermal.update(
                t,
                hottest,
                profile.runaway_rate_c_per_s,
                profile.runaway_sustain_s,
                profile.runaway_max_gap_s,
            )
            if stats is not None:
                sensors = self._sensors
                if sensors is None:
                    sensors = self._sensors = StuckSensorTracker()
                stuck = sensors.update(cells, volts, temps, current, profile, packed32)
            if soc is not None and current is not None:
                obs = self._sessions.feed(t, soc, current, profile, pack_v)
                if obs is not None:
                    changed = self._observe(obs, profile) or changed
                cycle = self._discharge.feed(
                    t, soc, current, pack_v, hottest, self._n_cells, profile
                )
                if cycle is not None:
                    cycles = (cycle,)
            self._cycles.feed(t, soc, current, self._nominal_ah, profile)
            self._last_us = us
        health = self._refresh_health(profile) if changed else None
        anomalies = detect(stats, reading, profile, rate, soh_percent=self._soh, stuck_cells=stuck)
        if anomalies or (tracker is not None and tracker.has_entries):
            if tracker is None:
                tracker = self._alerts = AlertTracker()
            held: frozenset[str] = frozenset()
            if tracker.has_entries:
                present = {a.type.value for a in anomalies}
                held = frozenset(
                    k
                    for k in tracker.active
                    if (k in _HYSTERESIS_KINDS or stats is None)
                    and k not in present
                    and still_elevated(
                        AlertType(k),
                        stats,
                        reading,
                        profile,
                        self._soh,
                        cells_seen=self._n_cells > 0,
                    )
                )
            alerts.extend(
                tracker.observe(self.vehicle_id, anomalies, at, profile, held=held, stats=stats)
            )
        return _outcome(
            (
                stats,
                anomalies,
                alerts,
                health,
                self._cycles.efc,
                False,
                cycles,
                volts,
                temps,
                packed32,
            )
        )

    # ------------------------------------------------------------------ health
    def _set_nominal(self, nominal_kwh: float, n_cells: int, profile: CalibrationProfile) -> None:
        self._nominal_kwh = nominal_kwh
        self._n_cells = n_cells
        self._nominal_ah = nominal_ah(nominal_kwh, n_cells, profile)

    def _observe(self, obs: CapacityObservation, profile: CalibrationProfile) -> bool:
        self.last_observation = obs
        nominal = self._nominal_ah
        if not obs.valid or nominal is None:
            return False
        z = obs.capacity_ah / nominal * 100.0
        capacity = self._filter
        if capacity is None:
            capacity = self._filter = CapacityFilter()
        return capacity.update(z, max(obs.rel_std * z, 0.05), profile)

    def finish(self, profile: CalibrationProfile) -> SohEstimate | None:
        """Close an open charge session (end of a report's data); new health if it changed."""
        obs = self._sessions.flush(profile)
        if obs is not None and self._observe(obs, profile):
            return self._refresh_health(profile)
        return None

    def health(self, profile: CalibrationProfile) -> SohEstimate:
        """The current SOH estimate (see module docs of ``fusion`` and ``soh``)."""
        kalman = self._filter
        f_soh: float | None = None
        f_std: float | None = None
        sessions = 0
        if kalman is not None:
            f_soh = kalman.estimate
            f_std = kalman.std
            sessions = kalman.sessions
        nominal = self._nominal_kwh
        bms = self._bms_kwh
        bms_soh = soh_percent(bms, nominal) if bms is not None and nominal else None
        if f_soh is not None and f_std is not None:
            if bms_soh is not None and _consistent(f_soh, f_std, bms_soh, sessions, profile):
                fused = fuse(f_soh, f_std, bms_soh, profile.bms_capacity_std_percent)
                value, std, method = fused.soh_percent, fused.std_percent, SohMethod.fused
            else:
                value, std, method = f_soh, f_std, SohMethod.coulomb_counting
            capacity = value / 100.0 * nominal if nominal else None
            return SohEstimate(
                soh_percent=round(value, 2),
                method=method,
                confidence=_confidence(std, sessions, profile),
                capacity_kwh=None if capacity is None else round(capacity, 3),
                sessions=sessions,
                std_percent=round(std, 3),
            )
        if bms_soh is not None:
            return SohEstimate(
                soh_percent=bms_soh,
                method=SohMethod.measured_capacity,
                confidence=Confidence.high,
                capacity_kwh=bms,
                sessions=0,
                std_percent=None,
            )
        return NOT_ESTIMABLE

    def _refresh_health(self, profile: CalibrationProfile) -> SohEstimate | None:
        est = self.health(profile)
        self._soh = est.soh_percent
        key = (est.soh_percent, est.method.value, est.confidence.value, est.sessions)
        if key == self._health_key:
            return None
        self._health_key = key
        return est

    # ------------------------------------------------------------------ offline
    def check_offline(self, now: datetime, expected_period_s: float) -> Alert | None:
        """``device_offline`` firing once when silent for longer than ``expected_period_s``.

        ``now`` is the wall-clock (or watermark) time; the alert's ``first_seen`` is the last
        reading's event time, so its id is replay-stable. It resolves in ``process`` when data
        returns.
        """
        last = self._last_us
        if last is None:
            return None
        silent = (to_us(now) - last) / 1e6
        if silent <= expected_period_s:
            return None
        return self._tracker().fire_offline(
            self.vehicle_id, from_us(last), now, silent, expected_period_s
        )

    def _tracker(self) -> AlertTracker:
        tracker = self._alerts
        if tracker is None:
            tracker = self._alerts = AlertTracker()
        return tracker

    def observe_forecast(
        self,
        at: datetime,
        *,
        rapid: bool,
        fade_percent_per_cycle: float,
        threshold: float,
        evidence: Evidence | None = None,
    ) -> Alert | None:
        """``rapid_degradation`` firing / resolved from one degradation forecast (see
        ``AlertTracker.observe_forecast``); the episode is part of the serialized state."""
        return self._tracker().observe_forecast(
            self.vehicle_id,
            at,
            rapid=rapid,
            fade_percent_per_cycle=fade_percent_per_cycle,
            threshold=threshold,
            evidence=evidence,
        )

    # ------------------------------------------------------------------ serialization
    def to_bytes(self) -> bytes:
        """Compact positional JSON (exact float repr); < 2 KB (stuck-sensor values <= 192 cells).

        A tracker not created yet is written as a fresh one's state, so the bytes do not depend
        on when trackers are created. orjson writes the same JSON as ``json.dumps`` up to the
        spelling of some floats (``1e-5`` for ``1e-05``), which parse to the same values.
        """
        capacity = self._filter
        thermal = self._thermal
        thermal_pack = self._thermal_pack
        alerts = self._alerts
        sensors = self._sensors
        return orjson.dumps(
            [
                STATE_VERSION,
                self.vehicle_id,
                self._last_us,
                self._bms_kwh,
                self._nominal_kwh,
                self._nominal_ah,
                self._n_cells,
                self._reported_cycles,
                self._soh,
                self._health_key,
                self._sessions.dump(),
                _FRESH_FILTER if capacity is None else capacity.dump(),
                self._cycles.dump(),
                _FRESH_THERMAL if thermal is None else thermal.dump(),
                _FRESH_THERMAL if thermal_pack is None else thermal_pack.dump(),
                [] if alerts is None else alerts.dump(),
                _FRESH_SENSORS if sensors is None else sensors.dump(),
                self._discharge.to_state(),
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "VehicleState":
        """Inverse of ``to_bytes``; raises ``StateDecodeError`` on bytes it did not write."""
        try:
            try:
                body = orjson.loads(data)
            except orjson.JSONDecodeError:
                body = json.loads(data)  # json.dumps, the former writer, may spell NaN/Infinity
            if not isinstance(body, list) or body[0] != STATE_VERSION:
                raise StateDecodeError("unknown vehicle state version")
            st = cls(str(body[1]))
            st._last_us = body[2]
            st._bms_kwh = body[3]
            st._nominal_kwh = body[4]
            st._nominal_ah = body[5]
            st._n_cells = int(body[6])
            st._reported_cycles = body[7]
            st._soh = body[8]
            st._health_key = None if body[9] is None else tuple(body[9])
            st._sessions = ChargeSessionTracker.load(body[10])
            if body[11] != _FRESH_FILTER:
                st._filter = CapacityFilter.load(body[11])
            st._cycles = CycleCounter.load(body[12])
            if body[13] != _FRESH_THERMAL:
                st._thermal = ThermalRateTracker.load(body[13])
            if body[14] != _FRESH_THERMAL:
                st._thermal_pack = ThermalRateTracker.load(body[14])
            if body[15]:
                st._alerts = AlertTracker.load(body[15])
            if body[16] != _FRESH_SENSORS:
                st._sensors = StuckSensorTracker.load(body[16])
            # States written before discharge tracking have 17 items: start a fresh tracker.
            if len(body) > 17:
                st._discharge = DischargeTracker.from_state(body[17])
        except StateDecodeError:
            raise
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise StateDecodeError(f"corrupt vehicle state: {exc}") from exc
        return st


def nominal_ah(nominal_kwh: float, n_cells: int, profile: CalibrationProfile) -> float:
    """Nominal pack Ah = nominal kWh * 1000 / nominal pack voltage.

    The nominal pack voltage is the profile's ``nominal_pack_voltage_v`` when set, else
    ``cells * cell_nominal_v`` (cells in series), else ``series_cells * cell_nominal_v``.
    Coulomb-counted SOH is ``capacity_Ah / nominal_Ah``; its kWh is ``SOH * nominal kWh`` (i.e.
    converted at the nominal voltage, not at the mean charging voltage, which would bias it).
    """
    volts = profile.nominal_pack_voltage_v
    if volts is None:
        volts = (n_cells if n_cells > 0 else profile.series_cells) * profile.cell_nominal_v
    return nominal_kwh * 1000.0 / volts


def _confidence(std: float, sessions: int, profile: CalibrationProfile) -> Confidence:
    if sessions >= profile.confidence_high_sessions and std <= profile.confidence_high_std_percent:
        return Confidence.high
    if std <= profile.confidence_medium_std_percent:
        return Confidence.medium
    return Confidence.low


def _consistent(
    f_soh: float, f_std: float, bms_soh: float, sessions: int, profile: CalibrationProfile
) -> bool:
    """Whether the BMS capacity agrees with coulomb counting well enough to fuse.

    Once two sessions agree, a BMS value more than 3 sigma (combined) away is treated as
    uninformative (e.g. a BMS that always reports the nominal capacity) and left out.
    """
    if sessions < 2:
        return True
    b_std = profile.bms_capacity_std_percent
    return abs(f_soh - bms_soh) <= 3.0 * math.sqrt(f_std * f_std + b_std * b_std)
