"""Property tests: decoders never raise anything but SchemaError, and the two paths agree."""

import json
import math
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from schemas import DecodeLimits, PackSample, PackSnapshot, SchemaError
from schemas.rawcheck import json_too_deep
from streams.fastpath import FastDecoder
from tests.schemas.payloads import NOW, reference_decode, sample, snapshot

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
LIMITS = DecodeLimits()

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
# RFC 8259 JSON only (no NaN/Infinity literals, which the fast path leaves to the reference).
strict_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
SHAPE_KEYS = ["vehicle_id", "device_id", "cells", "metrics", "readings", "timestamp"]


def outcome(decode: Any, raw: bytes) -> list[tuple[Any, ...]] | tuple[Any, ...]:
    """A comparable summary: readings as JSON dumps, errors as (class, reason, field)."""
    try:
        results = decode(raw)
    except SchemaError as exc:
        return ("raised", type(exc), exc.reason, exc.field)
    summary: list[tuple[Any, ...]] = []
    for item in results:
        if isinstance(item, SchemaError):
            summary.append(("error", type(item), item.reason, item.field))
        else:
            assert isinstance(item, PackSnapshot | PackSample)
            summary.append(("ok", type(item), item.model_dump_json()))
    return summary


def assert_equivalent(raw: bytes) -> None:
    """Reference and fast path give identical outcomes; the fast path only falls back on rejects."""
    fast = FastDecoder(LIMITS)
    expected = outcome(lambda r: reference_decode(r, LIMITS), raw)
    got = outcome(lambda r: fast.decode(r, NOW), raw)
    assert got == expected
    if isinstance(expected, list) and all(entry[0] == "ok" for entry in expected):
        assert fast.fallbacks == 0, "the fast checks rejected a message the reference accepts"


@PROPERTY_SETTINGS
@given(st.binary(max_size=600))
def test_arbitrary_bytes_only_raise_schema_errors(raw: bytes) -> None:
    assert_equivalent(raw)


@PROPERTY_SETTINGS
@given(json_values)
def test_arbitrary_json_only_raises_schema_errors(value: Any) -> None:
    assert_equivalent(json.dumps(value).encode())


@PROPERTY_SETTINGS
@given(st.dictionaries(st.sampled_from(SHAPE_KEYS), json_values, min_size=1))
def test_shape_like_objects_agree(value: dict[str, Any]) -> None:
    assert_equivalent(json.dumps(value).encode())


finite = st.floats(allow_nan=False, allow_infinity=False)
cells_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "voltage": st.floats(min_value=0.0, max_value=5.5),
            "temperature": st.floats(min_value=-60.0, max_value=150.0),
        },
        optional={"internal_resistance_mohm": st.none() | st.floats(0.0, 10_000.0)},
    ),
    min_size=1,
    max_size=120,
)
valid_snapshots = st.builds(
    lambda cells, cycles, nominal, ratio, extra: (
        snapshot(
            cells=0,
            cycle_count=cycles,
            nominal_capacity_kwh=nominal,
            current_capacity_kwh=nominal * ratio,
            **extra,
        )
        | {"cells": [dict(c, id=i) for i, c in enumerate(cells)]}
    ),
    cells_strategy,
    st.integers(0, 10_000_000),
    st.floats(min_value=0.001, max_value=1000.0),
    st.floats(min_value=0.01, max_value=1.5),
    st.fixed_dictionaries(
        {},
        optional={
            "pack_voltage_v": st.none() | st.floats(0.0, 1500.0),
            "pack_current_a": st.none() | st.floats(-10_000.0, 10_000.0),
            "soc_percent": st.none() | st.floats(0.0, 100.0),
            "odometer_km": st.none() | st.floats(0.0, 1e8),
            "make": st.none() | st.text(min_size=1, max_size=64),
            "chemistry": st.sampled_from(["NMC", "LFP", "NCA"]),
            "firmware": strict_json_values,
        },
    ),
)
valid_samples = st.builds(
    lambda soc, volt, amp, temp: sample(
        metrics={"soc_percent": soc, "voltage_v": volt, "current_a": amp, "temp_c": temp}
    ),
    st.floats(0.0, 100.0),
    st.floats(0.0, 1500.0),
    st.floats(-10_000.0, 10_000.0),
    st.floats(-60.0, 150.0),
)


@PROPERTY_SETTINGS
@given(valid_snapshots | valid_samples)
def test_valid_readings_agree_without_fallback(body: dict[str, Any]) -> None:
    assume(all(math.isfinite(x) for x in [body.get("current_capacity_kwh", 1.0)]))
    raw = json.dumps(body).encode()
    expected = outcome(lambda r: reference_decode(r, LIMITS), raw)
    assert isinstance(expected, list)
    if expected[0][0] != "ok":  # e.g. a generated make with unprintable characters
        assert_equivalent(raw)
        return
    assert_equivalent(raw)


MUTATION_PATHS: list[tuple[str | int, ...]] = [
    ("vehicle_id",),
    ("timestamp",),
    ("schema_version",),
    ("cycle_count",),
    ("nominal_capacity_kwh",),
    ("current_capacity_kwh",),
    ("pack_current_a",),
    ("soc_percent",),
    ("make",),
    ("cells",),
    ("cells", 0),
    ("cells", 0, "id"),
    ("cells", 1, "voltage"),
    ("cells", 1, "temperature"),
    ("cells", 1, "internal_resistance_mohm"),
]
edge_values = json_values | st.sampled_from(
    [
        0,
        -1,
        1,
        5.5,
        5.5000001,
        -60,
        150,
        150.0001,
        1.5,
        10**6,
        10**6 + 1,
        10**7 + 1,
        "2026-02-01T15:05:00Z",
        "2026-02-01T15:05:01Z",
        "2026-02-01T14:00:00",
        "2026-02-01T14:00:00+14:00",
        "EV-12345",
        "EV-12345\n",
        "x" * 65,
        True,
        1.0,
        "",
    ]
)


def _set(body: Any, path: tuple[str | int, ...], value: Any) -> None:
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@PROPERTY_SETTINGS
@given(
    st.sampled_from(MUTATION_PATHS),
    edge_values,
    st.booleans(),
    st.integers(0, 2),
)
def test_mutated_snapshots_agree(
    path: tuple[str | int, ...], value: Any, batched: bool, position: int
) -> None:
    body = snapshot(cells=3)
    _set(body, path, value)
    if batched:
        readings: list[Any] = [snapshot(cells=2), sample()]
        readings.insert(position, body)
        body = {"vehicle_id": "EV-12345", "readings": readings}
    assert_equivalent(json.dumps(body).encode())


@PROPERTY_SETTINGS
@given(st.sampled_from(["voltage_v", "current_a", "temp_c", "soc_percent"]), edge_values)
def test_mutated_samples_agree(key: str, value: Any) -> None:
    body = sample()
    body["metrics"][key] = value
    assert_equivalent(json.dumps(body).encode())


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


bracket_text = st.text(alphabet='[]{}"\\ab', max_size=8)
bracket_json = st.recursive(
    st.none() | bracket_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(bracket_text, inner, max_size=3),
    max_leaves=30,
)


@PROPERTY_SETTINGS
@given(bracket_json, st.integers(1, 8))
def test_depth_precheck_is_exact(value: Any, max_depth: int) -> None:
    raw = json.dumps(value).encode()
    assert json_too_deep(raw, max_depth) == (_depth(value) > max_depth)
