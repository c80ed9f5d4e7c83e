"""Pack statistics over a snapshot's cells (hot path: C-level min/max/sum, no numpy)."""

import math
from collections.abc import Sequence
from typing import NamedTuple

from schemas.telemetry import CellReading, PackSnapshot
from streams.errors import StreamsError


class PackStats(NamedTuple):
    """Min/max/mean of cell voltage and temperature; ``*_cell`` are cell ids (not positions).

    ``finite`` is False when some value was NaN/inf (the statistics then skip those values).
    """

    cell_count: int
    v_min: float
    v_max: float
    v_mean: float
    v_spread: float
    t_min: float
    t_max: float
    t_mean: float
    v_min_cell: int
    v_max_cell: int
    t_max_cell: int
    v_sum: float
    t_min_cell: int
    finite: bool


_new = tuple.__new__  # PackStats(...) without the namedtuple's Python-level __new__


class EmptyPackError(StreamsError, ValueError):
    """Statistics were asked for a snapshot without cells."""


def cell_values(cells: Sequence[CellReading]) -> tuple[list[float], list[float]]:
    """The voltages and temperatures of the cells as two plain lists (positionally aligned)."""
    # Comprehensions, not map(attrgetter): about twice as fast on msgspec structs (CPython 3.11).
    return [c.voltage for c in cells], [c.temperature for c in cells]


def stats_from_values(
    cells: Sequence[CellReading], volts: list[float], temps: list[float]
) -> PackStats:
    """Statistics from ``cell_values`` output (min/max/sum/index run in C, one call each)."""
    n = len(volts)
    if n == 0:
        raise EmptyPackError("snapshot has no cells")
    v_sum = sum(volts)
    t_sum = sum(temps)
    if not (v_sum - v_sum == 0.0 and t_sum - t_sum == 0.0):
        return _finite_stats(cells)
    v_min = min(volts)
    v_max = max(volts)
    t_min = min(temps)
    t_max = max(temps)
    return _new(
        PackStats,
        (
            n,
            v_min,
            v_max,
            v_sum / n,
            round(v_max - v_min, 6),
            t_min,
            t_max,
            t_sum / n,
            cells[volts.index(v_min)].id,
            cells[volts.index(v_max)].id,
            cells[temps.index(t_max)].id,
            v_sum,
            cells[temps.index(t_min)].id,
            True,
        ),
    )


def cell_stats(cells: Sequence[CellReading]) -> PackStats:
    """Statistics of a cell sequence (raises ``EmptyPackError`` when it is empty)."""
    volts, temps = cell_values(cells)
    return stats_from_values(cells, volts, temps)


def _finite_stats(cells: Sequence[CellReading]) -> PackStats:
    """Slow path when a sensor reports NaN/inf: statistics over the finite values only."""
    good_v = [(c.voltage, c.id) for c in cells if math.isfinite(c.voltage)]
    good_t = [(c.temperature, c.id) for c in cells if math.isfinite(c.temperature)]
    nan = math.nan
    if good_v:
        vmin, vmin_id = min(good_v)
        vmax, vmax_id = max(good_v)
        v_sum = math.fsum(v for v, _ in good_v)
        v_mean = v_sum / len(good_v)
    else:
        vmin = vmax = v_sum = v_mean = nan
        vmin_id = vmax_id = cells[0].id
    if good_t:
        tmin, tmin_id = min(good_t)
        tmax, tmax_id = max(good_t)
        t_mean = math.fsum(t for t, _ in good_t) / len(good_t)
    else:
        tmin = tmax = t_mean = nan
        tmin_id = tmax_id = cells[0].id
    return PackStats(
        len(cells),
        vmin,
        vmax,
        v_mean,
        round(vmax - vmin, 6),
        tmin,
        tmax,
        t_mean,
        vmin_id,
        vmax_id,
        tmax_id,
        v_sum,
        tmin_id,
        False,
    )


def pack_stats(snapshot: PackSnapshot) -> PackStats:
    """Statistics of a snapshot's cells."""
    return cell_stats(snapshot.cells)
