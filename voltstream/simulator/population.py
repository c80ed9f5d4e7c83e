"""Draws each vehicle's static spec and initial ageing state from its own seeded RNG."""

import random

from voltstream.simulator.ageing import AgeingParams, AgeingState
from voltstream.simulator.catalog import CATALOG, VehicleModel, VehicleSpec, chemistry_of
from voltstream.simulator.chemistry import ChemistryName
from voltstream.simulator.config import FleetConfig


def vehicle_rng(config: FleetConfig, index: int, purpose: str) -> random.Random:
    """The RNG of one vehicle for one purpose (independent streams, no global RNG)."""
    return random.Random(f"voltstream/{config.seed}/{index}/{purpose}")


def vehicle_id(config: FleetConfig, index: int) -> str:
    """Stable vehicle id, e.g. `EV-00042`."""
    width = max(5, len(str(max(config.vehicles - 1, 0))))
    return f"{config.vehicle_id_prefix}{index:0{width}d}"


def _pick_model(rng: random.Random, lfp_share: float) -> VehicleModel:
    lfp = rng.random() < lfp_share
    wanted = ChemistryName.LFP if lfp else ChemistryName.NMC
    models = [m for m in CATALOG if m.chemistry is wanted]
    return rng.choices(models, weights=[m.weight for m in models])[0]


def draw_vehicle(config: FleetConfig, index: int) -> tuple[VehicleSpec, AgeingState]:
    """The spec and the initial (pre-run) ageing state of vehicle `index`."""
    rng = vehicle_rng(config, index, "spec")
    model = _pick_model(rng, config.lfp_share)
    chemistry = chemistry_of(model)
    params = AgeingParams()
    target_soh = rng.uniform(*config.soh_range)
    loss = max(100.0 - target_soh, 0.0)
    calendar_share = rng.uniform(0.3, 0.7)
    t_eq_days = (calendar_share * loss / params.k_cal_percent) ** 2
    efc = ((1.0 - calendar_share) * loss / params.k_cyc_percent) ** (1.0 / params.cycle_exponent)
    knee = None
    if config.knee and rng.random() < 0.1:
        knee = efc + rng.uniform(-50.0, 150.0)
    params = AgeingParams(knee_efc=knee)
    ageing = AgeingState(params, t_eq_days, efc, 1.0)
    if ageing.soh_percent() < config.soh_range[0]:
        ageing.params = AgeingParams()
    is_lfp = model.chemistry is ChemistryName.LFP
    spec = VehicleSpec(
        index=index,
        vehicle_id=vehicle_id(config, index),
        model=model,
        chemistry=chemistry,
        initial_soh_percent=ageing.soh_percent(),
        initial_equivalent_cycles=efc,
        initial_calendar_days=t_eq_days,
        ambient_mean_c=rng.uniform(-2.0, 28.0),
        daily_km=rng.uniform(30.0, 150.0),
        charge_threshold_percent=rng.uniform(20.0, 45.0),
        charge_target_percent=100.0 if is_lfp else rng.uniform(85.0, 95.0),
        ac_power_kw=rng.choice((7.4, 11.0)),
        phase_s=round(rng.uniform(0.0, config.active_period_s), 3),
    )
    return spec, ageing
