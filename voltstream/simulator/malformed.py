"""Deliberate corruptions of readings and messages that a correct decoder must reject."""

import random
import re
from enum import StrEnum

import orjson

from voltstream.simulator.encode import Reading


class Corruption(StrEnum):
    """How a malformed message is broken."""

    # whole message (never decodable at all)
    BAD_JSON = "bad_json"
    NAN = "nan"
    NOT_UTF8 = "not_utf8"
    UNKNOWN_SHAPE = "unknown_shape"
    # one reading (inside a batch the other readings still decode)
    WRONG_TYPE = "wrong_type"
    MISSING_FIELD = "missing_field"
    OUT_OF_RANGE = "out_of_range"


MESSAGE_CORRUPTIONS = (
    Corruption.BAD_JSON,
    Corruption.NAN,
    Corruption.NOT_UTF8,
    Corruption.UNKNOWN_SHAPE,
)
READING_CORRUPTIONS = (
    Corruption.WRONG_TYPE,
    Corruption.MISSING_FIELD,
    Corruption.OUT_OF_RANGE,
)

_SOC_VALUE = re.compile(rb'"soc_percent":-?[0-9][0-9.eE+-]*')


def corrupt_reading(reading: Reading, kind: Corruption) -> Reading:
    """A copy of `reading` broken in a field-level way (`WRONG_TYPE`, `MISSING_FIELD`, ...)."""
    broken = dict(reading)
    is_sample = "metrics" in broken
    if kind is Corruption.WRONG_TYPE:
        if is_sample:
            broken["metrics"] = {**broken["metrics"], "current_a": "n/a"}
        else:
            cells = list(broken["cells"])
            cells[0] = {**cells[0], "voltage": "high"}
            broken["cells"] = cells
    elif kind is Corruption.MISSING_FIELD:
        if is_sample:
            metrics = dict(broken["metrics"])
            del metrics["voltage_v"]
            broken["metrics"] = metrics
        else:
            del broken["nominal_capacity_kwh"]
    elif kind is Corruption.OUT_OF_RANGE:
        if is_sample:
            broken["metrics"] = {**broken["metrics"], "soc_percent": 150.0}
        else:
            broken["soc_percent"] = 150.0
    else:
        raise ValueError(f"{kind} is not a reading-level corruption")
    return broken


def corrupt_message(value: bytes, kind: Corruption, rng: random.Random) -> bytes:
    """`value` (a valid JSON message) broken as a whole."""
    if kind is Corruption.BAD_JSON:
        cut = rng.randrange(1, max(len(value) - 1, 2))
        return value[:cut]
    if kind is Corruption.NAN:
        replaced, count = _SOC_VALUE.subn(b'"soc_percent":NaN', value, count=1)
        return replaced if count else value[:-1] + b',"soc_percent":NaN}'
    if kind is Corruption.NOT_UTF8:
        cut = rng.randrange(1, max(len(value) - 1, 2))
        return value[:cut] + b"\xff\xfe" + value[cut:]
    if kind is Corruption.UNKNOWN_SHAPE:
        return orjson.dumps({"hello": "world", "payload_bytes": len(value)})
    raise ValueError(f"{kind} is not a message-level corruption")
