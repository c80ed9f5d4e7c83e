"""Empirical capacity-fade model: cycle ageing (Ah throughput) + calendar ageing, Arrhenius."""

import math
from dataclasses import dataclass

GAS_CONSTANT = 8.314
REFERENCE_K = 298.15


@dataclass(frozen=True, slots=True)
class AgeingParams:
    """Coefficients of the semi-empirical fade model (Wang 2011 / Schmalstieg 2014 style).

    loss% = k_cal * sqrt(t_eq_days) + k_cyc * efc_eq ** z + k_knee * max(0, efc_eq - knee) ** 2
    where t_eq and efc_eq are Arrhenius-weighted calendar time and equivalent full cycles.
    """

    k_cal_percent: float = 0.13
    ea_cal_j_per_mol: float = 24_500.0
    k_cyc_percent: float = 0.2
    cycle_exponent: float = 0.55
    ea_cyc_j_per_mol: float = 31_500.0
    knee_efc: float | None = None
    k_knee_percent: float = 2e-5


def arrhenius(temp_c: float, ea_j_per_mol: float) -> float:
    """Acceleration factor of a reaction at `temp_c` relative to 25 C."""
    return math.exp(-ea_j_per_mol / GAS_CONSTANT * (1.0 / (temp_c + 273.15) - 1.0 / REFERENCE_K))


class AgeingState:
    """Accumulates Arrhenius-weighted calendar time and cycle throughput; gives the SOH."""

    __slots__ = (
        "_cal_af_cache",
        "efc_eq",
        "efc_raw",
        "manufacturing_factor",
        "params",
        "t_eq_days",
    )

    def __init__(
        self,
        params: AgeingParams,
        t_eq_days: float,
        efc_eq: float,
        manufacturing_factor: float,
    ) -> None:
        self.params = params
        self.t_eq_days = t_eq_days
        self.efc_eq = efc_eq
        self.efc_raw = efc_eq
        self.manufacturing_factor = manufacturing_factor
        self._cal_af_cache: tuple[float, float, float] = (math.nan, 1.0, 1.0)

    def loss_percent(self) -> float:
        """Capacity loss in percent of nominal."""
        p = self.params
        loss = p.k_cal_percent * math.sqrt(max(self.t_eq_days, 0.0))
        loss += p.k_cyc_percent * math.pow(max(self.efc_eq, 0.0), p.cycle_exponent)
        if p.knee_efc is not None and self.efc_eq > p.knee_efc:
            loss += p.k_knee_percent * (self.efc_eq - p.knee_efc) ** 2
        return float(loss)

    def soh_percent(self) -> float:
        """True state of health: (100 - loss) x manufacturing factor, floored at 40 %."""
        return max((100.0 - self.loss_percent()) * self.manufacturing_factor, 40.0)

    def advance(self, dt_s: float, temp_c: float, throughput_efc: float) -> None:
        """Add `dt_s` of calendar time and `throughput_efc` full cycles at `temp_c`."""
        key = round(temp_c, 1)
        cached_t, af_cal, af_cyc = self._cal_af_cache
        if cached_t != key:
            af_cal = arrhenius(key, self.params.ea_cal_j_per_mol)
            af_cyc = arrhenius(key, self.params.ea_cyc_j_per_mol)
            self._cal_af_cache = (key, af_cal, af_cyc)
        self.t_eq_days += dt_s / 86_400.0 * af_cal
        self.efc_eq += throughput_efc * af_cyc
        self.efc_raw += throughput_efc
