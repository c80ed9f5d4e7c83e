"""JSON Schema export of every message model (used by `voltstream schema export`)."""

from typing import Any

from pydantic import BaseModel

from schemas.alerts import Alert
from schemas.report import HealthReport
from schemas.telemetry import PackSample, PackSnapshot, TelemetryBatch

MESSAGE_MODELS: tuple[type[BaseModel], ...] = (
    PackSnapshot,
    PackSample,
    TelemetryBatch,
    Alert,
    HealthReport,
)


def export_json_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema (draft 2020-12, validation mode) per message model, keyed by model name."""
    return {model.__name__: model.model_json_schema(mode="validation") for model in MESSAGE_MODELS}


__all__ = ["MESSAGE_MODELS", "export_json_schemas"]
