"""Cell chemistries: voltage limits, nominal voltage and open-circuit-voltage curves."""

import bisect
from dataclasses import dataclass
from enum import StrEnum


class ChemistryName(StrEnum):
    """Cell chemistries the simulator knows."""

    NMC = "NMC"
    LFP = "LFP"


@dataclass(frozen=True, slots=True)
class Chemistry:
    """Electrical parameters of one cell chemistry.

    `ocv_soc` / `ocv_v` are the breakpoints of a piecewise-linear OCV(SOC) curve, SOC in percent.
    Capacity in kWh is defined as capacity in Ah x cells x `nominal_cell_v` / 1000, so that
    SOH = capacity_ah / nominal_ah = capacity_kwh / nominal_kwh.
    """

    name: ChemistryName
    min_cell_v: float
    max_cell_v: float
    nominal_cell_v: float
    cell_resistance_mohm: float
    ocv_soc: tuple[float, ...]
    ocv_v: tuple[float, ...]

    def ocv(self, soc_percent: float) -> float:
        """Open-circuit cell voltage at `soc_percent` (clamped to 0..100)."""
        return self.ocv_and_slope(soc_percent)[0]

    def ocv_and_slope(self, soc_percent: float) -> tuple[float, float]:
        """OCV and dOCV/dSOC (V per % SOC) at `soc_percent` (clamped to 0..100)."""
        xs = self.ocv_soc
        soc = min(max(soc_percent, 0.0), 100.0)
        i = min(max(bisect.bisect_right(xs, soc) - 1, 0), len(xs) - 2)
        x0, x1 = xs[i], xs[i + 1]
        y0, y1 = self.ocv_v[i], self.ocv_v[i + 1]
        slope = (y1 - y0) / (x1 - x0)
        return y0 + slope * (soc - x0), slope


NMC = Chemistry(
    name=ChemistryName.NMC,
    min_cell_v=3.0,
    max_cell_v=4.2,
    nominal_cell_v=3.65,
    cell_resistance_mohm=0.9,
    ocv_soc=(0.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 100.0),
    ocv_v=(3.00, 3.35, 3.45, 3.55, 3.62, 3.68, 3.74, 3.82, 3.90, 3.98, 4.07, 4.13, 4.20),
)

LFP = Chemistry(
    name=ChemistryName.LFP,
    min_cell_v=2.5,
    max_cell_v=3.65,
    nominal_cell_v=3.2,
    cell_resistance_mohm=0.8,
    ocv_soc=(0.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 100.0),
    ocv_v=(2.70, 3.10, 3.20, 3.25, 3.28, 3.29, 3.30, 3.31, 3.33, 3.34, 3.36, 3.38, 3.50),
)

CHEMISTRIES: dict[ChemistryName, Chemistry] = {ChemistryName.NMC: NMC, ChemistryName.LFP: LFP}
