"""The unit the simulator emits: `SimMessage` (Kafka key/value plus its ground truth)."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MessageKind(StrEnum):
    """Ground-truth class of an emitted message."""

    VALID = "valid"
    DUPLICATE = "duplicate"  # byte-identical re-send of an earlier (valid) message
    OUT_OF_ORDER = "out_of_order"  # valid, but emitted after later messages of the vehicle
    MALFORMED = "malformed"  # the decoder must reject it (whole message or some readings)


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One message as a device sends it.

    `event_time` is the timestamp of the (last) reading inside; `emit_offset_s` is when it is
    sent, in seconds since the fleet start (messages are yielded in that order). `seq` counts
    the vehicle's messages (a duplicate keeps the original's seq). `detail` says how a
    malformed message is broken (`"wrong_type@readings[2]"`), or the delay of an out-of-order one.
    """

    key: bytes
    value: bytes
    event_time: datetime
    vehicle_id: str
    emit_offset_s: float
    kind: MessageKind
    seq: int
    readings: int
    vehicle_index: int
    true_capacity_kwh: float
    true_soh_percent: float
    detail: str | None = None

    def sort_key(self) -> tuple[float, int, int]:
        """Global emission order: time, then vehicle, then sequence."""
        return (self.emit_offset_s, self.vehicle_index, self.seq)
