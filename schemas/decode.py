"""Reference telemetry decoder: raw bytes -> validated readings or typed errors (pydantic)."""

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from schemas.context import ValidationContext, make_context
from schemas.errors import InvalidField, MalformedJson, SchemaError, UnknownShape
from schemas.limits import DecodeLimits
from schemas.rawcheck import precheck
from schemas.shape import message_shape, reading_shape
from schemas.telemetry import (
    BatchEnvelope,
    PackSample,
    PackSnapshot,
    Reading,
    reading_vehicle_error,
)
from schemas.validation import schema_error_from

_DEFAULT_LIMITS = DecodeLimits()
_MODELS: dict[str, type[PackSnapshot] | type[PackSample]] = {
    "snapshot": PackSnapshot,
    "sample": PackSample,
}


def utc_now(now: datetime | None) -> datetime:
    """`now` as aware UTC (a naive `now` is taken as UTC: it is the caller's clock, not data)."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now


def as_bytes(raw: object) -> bytes:
    """Accept bytes-like input; anything else is a MalformedJson."""
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    raise MalformedJson(f"expected bytes, got {type(raw).__name__}")


_MAX_INT_DIGITS = 4_000


def _parse_int(text: str) -> int | float:
    # Integers too long for int() (CPython's 4300-digit guard) become inf: no field accepts them,
    # so a giant integer in a known field is an InvalidField naming it, and one in an ignored
    # unknown field is ignored, exactly as the fast decoder does.
    return int(text) if len(text) <= _MAX_INT_DIGITS else float("inf")


def load_json(raw: bytes) -> Any:
    """Parse UTF-8 JSON text (NaN/Infinity literals are parsed, then rejected by the models)."""
    text = raw.decode("utf-8")
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise MalformedJson(f"not JSON: {exc}"[:200]) from None
    except ValueError:
        pass  # malformed, or an integer over CPython's digit limit: retry with the guard
    try:
        return json.loads(text, parse_int=_parse_int)
    except (ValueError, RecursionError) as exc:
        raise MalformedJson(f"not JSON: {exc}"[:200]) from None


def validate_reading(
    obj: Any, context: ValidationContext, prefix: str = "", vehicle_id: str | None = None
) -> Reading | SchemaError:
    """Validate one decoded JSON reading; errors come back as values, never raised."""
    shape = reading_shape(obj)
    if shape is None:
        return UnknownShape("not a pack snapshot or pack sample", prefix or None)
    model = _MODELS[shape]
    try:
        reading: Reading = model.model_validate(obj, context=context)
    except ValidationError as exc:
        return schema_error_from(exc, prefix)
    if vehicle_id is not None:
        message = reading_vehicle_error(reading, vehicle_id)
        if message is not None:
            name = "device_id" if isinstance(reading, PackSample) else "vehicle_id"
            return InvalidField(message, f"{prefix}.{name}")
    return reading


def decode_telemetry(
    raw: bytes, limits: DecodeLimits = _DEFAULT_LIMITS, now: datetime | None = None
) -> list[Reading | SchemaError]:
    """Decode one Kafka message: a snapshot, a sample (list of one) or a batch (one per reading).

    Whole-message problems raise: PayloadTooLarge, NotUtf8, MalformedJson, NestingTooDeep,
    UnknownShape, and InvalidField for a bad batch envelope. A reading that fails validation is
    returned as a SchemaError entry (field prefixed `readings[i]` in a batch). Nothing but
    SchemaError subclasses is ever raised.
    """
    data = as_bytes(raw)
    precheck(data, limits)
    obj = load_json(data)
    context = make_context(limits, utc_now(now))
    shape = message_shape(obj)
    if shape is None:
        raise UnknownShape("expected a pack snapshot, pack sample or batch envelope")
    if shape != "batch":
        return [validate_reading(obj, context)]
    try:
        envelope = BatchEnvelope.model_validate(obj, context=context)
    except ValidationError as exc:
        raise schema_error_from(exc) from None
    return [
        validate_reading(item, context, f"readings[{index}]", envelope.vehicle_id)
        for index, item in enumerate(envelope.readings)
    ]


__all__ = ["as_bytes", "decode_telemetry", "load_json", "utc_now", "validate_reading"]
