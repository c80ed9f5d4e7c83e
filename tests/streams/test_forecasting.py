"""Degradation predictor in the stream: cycle rows, predicted SOH/RUL and rapid_degradation."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schemas.alerts import Alert, AlertState, AlertType
from streams.analytics.discharge import DischargeCycle
from streams.analytics.profiles import DEFAULT_PROFILE
from streams.analytics.state import VehicleState, nominal_ah
from streams.dlq import SourcePosition
from streams.forecasting import CycleForecasting, to_cycle_features
from streams.processor import FlushPlan, SourceMessage, TelemetryProcessor
from streams.sink.tables import BATTERY_ALERTS, BATTERY_HEALTH, CYCLE_SERIES, PACK_TELEMETRY
from streams.statestore import StateStore
from tests.streams.builders import encode, snapshot
from voltstream.settings import PipelineSettings

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=12)
CYCLES = 14
NOMINAL_AH = nominal_ah(60.0, 96, DEFAULT_PROFILE)  # 60 kWh, 96s NMC: ~171 Ah


def vehicle_messages(vehicle_id: str, fade_per_cycle: float) -> list[bytes]:
    """`CYCLES` days of one discharge 90 -> 30 % at 0.5 C, a park, a charge back, a night.

    The true capacity falls by `fade_per_cycle` (fraction of nominal) every cycle; SOC follows
    it exactly, so coulomb counting sees the fade.
    """
    out: list[bytes] = []
    t = START
    step = timedelta(seconds=60)
    for k in range(CYCLES):
        cap = NOMINAL_AH * (0.95 - fade_per_cycle * k)
        soc = 90.0
        current = -0.5 * NOMINAL_AH
        while soc > 30.0:
            out.append(
                encode(snapshot(vehicle_id, t, current_a=round(current, 3), soc_percent=soc))
            )
            t += step
            soc -= -current * 60.0 / 3600.0 / cap * 100.0
        for _ in range(5):  # parked
            out.append(encode(snapshot(vehicle_id, t, soc_percent=max(soc, 0.0))))
            t += step
        charge = 0.5 * NOMINAL_AH
        while soc < 90.0:
            out.append(encode(snapshot(vehicle_id, t, current_a=charge, soc_percent=soc)))
            t += step
            soc += charge * 60.0 / 3600.0 / cap * 100.0
        t += timedelta(hours=12)  # overnight, silent
    return out


def run(processor: TelemetryProcessor, vehicle_id: str, messages: list[bytes]) -> FlushPlan:
    plan = FlushPlan()
    for offset, raw in enumerate(messages):
        position = SourcePosition("battery.telemetry", 0, offset, 1.0)
        processor.process(SourceMessage(vehicle_id.encode(), raw, position), plan, NOW)
    assert not plan.dead_letters, plan.dead_letters[:1]
    return plan


def make(forecaster: Any = None) -> TelemetryProcessor:
    store: StateStore[VehicleState] = StateStore(
        {}, factory=VehicleState, encode=VehicleState.to_bytes, decode=VehicleState.from_bytes
    )
    return TelemetryProcessor(PipelineSettings(), store, forecaster=forecaster)


def rapid(plan: FlushPlan) -> list[Alert]:
    return [a for a in plan.alerts if a.type is AlertType.rapid_degradation]


@pytest.fixture(scope="module")
def fast_messages() -> list[bytes]:
    return vehicle_messages("EV-FAST", 0.01)  # 1 % of nominal per cycle: 50x the NMC norm


@pytest.fixture(scope="module")
def healthy_messages() -> list[bytes]:
    return vehicle_messages("EV-OK", 0.0)


def test_cycles_are_stored_without_a_forecaster(fast_messages: list[bytes]) -> None:
    plan = run(make(), "EV-FAST", fast_messages)
    cycles = plan.rows.rows(CYCLE_SERIES.name)
    assert [c[2] for c in cycles] == list(range(1, CYCLES + 1))
    for k, (source, battery, _, time, features, soh_target, capacity) in enumerate(cycles):
        assert (source, battery) == ("stream", "EV-FAST")
        assert time is not None
        assert time.tzinfo is not None
        true_soh = (0.95 - 0.01 * k) * 100.0
        assert soh_target == pytest.approx(true_soh, abs=0.3)
        assert capacity == pytest.approx(true_soh / 100.0 * NOMINAL_AH, rel=0.003)
        assert features["rated_capacity_ah"] == pytest.approx(NOMINAL_AH)
        assert features["avg_voltage_load_v"] == pytest.approx(3.9, abs=0.01)
        assert features["mean_current_a"] == pytest.approx(0.5 * NOMINAL_AH, rel=1e-4)
        assert (features["rest_s"] is None) == (k == 0)
    health = plan.rows.rows(BATTERY_HEALTH.name)
    assert all(row[10] is None and row[11] is None for row in health)
    assert rapid(plan) == []


def test_feature_adapter_matches_the_predictor_contract() -> None:
    pytest.importorskip("numpy")
    plan = run(make(), "EV-OK", vehicle_messages("EV-OK", 0.0)[:400])
    (row,) = plan.rows.rows(CYCLE_SERIES.name)[:1]
    from streams.predictor.features import FEATURE_NAMES, CycleFeatures

    assert set(FEATURE_NAMES) <= set(row[4])
    back = CycleFeatures.from_mapping(row[4])
    assert back.soh_percent == pytest.approx(row[5])


# ---------------------------------------------------------------- with a trained artifact


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    torch = pytest.importorskip("torch")
    pytest.importorskip("scipy")
    from streams.predictor.artifact import save_bundle
    from streams.predictor.forecaster import DegradationForecaster
    from streams.predictor.matgen import CellSpec, write_nasa_mat
    from streams.predictor.nasa import load_dataset
    from streams.predictor.train import Split, TrainConfig, train_bundle

    torch.set_num_threads(1)
    folder: Path = tmp_path_factory.mktemp("nasa_mat")
    write_nasa_mat(folder / "B0901.mat", "B0901", 30, CellSpec(), seed=1)
    write_nasa_mat(folder / "B0902.mat", "B0902", 30, CellSpec(fade_per_cycle_ah=0.006), seed=2)
    config = TrainConfig(window=12, min_history=4, ensemble=1, epochs=4, patience=3, threads=1)
    bundle = train_bundle(
        load_dataset([folder]), Split(train=("B0901",), val=("B0902",), test=()), config
    )
    path = folder / "model.pt"
    save_bundle(bundle, path)
    loaded = DegradationForecaster.load_optional(path)
    assert loaded is not None
    return loaded


def test_fast_fading_vehicle_gets_predictions_and_one_rapid_alert(
    forecaster: Any, fast_messages: list[bytes]
) -> None:
    plan = run(make(forecaster), "EV-FAST", fast_messages)
    assert len(plan.rows.rows(CYCLE_SERIES.name)) == CYCLES
    predicted = [r for r in plan.rows.rows(BATTERY_HEALTH.name) if r[10] is not None]
    # the first forecast needs min_history usable cycles
    assert len(predicted) == CYCLES - forecaster.min_history + 1
    times = [r[0] for r in plan.rows.rows(BATTERY_HEALTH.name)]
    assert len(times) == len(set(times))  # one health row per reading (the table's key)
    last_soh = (0.95 - 0.01 * (CYCLES - 1)) * 100.0
    assert predicted[-1][10] == pytest.approx(last_soh - 1.0, abs=3.0)
    assert predicted[-1][11] is not None
    assert predicted[-1][11] < 20
    (alert,) = rapid(plan)
    assert alert.state is AlertState.firing
    assert alert.value > alert.threshold == pytest.approx(0.04)
    assert alert.evidence["history_cycles"] == forecaster.min_history
    # the same stream again (a replay from the same state) yields the same alert id
    again = run(make(forecaster), "EV-FAST", fast_messages)
    assert [a.alert_id for a in rapid(again)] == [alert.alert_id]
    stored = [r for r in plan.rows.rows(BATTERY_ALERTS.name) if r[3] == "rapid_degradation"]
    assert len(stored) == 1


def test_healthy_vehicle_raises_nothing(forecaster: Any, healthy_messages: list[bytes]) -> None:
    plan = run(make(forecaster), "EV-OK", healthy_messages)
    predicted = [r for r in plan.rows.rows(BATTERY_HEALTH.name) if r[10] is not None]
    assert len(predicted) == CYCLES - forecaster.min_history + 1
    assert all(r[10] == pytest.approx(95.0, abs=3.0) for r in predicted)
    assert rapid(plan) == []


def test_without_a_forecaster_the_output_is_unchanged(
    forecaster: Any, fast_messages: list[bytes]
) -> None:
    with_fc = run(make(forecaster), "EV-FAST", fast_messages)
    without = run(make(), "EV-FAST", fast_messages)
    for table in (PACK_TELEMETRY.name, CYCLE_SERIES.name):
        assert with_fc.rows.rows(table) == without.rows.rows(table)
    plain = {r[:10] for r in with_fc.rows.rows(BATTERY_HEALTH.name)}
    assert {r[:10] for r in without.rows.rows(BATTERY_HEALTH.name)} <= plain
    assert [a for a in with_fc.alerts if a.type is not AlertType.rapid_degradation] == (
        without.alerts
    )


def test_rapid_episode_fires_once_and_resolves_when_the_forecast_falls_back() -> None:
    state = VehicleState("EV-R")
    at = START
    fired = state.observe_forecast(at, rapid=True, fade_percent_per_cycle=0.5, threshold=0.04)
    assert fired is not None
    assert fired.state is AlertState.firing
    again = state.observe_forecast(
        at + timedelta(days=1), rapid=True, fade_percent_per_cycle=0.6, threshold=0.04
    )
    assert again is None
    restored = VehicleState.from_bytes(state.to_bytes())
    done = restored.observe_forecast(
        at + timedelta(days=2), rapid=False, fade_percent_per_cycle=0.01, threshold=0.04
    )
    assert done is not None
    assert done.state is AlertState.resolved
    assert done.alert_id == fired.alert_id


def test_history_is_bounded_by_the_window(forecaster: Any, fast_messages: list[bytes]) -> None:
    processor = make(forecaster)
    run(processor, "EV-FAST", fast_messages)
    forecasting = processor._forecasting
    assert isinstance(forecasting, CycleForecasting)
    history = forecasting.history("EV-FAST")
    assert len(history) == min(CYCLES, forecaster.window)
    assert history[-1].rated_capacity_ah == pytest.approx(NOMINAL_AH)


def test_feature_adapter_scales_time_to_a_full_window() -> None:
    pytest.importorskip("numpy")
    cycle = DischargeCycle(
        cycle_index=3,
        end_time=START,
        capacity_ah=150.0,
        max_temperature_c=35.0,
        avg_voltage_load_v=3.7,
        time_to_discharge_s=1800.0,
        mean_temperature_c=31.0,
        mean_current_a=100.0,
        rest_s=None,
        soc_swing_percent=50.0,
    )
    f = to_cycle_features(cycle, 160.0)
    assert f is not None
    assert f.time_to_discharge_s == pytest.approx(3600.0)
    assert f.soh_percent == pytest.approx(93.75)
    assert to_cycle_features(cycle._replace(capacity_ah=None), 160.0) is None
    assert to_cycle_features(cycle, None) is None
