"""Named calibration profiles: every threshold the analytics use, per chemistry or vehicle model."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from streams.errors import StreamsError


class UnknownProfileError(StreamsError, LookupError):
    """A calibration profile was asked for by a name that is not registered."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown calibration profile {name!r}")
        self.name = name


@dataclass(frozen=True, slots=True)
class CalibrationProfile:
    """Thresholds and estimator tuning for one chemistry / vehicle model.

    Band convention: the first (warning) band is strict (``value > warning``, seed 001's
    "> 0.05 V" and "> 45 C"); the major and critical bands are inclusive (``value >= band``).
    For ``low_soh`` the bands are strict lower bounds (``soh < band``).
    """

    name: str
    chemistry: str
    # cell voltage window (V): the BMS over/under-voltage warning levels, which sit above the
    # charge cut-off because IR drop lifts terminal voltage under charge current; nominal cell
    # voltage (V) converts kWh <-> Ah (kWh = Ah x series cells x cell_nominal_v / 1000)
    cell_nominal_v: float = 3.65
    cell_min_v: float = 2.8
    cell_max_v: float = 4.25
    cell_critical_margin_v: float = 0.2
    # values no working sensor reports: dead / disconnected sensors
    dead_cell_low_v: float = 0.5
    dead_cell_high_v: float = 5.0
    dead_temp_low_c: float = -40.0
    dead_temp_high_c: float = 125.0
    # voltage imbalance: max - min cell voltage (V)
    imbalance_warning_v: float = 0.05
    imbalance_major_v: float = 0.10
    imbalance_critical_v: float = 0.30
    imbalance_hysteresis_v: float = 0.01
    # IR-drop allowance: cell resistance spread widens the spread under load; every band is
    # raised by this many volts per unit of C-rate (|I| * V / nominal Wh).
    imbalance_per_c_rate_v: float = 0.015
    # overheating: hottest cell (C)
    overheat_warning_c: float = 45.0
    overheat_major_c: float = 50.0
    overheat_critical_c: float = 60.0
    overheat_hysteresis_c: float = 2.0
    # temperature spread: hottest - coldest cell (C)
    temp_spread_warning_c: float = 12.0
    temp_spread_major_c: float = 20.0
    temp_spread_hysteresis_c: float = 1.0
    # low state of health (percent)
    low_soh_warning_percent: float = 80.0
    low_soh_major_percent: float = 70.0
    low_soh_hysteresis_percent: float = 1.0
    # thermal runaway risk (GB 38031): dT/dt of the hottest cell sustained
    runaway_rate_c_per_s: float = 1.0
    runaway_sustain_s: float = 3.0
    runaway_max_gap_s: float = 60.0
    # sensor plausibility: |sum(cell V) - pack V| > max(abs, ratio * pack V)
    pack_sum_tolerance_v: float = 2.0
    pack_sum_tolerance_ratio: float = 0.02
    # stuck sensor: identical value for K readings while |current| changes by >= delta
    stuck_voltage_readings: int = 6
    stuck_current_change_a: float = 5.0
    stuck_temp_readings: int = 6
    # alert hysteresis: consecutive readings to fire / to resolve (below threshold - margin)
    fire_after_readings: int = 1
    fire_after_overrides: tuple[tuple[str, int], ...] = ()
    clear_after_readings: int = 3
    # charge sessions (coulomb counting). current_is_interval_mean: the reported current is the
    # mean over the interval since the previous reading (telematics averaging; the simulator's
    # convention) -> rectangle rule; False: instantaneous samples -> trapezoid rule.
    current_is_interval_mean: bool = True
    session_min_current_a: float = 0.5
    session_end_hold_s: float = 120.0
    session_max_gap_s: float = 120.0
    session_min_soc_swing_percent: float = 20.0
    session_min_samples: int = 20
    session_max_s_per_percent: float = 3600.0
    # discharge sessions (cycle features for the degradation forecaster): the smallest SOC swing
    # under load whose coulomb-counted capacity is used (a short trip's swing is too coarse)
    discharge_min_swing_percent: float = 30.0
    # degradation forecast: the fade the chemistry is expected to show (% SOH per cycle) and the
    # multiple of it a forecast fade must exceed to raise ``rapid_degradation``
    expected_fade_percent_per_cycle: float = 0.02
    rapid_degradation_factor: float = 2.0
    # capacity fusion
    fusion_process_std_percent: float = 0.3
    fusion_max_std_percent: float = 10.0
    bms_capacity_std_percent: float = 3.0
    confidence_high_std_percent: float = 1.0
    confidence_medium_std_percent: float = 2.5
    confidence_high_sessions: int = 3
    # cycles
    deep_discharge_soc_percent: float = 20.0
    deep_discharge_rearm_soc_percent: float = 50.0
    efc_soc_deadband_percent: float = 2.0
    efc_max_gap_s: float = 600.0
    # lateness: readings older than last seen minus this do not touch rolling state
    allowed_lateness_s: float = 30.0
    # fallbacks for PackSample-only vehicles (no nominal capacity / cell count in the message)
    nominal_capacity_kwh: float | None = None
    nominal_pack_voltage_v: float | None = None
    series_cells: int = 96


NMC = CalibrationProfile(name="nmc", chemistry="NMC")
LFP = CalibrationProfile(
    name="lfp",
    chemistry="LFP",
    cell_nominal_v=3.2,
    cell_min_v=2.5,
    cell_max_v=3.75,  # over-voltage warning level; 3.65 V is the CC-CV charge cut-off
    imbalance_warning_v=0.04,
    imbalance_major_v=0.10,
    imbalance_critical_v=0.30,
    overheat_warning_c=50.0,
    overheat_major_c=55.0,
    overheat_critical_c=60.0,
    session_min_soc_swing_percent=30.0,
    expected_fade_percent_per_cycle=0.01,
    series_cells=108,
)
NCA = CalibrationProfile(
    name="nca",
    chemistry="NCA",
    cell_nominal_v=3.6,
    cell_min_v=2.7,
    cell_max_v=4.2,
)
# A named vendor profile: 96s NMC pack, 60 kWh, tighter imbalance bands from the vendor's BMS spec.
ACME_E60 = replace(
    NMC,
    name="acme-e60",
    imbalance_warning_v=0.04,
    nominal_capacity_kwh=60.0,
    nominal_pack_voltage_v=350.4,
)

DEFAULT_PROFILE = NMC
PROFILES: Mapping[str, CalibrationProfile] = MappingProxyType(
    {p.name: p for p in (NMC, LFP, NCA, ACME_E60)}
)
_MODELS: Mapping[tuple[str, str], str] = MappingProxyType({("acme", "e60"): "acme-e60"})


def resolve_profile(
    name: str | None = None,
    make: str | None = None,
    model: str | None = None,
    chemistry: str | None = None,
) -> CalibrationProfile:
    """Pick a profile: explicit name, else make/model, else chemistry, else the NMC default."""
    if name is not None:
        found = PROFILES.get(name.lower())
        if found is None:
            raise UnknownProfileError(name)
        return found
    if make is not None and model is not None:
        by_model = _MODELS.get((make.strip().lower(), model.strip().lower()))
        if by_model is not None:
            return PROFILES[by_model]
    if chemistry is not None:
        by_chem = PROFILES.get(chemistry.strip().lower())
        if by_chem is not None:
            return by_chem
    return DEFAULT_PROFILE
