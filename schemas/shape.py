"""Tell telemetry shapes apart by content: snapshot, sample or batch envelope."""

from typing import Final, Literal

Shape = Literal["snapshot", "sample", "batch"]

SHAPE_KEYS: Final[tuple[tuple[Shape, str, str], ...]] = (
    ("snapshot", "vehicle_id", "cells"),
    ("sample", "device_id", "metrics"),
    ("batch", "vehicle_id", "readings"),
)
_MODEL_SHAPES: Final[dict[str, Shape]] = {"PackSnapshot": "snapshot", "PackSample": "sample"}


def message_shape(obj: object) -> Shape | None:
    """The shape of a decoded JSON value: exactly one key pair must be present, else None.

    snapshot = `vehicle_id` + `cells`; sample = `device_id` + `metrics`;
    batch = `vehicle_id` + `readings`. An object matching two pairs is ambiguous (None).
    """
    if not isinstance(obj, dict):
        return None
    found: Shape | None = None
    for shape, first, second in SHAPE_KEYS:
        if first in obj and second in obj:
            if found is not None:
                return None
            found = shape
    return found


def reading_shape(obj: object) -> Shape | None:
    """Shape of one batch reading (a batch is not a reading); model instances map by class."""
    if not isinstance(obj, dict):
        return _MODEL_SHAPES.get(type(obj).__name__)
    shape = message_shape(obj)
    return None if shape == "batch" else shape


__all__ = ["SHAPE_KEYS", "Shape", "message_shape", "reading_shape"]
