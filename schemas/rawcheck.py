"""Whole-message prechecks on raw bytes: size, UTF-8 and JSON nesting depth (no parsing)."""

from typing import Final

from schemas.errors import NestingTooDeep, NotUtf8, PayloadTooLarge
from schemas.limits import DecodeLimits

_KEEP: Final = b'"[]{}'
_DELETE_ALL_BUT_QUOTES_AND_BRACKETS: Final = bytes(b for b in range(256) if b not in _KEEP)


def json_too_deep(raw: bytes, max_depth: int) -> bool:
    """True when the JSON text nests objects/arrays deeper than `max_depth` (top level = 1).

    Works on bytes without parsing: string contents are stripped (escapes first), then innermost
    `{}`/`[]` pairs are removed one nesting level per pass. Malformed bracket sequences that stop
    collapsing are left for the JSON parser to reject.
    """
    text = raw
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    text = text.translate(None, _DELETE_ALL_BUT_QUOTES_AND_BRACKETS)
    if len(text) <= max_depth:
        return False
    text = text.replace(b'""', b"")
    if b'"' in text:
        text = b"".join(text.split(b'"')[::2])
    for _ in range(max_depth):
        # One nesting level per pass: mark innermost pairs, then delete the marks.
        marked = text.replace(b"{}", b"\x00").replace(b"[]", b"\x01")
        collapsed = marked.translate(None, b"\x00\x01")
        if len(collapsed) == len(text) or not collapsed:
            return False
        text = collapsed
    return b"{}" in text or b"[]" in text


def precheck(raw: bytes, limits: DecodeLimits) -> None:
    """Raise PayloadTooLarge, NotUtf8 or NestingTooDeep for a message that must not be parsed."""
    if len(raw) > limits.max_payload_bytes:
        raise PayloadTooLarge(f"{len(raw)} bytes exceed the limit of {limits.max_payload_bytes}")
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotUtf8(f"invalid UTF-8 at byte {exc.start}") from None
    if json_too_deep(raw, limits.max_depth):
        raise NestingTooDeep(f"JSON nests deeper than {limits.max_depth} levels")


__all__ = ["json_too_deep", "precheck"]
