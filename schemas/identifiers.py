"""Vehicle/device identifier type shared by every message model."""

from typing import Annotated, Final

from pydantic import Field

VEHICLE_ID_PATTERN: Final = r"^[A-Za-z0-9._:-]{1,64}$"
"""1..64 characters of ASCII letters, digits, '.', '_', ':' and '-'."""

VehicleId = Annotated[
    str, Field(strict=True, min_length=1, max_length=64, pattern=VEHICLE_ID_PATTERN)
]
"""A vehicle identifier (also used for seed 003's `device_id`)."""

__all__ = ["VEHICLE_ID_PATTERN", "VehicleId"]
