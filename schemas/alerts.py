"""Alert message model published on the alerts topic, with its severity/type/state enums."""

from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from schemas.identifiers import VehicleId
from schemas.telemetry import SCHEMA_VERSION, SchemaVersion
from schemas.timestamps import UtcDatetime

_RANKS: Final = {"info": 0, "warning": 1, "major": 2, "critical": 3}


class Severity(StrEnum):
    """Alert severity; compares by rank: info < warning < major < critical."""

    info = "info"
    warning = "warning"
    major = "major"
    critical = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 3 for critical."""
        return _RANKS[self.value]

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank < other.rank
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank <= other.rank
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank > other.rank
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank >= other.rank
        return NotImplemented


class AlertType(StrEnum):
    """What an alert (or report anomaly) is about."""

    voltage_imbalance = "voltage_imbalance"
    overheating = "overheating"
    low_soh = "low_soh"
    temperature_spread = "temperature_spread"
    thermal_runaway_risk = "thermal_runaway_risk"
    cell_voltage_out_of_range = "cell_voltage_out_of_range"
    sensor_fault = "sensor_fault"
    device_offline = "device_offline"
    rapid_degradation = "rapid_degradation"


class AlertState(StrEnum):
    """Lifecycle of an alert: it fires, later it resolves."""

    firing = "firing"
    resolved = "resolved"


EvidenceValue = float | int | str | list[float] | list[int] | None
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class Alert(BaseModel):
    """An alert event for one vehicle and alert type (firing or resolved)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    schema_version: SchemaVersion = SCHEMA_VERSION
    alert_id: Annotated[str, Field(min_length=1, max_length=128)]
    vehicle_id: VehicleId
    type: AlertType
    severity: Severity
    state: AlertState
    value: FiniteFloat
    threshold: FiniteFloat
    unit: Annotated[str, Field(max_length=32)]
    cells: tuple[int, ...] = ()
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    event_time: UtcDatetime
    message: str
    evidence: dict[str, EvidenceValue] = Field(default_factory=dict)


__all__ = ["Alert", "AlertState", "AlertType", "EvidenceValue", "Severity"]
