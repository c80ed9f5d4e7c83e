"""Dead letters: the original message, byte for byte, with headers saying why and where from."""

from dataclasses import dataclass

#: Header names, modelled on Kafka Connect's `__connect.errors.*` dead-letter headers.
H_REASON = "voltstream.error.reason"
H_CLASS = "voltstream.error.class"
H_MESSAGE = "voltstream.error.message"
H_FIELD = "voltstream.error.field"
H_TOPIC = "voltstream.source.topic"
H_PARTITION = "voltstream.source.partition"
H_OFFSET = "voltstream.source.offset"
H_TIMESTAMP = "voltstream.source.timestamp"
H_READING_INDEX = "voltstream.source.reading_index"

#: Longest error message kept in a header; the full value is in the payload anyway.
_MAX_MESSAGE = 1_000


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where a message came from: topic, partition, offset and its Kafka timestamp (seconds)."""

    topic: str
    partition: int
    offset: int
    timestamp: float


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record for the dead-letter topic."""

    key: bytes | None
    value: bytes
    reason: str
    error_class: str
    message: str
    field: str | None
    source: SourcePosition
    reading_index: int | None = None
    vehicle_id: str | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers describing the failure and the original position."""
        headers = [
            (H_REASON, self.reason.encode()),
            (H_CLASS, self.error_class.encode()),
            (H_MESSAGE, self.message[:_MAX_MESSAGE].encode("utf-8", "replace")),
            (H_TOPIC, self.source.topic.encode()),
            (H_PARTITION, str(self.source.partition).encode()),
            (H_OFFSET, str(self.source.offset).encode()),
            (H_TIMESTAMP, repr(self.source.timestamp).encode()),
        ]
        if self.field is not None:
            headers.append((H_FIELD, self.field.encode("utf-8", "replace")))
        if self.reading_index is not None:
            headers.append((H_READING_INDEX, str(self.reading_index).encode()))
        return headers
