"""Real message models (schemas) for sink tests and the sink benchmark."""

import random
from datetime import UTC, datetime, timedelta

from schemas.alerts import Alert, AlertState, AlertType, Severity
from schemas.report import Confidence, SohEstimate, SohMethod
from schemas.telemetry import CellReading, PackSample, PackSnapshot, SampleMetrics

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def snapshot(
    vehicle_id: str = "VIN-0001",
    at: datetime = T0,
    cells: int = 96,
    *,
    seed: int = 0,
    ids: list[int] | None = None,
    resistance: bool = False,
) -> PackSnapshot:
    """A plausible 96-cell snapshot with deterministic pseudo-random cell values."""
    rnd = random.Random(seed)
    cell_ids = ids if ids is not None else list(range(cells))
    return PackSnapshot(
        vehicle_id=vehicle_id,
        timestamp=at,
        cells=tuple(
            CellReading(
                id=cell_id,
                voltage=round(rnd.uniform(3.55, 3.75), 4),
                temperature=round(rnd.uniform(24.0, 31.0), 2),
                internal_resistance_mohm=round(rnd.uniform(0.8, 1.4), 3) if resistance else None,
            )
            for cell_id in cell_ids
        ),
        cycle_count=321,
        nominal_capacity_kwh=75.0,
        current_capacity_kwh=69.5,
        pack_voltage_v=352.8,
        pack_current_a=-42.5,
        soc_percent=64.0,
        odometer_km=48_210.5,
        make="Voltmotors",
        model="V1",
        chemistry="NMC",
    )


def sample(vehicle_id: str = "dev001", at: datetime = T0, soc: float = 67.5) -> PackSample:
    """A seed-003 pack sample."""
    return PackSample(
        device_id=vehicle_id,
        timestamp=at,
        metrics=SampleMetrics(soc_percent=soc, voltage_v=385.2, current_a=-45.3, temp_c=28.4),
    )


def soh() -> SohEstimate:
    """A measured-capacity estimate."""
    return SohEstimate(
        soh_percent=92.7,
        method=SohMethod.measured_capacity,
        confidence=Confidence.high,
        capacity_kwh=69.5,
        sessions=3,
        std_percent=0.8,
    )


def alert(
    vehicle_id: str = "VIN-0001",
    state: AlertState | None = None,
    at: datetime = T0,
) -> Alert:
    """A voltage-imbalance alert transition."""
    return Alert(
        alert_id=f"{vehicle_id}-imbalance-1",
        vehicle_id=vehicle_id,
        type=AlertType.voltage_imbalance,
        severity=Severity.critical,
        state=state if state is not None else AlertState.firing,
        value=0.21,
        threshold=0.15,
        unit="V",
        cells=(3, 17),
        first_seen=at - timedelta(seconds=30),
        last_seen=at,
        event_time=at,
        message="cell voltage spread 0.21 V > 0.15 V",
        evidence={"v_min": 3.51, "v_max": 3.72, "cells": [3, 17], "note": None},
    )
