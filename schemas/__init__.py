"""Message contracts of voltstream: telemetry, alerts, reports, typed errors, JSON Schema export."""

from schemas.alerts import Alert, AlertState, AlertType, Severity
from schemas.decode import decode_telemetry
from schemas.errors import (
    InvalidField,
    MalformedJson,
    NestingTooDeep,
    NotUtf8,
    PayloadTooLarge,
    SchemaError,
    TimestampInFuture,
    UnknownShape,
)
from schemas.jsonschema import export_json_schemas
from schemas.limits import DecodeLimits
from schemas.report import (
    Anomaly,
    Confidence,
    CycleStats,
    Diagnostics,
    HealthReport,
    SohEstimate,
    SohMethod,
)
from schemas.telemetry import (
    SCHEMA_VERSION,
    CellReading,
    PackSample,
    PackSnapshot,
    Reading,
    SampleMetrics,
    TelemetryBatch,
)
from schemas.timestamps import UtcDatetime

__all__ = [
    "SCHEMA_VERSION",
    "Alert",
    "AlertState",
    "AlertType",
    "Anomaly",
    "CellReading",
    "Confidence",
    "CycleStats",
    "DecodeLimits",
    "Diagnostics",
    "HealthReport",
    "InvalidField",
    "MalformedJson",
    "NestingTooDeep",
    "NotUtf8",
    "PackSample",
    "PackSnapshot",
    "PayloadTooLarge",
    "Reading",
    "SampleMetrics",
    "SchemaError",
    "Severity",
    "SohEstimate",
    "SohMethod",
    "TelemetryBatch",
    "TimestampInFuture",
    "UnknownShape",
    "UtcDatetime",
    "decode_telemetry",
    "export_json_schemas",
]
