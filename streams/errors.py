"""The root exception of the `streams` package and its narrow subclasses."""


class StreamsError(Exception):
    """Base class of every error raised by the stream processor."""


class StateCorrupted(StreamsError):
    """A vehicle's stored rolling state cannot be decoded."""


class DeliveryFailed(StreamsError):
    """A record could not be delivered to an output topic (alerts or dead letters)."""


class StateTooLarge(StreamsError):
    """A vehicle's encoded state is larger than one record batch of the changelog producer."""
