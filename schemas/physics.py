"""Physical plausibility bounds for telemetry values (documented constants, one place)."""

from typing import Final

CELL_VOLTAGE_MIN_V: Final = 0.0
"""Lowest accepted cell voltage; a dead cell reads ~0 V, negative is a sensor fault."""
CELL_VOLTAGE_MAX_V: Final = 5.5
"""Highest accepted cell voltage: above every Li-ion charge limit (<= 4.45 V) with margin."""
TEMPERATURE_MIN_C: Final = -60.0
"""Lowest accepted cell/pack temperature (below any automotive operating or storage range)."""
TEMPERATURE_MAX_C: Final = 150.0
"""Highest accepted temperature; thermal runaway passes this, but sensors saturate around here."""
CELL_RESISTANCE_MAX_MOHM: Final = 10_000.0
"""Highest accepted per-cell internal resistance (10 ohm; a healthy cell is ~0.2-5 mOhm)."""
CELL_ID_MAX: Final = 1_000_000
"""Largest accepted cell id (giant integers are rejected)."""
CYCLE_COUNT_MAX: Final = 10_000_000
"""Largest accepted reported cycle count."""
PACK_CAPACITY_MAX_KWH: Final = 10_000.0
"""Largest accepted pack capacity (heavy trucks/ships are < 2 MWh)."""
CAPACITY_MAX_RATIO: Final = 1.5
"""`current_capacity_kwh` above this multiple of `nominal_capacity_kwh` is impossible."""
PACK_VOLTAGE_MAX_V: Final = 1_500.0
"""Highest accepted pack voltage (1500 V DC is the low-voltage-directive ceiling)."""
PACK_CURRENT_MAX_A: Final = 10_000.0
"""Largest accepted |pack current| in amperes (> 0 charging, < 0 discharging)."""
ODOMETER_MAX_KM: Final = 100_000_000.0
"""Largest accepted odometer reading."""
SOC_MIN_PERCENT: Final = 0.0
SOC_MAX_PERCENT: Final = 100.0
TEXT_MAX_LEN: Final = 64
"""Longest accepted free-text hint (make, model, chemistry) and identifier."""
