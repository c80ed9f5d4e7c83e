"""Pack statistics."""

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.telemetry import CellReading
from streams.analytics.stats import (
    EmptyPackError,
    cell_stats,
    cell_values,
    pack_stats,
    summarize,
    summarize_many,
)
from tests.analytics.helpers import cells, snapshot


def test_seed_001_diagnostics() -> None:
    volts = [3.852, 4.132] + [4.0] * 94
    temps = [26.45, 44.12] + [34.0] * 94
    s = pack_stats(snapshot(volts, temps))
    assert s.cell_count == 96
    assert (s.v_min, s.v_max) == (3.852, 4.132)
    assert s.v_spread == 0.28
    assert (s.t_min, s.t_max) == (26.45, 44.12)
    assert (s.v_min_cell, s.v_max_cell, s.t_max_cell, s.t_min_cell) == (0, 1, 1, 0)
    assert abs(s.v_mean - sum(volts) / 96) < 1e-12
    assert s.finite


def test_ids_not_positions() -> None:
    cl = tuple(reversed(cells([3.6, 3.7, 3.8])))
    s = cell_stats(cl)
    assert (s.v_min_cell, s.v_max_cell) == (0, 2)


@given(
    st.lists(st.tuples(st.floats(2.5, 4.3), st.floats(-20, 80)), min_size=2, max_size=120),
    st.randoms(use_true_random=False),
)
def test_order_independent(values: list[tuple[float, float]], rnd: object) -> None:
    cl = cells([v for v, _ in values], [t for _, t in values])
    shuffled = list(cl)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = cell_stats(cl), cell_stats(tuple(shuffled))
    assert (a.v_min, a.v_max, a.v_spread, a.t_min, a.t_max) == (
        b.v_min,
        b.v_max,
        b.v_spread,
        b.t_min,
        b.t_max,
    )
    assert abs(a.v_mean - b.v_mean) < 1e-9


@given(st.lists(st.tuples(st.floats(0.0, 5.0), st.floats(-40, 125)), min_size=1, max_size=200))
def test_summarize_packs_the_values_as_a_c_cast_to_float32(
    values: list[tuple[float, float]],
) -> None:
    volts = [v for v, _ in values]
    temps = [t for _, t in values]
    cl = cells(volts, temps)
    stats, packed = summarize(cl, volts, temps)
    assert stats == cell_stats(cl)
    assert packed == struct.pack(f"@{2 * len(values)}f", *volts, *temps)


def test_summarize_packs_nothing_when_a_value_is_not_finite() -> None:
    volts, temps = [3.7, math.nan], [25.0, 26.0]
    # The models refuse NaN; the analytics still cope with it (cells built without validation).
    cl = [
        CellReading.model_construct(id=i, voltage=v, temperature=t)
        for i, (v, t) in enumerate(zip(volts, temps, strict=True))
    ]
    stats, packed = summarize(cl, volts, temps)
    assert packed is None
    assert not stats.finite
    assert (stats.v_min, stats.v_max) == (3.7, 3.7)


_value_pairs = st.lists(
    st.tuples(st.floats(0.0, 5.0), st.floats(-40, 125)), min_size=1, max_size=12
)


@given(st.lists(_value_pairs, min_size=1, max_size=6), st.data())
def test_summarize_many_equals_summarize_one_by_one(
    packs: list[list[tuple[float, float]]], data: st.DataObject
) -> None:
    snapshots: list[list[CellReading]] = []
    for drawn in packs:
        values = drawn
        if data.draw(st.booleans(), label="same cell count as the first"):
            values = (drawn * len(packs[0]))[: len(packs[0])]
        snapshots.append(list(cells([v for v, _ in values], [t for _, t in values])))
    if data.draw(st.booleans(), label="one value not finite"):
        bad = snapshots[data.draw(st.integers(0, len(snapshots) - 1))]
        bad[0] = CellReading.model_construct(id=bad[0].id, voltage=math.inf, temperature=20.0)
    for cl, got in zip(snapshots, summarize_many(snapshots), strict=True):
        volts, temps = cell_values(cl)
        stats, packed = summarize(cl, volts, temps)
        assert (got.volts, got.temps, got.packed32) == (volts, temps, packed)
        assert got.stats == stats or (not stats.finite and str(got.stats) == str(stats))


def test_summarize_many_of_nothing_and_of_an_empty_pack() -> None:
    assert summarize_many([]) == []
    with pytest.raises(EmptyPackError):
        summarize_many([list(cells([3.7])), []])
