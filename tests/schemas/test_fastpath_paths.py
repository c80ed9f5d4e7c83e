"""The fast decoder's closed (all keys typed) and open paths agree with the reference."""

import json
from typing import Any

import msgspec
import pytest

from schemas import CellReading, DecodeLimits, NestingTooDeep, PackSnapshot, SchemaError
from streams.fastpath import FastDecoder
from tests.schemas.payloads import NOW, reference_decode, sample, snapshot


def _batch(*readings: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"vehicle_id": "EV-12345", "readings": list(readings), **extra}).encode()


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _dumps(results: list[Any]) -> list[Any]:
    return [
        (type(r).__name__, r.reason, r.field) if isinstance(r, SchemaError) else r.model_dump()
        for r in results
    ]


def _agree(fast: FastDecoder, raw: bytes, limits: DecodeLimits) -> None:
    try:
        expected: Any = _dumps(reference_decode(raw, limits))
    except SchemaError as exc:
        expected = type(exc)
    try:
        got: Any = _dumps(fast.decode(raw, NOW))
    except SchemaError as exc:
        got = type(exc)
    assert got == expected


# Messages that take each path: closed structs, open structs (unknown keys, stray shape keys),
# reading by reading (mixed batches), and the reference (rejects); in an order that also makes
# the decoder skip its closed attempts for a while after an open-only message.
MESSAGES: list[bytes] = [
    _batch(snapshot(cells=4), snapshot(cells=4)),
    _batch(snapshot(cells=4, firmware={"build": [1, [2]]})),
    _batch(snapshot(cells=4, firmware=_nested(40))),
    _batch(snapshot(cells=4), note="[[[[{{"),
    _batch(snapshot(cells=4), sample()),
    _batch(snapshot(cells=4), sample(firmware=_nested(40))),
    json.dumps(snapshot(cells=4, firmware=_nested(40))).encode(),
    json.dumps(snapshot(cells=4, firmware=_nested(3))).encode(),
    json.dumps(snapshot(cells=4, device_id="gw-1")).encode(),
    json.dumps(snapshot(cells=4)).encode(),
    json.dumps(sample(extra={"a": _nested(40)})).encode(),
    json.dumps(sample()).encode(),
    _batch(snapshot(cells=4, cycle_count=-1), snapshot(cells=4)),
    json.dumps(snapshot(cells=4, vehicle_id="bad id\n")).encode(),
]


@pytest.mark.parametrize("rounds", [1, 6])
def test_every_path_agrees_with_the_reference(rounds: int) -> None:
    limits = DecodeLimits()
    fast = FastDecoder(limits)
    for _ in range(rounds):
        for raw in MESSAGES:
            _agree(fast, raw, limits)


def test_deep_unknown_fields_are_caught_after_a_closed_success() -> None:
    fast = FastDecoder(DecodeLimits())
    assert len(fast.decode(_batch(snapshot(cells=2)), NOW)) == 1
    with pytest.raises(NestingTooDeep):
        fast.decode(_batch(snapshot(cells=2, firmware=_nested(40))), NOW)
    with pytest.raises(NestingTooDeep):
        fast.decode(json.dumps(snapshot(cells=2, firmware=_nested(40))).encode(), NOW)


@pytest.mark.parametrize("max_depth", [2, 3, 4, 5])
def test_typed_messages_still_obey_a_small_depth_limit(max_depth: int) -> None:
    """A batch of snapshots nests 5 deep: over a lower limit even when every key is typed."""
    limits = DecodeLimits(max_depth=max_depth)
    for raw in (_batch(snapshot(cells=2)), json.dumps(snapshot(cells=2)).encode()):
        _agree(FastDecoder(limits), raw, limits)
    with pytest.raises(NestingTooDeep):
        FastDecoder(DecodeLimits(max_depth=4)).decode(_batch(snapshot(cells=2)), NOW)


def test_unique_ids_in_any_order_need_no_fallback() -> None:
    fast = FastDecoder(DecodeLimits())
    body = snapshot(cells=3)
    for cell, ident in zip(body["cells"], [7, 0, 3], strict=True):
        cell["id"] = ident
    [reading] = fast.decode(json.dumps(body).encode(), NOW)
    assert isinstance(reading, PackSnapshot)
    assert [cell.id for cell in reading.cells] == [7, 0, 3]
    assert fast.fallbacks == 0
    body["cells"][2]["id"] = 7
    raw = json.dumps(body).encode()
    assert _dumps(fast.decode(raw, NOW)) == _dumps(reference_decode(raw))
    assert fast.fallbacks == 1


def test_closed_and_open_paths_build_the_same_models() -> None:
    body = snapshot(cells=3, pack_voltage_v=350.5, make="Make")
    [closed] = FastDecoder(DecodeLimits()).decode(json.dumps(body).encode(), NOW)
    [opened] = FastDecoder(DecodeLimits()).decode(json.dumps(body | {"fw": 1}).encode(), NOW)
    [reference] = reference_decode(json.dumps(body).encode())
    assert _dumps([closed]) == _dumps([opened]) == _dumps([reference])
    assert isinstance(closed, PackSnapshot)
    assert isinstance(opened, PackSnapshot)
    assert closed.model_fields_set == opened.model_fields_set
    cells: list[Any] = [closed.cells[0], opened.cells[0]]
    names = [[f.name for f in msgspec.structs.fields(cell)] for cell in cells]
    assert names[0] == names[1] == list(CellReading.model_fields)
