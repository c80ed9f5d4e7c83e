"""Exact UTC datetime <-> integer microseconds since the epoch (for compact, replayable state)."""

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(at: datetime) -> int:
    """Microseconds since the epoch (naive datetimes are taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - EPOCH) // _US


def from_us(us: int) -> datetime:
    """UTC datetime of ``to_us``'s value (exact inverse)."""
    return EPOCH + timedelta(microseconds=us)
