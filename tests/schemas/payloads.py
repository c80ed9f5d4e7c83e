"""Payload builders and the two decoders under test (pydantic reference and fast path)."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from schemas import DecodeLimits, Reading, SchemaError, decode_telemetry
from streams.fastpath import FastDecoder

NOW = datetime(2026, 2, 1, 15, 0, tzinfo=UTC)

Decode = Callable[..., list[Reading | SchemaError]]

# Seed 001's documented input example, verbatim.
SEED_001_SNAPSHOT = """{
  "vehicle_id": "EV-12345",
  "timestamp": "2025-10-04T10:30:00.000000Z",
  "cells": [
    {"id": 0, "voltage": 4.05, "temperature": 35.2},
    {"id": 1, "voltage": 4.03, "temperature": 36.1}
  ],
  "cycle_count": 412,
  "nominal_capacity_kwh": 60.0,
  "current_capacity_kwh": 54.9
}"""

# Seed 003's documented POST /telemetry body, verbatim.
SEED_003_SAMPLE = (
    '{"device_id":"test-001","timestamp":"2026-02-01T14:23:45Z","metrics":{"soc_percent":67.5,'
    '"voltage_v":385.2,"current_a":-45.3,"temp_c":28.4}}'
)


def snapshot(cells: int = 96, **overrides: Any) -> dict[str, Any]:
    """A valid pack snapshot dict with `cells` cells."""
    body: dict[str, Any] = {
        "vehicle_id": "EV-12345",
        "timestamp": "2026-02-01T14:00:00Z",
        "cells": [
            {"id": i, "voltage": 3.9 + (i % 7) * 0.01, "temperature": 30.0 + (i % 5)}
            for i in range(cells)
        ],
        "cycle_count": 412,
        "nominal_capacity_kwh": 60.0,
        "current_capacity_kwh": 54.9,
    }
    body.update(overrides)
    return body


def sample(**overrides: Any) -> dict[str, Any]:
    """A valid pack sample dict (seed 003 shape)."""
    body: dict[str, Any] = {
        "device_id": "EV-12345",
        "timestamp": "2026-02-01T14:23:45Z",
        "metrics": {"soc_percent": 67.5, "voltage_v": 385.2, "current_a": -45.3, "temp_c": 28.4},
    }
    body.update(overrides)
    return body


def encode(obj: Any) -> bytes:
    """JSON bytes of `obj` (NaN/Infinity allowed, as a sloppy producer would send them)."""
    return json.dumps(obj).encode()


def reference_decode(raw: bytes, limits: DecodeLimits | None = None) -> list[Reading | SchemaError]:
    """The pydantic reference path at the fixed test clock."""
    return decode_telemetry(raw, limits or DecodeLimits(), NOW)


def fast_decode(raw: bytes, limits: DecodeLimits | None = None) -> list[Reading | SchemaError]:
    """The fast path at the fixed test clock."""
    return FastDecoder(limits or DecodeLimits()).decode(raw, NOW)
