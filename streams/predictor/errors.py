"""Errors of the degradation predictor (data, artifact, missing optional dependencies)."""

from streams.errors import StreamsError


class PredictorError(StreamsError):
    """Base class of the predictor's errors."""


class DataError(PredictorError):
    """Input data is missing, malformed or has no usable cycle."""


class ArtifactError(PredictorError):
    """A model artifact is missing, of another format or inconsistent."""


class TorchUnavailableError(PredictorError):
    """PyTorch is not installed; install the `voltstream[ml]` extra."""
