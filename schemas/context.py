"""The pydantic validation context carrying `DecodeLimits` and the decoder's clock."""

from datetime import datetime
from typing import Any, TypedDict

from pydantic import ValidationInfo

from schemas.limits import DecodeLimits


class ValidationContext(TypedDict):
    """Passed as `context=` to `model_validate*`; without it, defaults apply and no future check."""

    limits: DecodeLimits
    now: datetime | None


def make_context(limits: DecodeLimits, now: datetime | None) -> ValidationContext:
    """Build the validation context for one decode call."""
    return {"limits": limits, "now": now}


def context_limits(info: ValidationInfo) -> DecodeLimits:
    """The limits in the validation context, or the defaults."""
    ctx: Any = info.context
    if isinstance(ctx, dict):
        limits = ctx.get("limits")
        if isinstance(limits, DecodeLimits):
            return limits
    return DecodeLimits()


def context_now(info: ValidationInfo) -> datetime | None:
    """The decoder's `now` in the validation context (None: skip the future-timestamp check)."""
    ctx: Any = info.context
    if isinstance(ctx, dict):
        now = ctx.get("now")
        if isinstance(now, datetime):
            return now
    return None


__all__ = ["ValidationContext", "context_limits", "context_now", "make_context"]
