"""Each rejection names the right error class, reason and field, identically on both decoders."""

import json
from datetime import timedelta
from typing import Any

import pytest

from schemas import (
    DecodeLimits,
    InvalidField,
    MalformedJson,
    NestingTooDeep,
    NotUtf8,
    PackSample,
    PackSnapshot,
    PayloadTooLarge,
    SchemaError,
    TimestampInFuture,
    UnknownShape,
)
from tests.schemas.payloads import NOW, Decode, encode, sample, snapshot


def _cell(index: int, **changes: Any) -> dict[str, Any]:
    body = snapshot(cells=3)
    body["cells"][index].update(changes)
    return body


def _future(seconds: float) -> str:
    return (NOW + timedelta(seconds=seconds)).isoformat()


READING_CASES: list[tuple[str, bytes, type[SchemaError], str]] = [
    ("nan voltage", encode(_cell(1, voltage=float("nan"))), InvalidField, "cells[1].voltage"),
    ("infinite voltage", encode(_cell(1, voltage=float("inf"))), InvalidField, "cells[1].voltage"),
    (
        "overflowing float literal",
        encode(_cell(1, voltage=4.0)).replace(b'"voltage": 4.0', b'"voltage": 1e999'),
        InvalidField,
        "cells[1].voltage",
    ),
    ("string voltage", encode(_cell(1, voltage="3.9")), InvalidField, "cells[1].voltage"),
    ("bool voltage", encode(_cell(1, voltage=True)), InvalidField, "cells[1].voltage"),
    ("voltage above 5.5", encode(_cell(1, voltage=5.51)), InvalidField, "cells[1].voltage"),
    ("negative voltage", encode(_cell(2, voltage=-0.1)), InvalidField, "cells[2].voltage"),
    ("too cold", encode(_cell(0, temperature=-60.5)), InvalidField, "cells[0].temperature"),
    ("too hot", encode(_cell(0, temperature=150.1)), InvalidField, "cells[0].temperature"),
    ("null temperature", encode(_cell(0, temperature=None)), InvalidField, "cells[0].temperature"),
    (
        "negative resistance",
        encode(_cell(0, internal_resistance_mohm=-1)),
        InvalidField,
        "cells[0].internal_resistance_mohm",
    ),
    ("negative cell id", encode(_cell(0, id=-1)), InvalidField, "cells[0].id"),
    ("giant cell id", encode(_cell(0, id=1_000_001)), InvalidField, "cells[0].id"),
    ("float cell id", encode(_cell(0, id=0.0)), InvalidField, "cells[0].id"),
    ("duplicate cell id", encode(_cell(2, id=0)), InvalidField, "cells[2].id"),
    (
        "cell not an object",
        encode(snapshot(cells=1, cells_=1) | {"cells": [5]}),
        InvalidField,
        "cells[0]",
    ),
    ("empty cells", encode(snapshot(cells=0)), InvalidField, "cells"),
    (
        "zero nominal capacity",
        encode(snapshot(cells=2, nominal_capacity_kwh=0)),
        InvalidField,
        "nominal_capacity_kwh",
    ),
    (
        "negative current capacity",
        encode(snapshot(cells=2, current_capacity_kwh=-1.0)),
        InvalidField,
        "current_capacity_kwh",
    ),
    (
        "capacity above 1.5x nominal",
        encode(snapshot(cells=2, current_capacity_kwh=90.01)),
        InvalidField,
        "current_capacity_kwh",
    ),
    ("negative cycles", encode(snapshot(cells=2, cycle_count=-1)), InvalidField, "cycle_count"),
    (
        "giant cycles",
        encode(snapshot(cells=2, cycle_count=10_000_001)),
        InvalidField,
        "cycle_count",
    ),
    (
        "5000-digit cycles",
        encode(snapshot(cells=2, cycle_count=7)).replace(
            b'"cycle_count": 7', b'"cycle_count": ' + b"9" * 5000
        ),
        InvalidField,
        "cycle_count",
    ),
    ("bool cycles", encode(snapshot(cells=2, cycle_count=True)), InvalidField, "cycle_count"),
    (
        "missing cycles",
        encode({k: v for k, v in snapshot(cells=2).items() if k != "cycle_count"}),
        InvalidField,
        "cycle_count",
    ),
    ("soc above 100", encode(snapshot(cells=2, soc_percent=100.5)), InvalidField, "soc_percent"),
    (
        "absurd pack current",
        encode(snapshot(cells=2, pack_current_a=-1e5)),
        InvalidField,
        "pack_current_a",
    ),
    ("negative odometer", encode(snapshot(cells=2, odometer_km=-1)), InvalidField, "odometer_km"),
    ("control char in make", encode(snapshot(cells=2, make="Tes\x00la")), InvalidField, "make"),
    ("empty vehicle id", encode(snapshot(cells=2, vehicle_id="")), InvalidField, "vehicle_id"),
    ("long vehicle id", encode(snapshot(cells=2, vehicle_id="V" * 65)), InvalidField, "vehicle_id"),
    (
        "space in vehicle id",
        encode(snapshot(cells=2, vehicle_id="EV 1")),
        InvalidField,
        "vehicle_id",
    ),
    (
        "newline after vehicle id",
        encode(snapshot(cells=2, vehicle_id="EV-1\n")),
        InvalidField,
        "vehicle_id",
    ),
    ("numeric vehicle id", encode(snapshot(cells=2, vehicle_id=12345)), InvalidField, "vehicle_id"),
    (
        "schema version 2",
        encode(snapshot(cells=2, schema_version=2)),
        InvalidField,
        "schema_version",
    ),
    (
        "schema version true",
        encode(snapshot(cells=2, schema_version=True)),
        InvalidField,
        "schema_version",
    ),
    (
        "unparseable timestamp",
        encode(snapshot(cells=2, timestamp="yesterday")),
        InvalidField,
        "timestamp",
    ),
    (
        "naive timestamp",
        encode(snapshot(cells=2, timestamp="2026-02-01T14:00:00")),
        InvalidField,
        "timestamp",
    ),
    ("epoch timestamp", encode(snapshot(cells=2, timestamp=1769954400)), InvalidField, "timestamp"),
    (
        "timestamp an hour ahead",
        encode(snapshot(cells=2, timestamp=_future(3600))),
        TimestampInFuture,
        "timestamp",
    ),
    (
        "sample voltage",
        encode(sample(metrics=sample()["metrics"] | {"voltage_v": 1500.5})),
        InvalidField,
        "metrics.voltage_v",
    ),
    (
        "sample missing temp",
        encode(sample(metrics={"soc_percent": 1.0, "voltage_v": 1.0, "current_a": 0.0})),
        InvalidField,
        "metrics.temp_c",
    ),
    ("sample bad device", encode(sample(device_id="a/b")), InvalidField, "device_id"),
    ("sample future", encode(sample(timestamp=_future(301))), TimestampInFuture, "timestamp"),
]


@pytest.mark.parametrize(
    ("raw", "error", "field"),
    [pytest.param(raw, error, field, id=name) for name, raw, error, field in READING_CASES],
)
def test_invalid_reading_is_returned_as_typed_error(
    decode: Decode, raw: bytes, error: type[SchemaError], field: str
) -> None:
    [result] = decode(raw)
    assert type(result) is error
    assert result.field == field
    assert result.reason == error.reason
    assert result.detail


def test_timestamp_within_skew_is_accepted(decode: Decode) -> None:
    [result] = decode(encode(snapshot(cells=2, timestamp=_future(299))))
    assert isinstance(result, PackSnapshot)


def test_cell_count_limit_comes_from_limits(decode: Decode) -> None:
    raw = encode(snapshot(cells=3))
    [ok] = decode(raw, DecodeLimits(max_cells=3))
    [bad] = decode(raw, DecodeLimits(max_cells=2))
    assert isinstance(ok, PackSnapshot)
    assert isinstance(bad, InvalidField)
    assert bad.field == "cells"


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


MESSAGE_CASES: list[tuple[str, bytes, DecodeLimits, type[SchemaError], str | None]] = [
    (
        "too large",
        encode(snapshot(cells=50)),
        DecodeLimits(max_payload_bytes=1000),
        PayloadTooLarge,
        None,
    ),
    ("not utf-8", b'{"vehicle_id": "\xff\xfe"}', DecodeLimits(), NotUtf8, None),
    ("utf-16 text", json.dumps(snapshot(cells=1)).encode("utf-16"), DecodeLimits(), NotUtf8, None),
    ("truncated json", encode(snapshot(cells=2))[:-5], DecodeLimits(), MalformedJson, None),
    ("empty", b"", DecodeLimits(), MalformedJson, None),
    (
        "deep unknown field",
        encode(snapshot(cells=2, extra=_nested(40))),
        DecodeLimits(),
        NestingTooDeep,
        None,
    ),
    (
        "deep within custom limit",
        encode(snapshot(cells=2)),
        DecodeLimits(max_depth=2),
        NestingTooDeep,
        None,
    ),
    ("json array", b"[1, 2]", DecodeLimits(), UnknownShape, None),
    ("unrelated object", b'{"hello": "world"}', DecodeLimits(), UnknownShape, None),
    (
        "snapshot and batch at once",
        encode(snapshot(cells=1, readings=[])),
        DecodeLimits(),
        UnknownShape,
        None,
    ),
    (
        "batch bad vehicle",
        encode({"vehicle_id": "", "readings": [sample()]}),
        DecodeLimits(),
        InvalidField,
        "vehicle_id",
    ),
    (
        "batch empty",
        encode({"vehicle_id": "EV-12345", "readings": []}),
        DecodeLimits(),
        InvalidField,
        "readings",
    ),
    (
        "batch too long",
        encode({"vehicle_id": "EV-12345", "readings": [sample()] * 3}),
        DecodeLimits(max_batch_readings=2),
        InvalidField,
        "readings",
    ),
    (
        "batch readings not a list",
        encode({"vehicle_id": "EV-12345", "readings": {"a": 1}}),
        DecodeLimits(),
        InvalidField,
        "readings",
    ),
]


@pytest.mark.parametrize(
    ("raw", "limits", "error", "field"),
    [pytest.param(r, lim, e, f, id=name) for name, r, lim, e, f in MESSAGE_CASES],
)
def test_whole_message_problem_raises(
    decode: Decode, raw: bytes, limits: DecodeLimits, error: type[SchemaError], field: str | None
) -> None:
    with pytest.raises(error) as caught:
        decode(raw, limits)
    assert type(caught.value) is error
    assert caught.value.field == field


def test_batch_isolates_bad_readings(decode: Decode) -> None:
    body = {
        "vehicle_id": "EV-12345",
        "readings": [
            snapshot(cells=2),
            snapshot(cells=2, vehicle_id="EV-OTHER"),
            sample(device_id="EV-OTHER"),
            _cell(1, voltage=9.0),
            42,
            {"device_id": "EV-12345"},
            sample(),
        ],
    }
    results = decode(encode(body))
    assert isinstance(results[0], PackSnapshot)
    assert isinstance(results[-1], PackSample)
    errors = [(type(r), r.field) for r in results[1:-1] if isinstance(r, SchemaError)]
    assert errors == [
        (InvalidField, "readings[1].vehicle_id"),
        (InvalidField, "readings[2].device_id"),
        (InvalidField, "readings[3].cells[1].voltage"),
        (UnknownShape, "readings[4]"),
        (UnknownShape, "readings[5]"),
    ]
