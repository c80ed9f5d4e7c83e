"""Decode-time resource limits (sizes, depth, clock skew) passed to the telemetry decoders."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Limits applied to one incoming message before and during validation.

    `max_cells` bounds `PackSnapshot.cells`; `max_batch_readings` bounds `TelemetryBatch.readings`;
    `max_future_skew_s` is how far a timestamp may lie after the decoder's `now`.
    """

    max_payload_bytes: int = 1_048_576
    max_cells: int = 2_000
    max_depth: int = 32
    max_future_skew_s: float = 300.0
    max_batch_readings: int = 1_000

    def __post_init__(self) -> None:
        for name in ("max_payload_bytes", "max_cells", "max_depth", "max_batch_readings"):
            if getattr(self, name) < 1:
                raise ValueError(f"DecodeLimits.{name} must be >= 1")
        if not self.max_future_skew_s >= 0.0:
            raise ValueError("DecodeLimits.max_future_skew_s must be >= 0")


__all__ = ["DecodeLimits"]
