"""RowBatch: tuples in table column order, vehicle merging, counts and clearing."""

import json
import struct
from array import array
from datetime import timedelta
from typing import Any

import pytest

from schemas import PackSnapshot, decode_telemetry
from streams.analytics.stats import pack_stats
from streams.fastpath import FastDecoder
from streams.sink.rows import RowBatch
from streams.sink.tables import PACK_CELLS, PACK_TELEMETRY, TABLES, VEHICLES
from tests.sink.factories import T0, sample, snapshot


def test_rows_match_the_table_columns() -> None:
    batch = RowBatch()
    snap = snapshot(cells=3)
    batch.add_snapshot(snap, pack_stats(snap), late=True, ingested_at=T0)
    batch.add_sample(sample(), late=False, ingested_at=T0)
    telemetry = batch.rows(PACK_TELEMETRY.name)
    assert all(len(row) == len(PACK_TELEMETRY.columns) for row in telemetry)
    names = [name for name, _ in PACK_TELEMETRY.columns]
    snap_row = dict(zip(names, telemetry[0], strict=True))
    assert snap_row["kind"] == "snapshot"
    assert snap_row["cell_count"] == 3
    assert snap_row["late"] is True
    assert snap_row["temp_c"] is None
    sample_row = dict(zip(names, telemetry[1], strict=True))
    assert sample_row["kind"] == "sample"
    assert sample_row["temp_c"] == 28.4
    assert sample_row["cell_count"] is None
    (cells,) = batch.rows(PACK_CELLS.name)
    assert len(cells) == len(PACK_CELLS.columns)
    assert cells[2] is None  # default ids 0..n-1
    assert cells[3] == array("f", [c.voltage for c in snap.cells])  # real[]: float32 values
    assert cells[4] == array("f", [c.temperature for c in snap.cells])
    assert cells[5] is None  # no resistances


def test_non_default_ids_and_partial_resistances_are_kept() -> None:
    batch = RowBatch()
    snap = snapshot(cells=2, ids=[1, 0], resistance=True)
    batch.add_snapshot(snap, pack_stats(snap), False, T0)
    (cells,) = batch.rows(PACK_CELLS.name)
    assert cells[2] == [1, 0]
    assert cells[5] == [c.internal_resistance_mohm for c in snap.cells]


def test_vehicles_merge_inside_the_batch() -> None:
    batch = RowBatch()
    batch.touch_vehicle("V1", T0 + timedelta(minutes=5), "Make", None, None, "p1")
    batch.touch_vehicle("V1", T0, None, "Model", None, None)
    batch.touch_vehicle("V1", T0 + timedelta(minutes=9), None, None, "NMC", "p2")
    (row,) = batch.rows(VEHICLES.name)
    assert row == (
        "V1",
        "Make",
        "Model",
        "NMC",
        "p2",
        T0,
        T0 + timedelta(minutes=9),
        False,
        None,
    )


def test_offline_mark_older_than_a_reading_in_the_batch_is_dropped() -> None:
    batch = RowBatch()
    batch.mark_offline("V1", T0)
    batch.touch_vehicle("V1", T0 + timedelta(seconds=1))
    batch.mark_offline("V2", T0 + timedelta(seconds=1))
    v1, v2 = batch.rows(VEHICLES.name)
    assert v1[7:] == (False, None)
    assert v2[5:] == (None, None, True, T0 + timedelta(seconds=1))
    batch.touch_vehicle("V2", T0)  # older than the mark: still offline
    assert batch.rows(VEHICLES.name)[1][7:] == (True, T0 + timedelta(seconds=1))


def test_len_counts_and_clear() -> None:
    batch = RowBatch()
    assert len(batch) == 0
    snap = snapshot(cells=2)
    batch.add_snapshot(snap, pack_stats(snap), False, T0)
    batch.touch_vehicle(snap.vehicle_id, T0)
    batch.touch_vehicle(snap.vehicle_id, T0)
    assert len(batch) == 3
    counts = batch.counts()
    assert set(counts) == {t.name for t in TABLES}
    assert counts["pack_telemetry"] == counts["pack_cells"] == counts["vehicles"] == 1
    batch.clear()
    assert len(batch) == 0
    assert all(not batch.rows(t.name) for t in TABLES)


def test_given_cell_values_are_used_instead_of_the_cells() -> None:
    batch = RowBatch()
    snap = snapshot(cells=3)
    volts = [c.voltage for c in snap.cells]
    temps = [c.temperature for c in snap.cells]
    batch.add_snapshot(snap, pack_stats(snap), False, T0, volts=volts, temps=temps)
    batch.add_snapshot(snap, pack_stats(snap), False, T0)
    batch.add_snapshot(snap, pack_stats(snap), False, T0, volts=[1.0, 2.0, 3.0], temps=[4.0] * 3)
    given, extracted, other = batch.rows(PACK_CELLS.name)
    assert given == extracted
    assert (other[3], other[4]) == (array("f", [1.0, 2.0, 3.0]), array("f", [4.0] * 3))


def test_packed_float32_values_give_the_same_row() -> None:
    batch = RowBatch()
    snap = snapshot(cells=3)
    volts = [c.voltage for c in snap.cells]
    temps = [c.temperature for c in snap.cells]
    packed = struct.pack("@6f", *volts, *temps)
    batch.add_snapshot(snap, pack_stats(snap), False, T0, volts, temps, packed)
    batch.add_snapshot(snap, pack_stats(snap), False, T0, volts, temps, packed[:-4])  # ignored
    batch.add_snapshot(snap, pack_stats(snap), False, T0)
    with_packed, short, plain = batch.rows(PACK_CELLS.name)
    assert with_packed == short == plain


def test_cell_values_of_another_length_are_refused_without_a_row() -> None:
    batch = RowBatch()
    snap = snapshot(cells=3)
    with pytest.raises(ValueError, match="voltages"):
        batch.add_snapshot(snap, pack_stats(snap), False, T0, volts=[3.7, 3.7])
    with pytest.raises(ValueError, match="temperatures"):
        batch.add_snapshot(snap, pack_stats(snap), False, T0, temps=[25.0] * 4)
    assert len(batch) == 0


def test_fast_decoded_snapshots_give_the_reference_rows() -> None:
    given: list[dict[str, Any]] = [
        {"id": 2, "voltage": 3.71, "temperature": 25.5, "internal_resistance_mohm": 1.1},
        {"id": 0, "voltage": 3.72, "temperature": 26.0},
        {"id": 1, "voltage": 3.7, "temperature": 25.0},
    ]
    body = {
        "vehicle_id": "VIN-0001",
        "timestamp": "2026-01-05T12:00:00Z",
        "cycle_count": 5,
        "nominal_capacity_kwh": 75.0,
        "current_capacity_kwh": 70.0,
    }
    for cells in (given, [dict(c, id=i) for i, c in enumerate(given[1:])]):
        raw = json.dumps(body | {"cells": cells}).encode()
        [fast] = FastDecoder().decode(raw, T0)
        [reference] = decode_telemetry(raw, now=T0)
        rows = []
        for snap in (fast, reference):
            assert isinstance(snap, PackSnapshot)
            batch = RowBatch()
            batch.add_snapshot(snap, pack_stats(snap), False, T0)
            rows.append((batch.rows(PACK_TELEMETRY.name), batch.rows(PACK_CELLS.name)))
        assert rows[0] == rows[1]
