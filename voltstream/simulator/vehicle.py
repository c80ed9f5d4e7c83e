"""One simulated vehicle: runs its duty cycle and physics and yields its messages in send order."""

import heapq
import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC

import numpy as np
import orjson

from voltstream.simulator.ageing import AgeingState
from voltstream.simulator.config import BmsCapacityMode, FleetConfig
from voltstream.simulator.duty import DutyCycle, Mode
from voltstream.simulator.effects import FaultEffects, clip_temperatures
from voltstream.simulator.encode import (
    Reading,
    TimestampFormatter,
    encode_reading,
    sample_dict,
    snapshot_dict,
)
from voltstream.simulator.faults import FaultType, FaultWindow, plan_faults
from voltstream.simulator.malformed import (
    MESSAGE_CORRUPTIONS,
    READING_CORRUPTIONS,
    Corruption,
    corrupt_message,
    corrupt_reading,
)
from voltstream.simulator.messages import MessageKind, SimMessage
from voltstream.simulator.pack import PACK_V_NOISE, PackModel
from voltstream.simulator.population import draw_vehicle, vehicle_rng
from voltstream.simulator.truth import CapacityPoint, VehicleTruth, message_record

CAPACITY_TRUTH_PERIOD_S = 3600.0
DIURNAL_SWING_C = 6.0
ALL_CORRUPTIONS = MESSAGE_CORRUPTIONS + READING_CORRUPTIONS


class VehicleSim:
    """A vehicle of a fleet; `messages()` simulates it from scratch each time it is called."""

    def __init__(self, config: FleetConfig, index: int) -> None:
        self.config = config
        self.index = index
        self.spec, self._initial_ageing = draw_vehicle(config, index)
        faults = plan_faults(
            vehicle_rng(config, index, "faults"), config.faults, config.duration_s, self.spec.cells
        )
        self.faults: tuple[FaultWindow, ...] = faults
        self.truth = VehicleTruth(self.spec, faults)

    @property
    def vehicle_id(self) -> str:
        """The vehicle's id (also its Kafka key)."""
        return self.spec.vehicle_id

    def ambient_c(self, hour: float) -> float:
        """Ambient temperature at local `hour`: mean + diurnal swing peaking at 15:00."""
        return self.spec.ambient_mean_c + DIURNAL_SWING_C * math.sin(
            2.0 * math.pi * (hour - 9.0) / 24.0
        )

    def messages(self) -> Iterator[SimMessage]:
        """Yield this vehicle's messages in emission order (`emit_offset_s`, then `seq`)."""
        return _VehicleRun(self).run()


class _VehicleRun:
    """The mutable state of one simulation run of a vehicle."""

    def __init__(self, sim: VehicleSim) -> None:
        cfg = sim.config
        spec = sim.spec
        self.sim = sim
        self.cfg = cfg
        self.spec = spec
        self.truth = sim.truth
        self.truth.capacity.clear()
        self.truth.sessions.clear()
        self.truth.messages.clear()
        self.truth.message_counts.clear()
        ageing = _copy_ageing(sim)
        physics_rng = vehicle_rng(cfg, sim.index, "physics")
        self.msg_rng = vehicle_rng(cfg, sim.index, "messages")
        start = cfg.start.astimezone(UTC)
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        day_offset = (start - midnight).total_seconds()
        self.duty = DutyCycle(
            spec, vehicle_rng(cfg, sim.index, "duty"), day_offset, cfg.usage_scale
        )
        self.duty.odometer_km = round(
            spec.initial_equivalent_cycles
            * spec.nominal_capacity_kwh
            / spec.model.consumption_kwh_per_km
            * 0.8,
            1,
        )
        self.truth.sessions = self.duty.sessions
        soc = physics_rng.uniform(35.0, 90.0)
        self.pack = PackModel(
            spec, physics_rng, ageing, soc, sim.ambient_c(day_offset / 3600.0), cfg.seed
        )
        self.physics_rng = physics_rng
        self.effects = FaultEffects()
        self.fmt = TimestampFormatter(start)
        self.key = spec.vehicle_id.encode()
        self.bms_bias = self._draw_bms_bias()
        self.sessions_seen = 0
        self.seq = 0
        self.pending: list[tuple[float, int, int, float, SimMessage]] = []
        self.counter = 0
        self.max_sent_t = -math.inf
        self.period_s = cfg.active_period_s
        self.batch_parts: list[bytes] = []
        self.batch_t = 0.0
        self.plan: tuple[Corruption, int] | None = None
        self.envelope_head = (
            b'{"schema_version":1,"vehicle_id":' + orjson.dumps(spec.vehicle_id) + b',"readings":['
        )
        self.ids = list(range(spec.cells))
        self.model_fields = (spec.model.make, spec.model.model, spec.chemistry.name.value)

    def _draw_bms_bias(self) -> float:
        return self.physics_rng.gauss(0.0, self.cfg.bms_capacity_noise_percent / 100.0)

    # -- main loop -----------------------------------------------------------------------------

    def run(self) -> Iterator[SimMessage]:
        cfg = self.cfg
        pack = self.pack
        duty = self.duty
        faults = self.sim.faults
        thermal = [w for w in faults if w.type is FaultType.THERMAL_EVENT]
        duration = cfg.duration_s
        active_period = cfg.active_period_s
        snapshot_every = cfg.snapshot_every
        has_samples = cfg.sample_period_s is not None
        has_snapshots = cfg.snapshot_period_s is not None
        t = self.spec.phase_s
        current = 0.0
        active_ticks = 0
        next_truth = 0.0
        while t <= duration:
            hour = duty.hour_of_day(t)
            ambient = self.sim.ambient_c(hour)
            if t >= next_truth:
                self._record_capacity(t)
                next_truth += CAPACITY_TRUTH_PERIOD_S
            active_faults = [w for w in faults if w.start_s <= t < w.end_s] if faults else []
            mode = duty.advance(t, pack.soc)
            if len(duty.sessions) != self.sessions_seen:
                self.sessions_seen = len(duty.sessions)
                self.bms_bias = self._draw_bms_bias()
            in_thermal = any(w.type is FaultType.THERMAL_EVENT for w in active_faults)
            active = mode is not Mode.PARK or in_thermal
            self.period_s = active_period if active else cfg.parked_period_s
            offline = any(w.type is FaultType.OFFLINE for w in active_faults)
            if not offline:
                if active:
                    snapshot = has_snapshots and (
                        not has_samples or active_ticks % snapshot_every == 0
                    )
                else:
                    snapshot = has_snapshots
                if snapshot:
                    self._add_reading(self._snapshot(t, current, ambient, active_faults), t)
                else:
                    self._add_reading(self._sample(t, current, ambient, active_faults), t)
            if active:
                active_ticks += 1
                dt = active_period
            else:
                dt = max(min(cfg.parked_period_s, duty.park_until_s - t), active_period)
                for window in thermal:
                    if window.start_s > t:
                        dt = min(dt, max(window.start_s - t, active_period))
            pack_v = pack.pack_voltage(0.0)
            current = duty.current_a(dt, pack.soc, pack_v)
            pack.step(dt, current, ambient)
            duty.account_charge(current, dt)
            yield from self._release(t)
            t += dt
        self._flush_batch()
        self._record_capacity(min(t, duration) if duration > 0 else 0.0)
        yield from self._release(math.inf)

    # -- readings ------------------------------------------------------------------------------

    def _bms_capacity_kwh(self) -> float:
        if self.cfg.bms_capacity is BmsCapacityMode.NOMINAL:
            return self.spec.nominal_capacity_kwh
        return round(self.pack.capacity_kwh * (1.0 + self.bms_bias), 2)

    def _snapshot(
        self, t: float, current: float, ambient: float, active: list[FaultWindow]
    ) -> Reading:
        pack = self.pack
        volts = pack.cell_voltages(current)
        temps = pack.cell_temperatures(ambient)
        if active:
            self.effects.apply_physical(active, t, volts, temps)
        pack_v = float(volts.sum()) + self.physics_rng.gauss(0.0, PACK_V_NOISE)
        volts = np.round(volts, 4)
        temps = np.round(clip_temperatures(temps), 2)
        if active:
            self.effects.apply_sensors(active, volts, temps)
            pack_v *= self.effects.pack_voltage_factor(active)
        cells = [
            {"id": i, "voltage": v, "temperature": c}
            for i, v, c in zip(self.ids, volts.tolist(), temps.tolist(), strict=True)
        ]
        make, model, chemistry = self.model_fields
        return snapshot_dict(
            self.spec.vehicle_id,
            self.fmt.text(t),
            cells,
            int(pack.ageing.efc_raw),
            self.spec.nominal_capacity_kwh,
            self._bms_capacity_kwh(),
            round(pack_v, 2),
            current,
            round(pack.soc, 3),
            round(self.duty.odometer_km, 1),
            make,
            model,
            chemistry,
        )

    def _sample(
        self, t: float, current: float, ambient: float, active: list[FaultWindow]
    ) -> Reading:
        pack = self.pack
        voltage = pack.pack_voltage(current) + self.physics_rng.gauss(0.0, PACK_V_NOISE)
        base = pack.temp_c + pack.max_t_offset * pack.temperature_scale(ambient)
        if active:
            voltage *= self.effects.pack_voltage_factor(active)
            base += self.effects.sample_temperature_rise(active, t, base)
        return sample_dict(
            self.spec.vehicle_id,
            self.fmt.text(t),
            round(pack.soc, 3),
            round(voltage, 2),
            current,
            round(min(base, 140.0), 1),
        )

    # -- messages ------------------------------------------------------------------------------

    def _add_reading(self, reading: Reading, t: float) -> None:
        parts = self.batch_parts
        if not parts:
            self.plan = self._plan_corruption()
        plan = self.plan
        if plan is not None and plan[1] == len(parts) and plan[0] in READING_CORRUPTIONS:
            reading = corrupt_reading(reading, plan[0])
        parts.append(encode_reading(reading))
        self.batch_t = t
        if len(parts) >= self.cfg.batch_size:
            self._flush_batch()

    def _plan_corruption(self) -> tuple[Corruption, int] | None:
        rate = self.cfg.faults.malformed
        rng = self.msg_rng
        if rate and rng.random() < rate:
            return rng.choice(ALL_CORRUPTIONS), rng.randrange(self.cfg.batch_size)
        return None

    def _flush_batch(self) -> None:
        parts = self.batch_parts
        if not parts:
            return
        self.batch_parts = []
        t = self.batch_t
        batched = self.cfg.batch_size > 1
        value = self.envelope_head + b",".join(parts) + b"]}" if batched else parts[0]
        seq = self.seq
        self.seq += 1
        count = len(parts)
        plan = self.plan
        rng = self.msg_rng
        if plan is not None:
            corruption, j = plan
            if corruption in MESSAGE_CORRUPTIONS:
                broken = corrupt_message(value, corruption, rng)
                msg = self._message(
                    broken, t, t, MessageKind.MALFORMED, seq, count, corruption.value
                )
                self._push(msg)
                return
            if j < count:
                where = f"{corruption.value}@readings[{j}]" if batched else corruption.value
                self._push(self._message(value, t, t, MessageKind.MALFORMED, seq, count, where))
                return
        rates = self.cfg.faults
        kind = MessageKind.VALID
        detail: str | None = None
        emit = t
        if rates.out_of_order and rng.random() < rates.out_of_order:
            delay = round(self.period_s * self.cfg.batch_size * rng.uniform(1.5, 3.0), 3)
            emit = t + delay
            kind = MessageKind.OUT_OF_ORDER
            detail = f"delay_s={delay}"
        self._push(self._message(value, t, emit, kind, seq, count, detail))
        if rates.duplicate and rng.random() < rates.duplicate:
            dup_emit = emit + round(rng.uniform(0.5, 30.0), 3)
            self._push(self._message(value, t, dup_emit, MessageKind.DUPLICATE, seq, count, None))

    def _message(
        self,
        value: bytes,
        t: float,
        emit: float,
        kind: MessageKind,
        seq: int,
        readings: int,
        detail: str | None,
    ) -> SimMessage:
        pack = self.pack
        return SimMessage(
            key=self.key,
            value=value,
            event_time=self.fmt.moment(t),
            vehicle_id=self.spec.vehicle_id,
            emit_offset_s=emit,
            kind=kind,
            seq=seq,
            readings=readings,
            vehicle_index=self.sim.index,
            true_capacity_kwh=pack.capacity_kwh,
            true_soh_percent=pack.soh_percent,
            detail=detail,
        )

    def _push(self, message: SimMessage) -> None:
        self.counter += 1
        heapq.heappush(
            self.pending,
            (message.emit_offset_s, message.seq, self.counter, self.batch_t, message),
        )

    def _release(self, until: float) -> Iterator[SimMessage]:
        """Yield pending messages sent up to `until`, settling their ground truth.

        A delayed message is only OUT_OF_ORDER if a later reading of the vehicle went out
        before it; otherwise it was merely late and counts as VALID.
        """
        pending = self.pending
        counts = self.truth.message_counts
        while pending and pending[0][0] <= until:
            *_, event_t, message = heapq.heappop(pending)
            kind = message.kind
            if kind is MessageKind.OUT_OF_ORDER and event_t >= self.max_sent_t:
                message = replace(message, kind=MessageKind.VALID, detail=None)
                kind = MessageKind.VALID
            if kind is not MessageKind.MALFORMED:
                self.max_sent_t = max(self.max_sent_t, event_t)
            counts[kind.value] = counts.get(kind.value, 0) + 1
            if kind is not MessageKind.VALID:
                self.truth.messages.append(message_record(message, self.cfg.start))
            yield message

    def _record_capacity(self, t: float) -> None:
        pack = self.pack
        self.truth.capacity.append(
            CapacityPoint(
                t_s=t,
                capacity_kwh=pack.capacity_kwh,
                capacity_ah=pack.capacity_ah,
                soh_percent=pack.soh_percent,
                equivalent_full_cycles=pack.ageing.efc_raw,
            )
        )


def _copy_ageing(sim: VehicleSim) -> AgeingState:
    source = sim._initial_ageing
    return AgeingState(source.params, source.t_eq_days, source.efc_eq, source.manufacturing_factor)
