"""Build telemetry messages for tests: seed 001 snapshots and seed 003 samples as JSON bytes."""

from datetime import datetime, timedelta
from typing import Any

import orjson


def snapshot(
    vehicle_id: str,
    at: datetime,
    *,
    cells: int = 96,
    voltage: float = 3.90,
    temperature: float = 30.0,
    hot_cell: tuple[int, float] | None = None,
    low_cell: tuple[int, float] | None = None,
    current_a: float = 0.0,
    soc_percent: float = 60.0,
    nominal_kwh: float = 60.0,
    current_kwh: float = 55.0,
    cycle_count: int = 400,
) -> dict[str, Any]:
    """A pack snapshot dict; `hot_cell`/`low_cell` set one cell's temperature/voltage."""
    cell_list = []
    for i in range(cells):
        v = voltage + ((i % 3) - 1) * 0.002
        t = temperature + (i % 4) * 0.25
        if hot_cell is not None and hot_cell[0] == i:
            t = hot_cell[1]
        if low_cell is not None and low_cell[0] == i:
            v = low_cell[1]
        cell_list.append({"id": i, "voltage": round(v, 4), "temperature": round(t, 2)})
    return {
        "vehicle_id": vehicle_id,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "cells": cell_list,
        "cycle_count": cycle_count,
        "nominal_capacity_kwh": nominal_kwh,
        "current_capacity_kwh": current_kwh,
        "pack_voltage_v": round(sum(c["voltage"] for c in cell_list), 3),
        "pack_current_a": current_a,
        "soc_percent": soc_percent,
    }


def sample(
    device_id: str, at: datetime, *, soc: float = 60.0, current_a: float = 0.0
) -> dict[str, Any]:
    """A seed 003 sample dict."""
    return {
        "device_id": device_id,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "metrics": {"soc_percent": soc, "voltage_v": 380.0, "current_a": current_a, "temp_c": 28.0},
    }


def batch(vehicle_id: str, readings: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch envelope of several readings of one vehicle."""
    return {"schema_version": 1, "vehicle_id": vehicle_id, "readings": readings}


def encode(message: dict[str, Any]) -> bytes:
    """JSON bytes of a message."""
    return orjson.dumps(message)


def series(start: datetime, count: int, step_s: float) -> list[datetime]:
    """`count` timestamps `step_s` apart."""
    return [start + timedelta(seconds=i * step_s) for i in range(count)]
