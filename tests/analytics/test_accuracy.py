"""Accuracy on a simulated fleet (issue "Done when"): rolling SOH and fault detection."""

import pytest

from tests.analytics.fleet_eval import Score, run_fleet
from voltstream.simulator import BmsCapacityMode, FaultRates, FleetConfig

# Every vehicle fault type on ~30 % of vehicles; message faults (duplicates, out-of-order) too.
RATES = FaultRates(
    weak_cell=0.3,
    thermal_event=0.3,
    stuck_sensor=0.3,
    dead_sensor=0.3,
    pack_voltage_mismatch=0.3,
    offline=0.15,
    duplicate=0.005,
    out_of_order=0.005,
)


def check(score: Score) -> None:
    print(
        f"SOH within 1 %: {score.soh_within:.3f} of {len(score.soh_errors)} vehicles "
        f"(max |err| {max(abs(e) for e in score.soh_errors.values()):.3f} %); "
        f"recall {score.detected}/{score.windows}; "
        f"false alarms {len(score.false_alarm_vehicles)}/{score.healthy} {score.false_alarm_types}"
    )
    assert len(score.soh_errors) >= 4, "fleet too small: too few vehicles with 3 deep sessions"
    assert score.soh_within >= 0.95
    assert score.windows >= 15, "fleet too small: too few fault windows"
    assert score.recall >= 0.99, score.missed
    assert score.healthy >= 3, "fleet too small: too few fault-free vehicles"
    assert score.false_alarm_rate <= 0.01, score.false_alarm_types


@pytest.mark.slow
def test_bms_reports_nominal_so_soh_comes_from_coulomb_counting() -> None:
    config = FleetConfig(
        vehicles=14,
        seed=7,
        duration_s=4 * 86_400.0,
        faults=RATES,
        bms_capacity=BmsCapacityMode.NOMINAL,
        usage_scale=1.5,
    )
    check(run_fleet(config))


@pytest.mark.slow
def test_noisy_bms_capacity_is_fused() -> None:
    config = FleetConfig(
        vehicles=10,
        seed=8,
        duration_s=4 * 86_400.0,
        faults=RATES,
        bms_capacity=BmsCapacityMode.NOISY,
        bms_capacity_noise_percent=1.0,
        usage_scale=1.5,
    )
    check(run_fleet(config))
