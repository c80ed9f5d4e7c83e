"""Physics: SOC is coulomb-consistent with the TRUE capacity; fleet spread; healthy ranges."""

import itertools

from schemas.telemetry import PackSample, PackSnapshot
from tests.simulator.helpers import decode_fast
from voltstream.simulator import FaultRates, Fleet, FleetConfig
from voltstream.simulator.config import BmsCapacityMode


def _points(fleet: Fleet) -> list[tuple[float, float, float]]:
    """(t since start, soc, current) of the fleet's readings in event order."""
    start = fleet.config.start.timestamp()
    points = []
    for message in fleet.messages():
        for reading in decode_fast(message.value):
            if isinstance(reading, PackSample):
                soc, current = reading.metrics.soc_percent, reading.metrics.current_a
            else:
                assert reading.soc_percent is not None
                assert reading.pack_current_a is not None
                soc, current = reading.soc_percent, reading.pack_current_a
            points.append((reading.timestamp.timestamp() - start, soc, current))
    points.sort()
    return points


def test_soc_integrates_current_over_true_capacity() -> None:
    config = FleetConfig(vehicles=3, duration_s=2 * 86_400.0, faults=FaultRates(), usage_scale=3.0)
    for index in range(3):
        fleet = Fleet(config, indices=[index])
        sim = fleet.vehicle(index)
        points = _points(fleet)
        capacity_ah = sim.truth.capacity[0].capacity_ah
        charge_ah = 0.0
        for (t0, _, _), (t1, _, current) in itertools.pairwise(points):
            charge_ah += current * (t1 - t0) / 3600.0
            # the current at t1 applies to (t0, t1]
        expected_delta = charge_ah / capacity_ah * 100.0
        actual_delta = points[-1][1] - points[0][1]
        assert abs(expected_delta - actual_delta) < 0.05, (index, expected_delta, actual_delta)
        # a coulomb-counting estimator recovers the true capacity from one charge session
        sessions = [s for s in sim.truth.sessions if s.soc_end - s.soc_start >= 40.0]
        assert sessions, "expected at least one deep charge session in 2 busy days"
        session = sessions[0]
        inside = [p for p in points if session.start_s - 1e-6 <= p[0] <= session.end_s + 1e-6]
        counted_ah = sum(
            current * (t1 - t0) / 3600.0
            for (t0, _, _), (t1, _, current) in itertools.pairwise(inside)
        )
        swing = inside[-1][1] - inside[0][1]
        assert swing >= 40.0
        estimate = counted_ah / (swing / 100.0)
        true_ah = sim.truth.soh_at(session.end_s) / 100.0 * sim.spec.nominal_capacity_ah
        assert abs(estimate - true_ah) / true_ah < 0.002


def test_bms_capacity_noise_and_nominal_mode() -> None:
    noisy = FleetConfig(vehicles=20, duration_s=600.0, faults=FaultRates(), sample_period_s=None)
    for message in Fleet(noisy).messages():
        (snap,) = decode_fast(message.value)
        assert isinstance(snap, PackSnapshot)
        truth_kwh = message.true_capacity_kwh
        assert abs(snap.current_capacity_kwh - truth_kwh) / truth_kwh < 0.02
    nominal = FleetConfig(
        vehicles=5,
        duration_s=600.0,
        faults=FaultRates(),
        sample_period_s=None,
        bms_capacity=BmsCapacityMode.NOMINAL,
    )
    for message in Fleet(nominal).messages():
        (snap,) = decode_fast(message.value)
        assert isinstance(snap, PackSnapshot)
        assert snap.current_capacity_kwh == snap.nominal_capacity_kwh


def test_fleet_spread_of_age_chemistry_and_cells() -> None:
    fleet = Fleet(FleetConfig(vehicles=200, duration_s=0.0))
    specs = [sim.spec for sim in fleet.vehicles()]
    soh = [s.initial_soh_percent for s in specs]
    assert min(soh) >= 74.0
    assert max(soh) <= 100.0
    assert max(soh) - min(soh) > 20.0
    assert 0.1 < sum(s.chemistry.name == "LFP" for s in specs) / len(specs) < 0.4
    assert all(80 <= s.cells <= 120 for s in specs)
    assert len({s.vehicle_id for s in specs}) == 200


def test_healthy_fleet_stays_in_normal_ranges() -> None:
    config = FleetConfig(vehicles=12, duration_s=86_400.0, faults=FaultRates(), usage_scale=2.0)
    max_temp = -100.0
    max_spread = 0.0
    for message in Fleet(config).messages():
        for reading in decode_fast(message.value):
            if isinstance(reading, PackSnapshot):
                volts = [c.voltage for c in reading.cells]
                max_spread = max(max_spread, max(volts) - min(volts))
                max_temp = max(max_temp, *(c.temperature for c in reading.cells))
            else:
                max_temp = max(max_temp, reading.metrics.temp_c)
    assert max_temp < 45.0
    assert max_spread < 0.05


def test_capacity_fades_with_use() -> None:
    config = FleetConfig(vehicles=1, duration_s=3 * 86_400.0, faults=FaultRates(), usage_scale=3.0)
    fleet = Fleet(config)
    for _ in fleet.messages():
        pass
    (truth,) = fleet.ground_truth().vehicles.values()
    first, last = truth.capacity[0], truth.capacity[-1]
    assert last.capacity_ah < first.capacity_ah
    assert last.equivalent_full_cycles > first.equivalent_full_cycles
    assert first.soh_percent - last.soh_percent < 0.2
