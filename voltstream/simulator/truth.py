"""Ground truth of a simulated fleet (vehicles, capacity over time, sessions, faults, messages)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from voltstream.simulator.catalog import VehicleSpec
from voltstream.simulator.duty import ChargeSession
from voltstream.simulator.encode import format_timestamp
from voltstream.simulator.faults import FaultWindow
from voltstream.simulator.messages import SimMessage


@dataclass(frozen=True, slots=True)
class CapacityPoint:
    """True capacity of a vehicle at `t_s` seconds since the fleet start."""

    t_s: float
    capacity_kwh: float
    capacity_ah: float
    soh_percent: float
    equivalent_full_cycles: float


@dataclass(slots=True)
class VehicleTruth:
    """Everything true about one vehicle; capacity and sessions fill in while it is simulated."""

    spec: VehicleSpec
    faults: tuple[FaultWindow, ...]
    capacity: list[CapacityPoint] = field(default_factory=list)
    sessions: list[ChargeSession] = field(default_factory=list)
    message_counts: dict[str, int] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def soh_at(self, t_s: float) -> float:
        """True SOH at `t_s` (last capacity point at or before it; the first one before)."""
        best = self.capacity[0] if self.capacity else None
        for point in self.capacity:
            if point.t_s > t_s:
                break
            best = point
        if best is None:
            raise LookupError(f"no capacity truth for {self.spec.vehicle_id}")
        return best.soh_percent

    def deep_sessions(self, min_swing_percent: float) -> list[ChargeSession]:
        """Completed charge sessions with at least `min_swing_percent` SOC swing."""
        return [s for s in self.sessions if s.soc_end - s.soc_start >= min_swing_percent]


@dataclass(slots=True)
class GroundTruth:
    """Ground truth of a fleet run; complete once `Fleet.messages()` is exhausted."""

    start: datetime
    vehicles: dict[str, VehicleTruth] = field(default_factory=dict)

    def time_of(self, t_s: float) -> str:
        """Seconds since start as ISO 8601 text."""
        return format_timestamp(self.start + timedelta(seconds=t_s))

    def records(self) -> Iterator[dict[str, Any]]:
        """JSON-ready records (one JSON Lines row each), vehicle by vehicle."""
        for truth in self.vehicles.values():
            yield from vehicle_records(truth, self.start)


def vehicle_records(
    truth: VehicleTruth, start: datetime, include_messages: bool = True
) -> Iterator[dict[str, Any]]:
    """Records of one vehicle: spec, capacity series, sessions, faults (and its odd messages)."""
    spec = truth.spec

    def at(t_s: float) -> str:
        return format_timestamp(start + timedelta(seconds=t_s))

    vid = spec.vehicle_id
    yield {
        "record": "vehicle",
        "vehicle_id": vid,
        "make": spec.model.make,
        "model": spec.model.model,
        "chemistry": spec.chemistry.name.value,
        "cells": spec.cells,
        "nominal_capacity_kwh": spec.nominal_capacity_kwh,
        "nominal_capacity_ah": round(spec.nominal_capacity_ah, 4),
        "nominal_cell_voltage_v": spec.chemistry.nominal_cell_v,
        "initial_soh_percent": round(spec.initial_soh_percent, 4),
        "initial_equivalent_cycles": round(spec.initial_equivalent_cycles, 2),
        "faults": [w.type.value for w in truth.faults],
        "message_counts": dict(truth.message_counts),
    }
    for point in truth.capacity:
        yield {
            "record": "capacity",
            "vehicle_id": vid,
            "time": at(point.t_s),
            "capacity_kwh": round(point.capacity_kwh, 5),
            "capacity_ah": round(point.capacity_ah, 5),
            "soh_percent": round(point.soh_percent, 5),
            "equivalent_full_cycles": round(point.equivalent_full_cycles, 3),
        }
    for session in truth.sessions:
        yield {
            "record": "charge_session",
            "vehicle_id": vid,
            "kind": session.kind,
            "start": at(session.start_s),
            "end": at(session.end_s),
            "soc_start": round(session.soc_start, 3),
            "soc_end": round(session.soc_end, 3),
            "charged_ah": round(session.charged_ah, 4),
        }
    for window in truth.faults:
        yield {
            "record": "fault",
            "vehicle_id": vid,
            "type": window.type.value,
            "start": at(window.start_s),
            "end": at(window.end_s),
            "cells": list(window.cells),
            "sensor": window.sensor,
            "magnitude": round(window.magnitude, 5),
            "expected_alerts": list(window.expected_alerts),
        }
    if include_messages:
        yield from truth.messages


def message_record(message: SimMessage, start: datetime) -> dict[str, Any]:
    """Record of one duplicate / out-of-order / malformed message."""
    return {
        "record": "message",
        "vehicle_id": message.vehicle_id,
        "seq": message.seq,
        "kind": message.kind.value,
        "event_time": format_timestamp(message.event_time),
        "emit_time": format_timestamp(
            start + timedelta(milliseconds=round(message.emit_offset_s * 1000.0))
        ),
        "readings": message.readings,
        "detail": message.detail,
    }
