"""Typed errors raised (or returned) by `schemas` when a message fails validation."""

from typing import ClassVar


class SchemaError(Exception):
    """Root of every `schemas` error: a stable machine `reason`, the offending `field`, a `detail`.

    `field` is a dotted/indexed path into the message (``"cells[3].voltage"``,
    ``"readings[2].timestamp"``) or ``None`` for whole-message problems.
    """

    reason: ClassVar[str] = "schema_error"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail, field)
        self.detail = detail
        self.field = field

    def __str__(self) -> str:
        where = f" at {self.field}" if self.field is not None else ""
        return f"{self.reason}{where}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(detail={self.detail!r}, field={self.field!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SchemaError):
            return NotImplemented
        return (type(self), self.field, self.detail) == (type(other), other.field, other.detail)

    def __hash__(self) -> int:
        return hash((type(self), self.field, self.detail))


class PayloadTooLarge(SchemaError):
    """The raw message exceeds `DecodeLimits.max_payload_bytes`."""

    reason: ClassVar[str] = "too_large"


class NotUtf8(SchemaError):
    """The raw message is not valid UTF-8."""

    reason: ClassVar[str] = "not_utf8"


class MalformedJson(SchemaError):
    """The raw message is not a JSON document."""

    reason: ClassVar[str] = "malformed_json"


class NestingTooDeep(SchemaError):
    """The JSON document nests objects/arrays deeper than `DecodeLimits.max_depth`."""

    reason: ClassVar[str] = "too_deep"


class UnknownShape(SchemaError):
    """The JSON document is neither a snapshot, a sample nor a batch envelope."""

    reason: ClassVar[str] = "unknown_shape"


class InvalidField(SchemaError):
    """A field is missing, has the wrong type or an impossible value; `field` names it."""

    reason: ClassVar[str] = "invalid_field"


class TimestampInFuture(SchemaError):
    """A timestamp lies further in the future than `DecodeLimits.max_future_skew_s`."""

    reason: ClassVar[str] = "future_timestamp"


__all__ = [
    "InvalidField",
    "MalformedJson",
    "NestingTooDeep",
    "NotUtf8",
    "PayloadTooLarge",
    "SchemaError",
    "TimestampInFuture",
    "UnknownShape",
]
