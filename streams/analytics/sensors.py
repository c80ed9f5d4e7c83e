"""Stuck-sensor tracking: a cell value frozen while the pack around it changes."""

import base64
import math
import sys
from array import array
from collections.abc import Sequence
from itertools import compress
from operator import eq
from typing import Any

from schemas.telemetry import CellReading
from streams.analytics.profiles import CalibrationProfile

MAX_TRACKED_CELLS = 192
_V_SCALE = 10_000.0  # 0.1 mV
_T_SCALE = 100.0  # 0.01 C
_V_NONE = 0xFFFF
_T_NONE = -0x8000

SensorState = list[Any]


class StuckSensorTracker:
    """Counts, per cell position, consecutive *live* readings in which a value did not change.

    A reading is live for a channel (cell voltages, cell temperatures) when at most half of the
    cells repeat their previous value, i.e. the pack around a sensor is visibly moving (noise,
    IR drop, heating), or, for voltages, when ``|I - I_prev| >= stuck_current_change_a``. A
    sensor identical to its previous value at ``stuck_voltage_readings``
    (``stuck_temp_readings``) consecutive live readings is reported stuck. At rest with a BMS
    that repeats quantised values, readings are not live and nothing accumulates; a cell whose
    value changes resets its count. Cost per reading: one C-level comparison per channel.
    """

    __slots__ = ("_i_prev", "_t_counts", "_t_prev", "_v_counts", "_v_prev")

    def __init__(self) -> None:
        self._i_prev: float | None = None
        # Previous values as packed float32: a list would keep one float object per cell alive
        # (~3 KB per 96-cell list), which was the largest part of a vehicle's live state.
        self._v_prev: array[float] | None = None
        self._t_prev: array[float] | None = None
        self._v_counts: dict[int, int] = {}
        self._t_counts: dict[int, int] = {}

    def update(
        self,
        cells: Sequence[CellReading],
        volts: list[float],
        temps: list[float],
        current: float | None,
        profile: CalibrationProfile,
    ) -> tuple[int, ...]:
        """Feed one snapshot (``cell_values`` lists); returns ids of cells that look stuck."""
        i_prev = self._i_prev
        moved = (
            current is not None
            and i_prev is not None
            and abs(current - i_prev) >= profile.stuck_current_change_a
        )
        self._i_prev = current
        # float32 on both sides: an exact repeat stays equal, and sensor resolution (0.1 mV,
        # 0.01 C) is far coarser than float32's.
        v32 = array("f", volts)
        self._v_counts = _advance(v32, self._v_prev, self._v_counts, moved)
        self._v_prev = v32
        t32 = array("f", temps)
        self._t_counts = _advance(t32, self._t_prev, self._t_counts, False)
        self._t_prev = t32
        v_counts = self._v_counts
        t_counts = self._t_counts
        k_v = profile.stuck_voltage_readings
        k_t = profile.stuck_temp_readings
        if (not v_counts or max(v_counts.values()) < k_v) and (
            not t_counts or max(t_counts.values()) < k_t
        ):
            return ()
        stuck = {cells[i].id for i, c in v_counts.items() if c >= k_v}
        stuck.update(cells[i].id for i, c in t_counts.items() if c >= k_t)
        return tuple(sorted(stuck))

    def dump(self) -> SensorState:
        """Compact state: values quantised (0.1 mV, 0.01 C) as base64 arrays, sparse counters."""
        return [
            self._i_prev,
            _pack(self._v_prev, "H", _V_SCALE, _V_NONE),
            _pack(self._t_prev, "h", _T_SCALE, _T_NONE),
            _flat(self._v_counts),
            _flat(self._t_counts),
        ]

    @classmethod
    def load(cls, data: SensorState) -> "StuckSensorTracker":
        """Inverse of ``dump`` (previous values come back quantised)."""
        tr = cls()
        i_prev, v_prev, t_prev, v_counts, t_counts = data
        tr._i_prev = None if i_prev is None else float(i_prev)
        tr._v_prev = _unpack(v_prev, "H", _V_SCALE, _V_NONE)
        tr._t_prev = _unpack(t_prev, "h", _T_SCALE, _T_NONE)
        tr._v_counts = _unflat(v_counts)
        tr._t_counts = _unflat(t_counts)
        return tr


def _advance(
    values: Sequence[float], prev: Sequence[float] | None, counts: dict[int, int], moved: bool
) -> dict[int, int]:
    """Counts after one reading: repeated positions count up on a live reading, others reset."""
    n = len(values)
    if prev is None or len(prev) != n:
        return {}
    same = list(compress(range(n), map(eq, values, prev)))
    if not same:
        return {} if counts else counts
    get = counts.get
    if moved or 2 * len(same) <= n:
        return {i: min(get(i, 0) + 1, 255) for i in same}
    return {i: counts[i] for i in same if i in counts}


def _pack(values: Sequence[float] | None, code: str, scale: float, none: int) -> str | None:
    if values is None or len(values) > MAX_TRACKED_CELLS:
        return None
    lo, hi = (0, 0xFFFE) if code == "H" else (-0x7FFF, 0x7FFF)
    out = array(code)
    for v in values:
        q = round(v * scale) if math.isfinite(v) and abs(v) < 1e9 else none
        out.append(q if lo <= q <= hi else none)
    if sys.byteorder == "big":
        out.byteswap()
    return base64.b64encode(out.tobytes()).decode("ascii")


def _unpack(data: object, code: str, scale: float, none: int) -> "array[float] | None":
    if not isinstance(data, str):
        return None
    arr = array(code, base64.b64decode(data))
    if sys.byteorder == "big":
        arr.byteswap()
    nan = float("nan")
    return array("f", [nan if q == none else q / scale for q in arr])


def _flat(counts: dict[int, int]) -> list[int]:
    out: list[int] = []
    for i in sorted(counts):
        out.append(i)
        out.append(counts[i])
    return out


def _unflat(data: object) -> dict[int, int]:
    if not isinstance(data, list):
        return {}
    return {int(data[j]): int(data[j + 1]) for j in range(0, len(data) - 1, 2)}
