"""Simulated messages decode with `schemas`; malformed ones are rejected; order and shapes."""

import pytest

from schemas.telemetry import PackSample, PackSnapshot
from tests.simulator.helpers import decode_ok, rejected
from voltstream.simulator import (
    FAULT_PRESETS,
    FaultRates,
    Fleet,
    FleetConfig,
    MessageKind,
)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_every_valid_message_decodes_and_malformed_are_rejected(batch_size: int) -> None:
    config = FleetConfig(
        vehicles=8, duration_s=3 * 3600.0, faults=FAULT_PRESETS["all"], batch_size=batch_size
    )
    kinds: set[MessageKind] = set()
    details: set[str] = set()
    for message in Fleet(config).messages():
        kinds.add(message.kind)
        if message.kind is MessageKind.MALFORMED:
            assert message.detail is not None
            details.add(message.detail.split("@")[0])
            bad = rejected(message.value)
            if bad is not None:
                assert bad, message.detail
                if "@readings[" in message.detail:
                    index = int(message.detail.split("[")[1].rstrip("]"))
                    assert bad == [index]
            continue
        readings = decode_ok(message.value)
        assert len(readings) == message.readings
        assert all(r.vehicle_id == message.vehicle_id for r in readings)
        assert message.key == message.vehicle_id.encode()
    assert kinds == set(MessageKind)
    if batch_size == 1:
        assert details == {
            "bad_json",
            "nan",
            "not_utf8",
            "unknown_shape",
            "wrong_type",
            "missing_field",
            "out_of_range",
        }


def test_global_send_order_and_event_time() -> None:
    fleet = Fleet(FleetConfig(vehicles=5, duration_s=3600.0))
    previous = -1.0
    for message in fleet.messages():
        assert message.emit_offset_s >= previous
        previous = message.emit_offset_s
        if message.kind is MessageKind.VALID:
            (reading,) = decode_ok(message.value)
            assert reading.timestamp == message.event_time


def test_shapes_mix_and_pack_fields() -> None:
    config = FleetConfig(vehicles=4, duration_s=6 * 3600.0, faults=FaultRates())
    snapshots: list[PackSnapshot] = []
    samples: list[PackSample] = []
    for message in Fleet(config).messages():
        for reading in decode_ok(message.value):
            if isinstance(reading, PackSnapshot):
                snapshots.append(reading)
            else:
                samples.append(reading)
    assert snapshots
    assert samples
    for snap in snapshots:
        assert 80 <= len(snap.cells) <= 120
        assert snap.pack_voltage_v is not None
        assert snap.pack_current_a is not None
        assert snap.soc_percent is not None
        assert snap.odometer_km is not None
        assert snap.make
        assert snap.model
        assert snap.chemistry in ("NMC", "LFP")
        total = sum(c.voltage for c in snap.cells)
        assert abs(snap.pack_voltage_v - total) < 0.01 * total
        if snap.chemistry == "NMC":
            assert all(3.0 <= c.voltage <= 4.25 for c in snap.cells)
    assert any(s.metrics.current_a > 0 for s in samples)  # charging happens
    assert any(s.metrics.current_a < 0 for s in samples)  # and driving


def test_snapshot_only_and_sample_only_configs() -> None:
    only_snap = FleetConfig(
        vehicles=2, duration_s=1800.0, sample_period_s=None, faults=FaultRates()
    )
    only_sample = FleetConfig(
        vehicles=2, duration_s=1800.0, snapshot_period_s=None, faults=FaultRates()
    )
    for message in Fleet(only_snap).messages():
        assert all(isinstance(r, PackSnapshot) for r in decode_ok(message.value))
    for message in Fleet(only_sample).messages():
        assert all(isinstance(r, PackSample) for r in decode_ok(message.value))
