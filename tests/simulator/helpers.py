"""Shared helpers for the simulator tests: decoding simulated messages."""

import functools
from datetime import UTC, datetime

from schemas.decode import decode_telemetry
from schemas.errors import SchemaError
from schemas.telemetry import PackSample, PackSnapshot
from streams.fastpath import FastDecoder

NOW = datetime(2031, 1, 1, tzinfo=UTC)

Reading = PackSnapshot | PackSample


def decode_ok(value: bytes) -> list[Reading]:
    """Decode a message that must be fully valid."""
    results = decode_telemetry(value, now=NOW)
    readings: list[Reading] = []
    for result in results:
        assert not isinstance(result, SchemaError), (result.reason, result.field, result.detail)
        readings.append(result)
    return readings


@functools.lru_cache(maxsize=1)
def _fast() -> FastDecoder:
    return FastDecoder()


def decode_fast(value: bytes) -> list[Reading]:
    """Decode a valid message with the fast decoder (equivalence-tested against `schemas`)."""
    readings: list[Reading] = []
    for result in _fast().decode(value, NOW):
        assert not isinstance(result, SchemaError), (result.reason, result.field, result.detail)
        readings.append(result)
    return readings


def rejected(value: bytes) -> list[int] | None:
    """Indices of rejected readings; None when the whole message is rejected."""
    try:
        results = decode_telemetry(value, now=NOW)
    except SchemaError:
        return None
    return [i for i, r in enumerate(results) if isinstance(r, SchemaError)]
