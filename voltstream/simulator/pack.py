"""Pack physics: coulomb-counted SOC, OCV + IR voltages, lumped thermal model, per-cell spread."""

import functools
import math
import random

import numpy as np
import numpy.typing as npt

from voltstream.simulator.ageing import AgeingState
from voltstream.simulator.catalog import VehicleSpec

FloatArray = npt.NDArray[np.float64]

NOISE_TABLE = 8192
MAX_CELLS = 256
CELL_V_NOISE = 0.0015
CELL_T_NOISE = 0.12
PACK_V_NOISE = 0.05
HEAT_CAPACITY_J_PER_K_PER_KWH = 6000.0
PASSIVE_TAU_S = 3 * 3600.0
ACTIVE_COOLING_W_PER_K = 900.0
ACTIVE_COOLING_ON_C = 30.0
CHILLER_C = 25.0


@functools.lru_cache(maxsize=8)
def noise_tables(seed: int) -> tuple[FloatArray, FloatArray]:
    """Standard-normal noise shared by a fleet's vehicles (each reads it at random offsets)."""
    gen = np.random.Generator(np.random.PCG64(seed))
    size = NOISE_TABLE + MAX_CELLS
    return gen.normal(0.0, CELL_V_NOISE, size), gen.normal(0.0, CELL_T_NOISE, size)


class PackModel:
    """True state of one pack; SOC integrates current over the TRUE capacity (Ah)."""

    __slots__ = (
        "_ocv",
        "_ocv_soc",
        "ageing",
        "capacity_ah",
        "cells",
        "chem",
        "heat_capacity",
        "max_t_offset",
        "noise_t",
        "noise_v",
        "nominal_ah",
        "r_base_ohm",
        "r_cell_ohm",
        "r_factor",
        "rng",
        "soc",
        "soc_delta",
        "spec",
        "sum_v_offset",
        "t_offset",
        "temp_c",
        "v_offset",
    )

    def __init__(
        self,
        spec: VehicleSpec,
        rng: random.Random,
        ageing: AgeingState,
        soc: float,
        temp_c: float,
        noise_seed: int,
    ) -> None:
        self.spec = spec
        self.chem = spec.chemistry
        self.rng = rng
        self.ageing = ageing
        self.cells = spec.cells
        self.nominal_ah = spec.nominal_capacity_ah
        self.capacity_ah = self.nominal_ah * ageing.soh_percent() / 100.0
        self.soc = soc
        self._ocv_soc = math.nan
        self._ocv = (0.0, 0.0)
        self.temp_c = temp_c
        self.heat_capacity = spec.nominal_capacity_kwh * HEAT_CAPACITY_J_PER_K_PER_KWH
        self.r_base_ohm = self.chem.cell_resistance_mohm / 1000.0 * 150.0 / self.nominal_ah
        self.r_cell_ohm = self._resistance()
        gen = np.random.Generator(np.random.PCG64(rng.getrandbits(64)))
        n = self.cells
        self.v_offset: FloatArray = gen.normal(0.0, 0.002, n)
        self.soc_delta: FloatArray = gen.normal(0.0, 0.15, n)
        self.r_factor: FloatArray = 1.0 + gen.normal(0.0, 0.02, n)
        self.t_offset: FloatArray = gen.normal(0.0, 0.5, n)
        self.max_t_offset = float(self.t_offset.max())
        self.sum_v_offset = float(self.v_offset.sum())
        if n > MAX_CELLS:
            raise ValueError(f"{n} cells exceed the simulator's {MAX_CELLS}")
        self.noise_v, self.noise_t = noise_tables(noise_seed)

    def _resistance(self) -> float:
        soh = self.capacity_ah / self.nominal_ah
        return self.r_base_ohm * (1.0 + 2.0 * max(0.0, 1.0 - soh))

    @property
    def soh_percent(self) -> float:
        """True state of health (capacity / nominal)."""
        return self.capacity_ah / self.nominal_ah * 100.0

    @property
    def capacity_kwh(self) -> float:
        """True capacity in kWh (Ah x nominal pack voltage)."""
        return self.capacity_ah * self.spec.nominal_pack_v / 1000.0

    def ocv_and_slope(self) -> tuple[float, float]:
        """Cell OCV and its slope at the current SOC (memoised: SOC is constant when parked)."""
        soc = self.soc
        if soc != self._ocv_soc:
            self._ocv_soc = soc
            self._ocv = self.chem.ocv_and_slope(soc)
        return self._ocv

    def pack_voltage(self, current_a: float) -> float:
        """True pack voltage (sum of true cell voltages, before sensor noise)."""
        ocv, _ = self.ocv_and_slope()
        return self.cells * (ocv + current_a * self.r_cell_ohm) + self.sum_v_offset

    def step(self, dt: float, current_a: float, ambient_c: float) -> None:
        """Advance (t, t + dt] with constant `current_a`: SOC, temperature, ageing."""
        self.soc = min(max(self.soc + current_a * dt / (36.0 * self.capacity_ah), 0.0), 100.0)
        heat_w = current_a * current_a * self.r_cell_ohm * self.cells
        h_passive = self.heat_capacity / PASSIVE_TAU_S
        h_active = ACTIVE_COOLING_W_PER_K if self.temp_c > ACTIVE_COOLING_ON_C else 0.0
        coolant = min(ambient_c, CHILLER_C)
        h_total = h_passive + h_active
        steady = (heat_w + h_passive * ambient_c + h_active * coolant) / h_total
        self.temp_c = steady + (self.temp_c - steady) * math.exp(-dt * h_total / self.heat_capacity)
        efc = abs(current_a) * dt / 3600.0 / (2.0 * self.nominal_ah)
        self.ageing.advance(dt, self.temp_c, efc)
        self.capacity_ah = self.nominal_ah * self.ageing.soh_percent() / 100.0
        self.r_cell_ohm = self._resistance()

    def temperature_scale(self, ambient_c: float) -> float:
        """How much cell-to-cell temperature offsets are amplified by heating (at most 2x)."""
        return 1.0 + min(max(self.temp_c - ambient_c, 0.0), 20.0) / 20.0

    def cell_voltages(self, current_a: float) -> FloatArray:
        """Measured cell voltages (V): OCV + IR + per-cell offsets + noise."""
        ocv, slope = self.ocv_and_slope()
        start = self.rng.randrange(NOISE_TABLE)
        noise = self.noise_v[start : start + self.cells]
        ir = current_a * self.r_cell_ohm
        result: FloatArray = (
            ocv + slope * self.soc_delta + ir * self.r_factor + self.v_offset + noise
        )
        return result

    def cell_temperatures(self, ambient_c: float) -> FloatArray:
        """Measured cell temperatures (C): pack + gradient + noise."""
        start = self.rng.randrange(NOISE_TABLE)
        noise = self.noise_t[start : start + self.cells]
        result: FloatArray = self.temp_c + self.t_offset * self.temperature_scale(ambient_c) + noise
        return result
