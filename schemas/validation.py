"""Map pydantic `ValidationError`s onto the typed `SchemaError`s (first error, field path)."""

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from schemas.errors import InvalidField, SchemaError, TimestampInFuture

_BY_TYPE: dict[str, type[SchemaError]] = {"future_timestamp": TimestampInFuture}


def field_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """`("cells", 3, "voltage")` -> `"cells[3].voltage"` (after an optional `prefix`)."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def schema_error_from(exc: ValidationError, prefix: str = "") -> SchemaError:
    """The `SchemaError` for the first error pydantic reports (model field order)."""
    first: Any = exc.errors(include_url=False, include_input=False)[0]
    ctx = first.get("ctx") or {}
    path = field_path(first["loc"], prefix) + str(ctx.get("at", ""))
    cls = _BY_TYPE.get(first["type"], InvalidField)
    return cls(str(first["msg"]), path or None)


__all__ = ["field_path", "schema_error_from"]
