"""Cross-field and context checks shared by the pydantic models and the fast decoder."""

from collections.abc import Iterable
from typing import Any

from schemas.physics import CAPACITY_MAX_RATIO


def all_unique(ids: Iterable[int], count: int) -> bool:
    """True when the `count` ids are pairwise distinct (`first_duplicate` locates a culprit)."""
    return len(set(ids)) == count


def first_duplicate(ids: Iterable[int]) -> tuple[int, int] | None:
    """Return (index, id) of the first id already seen earlier in `ids`, else None."""
    seen: set[int] = set()
    for index, ident in enumerate(ids):
        if ident in seen:
            return index, ident
        seen.add(ident)
    return None


def capacity_ratio_error(nominal_kwh: float, current_kwh: float) -> str | None:
    """Return an error message when current capacity exceeds `CAPACITY_MAX_RATIO` x nominal."""
    if current_kwh > CAPACITY_MAX_RATIO * nominal_kwh:
        return (
            f"current_capacity_kwh {current_kwh:g} exceeds {CAPACITY_MAX_RATIO:g} x "
            f"nominal_capacity_kwh {nominal_kwh:g}"
        )
    return None


def text_error(value: str) -> str | None:
    """Return an error message when free text holds control characters or lone surrogates."""
    if value.isprintable():
        return None
    return "text contains control or unprintable characters"


def exact_int_error(value: Any) -> str | None:
    """Return an error message unless `value` is a real int (bool and float are rejected)."""
    if type(value) is int:
        return None
    return f"expected an integer, got {type(value).__name__}"


__all__ = [
    "all_unique",
    "capacity_ratio_error",
    "exact_int_error",
    "first_duplicate",
    "text_error",
]
