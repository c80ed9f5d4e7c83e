"""Accuracy on a simulated fleet (issue "Done when"): rolling SOH and fault detection.

Thresholds: SOH within 1 % of truth for >= 95 % of vehicles with >= 3 charge sessions of
>= 40 % swing; recall >= 99 % over (fault window, expected alert) pairs; <= 1 % of fault-free
vehicles raise any alert (low_soh on a truly degraded pack is not a false alarm).
"""

import pytest

from tests.analytics.fleet_eval import Score, run_fleet
from voltstream.simulator import BmsCapacityMode, FaultRates, FleetConfig

MESSAGE_FAULTS_ONLY = FaultRates(duplicate=0.005, out_of_order=0.005)
VEHICLE_FAULTS = FaultRates(
    weak_cell=0.5,
    thermal_event=0.5,
    stuck_sensor=0.5,
    dead_sensor=0.5,
    pack_voltage_mismatch=0.5,
    offline=0.3,
    duplicate=0.005,
    out_of_order=0.005,
)


def summary(score: Score) -> str:
    worst = max((abs(e) for e in score.soh_errors.values()), default=float("nan"))
    return (
        f"SOH within 1 %: {score.soh_within:.3f} of {len(score.soh_errors)} vehicles "
        f"(max |err| {worst:.3f} %); recall {score.detected}/{score.windows}; "
        f"false alarms {len(score.false_alarm_vehicles)}/{score.healthy} {score.false_alarm_types}"
    )


def check_soh(score: Score) -> None:
    assert len(score.soh_errors) >= 4, "fleet too small: too few vehicles with 3 deep sessions"
    assert score.soh_within >= 0.95, score.soh_errors


@pytest.mark.slow
def test_healthy_fleet_soh_from_coulomb_counting_and_no_false_alarms() -> None:
    # The BMS reports the nominal capacity: SOH must come from coulomb counting.
    config = FleetConfig(
        vehicles=10,
        seed=7,
        duration_s=4 * 86_400.0,
        faults=MESSAGE_FAULTS_ONLY,
        bms_capacity=BmsCapacityMode.NOMINAL,
        usage_scale=1.5,
    )
    score = run_fleet(config)
    print(summary(score))
    check_soh(score)
    assert score.healthy == 10
    assert score.false_alarm_rate <= 0.01, score.false_alarm_types


@pytest.mark.slow
def test_faulty_fleet_recall_and_fused_soh() -> None:
    config = FleetConfig(
        vehicles=8,
        seed=8,
        duration_s=3 * 86_400.0,
        faults=VEHICLE_FAULTS,
        bms_capacity=BmsCapacityMode.NOISY,
        bms_capacity_noise_percent=1.0,
        usage_scale=2.0,
    )
    score = run_fleet(config)
    print(summary(score))
    check_soh(score)
    assert score.windows >= 15, "fleet too small: too few fault windows"
    assert score.recall >= 0.99, score.missed
