"""The fast decoder's msgspec types derive from the models and refuse what they cannot mirror."""

from typing import Annotated

import msgspec
import pytest
from pydantic import BaseModel, Field, field_validator

from schemas import CellReading, PackSnapshot
from schemas.physics import CELL_VOLTAGE_MAX_V, CYCLE_COUNT_MAX
from streams.fastpath import DerivationError, derive_struct


def _constraints(model: type[BaseModel], name: str) -> msgspec.inspect.Type:
    info = msgspec.inspect.type_info(derive_struct(model))
    assert isinstance(info, msgspec.inspect.StructType)
    [field] = [f for f in info.fields if f.name == name]
    return field.type


def test_constraints_come_from_the_model() -> None:
    voltage = _constraints(CellReading, "voltage")
    assert isinstance(voltage, msgspec.inspect.FloatType)
    assert (voltage.ge, voltage.le) == (0.0, CELL_VOLTAGE_MAX_V)
    cycles = _constraints(PackSnapshot, "cycle_count")
    assert isinstance(cycles, msgspec.inspect.IntType)
    assert (cycles.ge, cycles.le) == (0, CYCLE_COUNT_MAX)
    vehicle = _constraints(PackSnapshot, "vehicle_id")
    assert isinstance(vehicle, msgspec.inspect.StrType)
    assert vehicle.max_length == 64
    assert vehicle.pattern is not None
    assert vehicle.pattern.endswith(r"\Z")


def test_derived_fields_match_model_fields() -> None:
    info = msgspec.inspect.type_info(derive_struct(PackSnapshot))
    assert isinstance(info, msgspec.inspect.StructType)
    assert [f.name for f in info.fields] == list(PackSnapshot.model_fields)


class _Lax(BaseModel):
    value: float


class _Unmirrored(BaseModel):
    value: Annotated[float, Field(strict=True)]

    @field_validator("value")
    @classmethod
    def _new_rule(cls, value: float) -> float:
        return value


class _UnknownConstraint(BaseModel):
    value: Annotated[float, Field(strict=True, multiple_of=0.5)]


@pytest.mark.parametrize("model", [_Lax, _Unmirrored, _UnknownConstraint])
def test_underivable_models_are_refused(model: type[BaseModel]) -> None:
    with pytest.raises(DerivationError):
        derive_struct(model)
