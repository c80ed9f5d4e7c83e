"""ISO 8601 timestamp parsing: timezone-aware only, normalised to UTC (naive is rejected)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

TIMESTAMP_MAX_LEN = 64
"""Longest accepted timestamp string (ISO 8601 with nanoseconds and offset is ~35 chars)."""


def parse_utc_timestamp(value: object) -> datetime:
    """Return `value` (ISO 8601 string or aware `datetime`) as an aware UTC `datetime`.

    Naive timestamps are rejected rather than assumed to be UTC: a BMS clock in local time would
    silently shift every reading by hours, which corrupts ordering, coulomb counting and alerts.
    Raises ValueError (never anything else) for non-strings, unparseable text and naive values.
    """
    if isinstance(value, str):
        if len(value) > TIMESTAMP_MAX_LEN:
            raise ValueError(f"timestamp longer than {TIMESTAMP_MAX_LEN} characters")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 timestamp: {value[:40]!r}") from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise ValueError(f"timestamp must be an ISO 8601 string, got {type(value).__name__}")
    offset = parsed.utcoffset()
    if offset is None:
        raise ValueError("timestamp must carry a UTC offset (e.g. 'Z' or '+02:00'); naive rejected")
    if offset == timedelta(0) and parsed.tzinfo is UTC:
        return parsed
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range after conversion to UTC") from None


def check_not_future(timestamp: datetime, now: datetime, max_future_skew_s: float) -> str | None:
    """Return an error message when `timestamp` is more than the allowed skew after `now`."""
    skew = (timestamp - now).total_seconds()
    if skew > max_future_skew_s:
        return (
            f"timestamp {timestamp.isoformat()} is {skew:.0f} s ahead of now "
            f"(max {max_future_skew_s:g} s)"
        )
    return None


def _serialize(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[
    datetime,
    PlainValidator(parse_utc_timestamp),
    PlainSerializer(_serialize, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A timezone-aware UTC `datetime`; accepts ISO 8601 text (JSON) or an aware `datetime` (Python)."""


__all__ = ["TIMESTAMP_MAX_LEN", "UtcDatetime", "check_not_future", "parse_utc_timestamp"]
