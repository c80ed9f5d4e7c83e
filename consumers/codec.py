"""Decode alert records from the alerts topic into `schemas.alerts.Alert`."""

from pydantic import ValidationError

from consumers.errors import AlertDecodeError
from schemas.alerts import Alert


def decode_alert(raw: bytes | None) -> Alert:
    """Parse one record value; raise `AlertDecodeError` for anything that is not an Alert."""
    if not raw:
        raise AlertDecodeError("empty record value")
    try:
        return Alert.model_validate_json(raw)
    except ValidationError as exc:
        raise AlertDecodeError(f"not an Alert: {exc.error_count()} error(s): {exc}") from exc


def encode_alert(alert: Alert) -> bytes:
    """Serialise an alert exactly as the stream workers publish it (JSON)."""
    return alert.model_dump_json().encode("utf-8")
