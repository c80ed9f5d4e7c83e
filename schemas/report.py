"""Battery health report model (keeps seed 001's `battery_soh`, `cycle_count`, `anomalies`)."""

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.alerts import AlertType, Severity
from schemas.identifiers import VehicleId
from schemas.telemetry import SCHEMA_VERSION, SchemaVersion
from schemas.timestamps import UtcDatetime

_REPORT_CONFIG = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

Percent = Annotated[float, Field(ge=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


class SohMethod(StrEnum):
    """How the state of health was estimated."""

    measured_capacity = "measured_capacity"
    coulomb_counting = "coulomb_counting"
    fused = "fused"
    not_estimable = "not_estimable"


class Confidence(StrEnum):
    """How much to trust an estimate."""

    high = "high"
    medium = "medium"
    low = "low"
    none = "none"


class SohEstimate(BaseModel):
    """A state-of-health estimate with its method, confidence and spread."""

    model_config = _REPORT_CONFIG

    soh_percent: Percent | None
    method: SohMethod
    confidence: Confidence
    capacity_kwh: NonNegative | None
    sessions: Annotated[int, Field(ge=0)] = 0
    std_percent: NonNegative | None = None


class CycleStats(BaseModel):
    """Cycle counts: equivalent full cycles, deep discharges, and what the BMS reported."""

    model_config = _REPORT_CONFIG

    equivalent_full_cycles: NonNegative
    deep_discharge_cycles: Annotated[int, Field(ge=0)]
    reported_cycle_count: Annotated[int, Field(ge=0)] | None = None


class Anomaly(BaseModel):
    """One detected anomaly in a report (same vocabulary as alerts)."""

    model_config = _REPORT_CONFIG

    type: AlertType
    severity: Severity
    value: float
    threshold: float
    unit: str
    cells: tuple[int, ...] = ()
    message: str


class Diagnostics(BaseModel):
    """Pack diagnostics of the latest snapshot (all None when only samples were seen)."""

    model_config = _REPORT_CONFIG

    cell_count: Annotated[int, Field(ge=0)] | None = None
    voltage_min_v: float | None = None
    voltage_max_v: float | None = None
    voltage_spread_v: float | None = None
    temperature_min_c: float | None = None
    temperature_max_c: float | None = None
    temperature_mean_c: float | None = None


class HealthReport(BaseModel):
    """The battery health report; seed 001's top-level keys first, then the detail."""

    model_config = _REPORT_CONFIG

    schema_version: SchemaVersion = SCHEMA_VERSION
    vehicle_id: VehicleId
    generated_at: UtcDatetime
    battery_soh: Percent | None
    cycle_count: Annotated[int, Field(ge=0)] | None
    anomalies: list[Anomaly]
    soh: SohEstimate
    cycles: CycleStats
    diagnostics: Diagnostics
    readings: Annotated[int, Field(ge=0)]


__all__ = [
    "Anomaly",
    "Confidence",
    "CycleStats",
    "Diagnostics",
    "HealthReport",
    "SohEstimate",
    "SohMethod",
]
