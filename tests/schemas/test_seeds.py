"""Worked examples: the seed payloads decode into the documented models."""

from datetime import UTC, datetime

from schemas import (
    CellReading,
    DecodeLimits,
    PackSample,
    PackSnapshot,
    SampleMetrics,
    TelemetryBatch,
)
from streams.fastpath import FastDecoder
from tests.schemas.payloads import (
    NOW,
    SEED_001_SNAPSHOT,
    SEED_003_SAMPLE,
    Decode,
    encode,
    fast_decode,
    reference_decode,
    sample,
    snapshot,
)


def test_seed_001_snapshot_decodes(decode: Decode) -> None:
    [reading] = decode(SEED_001_SNAPSHOT.encode())
    assert isinstance(reading, PackSnapshot)
    assert reading.vehicle_id == "EV-12345"
    assert reading.timestamp == datetime(2025, 10, 4, 10, 30, tzinfo=UTC)
    assert reading.schema_version == 1
    assert [(c.id, c.voltage, c.temperature) for c in reading.cells] == [
        (0, 4.05, 35.2),
        (1, 4.03, 36.1),
    ]
    assert reading.cells[0].internal_resistance_mohm is None
    assert (reading.cycle_count, reading.nominal_capacity_kwh, reading.current_capacity_kwh) == (
        412,
        60.0,
        54.9,
    )
    assert reading.pack_current_a is None
    assert reading.make is None


def test_seed_003_sample_decodes(decode: Decode) -> None:
    [reading] = decode(SEED_003_SAMPLE.encode())
    assert isinstance(reading, PackSample)
    assert reading.device_id == "test-001"
    assert reading.vehicle_id == "test-001"
    assert reading.timestamp == datetime(2026, 2, 1, 14, 23, 45, tzinfo=UTC)
    assert reading.metrics == SampleMetrics(
        soc_percent=67.5, voltage_v=385.2, current_a=-45.3, temp_c=28.4
    )


def test_optional_pack_fields_decode(decode: Decode) -> None:
    body = snapshot(
        cells=2,
        pack_voltage_v=396.1,
        pack_current_a=120.5,
        soc_percent=55.0,
        odometer_km=42_000.5,
        make="Renault",
        model="Zoe",
        chemistry="NMC",
    )
    body["cells"][1]["internal_resistance_mohm"] = 1.25
    [reading] = decode(encode(body))
    assert isinstance(reading, PackSnapshot)
    assert reading.pack_current_a == 120.5
    assert reading.soc_percent == 55.0
    assert (reading.make, reading.model, reading.chemistry) == ("Renault", "Zoe", "NMC")
    assert reading.cells[1].internal_resistance_mohm == 1.25


def test_unknown_telemetry_fields_are_ignored(decode: Decode) -> None:
    body = snapshot(cells=2, bms_firmware="7.1", balancing={"active": [1, 2]})
    body["cells"][0]["soc_estimate"] = 80
    [reading] = decode(encode(body))
    assert isinstance(reading, PackSnapshot)
    assert not hasattr(reading, "bms_firmware")
    assert "soc_estimate" not in reading.model_dump()["cells"][0]


def test_offset_timestamps_are_normalised_to_utc(decode: Decode) -> None:
    [reading] = decode(encode(sample(timestamp="2026-02-01T16:23:45+02:00")))
    assert isinstance(reading, PackSample)
    assert reading.timestamp == datetime(2026, 2, 1, 14, 23, 45, tzinfo=UTC)
    assert reading.timestamp.utcoffset() is not None
    assert reading.timestamp.tzinfo is UTC


def test_batch_decodes_each_reading(decode: Decode) -> None:
    body = {"vehicle_id": "EV-12345", "readings": [snapshot(cells=3), sample()]}
    results = decode(encode(body))
    assert [type(r) for r in results] == [PackSnapshot, PackSample]


def test_fast_snapshot_dumps_like_reference() -> None:
    raw = encode(snapshot(cells=5, make="BYD"))
    [fast] = fast_decode(raw)
    [ref] = reference_decode(raw)
    assert isinstance(fast, PackSnapshot)
    assert isinstance(ref, PackSnapshot)
    assert fast.model_dump() == ref.model_dump()
    assert fast.model_dump_json() == ref.model_dump_json()


def test_models_construct_from_python() -> None:
    cell = CellReading(id=0, voltage=4.0, temperature=25.0)
    snap = PackSnapshot(
        vehicle_id="EV-1",
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        cells=(cell,),
        cycle_count=0,
        nominal_capacity_kwh=60.0,
        current_capacity_kwh=60.0,
    )
    batch = TelemetryBatch(vehicle_id="EV-1", readings=[snap])
    assert batch.readings[0] is snap
    assert PackSnapshot.model_validate_json(snap.model_dump_json()) == snap


def test_stray_shape_key_is_not_ambiguous() -> None:
    # A snapshot carrying a lone `device_id` (no `metrics`) is still only a snapshot.
    fast = FastDecoder(DecodeLimits())
    raw = encode(snapshot(cells=2, device_id="gateway-7"))
    [reading] = fast.decode(raw, NOW)
    assert isinstance(reading, PackSnapshot)
    assert fast.fallbacks == 0
    [expected] = reference_decode(raw)
    assert isinstance(expected, PackSnapshot)
    assert expected.model_dump() == reading.model_dump()


def test_valid_batches_need_no_fallback() -> None:
    fast = FastDecoder(DecodeLimits())
    snapshots = {"vehicle_id": "EV-12345", "readings": [snapshot(cells=4)] * 3}
    mixed = {"vehicle_id": "EV-12345", "readings": [sample(), snapshot(cells=4), sample()]}
    for body in (snapshots, mixed):
        raw = encode(body)
        fast_dump = [r.model_dump() for r in fast.decode(raw, NOW) if not isinstance(r, Exception)]
        ref_dump = [r.model_dump() for r in reference_decode(raw) if not isinstance(r, Exception)]
        assert fast_dump == ref_dump
        assert len(fast_dump) == 3
    assert fast.fallbacks == 0
