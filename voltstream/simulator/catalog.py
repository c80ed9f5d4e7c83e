"""Catalogue of simulated vehicle models and the per-vehicle static specification."""

from dataclasses import dataclass

from voltstream.simulator.chemistry import CHEMISTRIES, Chemistry, ChemistryName


@dataclass(frozen=True, slots=True)
class VehicleModel:
    """A make/model with its pack layout (series cells) and nominal energy."""

    make: str
    model: str
    chemistry: ChemistryName
    cells: int
    nominal_capacity_kwh: float
    consumption_kwh_per_km: float
    max_dc_power_kw: float
    weight: float


CATALOG: tuple[VehicleModel, ...] = (
    VehicleModel("Voltara", "Aria", ChemistryName.NMC, 96, 60.0, 0.16, 120.0, 0.25),
    VehicleModel("Voltara", "Aria LR", ChemistryName.NMC, 108, 82.0, 0.17, 170.0, 0.15),
    VehicleModel("Nordwind", "Fjord", ChemistryName.NMC, 88, 64.0, 0.18, 130.0, 0.15),
    VehicleModel("Nordwind", "Polar", ChemistryName.NMC, 120, 95.0, 0.21, 200.0, 0.1),
    VehicleModel("Meridian", "Cargo", ChemistryName.NMC, 80, 50.0, 0.22, 90.0, 0.1),
    VehicleModel("Kestrel", "K3", ChemistryName.LFP, 104, 55.0, 0.15, 110.0, 0.15),
    VehicleModel("Meridian", "City", ChemistryName.LFP, 120, 45.0, 0.14, 80.0, 0.1),
)


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """Static description of one simulated vehicle (chosen once from its seeded RNG)."""

    index: int
    vehicle_id: str
    model: VehicleModel
    chemistry: Chemistry
    initial_soh_percent: float
    initial_equivalent_cycles: float
    initial_calendar_days: float
    ambient_mean_c: float
    daily_km: float
    charge_threshold_percent: float
    charge_target_percent: float
    ac_power_kw: float
    phase_s: float

    @property
    def cells(self) -> int:
        """Number of series cells (one reading each)."""
        return self.model.cells

    @property
    def nominal_capacity_kwh(self) -> float:
        """Manufacturer-rated pack energy."""
        return self.model.nominal_capacity_kwh

    @property
    def nominal_pack_v(self) -> float:
        """Nominal pack voltage: cells x chemistry nominal cell voltage."""
        return self.model.cells * self.chemistry.nominal_cell_v

    @property
    def nominal_capacity_ah(self) -> float:
        """Nominal charge capacity: nominal kWh x 1000 / nominal pack voltage."""
        return self.model.nominal_capacity_kwh * 1000.0 / self.nominal_pack_v


def chemistry_of(model: VehicleModel) -> Chemistry:
    """The chemistry parameters of a catalogue model."""
    return CHEMISTRIES[model.chemistry]
