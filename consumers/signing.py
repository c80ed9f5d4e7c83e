"""HMAC-SHA256 webhook signatures over `timestamp.body`, with a replay window."""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Voltstream-Signature"
TIMESTAMP_HEADER = "X-Voltstream-Timestamp"
SIGNATURE_PREFIX = "sha256="


def signed_payload(timestamp: int, body: bytes) -> bytes:
    """The bytes the signature covers: the decimal UNIX timestamp, a dot, the raw body."""
    return str(timestamp).encode("ascii") + b"." + body


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """Return the `X-Voltstream-Signature` header value, `sha256=<hex>`."""
    digest = hmac.new(secret, signed_payload(timestamp, body), hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signature_headers(secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    """Return both headers a receiver needs to verify `body`."""
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(
    secret: bytes,
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """Check a received webhook: a valid signature over a timestamp within `tolerance_s` of now."""
    if not timestamp_header or not signature_header:
        return False
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature_header.strip())
