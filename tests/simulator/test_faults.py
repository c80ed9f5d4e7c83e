"""Injected faults appear in the ground truth and, measurably, in the data."""

import itertools
from collections import defaultdict

import pytest

from schemas.telemetry import PackSample, PackSnapshot
from tests.simulator.helpers import decode_fast, rejected
from voltstream.simulator import FaultRates, FaultType, Fleet, FleetConfig, MessageKind, SimMessage


def _fleet(rates: FaultRates, hours: float = 10.0, vehicles: int = 3) -> Fleet:
    return Fleet(FleetConfig(vehicles=vehicles, duration_s=hours * 3600.0, faults=rates, seed=5))


def _snapshots(fleet: Fleet) -> dict[str, list[tuple[float, PackSnapshot]]]:
    start = fleet.config.start.timestamp()
    result: dict[str, list[tuple[float, PackSnapshot]]] = defaultdict(list)
    for message in fleet.messages():
        for reading in decode_fast(message.value):
            if isinstance(reading, PackSnapshot):
                result[reading.vehicle_id].append((reading.timestamp.timestamp() - start, reading))
    return result


def _windows(
    fleet: Fleet, fault: FaultType
) -> dict[str, list[tuple[float, float, tuple[int, ...]]]]:
    truth = fleet.ground_truth()
    found = {
        vid: [(w.start_s, w.end_s, w.cells) for w in vt.faults if w.type is fault]
        for vid, vt in truth.vehicles.items()
    }
    assert all(found.values()), f"every vehicle should get a {fault} window"
    return found


def test_weak_cell_imbalance_grows() -> None:
    fleet = _fleet(FaultRates(weak_cell=1.0))
    data = _snapshots(fleet)
    for vid, windows in _windows(fleet, FaultType.WEAK_CELL).items():
        start, end, (cell,) = windows[0]
        inside = [(t, s) for t, s in data[vid] if start <= t < end]
        assert len(inside) >= 5
        devs = []
        for _, snap in inside:
            volts = sorted(c.voltage for c in snap.cells)
            median = volts[len(volts) // 2]
            devs.append(median - snap.cells[cell].voltage)
            assert max(volts) - min(volts) > 0.05
        assert devs[-1] > devs[0] + 0.05
        outside = [s for t, s in data[vid] if t < start]
        for snap in outside:
            volts = [c.voltage for c in snap.cells]
            assert max(volts) - min(volts) < 0.05


def test_thermal_event_rate_and_overheating() -> None:
    fleet = _fleet(FaultRates(thermal_event=1.0), hours=4.0)
    data = _snapshots(fleet)
    start_s = fleet.config.start.timestamp()
    hot_samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for message in fleet.messages():
        for reading in decode_fast(message.value):
            t = reading.timestamp.timestamp() - start_s
            if isinstance(reading, PackSample):
                hot_samples[reading.device_id].append((t, reading.metrics.temp_c))
            else:
                hot_samples[reading.vehicle_id].append(
                    (t, max(c.temperature for c in reading.cells))
                )
    for vid, windows in _windows(fleet, FaultType.THERMAL_EVENT).items():
        start, end, cells = windows[0]
        series = sorted(p for p in hot_samples[vid] if start <= p[0] < end)
        rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(series)]
        fast = [r for r in rates if r >= 1.0]
        assert len(fast) >= 3, rates[:40]
        assert max(p[1] for p in series) > 60.0
        assert max(p[1] for p in series) <= 150.0
        snaps = [s for t, s in data[vid] if start <= t < end]
        hottest = max(snaps, key=lambda s: max(c.temperature for c in s.cells))
        assert max(hottest.cells, key=lambda c: c.temperature).id == cells[0]


@pytest.mark.parametrize("fault", [FaultType.STUCK_SENSOR, FaultType.DEAD_SENSOR])
def test_stuck_and_dead_sensors(fault: FaultType) -> None:
    rates = FaultRates(**{fault.value: 1.0})
    fleet = _fleet(rates, vehicles=6)
    data = _snapshots(fleet)
    truth = fleet.ground_truth()
    for vid, vt in truth.vehicles.items():
        (window,) = [w for w in vt.faults if w.type is fault]
        (cell,) = window.cells
        inside = [s for t, s in data[vid] if window.start_s <= t < window.end_s]
        assert len(inside) >= 3
        attr = "voltage" if window.sensor == "voltage" else "temperature"
        values = {getattr(s.cells[cell], attr) for s in inside}
        if fault is FaultType.STUCK_SENSOR:
            assert len(values) == 1
            others = {getattr(s.cells[(cell + 1) % len(s.cells)], attr) for s in inside}
            assert len(others) > 1
        else:
            assert values == ({0.0} if attr == "voltage" else {-40.0})


def test_pack_voltage_mismatch() -> None:
    fleet = _fleet(FaultRates(pack_voltage_mismatch=1.0))
    data = _snapshots(fleet)
    for vid, windows in _windows(fleet, FaultType.PACK_VOLTAGE_MISMATCH).items():
        start, end, _ = windows[0]
        for t, snap in data[vid]:
            assert snap.pack_voltage_v is not None
            total = sum(c.voltage for c in snap.cells)
            error = abs(snap.pack_voltage_v - total) / total
            assert (error > 0.04) == (start <= t < end)


def test_offline_means_silence() -> None:
    fleet = _fleet(FaultRates(offline=1.0))
    start_s = fleet.config.start.timestamp()
    times: dict[str, list[float]] = defaultdict(list)
    for message in fleet.messages():
        times[message.vehicle_id].append(message.event_time.timestamp() - start_s)
    for vid, windows in _windows(fleet, FaultType.OFFLINE).items():
        start, end, _ = windows[0]
        assert not [t for t in times[vid] if start <= t < end]
        assert [t for t in times[vid] if t >= end]


def test_duplicates_out_of_order_and_malformed_in_truth_and_data() -> None:
    rates = FaultRates(duplicate=0.05, out_of_order=0.05, malformed=0.05)
    fleet = _fleet(rates, hours=3.0)
    messages = list(fleet.messages())
    records = [r for r in fleet.ground_truth().records() if r["record"] == "message"]
    by_kind: dict[MessageKind, list[SimMessage]] = defaultdict(list)
    for message in messages:
        by_kind[message.kind].append(message)
    assert len(records) == sum(len(v) for k, v in by_kind.items() if k is not MessageKind.VALID)
    seen: dict[tuple[str, int], bytes] = {}
    for message in messages:
        if message.kind is MessageKind.DUPLICATE:
            assert seen[(message.vehicle_id, message.seq)] == message.value
        else:
            seen[(message.vehicle_id, message.seq)] = message.value
    latest: dict[str, float] = {}
    for message in messages:
        if message.kind is MessageKind.OUT_OF_ORDER:
            assert message.event_time.timestamp() < latest[message.vehicle_id]
        if message.kind is not MessageKind.MALFORMED:
            latest[message.vehicle_id] = max(
                latest.get(message.vehicle_id, 0.0), message.event_time.timestamp()
            )
    for message in by_kind[MessageKind.MALFORMED]:
        assert rejected(message.value) != []
    assert all(by_kind[k] for k in MessageKind)
