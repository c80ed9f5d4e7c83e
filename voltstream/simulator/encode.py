"""Fast JSON encoding of simulated readings (plain dicts + orjson, no pydantic)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

Reading = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with millisecond precision and a `Z` suffix."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[:-3] + "Z"


class TimestampFormatter:
    """Formats `start + offset` quickly (caches the formatted second, appends milliseconds)."""

    __slots__ = ("_cached_prefix", "_cached_second", "_start", "_start_ms")

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self._start_ms = round((self._start - _EPOCH).total_seconds() * 1000.0)
        self._cached_second = -(10**18)
        self._cached_prefix = ""

    def moment(self, offset_s: float) -> datetime:
        """The datetime of `offset_s`, rounded to the millisecond like the text form."""
        return _EPOCH + timedelta(milliseconds=self._start_ms + round(offset_s * 1000.0))

    def text(self, offset_s: float) -> str:
        """`moment(offset_s)` as ISO 8601 text (`2026-01-05T07:00:00.125Z`)."""
        second, ms = divmod(self._start_ms + round(offset_s * 1000.0), 1000)
        day, in_day = divmod(second, 86_400)
        if day != self._cached_second:
            self._cached_second = day
            moment = _EPOCH + timedelta(days=day)
            self._cached_prefix = moment.strftime("%Y-%m-%dT")
        hours, rest = divmod(in_day, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{self._cached_prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}Z"


def snapshot_dict(
    vehicle_id: str,
    timestamp: str,
    cells: list[dict[str, Any]],
    cycle_count: int,
    nominal_capacity_kwh: float,
    current_capacity_kwh: float,
    pack_voltage_v: float,
    pack_current_a: float,
    soc_percent: float,
    odometer_km: float,
    make: str,
    model: str,
    chemistry: str,
) -> Reading:
    """A PackSnapshot (seed 001 schema + pack fields) as a plain dict."""
    return {
        "schema_version": 1,
        "vehicle_id": vehicle_id,
        "timestamp": timestamp,
        "cells": cells,
        "cycle_count": cycle_count,
        "nominal_capacity_kwh": nominal_capacity_kwh,
        "current_capacity_kwh": current_capacity_kwh,
        "pack_voltage_v": pack_voltage_v,
        "pack_current_a": pack_current_a,
        "soc_percent": soc_percent,
        "odometer_km": odometer_km,
        "make": make,
        "model": model,
        "chemistry": chemistry,
    }


def sample_dict(
    vehicle_id: str,
    timestamp: str,
    soc_percent: float,
    voltage_v: float,
    current_a: float,
    temp_c: float,
) -> Reading:
    """A PackSample (seed 003 shape) as a plain dict."""
    return {
        "schema_version": 1,
        "device_id": vehicle_id,
        "timestamp": timestamp,
        "metrics": {
            "soc_percent": soc_percent,
            "voltage_v": voltage_v,
            "current_a": current_a,
            "temp_c": temp_c,
        },
    }


def cells_list(voltages: list[float], temperatures: list[float]) -> list[dict[str, Any]]:
    """The `cells` array from parallel voltage and temperature lists."""
    return [
        {"id": i, "voltage": v, "temperature": t}
        for i, (v, t) in enumerate(zip(voltages, temperatures, strict=True))
    ]


def encode_reading(reading: Reading) -> bytes:
    """One reading as a standalone message."""
    return orjson.dumps(reading)


def encode_batch(vehicle_id: str, readings: list[Reading]) -> bytes:
    """A TelemetryBatch envelope around `readings`."""
    return orjson.dumps({"schema_version": 1, "vehicle_id": vehicle_id, "readings": readings})
