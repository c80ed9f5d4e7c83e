"""JSON Schema export, the error hierarchy and DecodeLimits."""

import dataclasses

import pytest

import schemas
from schemas import DecodeLimits, InvalidField, SchemaError, export_json_schemas
from schemas.errors import (
    MalformedJson,
    NestingTooDeep,
    NotUtf8,
    PayloadTooLarge,
    TimestampInFuture,
    UnknownShape,
)


def test_export_has_one_schema_per_message_model() -> None:
    exported = export_json_schemas()
    assert set(exported) == {
        "PackSnapshot",
        "PackSample",
        "TelemetryBatch",
        "Alert",
        "HealthReport",
    }
    snapshot = exported["PackSnapshot"]
    assert snapshot["properties"]["timestamp"] == {
        "format": "date-time",
        "title": "Timestamp",
        "type": "string",
    }
    cell = snapshot["$defs"]["CellReading"]["properties"]["voltage"]
    assert (cell["minimum"], cell["maximum"]) == (0.0, 5.5)
    assert set(snapshot["required"]) >= {"vehicle_id", "timestamp", "cells", "cycle_count"}
    assert exported["Alert"]["additionalProperties"] is False
    assert set(exported["HealthReport"]["properties"]) >= {
        "battery_soh",
        "cycle_count",
        "anomalies",
    }


@pytest.mark.parametrize(
    ("cls", "reason"),
    [
        (PayloadTooLarge, "too_large"),
        (NotUtf8, "not_utf8"),
        (MalformedJson, "malformed_json"),
        (NestingTooDeep, "too_deep"),
        (UnknownShape, "unknown_shape"),
        (InvalidField, "invalid_field"),
        (TimestampInFuture, "future_timestamp"),
    ],
)
def test_error_reasons(cls: type[SchemaError], reason: str) -> None:
    error = cls("detail text", "cells[1].voltage")
    assert isinstance(error, SchemaError)
    assert (error.reason, error.field, error.detail) == (reason, "cells[1].voltage", "detail text")
    assert reason in str(error)
    assert "cells[1].voltage" in str(error)


def test_limits_defaults_and_validation() -> None:
    limits = DecodeLimits()
    assert (limits.max_payload_bytes, limits.max_cells, limits.max_depth) == (1_048_576, 2_000, 32)
    assert (limits.max_future_skew_s, limits.max_batch_readings) == (300.0, 1_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_cells = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="max_cells"):
        DecodeLimits(max_cells=0)


def test_package_reexports_the_contract() -> None:
    for name in [
        "PackSnapshot",
        "PackSample",
        "TelemetryBatch",
        "Reading",
        "Alert",
        "HealthReport",
        "DecodeLimits",
        "SchemaError",
        "decode_telemetry",
        "export_json_schemas",
    ]:
        assert hasattr(schemas, name), name
