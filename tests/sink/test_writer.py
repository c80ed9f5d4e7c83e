"""BatchWriter against a real database: round trip, idempotent replay, vehicles, errors."""

import asyncio
from datetime import timedelta

import psycopg
import pytest

from schemas.alerts import AlertState
from streams.analytics.stats import pack_stats
from streams.sink.errors import PermanentDatabaseError, TransientDatabaseError
from streams.sink.rows import RowBatch
from streams.sink.writer import BatchWriter
from tests.fixtures.postgres import db_settings
from tests.sink.factories import T0, alert, sample, snapshot, soh
from voltstream.db.pool import AsyncPool, open_pool

INGESTED = T0 + timedelta(seconds=2)


def _full_batch() -> RowBatch:
    batch = RowBatch()
    for i in range(5):
        vehicle = "VIN-0001" if i % 2 == 0 else "VIN-0002"
        snap = snapshot(vehicle, T0 + timedelta(seconds=i), seed=i)
        batch.add_snapshot(snap, pack_stats(snap), late=(i == 4), ingested_at=INGESTED)
        batch.touch_vehicle(vehicle, snap.timestamp, "Voltmotors", "V1", "NMC", "default")
    for i in range(3):
        batch.add_sample(sample("dev001", T0 + timedelta(minutes=i), soc=60.0 + i), False, INGESTED)
        batch.touch_vehicle("dev001", T0 + timedelta(minutes=i), None, None, None, "default")
    batch.add_health("VIN-0001", T0, soh(), 12.5, 2, predicted_soh=91.0)
    batch.add_alert(alert("VIN-0001"))
    batch.add_alert(alert("VIN-0001", AlertState.resolved, T0 + timedelta(minutes=5)))
    batch.add_dead_letter(
        time=T0,
        reason="malformed_json",
        error_class="MalformedJson",
        topic="battery.telemetry",
        partition=3,
        offset=1234,
        detail="Expecting value: line 1 column 1",
    )
    batch.add_cycle(
        source="nasa_pcoe",
        battery_id="B0005",
        cycle_index=1,
        time=T0,
        features={"max_temperature": 38.2, "avg_voltage_load": 3.52},
        soh_target=0.93,
        capacity_ah=1.86,
    )
    return batch


EXPECTED = {
    "vehicles": 3,
    "pack_telemetry": 8,
    "pack_cells": 5,
    "battery_health": 1,
    "battery_alerts": 2,
    "dead_letters": 1,
    "cycle_series": 1,
}


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}".encode()).fetchone()
    assert row is not None
    return int(row[0])


async def test_round_trip_stores_every_row(db_pool: AsyncPool, migrated_db: str) -> None:
    batch = _full_batch()
    result = await BatchWriter(db_pool).write(batch)
    assert result.rows_by_table == EXPECTED
    assert result.total == sum(EXPECTED.values())
    assert len(batch) == sum(EXPECTED.values())  # the batch is left as it was
    for table, count in EXPECTED.items():
        assert _count(migrated_db, table) == count
    assert _count(migrated_db, "cell_readings") == 5 * 96

    snap = snapshot("VIN-0002", T0 + timedelta(seconds=3), seed=3)
    stats = pack_stats(snap)
    with psycopg.connect(migrated_db) as conn:
        row = conn.execute(
            "SELECT kind, pack_voltage_v, pack_current_a, soc_percent, temp_c, odometer_km,"
            " cell_count, v_min, v_max, v_spread, t_max, cycle_count, late, ingested_at"
            " FROM pack_telemetry WHERE vehicle_id = 'VIN-0002' AND time = %s",
            (snap.timestamp,),
        ).fetchone()
        cells = conn.execute(
            "SELECT cell_id, voltage, temperature, internal_resistance_mohm FROM cell_readings"
            " WHERE vehicle_id = 'VIN-0002' AND time = %s ORDER BY cell_id",
            (snap.timestamp,),
        ).fetchall()
        sample_row = conn.execute(
            "SELECT kind, pack_voltage_v, pack_current_a, soc_percent, temp_c, cell_count"
            " FROM pack_telemetry WHERE vehicle_id = 'dev001' ORDER BY time LIMIT 1"
        ).fetchone()
        alerts = conn.execute(
            "SELECT state, type, severity, cells, evidence FROM battery_alerts ORDER BY time"
        ).fetchall()
        health = conn.execute(
            "SELECT soh_percent, soh_method, soh_confidence, equivalent_full_cycles,"
            " deep_discharge_cycles, predicted_soh, predicted_rul_cycles FROM battery_health"
        ).fetchone()
        letter = conn.execute(
            'SELECT topic, partition, "offset", vehicle_id FROM dead_letters'
        ).fetchone()
        cycle = conn.execute("SELECT features, soh_target FROM cycle_series").fetchone()
    assert row == (
        "snapshot",
        352.8,
        -42.5,
        64.0,
        None,
        48_210.5,
        96,
        pytest.approx(stats.v_min),
        pytest.approx(stats.v_max),
        pytest.approx(stats.v_spread),
        pytest.approx(stats.t_max),
        321,
        False,
        INGESTED,
    )
    assert [c[0] for c in cells] == list(range(96))
    for (cell_id, voltage, temperature, resistance), reading in zip(cells, snap.cells, strict=True):
        assert cell_id == reading.id
        assert voltage == pytest.approx(reading.voltage, abs=1e-6)
        assert temperature == pytest.approx(reading.temperature, abs=1e-5)
        assert resistance is None
    assert sample_row == ("sample", 385.2, -45.3, 60.0, 28.4, None)
    assert alerts == [
        (
            "firing",
            "voltage_imbalance",
            "critical",
            [3, 17],
            {"v_min": 3.51, "v_max": 3.72, "cells": [3, 17], "note": None},
        ),
        (
            "resolved",
            "voltage_imbalance",
            "critical",
            [3, 17],
            {"v_min": 3.51, "v_max": 3.72, "cells": [3, 17], "note": None},
        ),
    ]
    assert health == (92.7, "measured_capacity", "high", 12.5, 2, 91.0, None)
    assert letter == ("battery.telemetry", 3, 1234, None)
    assert cycle == ({"max_temperature": 38.2, "avg_voltage_load": 3.52}, 0.93)


async def test_replaying_a_batch_inserts_nothing_new(db_pool: AsyncPool, migrated_db: str) -> None:
    writer = BatchWriter(db_pool)
    batch = _full_batch()
    await writer.write(batch)
    again = await writer.write(batch)
    assert again.rows_by_table == {**dict.fromkeys(EXPECTED, 0), "vehicles": 3}  # merged, same
    for table, count in EXPECTED.items():
        assert _count(migrated_db, table) == count
    # A batch overlapping a stored one stores only the new rows.
    overlap = _full_batch()
    extra = snapshot("VIN-0003", T0, seed=9)
    overlap.add_snapshot(extra, pack_stats(extra), False, INGESTED)
    result = await writer.write(overlap)
    assert result.rows_by_table["pack_telemetry"] == 1
    assert result.rows_by_table["pack_cells"] == 1


async def test_duplicates_inside_one_batch_are_stored_once(
    db_pool: AsyncPool, migrated_db: str
) -> None:
    batch = RowBatch()
    snap = snapshot()
    for _ in range(3):
        batch.add_snapshot(snap, pack_stats(snap), False, INGESTED)
        batch.add_alert(alert())
        batch.touch_vehicle(snap.vehicle_id, snap.timestamp)
    result = await BatchWriter(db_pool).write(batch)
    assert result.rows_by_table == {
        "vehicles": 1,
        "pack_telemetry": 1,
        "pack_cells": 1,
        "battery_alerts": 1,
    }


async def test_custom_cell_ids_and_resistances(db_pool: AsyncPool, migrated_db: str) -> None:
    snap = snapshot(cells=4, ids=[10, 11, 20, 21], resistance=True)
    batch = RowBatch()
    batch.add_snapshot(snap, pack_stats(snap), False, INGESTED)
    await BatchWriter(db_pool).write(batch)
    with psycopg.connect(migrated_db) as conn:
        stored = conn.execute("SELECT cell_ids, resistances IS NOT NULL FROM pack_cells").fetchone()
        cells = conn.execute(
            "SELECT cell_id, internal_resistance_mohm FROM cell_readings ORDER BY cell_id"
        ).fetchall()
    assert stored == ([10, 11, 20, 21], True)
    assert [c[0] for c in cells] == [10, 11, 20, 21]
    for (_, resistance), reading in zip(cells, snap.cells, strict=True):
        assert resistance == pytest.approx(reading.internal_resistance_mohm, abs=1e-6)


async def test_vehicles_merge_forward_only(db_pool: AsyncPool, migrated_db: str) -> None:
    writer = BatchWriter(db_pool)

    async def touch(minutes: int, make: str | None = None) -> None:
        batch = RowBatch()
        batch.touch_vehicle("V1", T0 + timedelta(minutes=minutes), make, None, "LFP", None)
        await writer.write(batch)

    def state() -> tuple[object, ...]:
        with psycopg.connect(migrated_db) as conn:
            row = conn.execute(
                "SELECT make, chemistry, first_seen, last_seen, offline, offline_since"
                " FROM vehicles WHERE vehicle_id = 'V1'"
            ).fetchone()
        assert row is not None
        return tuple(row)

    await touch(10, "Make")
    await touch(5)  # late reading: last_seen stays, first_seen moves back, make is kept
    assert state() == (
        "Make",
        "LFP",
        T0 + timedelta(minutes=5),
        T0 + timedelta(minutes=10),
        False,
        None,
    )

    offline = RowBatch()
    offline.mark_offline("V1", T0 + timedelta(minutes=10))
    await writer.write(offline)
    assert state()[4:] == (True, T0 + timedelta(minutes=10))
    await touch(10)  # a replayed reading does not bring it back
    assert state()[4] is True
    await touch(11)  # a new one does
    assert state()[3:] == (T0 + timedelta(minutes=11), False, None)

    # Offline mark and newer reading in the same batch: online.
    both = RowBatch()
    both.mark_offline("V1", T0 + timedelta(minutes=11))
    both.touch_vehicle("V1", T0 + timedelta(minutes=12))
    await writer.write(both)
    assert state()[3:] == (T0 + timedelta(minutes=12), False, None)

    # A vehicle first seen through an offline mark.
    ghost = RowBatch()
    ghost.mark_offline("V2", T0)
    await writer.write(ghost)
    with psycopg.connect(migrated_db) as conn:
        row = conn.execute(
            "SELECT offline, offline_since FROM vehicles WHERE vehicle_id = 'V2'"
        ).fetchone()
    assert row == (True, T0)


async def test_daily_summary_matches_seed_003(db_pool: AsyncPool, migrated_db: str) -> None:
    batch = RowBatch()
    for i, soc in enumerate((67.5, 60.0, 52.5)):
        batch.add_sample(sample("test-001", T0 + timedelta(hours=i), soc=soc), False, INGESTED)
    await BatchWriter(db_pool).write(batch)
    with psycopg.connect(migrated_db) as conn:
        daily = conn.execute(
            "SELECT bucket, readings, samples, soc_percent_min, soc_percent_max, soc_percent_avg,"
            " temp_c_max FROM pack_telemetry_daily WHERE vehicle_id = 'test-001'"
        ).fetchall()
        hourly = conn.execute(
            "SELECT count(*), sum(readings) FROM pack_telemetry_hourly"
            " WHERE vehicle_id = 'test-001'"
        ).fetchone()
    assert daily == [(T0.replace(hour=0), 3, 3, 52.5, 67.5, pytest.approx(60.0), 28.4)]
    assert hourly == (3, 3)


async def test_terminated_backend_is_transient_and_a_retry_succeeds(migrated_db: str) -> None:
    pool = await open_pool(db_settings(pool_min_size=1, pool_max_size=1), migrated_db)
    writer = BatchWriter(pool)
    batch = _full_batch()
    try:
        with psycopg.connect(migrated_db, autocommit=True) as admin:
            # Hold a lock the writer needs, so it is mid-transaction when its backend dies.
            admin.execute("BEGIN")
            admin.execute("LOCK TABLE vehicles IN EXCLUSIVE MODE")
            task = asyncio.create_task(writer.write(batch))
            pid = None
            for _ in range(200):
                row = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'voltstream'"
                    " AND wait_event_type = 'Lock'"
                ).fetchone()
                if row is not None:
                    pid = row[0]
                    break
                await asyncio.sleep(0.025)
            assert pid is not None, "the writer never waited for the lock"
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            admin.execute("COMMIT")
            with pytest.raises(TransientDatabaseError) as caught:
                await task
            assert isinstance(caught.value.__cause__, psycopg.OperationalError)
        assert _count(migrated_db, "pack_telemetry") == 0  # nothing half-written
        result = await writer.write(batch)  # the pool replaced the dead connection
        assert result.rows_by_table == EXPECTED
    finally:
        await pool.close()


async def test_idle_connection_killed_between_writes_is_replaced(migrated_db: str) -> None:
    pool = await open_pool(db_settings(pool_min_size=1, pool_max_size=1), migrated_db)
    writer = BatchWriter(pool)
    try:
        await writer.write(_full_batch())
        with psycopg.connect(migrated_db, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'voltstream'"
            )
        batch = RowBatch()
        batch.touch_vehicle("V7", T0)
        assert (await writer.write(batch)).rows_by_table == {"vehicles": 1}
    finally:
        await pool.close()


async def test_bad_data_is_permanent(db_pool: AsyncPool) -> None:
    writer = BatchWriter(db_pool)
    naive = RowBatch()
    naive.touch_vehicle("V1", T0.replace(tzinfo=None))
    with pytest.raises(PermanentDatabaseError) as caught:
        await writer.write(naive)
    assert isinstance(caught.value.__cause__, TypeError)
    out_of_range = RowBatch()
    out_of_range.add_dead_letter(
        time=T0, reason="x", error_class="X", topic="t", partition=2**31, offset=1
    )
    with pytest.raises(PermanentDatabaseError):
        await writer.write(out_of_range)
    ok = RowBatch()
    ok.touch_vehicle("V1", T0)
    assert (await writer.write(ok)).rows_by_table == {"vehicles": 1}  # the pool is still usable


async def test_hostile_dead_letter_text_is_stored(db_pool: AsyncPool, migrated_db: str) -> None:
    batch = RowBatch()
    batch.add_dead_letter(
        time=T0,
        reason="not_utf8",
        error_class="NotUtf8",
        topic="t",
        partition=0,
        offset=7,
        vehicle_id="V\x00",
        detail="nul\x00byte and a lone surrogate \udcff",
    )
    assert (await BatchWriter(db_pool).write(batch)).rows_by_table == {"dead_letters": 1}
    with psycopg.connect(migrated_db) as conn:
        row = conn.execute("SELECT vehicle_id, detail FROM dead_letters").fetchone()
    assert row == ("V\ufffd", "nul\ufffdbyte and a lone surrogate ?")


async def test_empty_batch_writes_nothing(db_pool: AsyncPool) -> None:
    assert (await BatchWriter(db_pool).write(RowBatch())).rows_by_table == {}
