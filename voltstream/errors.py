"""The root exception of the `voltstream` application package and its narrow subclasses."""


class VoltstreamError(Exception):
    """Base class of every error raised by the `voltstream` package."""


class ConfigurationError(VoltstreamError):
    """Settings are missing or contradict each other."""


class EmbeddedServiceError(VoltstreamError):
    """An embedded service (Kafka mock cluster, PostgreSQL) failed to start or stop."""


class MigrationError(VoltstreamError):
    """A SQL migration failed or the migration history is inconsistent."""
