"""Telemetry message models: pack snapshots (seed 001), pack samples (seed 003), batch envelopes."""

from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_serializer,
    field_validator,
)
from pydantic_core import PydanticCustomError

from schemas import physics as p
from schemas.checks import (
    all_unique,
    capacity_ratio_error,
    exact_int_error,
    first_duplicate,
    text_error,
)
from schemas.context import context_limits, context_now
from schemas.identifiers import VehicleId
from schemas.shape import reading_shape
from schemas.timestamps import UtcDatetime, check_not_future

SCHEMA_VERSION: Final = 1


def check_schema_version(value: Any) -> Any:
    """Reject bool/float spellings of the version (`true`, `1.0`) before the Literal check."""
    message = exact_int_error(value)
    if message is not None:
        raise PydanticCustomError("invalid_field", message)
    return value


def _printable(value: str | None) -> str | None:
    if value is not None:
        message = text_error(value)
        if message is not None:
            raise PydanticCustomError("invalid_field", message)
    return value


SchemaVersion = Annotated[Literal[1], BeforeValidator(check_schema_version)]
CellId = Annotated[int, Field(strict=True, ge=0, le=p.CELL_ID_MAX)]
CellVoltage = Annotated[float, Field(strict=True, ge=p.CELL_VOLTAGE_MIN_V, le=p.CELL_VOLTAGE_MAX_V)]
Temperature = Annotated[float, Field(strict=True, ge=p.TEMPERATURE_MIN_C, le=p.TEMPERATURE_MAX_C)]
Resistance = Annotated[float, Field(strict=True, ge=0.0, le=p.CELL_RESISTANCE_MAX_MOHM)]
CycleCount = Annotated[int, Field(strict=True, ge=0, le=p.CYCLE_COUNT_MAX)]
Capacity = Annotated[float, Field(strict=True, gt=0.0, le=p.PACK_CAPACITY_MAX_KWH)]
PackVoltage = Annotated[float, Field(strict=True, ge=0.0, le=p.PACK_VOLTAGE_MAX_V)]
PackCurrent = Annotated[
    float, Field(strict=True, ge=-p.PACK_CURRENT_MAX_A, le=p.PACK_CURRENT_MAX_A)
]
Soc = Annotated[float, Field(strict=True, ge=p.SOC_MIN_PERCENT, le=p.SOC_MAX_PERCENT)]
Odometer = Annotated[float, Field(strict=True, ge=0.0, le=p.ODOMETER_MAX_KM)]
Hint = Annotated[str, Field(strict=True, min_length=1, max_length=p.TEXT_MAX_LEN)]

_TELEMETRY_CONFIG = ConfigDict(
    frozen=True,
    # Forward compatibility: BMS firmware adds fields faster than we ship schema versions, so
    # unknown telemetry keys are ignored (dropped), never an error. Alerts/reports forbid extras.
    extra="ignore",
    allow_inf_nan=False,
    validate_default=False,
)


def _check_timestamp(value: datetime, info: ValidationInfo) -> datetime:
    now = context_now(info)
    if now is not None:
        message = check_not_future(value, now, context_limits(info).max_future_skew_s)
        if message is not None:
            raise PydanticCustomError("future_timestamp", message)
    return value


class CellReading(BaseModel):
    """One cell of a pack snapshot (seed 001 `cells[]`), plus optional internal resistance."""

    model_config = _TELEMETRY_CONFIG

    id: CellId
    voltage: CellVoltage
    temperature: Temperature
    internal_resistance_mohm: Resistance | None = None


class PackSnapshot(BaseModel):
    """A full BMS snapshot of one pack (seed 001 schema) with optional pack-level fields."""

    model_config = _TELEMETRY_CONFIG

    schema_version: SchemaVersion = SCHEMA_VERSION
    vehicle_id: VehicleId
    timestamp: UtcDatetime
    cells: Annotated[tuple[CellReading, ...], Field(min_length=1)]
    cycle_count: CycleCount
    nominal_capacity_kwh: Capacity
    current_capacity_kwh: Capacity
    pack_voltage_v: PackVoltage | None = None
    pack_current_a: PackCurrent | None = None
    """> 0 is charging (current into the pack), < 0 discharging."""
    soc_percent: Soc | None = None
    odometer_km: Odometer | None = None
    make: Hint | None = None
    model: Hint | None = None
    chemistry: Hint | None = None

    _timestamp_not_future = field_validator("timestamp")(_check_timestamp)

    @field_validator("cells")
    @classmethod
    def _cells_bounded_unique(
        cls, cells: tuple[CellReading, ...], info: ValidationInfo
    ) -> tuple[CellReading, ...]:
        max_cells = context_limits(info).max_cells
        if len(cells) > max_cells:
            raise PydanticCustomError(
                "invalid_field",
                "{count} cells exceed the limit of {limit}",
                {"count": len(cells), "limit": max_cells},
            )
        duplicate = (
            None
            if all_unique([cell.id for cell in cells], len(cells))
            else first_duplicate(c.id for c in cells)
        )
        if duplicate is not None:
            index, ident = duplicate
            raise PydanticCustomError(
                "invalid_field",
                "duplicate cell id {ident}",
                {"ident": ident, "at": f"[{index}].id"},
            )
        return cells

    @field_serializer("cells")
    def _cells_as_dicts(self, cells: tuple[CellReading, ...]) -> tuple[dict[str, Any], ...]:
        # By attribute, so snapshots whose cells are the fast decoder's lightweight cell objects
        # (same attribute names, see streams.fastpath) serialise exactly like CellReading models.
        names = tuple(CellReading.model_fields)
        return tuple({name: getattr(cell, name) for name in names} for cell in cells)

    @field_validator("current_capacity_kwh")
    @classmethod
    def _capacity_plausible(cls, current: float, info: ValidationInfo) -> float:
        nominal = info.data.get("nominal_capacity_kwh")
        if isinstance(nominal, float):
            message = capacity_ratio_error(nominal, current)
            if message is not None:
                raise PydanticCustomError("invalid_field", message)
        return current

    @field_validator("make", "model", "chemistry")
    @classmethod
    def _hints_printable(cls, value: str | None) -> str | None:
        return _printable(value)


class SampleMetrics(BaseModel):
    """Pack-level metrics of a seed 003 sample (`current_a` > 0 is charging)."""

    model_config = _TELEMETRY_CONFIG

    soc_percent: Soc
    voltage_v: PackVoltage
    current_a: PackCurrent
    temp_c: Temperature


class PackSample(BaseModel):
    """A pack-level sample in seed 003's shape: `device_id`, `timestamp`, `metrics{...}`."""

    model_config = _TELEMETRY_CONFIG

    schema_version: SchemaVersion = SCHEMA_VERSION
    device_id: VehicleId
    timestamp: UtcDatetime
    metrics: SampleMetrics

    _timestamp_not_future = field_validator("timestamp")(_check_timestamp)

    @property
    def vehicle_id(self) -> str:
        """The vehicle this sample belongs to (seed 003 calls it `device_id`)."""
        return self.device_id


Reading = PackSnapshot | PackSample
"""One telemetry reading; tell them apart with `isinstance`."""

ReadingField = Annotated[
    Annotated[PackSnapshot, Tag("snapshot")] | Annotated[PackSample, Tag("sample")],
    Discriminator(reading_shape),
]


def reading_vehicle_error(reading: Reading, vehicle_id: str) -> str | None:
    """Return an error message when a batched reading belongs to another vehicle."""
    if reading.vehicle_id != vehicle_id:
        return f"reading of vehicle {reading.vehicle_id!r} in the envelope of {vehicle_id!r}"
    return None


class BatchEnvelope(BaseModel):
    """The envelope of a batch with its readings still undecoded (what `decode_telemetry` reads)."""

    model_config = _TELEMETRY_CONFIG

    schema_version: SchemaVersion = SCHEMA_VERSION
    vehicle_id: VehicleId
    readings: Annotated[list[Any], Field(min_length=1)]

    @field_validator("readings")
    @classmethod
    def _readings_bounded(cls, readings: list[Any], info: ValidationInfo) -> list[Any]:
        limit = context_limits(info).max_batch_readings
        if len(readings) > limit:
            raise PydanticCustomError(
                "invalid_field",
                "{count} readings exceed the limit of {limit}",
                {"count": len(readings), "limit": limit},
            )
        return readings


class TelemetryBatch(BatchEnvelope):
    """An envelope of several readings of one vehicle (`vehicle_id` + `readings`).

    `decode_telemetry` validates each reading on its own; validating this model directly is
    all-or-nothing (used to build and export batches).
    """

    readings: Annotated[list[ReadingField], Field(min_length=1)]

    @field_validator("readings")
    @classmethod
    def _readings_of_vehicle(cls, readings: list[Reading], info: ValidationInfo) -> list[Reading]:
        vehicle_id = info.data.get("vehicle_id")
        if isinstance(vehicle_id, str):
            for index, reading in enumerate(readings):
                message = reading_vehicle_error(reading, vehicle_id)
                if message is not None:
                    field = "device_id" if isinstance(reading, PackSample) else "vehicle_id"
                    raise PydanticCustomError(
                        "invalid_field", message, {"at": f"[{index}].{field}"}
                    )
        return readings


__all__ = [
    "SCHEMA_VERSION",
    "BatchEnvelope",
    "CellReading",
    "PackSample",
    "PackSnapshot",
    "Reading",
    "SampleMetrics",
    "TelemetryBatch",
    "reading_vehicle_error",
]
