"""Stuck-sensor tracking: a cell value frozen while the pack around it changes."""

import base64
import struct
from collections.abc import Sequence
from itertools import compress
from typing import Any, Final

import numpy as np

from schemas.telemetry import CellReading
from streams.analytics.profiles import CalibrationProfile

MAX_TRACKED_CELLS = 192
_V_SCALE = 10_000.0  # 0.1 mV
_T_SCALE = 100.0  # 0.01 C
_V_NONE = 0xFFFF
_T_NONE = -0x8000

SensorState = list[Any]
Counts = dict[int, int]

# Shared "no counts": never mutated (every update builds new dicts), so it costs nothing per state.
_NO_COUNTS: Final[Counts] = {}
# Up to this many equal positions are located with bytes.find, more with one compress pass.
_FIND_LIMIT: Final = 12


class StuckSensorTracker:
    """Counts, per cell position, consecutive *live* readings in which a value did not change.

    A reading is live for a channel (cell voltages, cell temperatures) when at most half of the
    cells repeat their previous value, i.e. the pack around a sensor is visibly moving (noise,
    IR drop, heating), or, for voltages, when ``|I - I_prev| >= stuck_current_change_a``. A
    sensor identical to its previous value at ``stuck_voltage_readings``
    (``stuck_temp_readings``) consecutive live readings is reported stuck. At rest with a BMS
    that repeats quantised values, readings are not live and nothing accumulates; a cell whose
    value changes resets its count. Values are compared as float32.

    The previous values are one ``bytes`` object (float32 voltages, then temperatures): a list
    would keep one float object per cell alive (~3 KB per 96-cell list). Per reading, both
    channels are compared in one numpy operation (see ``_equal_lanes``).
    """

    __slots__ = ("_i_prev", "_prev", "_t_counts", "_v_counts")

    def __init__(self) -> None:
        self._i_prev: float | None = None
        self._prev: bytes | None = None
        self._v_counts: Counts = _NO_COUNTS
        self._t_counts: Counts = _NO_COUNTS

    def update(
        self,
        cells: Sequence[CellReading],
        volts: list[float],
        temps: list[float],
        current: float | None,
        profile: CalibrationProfile,
        packed: bytes | None = None,
    ) -> tuple[int, ...]:
        """Feed one snapshot (``cell_values`` lists); returns ids of cells that look stuck.

        ``packed`` is the values as native float32, volts then temps (``stats.summarize``),
        when the caller has them; otherwise they are packed here.
        """
        i_prev = self._i_prev
        moved = (
            current is not None
            and i_prev is not None
            and abs(current - i_prev) >= profile.stuck_current_change_a
        )
        self._i_prev = current
        n = len(volts)
        if len(temps) != n:
            raise ValueError("volts and temps must come from the same cells")
        if packed is None or len(packed) != 8 * n:
            packed = (_PACKERS.get(n) or _packer(n)).pack(*volts, *temps)
        prev = self._prev
        self._prev = packed
        if prev is None or len(prev) != len(packed):
            v_counts = t_counts = _NO_COUNTS
        else:
            equal = _equal_lanes(packed, prev)
            v_counts = _advance(equal, 0, n, self._v_counts, moved)
            t_counts = _advance(equal, n, 2 * n, self._t_counts, False)
        self._v_counts = v_counts
        self._t_counts = t_counts
        if not v_counts and not t_counts:
            return ()
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
        v_prev, t_prev = _quantised(self._prev)
        return [self._i_prev, v_prev, t_prev, _flat(self._v_counts), _flat(self._t_counts)]

    @classmethod
    def load(cls, data: SensorState) -> "StuckSensorTracker":
        """Inverse of ``dump`` (previous values come back quantised)."""
        tr = cls()
        i_prev, v_prev, t_prev, v_counts, t_counts = data
        tr._i_prev = None if i_prev is None else float(i_prev)
        v32 = _unpack(v_prev, "<u2", _V_SCALE, _V_NONE)
        t32 = _unpack(t_prev, "<i2", _T_SCALE, _T_NONE)
        # Both channels or neither: a state with one of them (never written) drops the values.
        if v32 is not None and t32 is not None and len(v32) == len(t32):
            tr._prev = v32 + t32
        tr._v_counts = _unflat(v_counts)
        tr._t_counts = _unflat(t_counts)
        return tr


_PACKERS: dict[int, struct.Struct] = {}
_F32: Final = np.dtype(np.float32)


def _packer(n: int) -> struct.Struct:
    """Packs n voltages then n temperatures as native float32 (the C cast, as array("f"))."""
    packer = _PACKERS[n] = struct.Struct(f"@{2 * n}f")
    return packer


def _equal_lanes(packed: bytes, prev: bytes) -> bytes:
    """One byte per float32 of the two buffers: 1 where the values are equal, else 0.

    A float comparison: NaN never equals anything, 0.0 equals -0.0.
    """
    equal: bytes = (np.frombuffer(packed, _F32) == np.frombuffer(prev, _F32)).tobytes()
    return equal


def _advance(equal: bytes, start: int, end: int, counts: Counts, moved: bool) -> Counts:
    """One channel's counts after a reading (its lanes are ``equal[start:end]``): repeated
    positions count up on a live reading, the others reset."""
    same = equal.count(1, start, end)
    if not same:
        return _NO_COUNTS
    if same > _FIND_LIMIT:
        positions = list(compress(range(end - start), equal[start:end]))
    else:
        positions = []
        find = equal.find
        i = find(1, start, end)
        while i >= 0:
            positions.append(i - start)
            i = find(1, i + 1, end)
    if moved or 2 * same <= end - start:
        get = counts.get
        return {i: min(get(i, 0) + 1, 255) for i in positions}
    kept = {i: counts[i] for i in positions if i in counts}
    return kept if kept else _NO_COUNTS


def _quantised(prev: bytes | None) -> tuple[str | None, str | None]:
    """Both channels quantised to little-endian 16-bit integers, base64 (None: not stored).

    ``round(v * scale)`` (half to even) when it fits the channel's range, else the channel's
    sentinel (NaN, inf, out of range). numpy does the 2n multiplications and roundings at once:
    the same IEEE double operations as a per-value Python loop, about twice as fast.
    """
    if prev is None or len(prev) > 8 * MAX_TRACKED_CELLS:
        return None, None
    n = len(prev) >> 3
    values = np.frombuffer(prev, dtype=np.float32).astype(np.float64)
    q = np.rint(values[:n] * _V_SCALE)
    v = np.where((q >= 0.0) & (q <= 0xFFFE), q, float(_V_NONE)).astype("<u2")
    q = np.rint(values[n:] * _T_SCALE)
    t = np.where((q >= -0x7FFF) & (q <= 0x7FFF), q, float(_T_NONE)).astype("<i2")
    return _b64(v.tobytes()), _b64(t.tobytes())


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unpack(data: object, dtype: str, scale: float, none: int) -> bytes | None:
    """Native float32 bytes of one channel: ``q / scale`` (NaN for the sentinel)."""
    if not isinstance(data, str):
        return None
    q = np.frombuffer(base64.b64decode(data), dtype=dtype)
    values = q.astype(np.float64) / scale
    values[q == none] = np.nan
    return values.astype(np.float32).tobytes()


def _flat(counts: Counts) -> list[int]:
    out: list[int] = []
    for i in sorted(counts):
        out.append(i)
        out.append(counts[i])
    return out


def _unflat(data: object) -> Counts:
    if not isinstance(data, list) or len(data) < 2:
        return _NO_COUNTS
    return {int(data[j]): int(data[j + 1]) for j in range(0, len(data) - 1, 2)}
