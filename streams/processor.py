"""Turn raw telemetry messages into rows, alerts and dead letters: the worker's hot path."""

import logging
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from schemas.alerts import Alert, Severity
from schemas.decode import decode_telemetry
from schemas.errors import SchemaError
from schemas.limits import DecodeLimits
from schemas.telemetry import PackSnapshot, Reading
from streams.analytics.discharge import DischargeCycle
from streams.analytics.profiles import CalibrationProfile, UnknownProfileError, resolve_profile
from streams.analytics.state import VehicleState
from streams.analytics.stats import CellSummary, summarize_many
from streams.clock import StreamClock
from streams.dlq import DeadLetter, SourcePosition
from streams.fastpath import FastDecoder
from streams.forecasting import (
    CYCLE_SOURCE,
    CycleForecasting,
    CyclePrediction,
    cycle_features,
    soh_target,
)
from streams.ratelimit import EventTimeRateLimiter
from streams.sink.rows import RowBatch
from streams.statestore import DirtyState, StateStore
from voltstream.settings import PipelineSettings

if TYPE_CHECKING:  # numpy/torch only load when a forecaster is configured
    from streams.predictor.forecaster import DegradationForecaster

logger = logging.getLogger(__name__)


class Decoder(Protocol):
    """Raw bytes to readings (or per-reading errors); raises only `SchemaError`."""

    def decode(self, raw: bytes, now: datetime | None = None) -> list[Reading | SchemaError]:
        """Decode one Kafka message value."""


class PydanticDecoder:
    """Decode with the pydantic models themselves (the reference path)."""

    def __init__(self, limits: DecodeLimits) -> None:
        self._limits = limits

    def decode(self, raw: bytes, now: datetime | None = None) -> list[Reading | SchemaError]:
        """Decode one Kafka message value."""
        return decode_telemetry(raw, self._limits, now)


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """A consumed Kafka record: key, value and where it came from."""

    key: bytes | None
    value: bytes
    position: SourcePosition


@dataclass
class FlushPlan:
    """Everything one batch of messages produces, written and published before it is acked."""

    rows: RowBatch = field(default_factory=RowBatch)
    alerts: list[Alert] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    message_timestamps: list[float] = field(default_factory=list)
    readings: Tally[str] = field(default_factory=Tally)
    states: list[DirtyState] = field(default_factory=list)
    """Changed vehicle states as of this batch, encoded for the changelog."""
    late: int = 0
    rate_limited: int = 0

    def dead(self, letter: DeadLetter) -> None:
        """Route a message or reading to the dead-letter topic."""
        self.dead_letters.append(letter)

    def __len__(self) -> int:
        return sum(self.readings.values()) + len(self.dead_letters)


class TelemetryProcessor:
    """Decode, rate-limit, fold into per-vehicle state and emit rows/alerts for each message.

    It never raises for bad input: every failure becomes a dead letter carrying the original
    bytes. It has no Kafka or database I/O, so it is tested directly.
    """

    def __init__(
        self,
        settings: PipelineSettings,
        store: StateStore[VehicleState],
        *,
        alert_min_severity: Severity = Severity.warning,
        forecaster: "DegradationForecaster | None" = None,
    ) -> None:
        self._settings = settings
        self._forecasting = CycleForecasting(forecaster) if forecaster is not None else None
        self._store = store
        limits = DecodeLimits(
            max_payload_bytes=settings.max_payload_bytes,
            max_cells=settings.max_cells,
            max_future_skew_s=settings.max_future_skew_s,
        )
        self._decoder: Decoder = (
            FastDecoder(limits) if settings.decoder == "fast" else PydanticDecoder(limits)
        )
        self._limiter = EventTimeRateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
        self._clocks: dict[int, StreamClock] = {}
        self._last_seen: dict[str, float] = {}
        self._vehicle_profile: dict[str, CalibrationProfile] = {}
        self._alert_min_severity = alert_min_severity
        self._profile_override = self._resolve(settings.profile, None, None, None)
        self.offline: set[str] = set()

    @staticmethod
    @lru_cache(maxsize=1024)
    def _resolve(
        name: str | None, make: str | None, model: str | None, chemistry: str | None
    ) -> CalibrationProfile:
        try:
            return resolve_profile(name, make, model, chemistry)
        except UnknownProfileError:
            logger.warning("unknown calibration profile %r, using the default", name)
            return resolve_profile()

    def _profile_for(self, reading: Reading) -> CalibrationProfile:
        if self._settings.profile is not None:
            return self._profile_override
        if isinstance(reading, PackSnapshot):
            profile = self._resolve(None, reading.make, reading.model, reading.chemistry)
            self._vehicle_profile[reading.vehicle_id] = profile
            return profile
        return self._vehicle_profile.get(reading.vehicle_id) or self._profile_override

    def clock(self, partition: int) -> StreamClock:
        """The stream clock of one partition."""
        clock = self._clocks.get(partition)
        if clock is None:
            clock = self._clocks[partition] = StreamClock()
        return clock

    def process(self, message: SourceMessage, plan: FlushPlan, ingested_at: datetime) -> None:
        """Fold one Kafka message into `plan`; bad input becomes dead letters, never raises."""
        plan.message_timestamps.append(message.position.timestamp)
        try:
            results = self._decoder.decode(message.value, ingested_at)
        except SchemaError as exc:
            plan.dead(self._letter(message, exc.reason, exc, exc.detail, exc.field, None))
            return
        except Exception as exc:
            logger.exception("decoder failed on %s", message.position)
            plan.dead(self._letter(message, "internal_error", exc, str(exc), None, None))
            return
        key = message.key.decode("utf-8", "replace") if message.key is not None else None
        index_readings = len(results) > 1
        summaries = _summaries(results) if index_readings else None
        for index, result in enumerate(results):
            reading_index = index if index_readings else None
            if isinstance(result, SchemaError):
                plan.dead(
                    self._letter(
                        message, result.reason, result, result.detail, result.field, reading_index
                    )
                )
                continue
            try:
                self._process_reading(
                    message,
                    result,
                    key,
                    reading_index,
                    plan,
                    ingested_at,
                    None if summaries is None else summaries[index],
                )
            except Exception as exc:
                logger.exception("processing failed on %s", message.position)
                plan.dead(
                    self._letter(message, "internal_error", exc, str(exc), None, reading_index)
                )

    def _process_reading(
        self,
        message: SourceMessage,
        reading: Reading,
        key: str | None,
        reading_index: int | None,
        plan: FlushPlan,
        ingested_at: datetime,
        summary: CellSummary | None = None,
    ) -> None:
        vehicle_id = reading.vehicle_id
        if key != vehicle_id:
            reason = "missing_key" if key is None else "key_mismatch"
            detail = f"Kafka key {key!r} is not the reading's vehicle {vehicle_id!r}"
            plan.dead(self._letter(message, reason, None, detail, "key", reading_index))
            return
        event_time = reading.timestamp.timestamp()
        if not self._limiter.allow(vehicle_id, event_time):
            plan.rate_limited += 1
            detail = f"over {self._settings.rate_limit_per_s:g} readings/s of event time"
            plan.dead(
                self._letter(message, "rate_limited", None, detail, None, reading_index, vehicle_id)
            )
            return
        partition = message.position.partition
        state = self._store.get(vehicle_id, partition)
        profile = self._profile_for(reading)
        outcome = state.process(reading, profile, summary)
        prediction = (
            self._cycles_closed(vehicle_id, state, profile, outcome.cycles, plan)
            if outcome.cycles
            else None
        )
        self.clock(partition).observe(event_time)
        previous = self._last_seen.get(vehicle_id)
        if previous is None or event_time > previous:
            self._last_seen[vehicle_id] = event_time
        self.offline.discard(vehicle_id)
        rows = plan.rows
        if isinstance(reading, PackSnapshot):
            plan.readings["snapshot"] += 1
            stats = outcome.stats
            assert stats is not None, "a validated snapshot has cells"
            rows.add_snapshot(
                reading,
                stats,
                outcome.late,
                ingested_at,
                outcome.volts,
                outcome.temps,
                outcome.packed32,
            )
            make, model, chemistry = reading.make, reading.model, reading.chemistry
        else:
            plan.readings["sample"] += 1
            rows.add_sample(reading, outcome.late, ingested_at)
            make = model = chemistry = None
        if outcome.late:
            plan.late += 1
        if outcome.health is not None or prediction is not None:
            rows.add_health(
                vehicle_id,
                reading.timestamp,
                outcome.health if outcome.health is not None else state.health(profile),
                outcome.efc,
                state.deep_discharge_cycles,
                predicted_soh=None if prediction is None else prediction.predicted_soh,
                predicted_rul_cycles=None if prediction is None else prediction.rul_cycles,
            )
        for alert in outcome.alerts:
            self._emit(alert, plan)
        if prediction is not None:
            rapid = state.observe_forecast(
                reading.timestamp,
                rapid=prediction.rapid,
                fade_percent_per_cycle=prediction.fade_percent_per_cycle,
                threshold=prediction.threshold,
                evidence={
                    "predicted_soh": prediction.predicted_soh,
                    "rul_cycles": prediction.rul_cycles,
                    "last_soh": prediction.last_soh,
                    "history_cycles": prediction.history_cycles,
                    "expected_fade_percent_per_cycle": profile.expected_fade_percent_per_cycle,
                },
            )
            if rapid is not None:
                self._emit(rapid, plan)
        rows.touch_vehicle(vehicle_id, reading.timestamp, make, model, chemistry, profile.name)

    def _cycles_closed(
        self,
        vehicle_id: str,
        state: VehicleState,
        profile: CalibrationProfile,
        cycles: tuple[DischargeCycle, ...],
        plan: FlushPlan,
    ) -> CyclePrediction | None:
        """cycle_series rows for closed discharge cycles; the last forecast, if any.

        Runs only for the (rare) reading that closes a discharge session. Cycle rows are keyed
        by (source, vehicle, cycle index) and the index is part of the replayed state, so a
        replay inserts nothing twice.
        """
        rated = state.nominal_ah
        forecasting = self._forecasting
        prediction: CyclePrediction | None = None
        for cycle in cycles:
            plan.rows.add_cycle(
                source=CYCLE_SOURCE,
                battery_id=vehicle_id,
                cycle_index=cycle.cycle_index,
                time=cycle.end_time,
                features=cycle_features(cycle, rated),
                soh_target=soh_target(cycle, rated),
                capacity_ah=cycle.capacity_ah,
            )
            if forecasting is not None:
                prediction = forecasting.observe(vehicle_id, cycle, rated, profile) or prediction
        return prediction

    def _emit(self, alert: Alert, plan: FlushPlan) -> None:
        plan.rows.add_alert(alert)
        if alert.severity >= self._alert_min_severity:
            plan.alerts.append(alert)

    def check_offline(self, plan: FlushPlan, now: float | None = None) -> None:
        """Raise `device_offline` for vehicles silent longer than the configured period.

        Silence is measured on each partition's stream clock (event time while replaying a
        backlog, wall-clock time once caught up), so a lagging worker raises no false alarms.
        """
        period = self._settings.offline_after_s
        for vehicle_id, last in self._last_seen.items():
            if vehicle_id in self.offline:
                continue
            partition = self._store.partition_of(vehicle_id)
            if partition is None:
                continue
            reference = now if now is not None else self.clock(partition).now()
            if reference is None or reference - last <= period:
                continue
            state = self._store.get(vehicle_id, partition)
            alert = state.check_offline(datetime.fromtimestamp(reference, UTC), period)
            self.offline.add(vehicle_id)
            last_time = datetime.fromtimestamp(last, UTC)
            plan.rows.mark_offline(vehicle_id, last_time)
            if alert is not None:
                self._emit(alert, plan)
            # Close the vehicle's open window (a charge session) on time, not on its next reading.
            profile = self._vehicle_profile.get(vehicle_id) or self._profile_override
            health = state.finish(profile)
            if health is not None:
                plan.rows.add_health(
                    vehicle_id, last_time, health, state.efc, state.deep_discharge_cycles
                )

    def forget(self, vehicle_ids: list[str]) -> None:
        """Drop per-vehicle bookkeeping for vehicles whose partitions moved away."""
        for vehicle_id in vehicle_ids:
            self._last_seen.pop(vehicle_id, None)
            self._limiter.forget(vehicle_id)
            self.offline.discard(vehicle_id)
            self._vehicle_profile.pop(vehicle_id, None)
            if self._forecasting is not None:
                self._forecasting.forget(vehicle_id)

    @property
    def vehicles_tracked(self) -> int:
        """Vehicles seen by this worker since it (re)gained their partitions."""
        return len(self._last_seen)

    @staticmethod
    def _letter(
        message: SourceMessage,
        reason: str,
        exc: BaseException | None,
        detail: str,
        field_path: str | None,
        reading_index: int | None,
        vehicle_id: str | None = None,
    ) -> DeadLetter:
        key = message.key
        if vehicle_id is None and key is not None:
            vehicle_id = key.decode("utf-8", "replace")[:64]
        return DeadLetter(
            key=key,
            value=message.value,
            reason=reason,
            error_class=type(exc).__name__ if exc is not None else reason,
            message=detail,
            field=field_path,
            source=message.position,
            reading_index=reading_index,
            vehicle_id=vehicle_id,
        )


def _summaries(results: list[Reading | SchemaError]) -> list[CellSummary | None] | None:
    """The cell summaries of a message's snapshots, computed together (``summarize_many``).

    None when fewer than two readings are snapshots with cells, or when the batch fails: each
    reading then summarizes its own cells, and an error lands in that reading's dead letter.
    """
    snapshots = [(i, r) for i, r in enumerate(results) if isinstance(r, PackSnapshot) and r.cells]
    if len(snapshots) < 2:
        return None
    try:
        summaries = summarize_many([snapshot.cells for _, snapshot in snapshots])
    except Exception:  # recomputed per reading, which routes the error to a dead letter
        return None
    aligned: list[CellSummary | None] = [None] * len(results)
    for (i, _), summary in zip(snapshots, summaries, strict=True):
        aligned[i] = summary
    return aligned
