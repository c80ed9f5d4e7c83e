"""Fleet simulator configuration: `FleetConfig`, fault rates and their presets."""

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from voltstream.errors import ConfigurationError

DEFAULT_START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class InvalidFleetConfig(ConfigurationError):
    """A `FleetConfig` (or a simulator CLI option) is invalid."""


class BmsCapacityMode(StrEnum):
    """What the BMS reports as `current_capacity_kwh`."""

    NOISY = "noisy"  # true capacity + Gaussian noise (`bms_capacity_noise_percent`)
    NOMINAL = "nominal"  # always the nominal capacity: SOH must come from coulomb counting


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Fault injection rates.

    Vehicle faults: probability that a vehicle gets one window of that fault during the run.
    Message faults: probability per emitted message.
    """

    weak_cell: float = 0.0
    thermal_event: float = 0.0
    stuck_sensor: float = 0.0
    dead_sensor: float = 0.0
    pack_voltage_mismatch: float = 0.0
    offline: float = 0.0
    duplicate: float = 0.0
    out_of_order: float = 0.0
    malformed: float = 0.0

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidFleetConfig(f"fault rate {name}={value} is not within 0..1")


FAULT_PRESETS: dict[str, FaultRates] = {
    "none": FaultRates(),
    "default": FaultRates(
        weak_cell=0.01,
        thermal_event=0.002,
        stuck_sensor=0.01,
        dead_sensor=0.005,
        pack_voltage_mismatch=0.005,
        offline=0.02,
        duplicate=0.001,
        out_of_order=0.001,
        malformed=0.0005,
    ),
    "all": FaultRates(
        weak_cell=0.3,
        thermal_event=0.3,
        stuck_sensor=0.3,
        dead_sensor=0.3,
        pack_voltage_mismatch=0.3,
        offline=0.3,
        duplicate=0.01,
        out_of_order=0.01,
        malformed=0.01,
    ),
}


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """Everything that determines a simulated fleet; the same config gives the same bytes.

    Periods: an active vehicle (driving, charging, thermal event) reports every `sample_period_s`,
    with a full snapshot instead of a sample every `snapshot_period_s` (a multiple of it); a parked
    vehicle reports one snapshot every `parked_period_s`. `None` disables that message shape.
    `batch_size` > 1 wraps that many consecutive readings of a vehicle into a TelemetryBatch.
    """

    vehicles: int = 10
    seed: int = 0
    start: datetime = DEFAULT_START
    duration_s: float = 3600.0
    snapshot_period_s: float | None = 30.0
    sample_period_s: float | None = 5.0
    parked_period_s: float = 180.0
    batch_size: int = 1
    faults: FaultRates = field(default_factory=lambda: FAULT_PRESETS["default"])
    bms_capacity: BmsCapacityMode = BmsCapacityMode.NOISY
    bms_capacity_noise_percent: float = 0.3
    usage_scale: float = 1.0
    soh_range: tuple[float, float] = (75.0, 100.0)
    lfp_share: float = 0.25
    knee: bool = True
    vehicle_id_prefix: str = "EV-"

    def __post_init__(self) -> None:
        if self.vehicles < 0:
            raise InvalidFleetConfig("vehicles must be >= 0")
        if self.duration_s < 0:
            raise InvalidFleetConfig("duration_s must be >= 0")
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise InvalidFleetConfig("start must be timezone-aware")
        if self.snapshot_period_s is None and self.sample_period_s is None:
            raise InvalidFleetConfig("snapshot_period_s and sample_period_s cannot both be None")
        for name in ("snapshot_period_s", "sample_period_s"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidFleetConfig(f"{name} must be > 0")
        if self.snapshot_period_s is not None and self.sample_period_s is not None:
            ratio = self.snapshot_period_s / self.sample_period_s
            if ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
                raise InvalidFleetConfig("snapshot_period_s must be a multiple of sample_period_s")
        if self.parked_period_s <= 0:
            raise InvalidFleetConfig("parked_period_s must be > 0")
        if self.batch_size < 1:
            raise InvalidFleetConfig("batch_size must be >= 1")
        if self.bms_capacity_noise_percent < 0:
            raise InvalidFleetConfig("bms_capacity_noise_percent must be >= 0")
        if self.usage_scale <= 0:
            raise InvalidFleetConfig("usage_scale must be > 0")
        low, high = self.soh_range
        if not 40.0 <= low <= high <= 102.0:
            raise InvalidFleetConfig("soh_range must satisfy 40 <= low <= high <= 102")
        if not 0.0 <= self.lfp_share <= 1.0:
            raise InvalidFleetConfig("lfp_share must be within 0..1")

    @property
    def active_period_s(self) -> float:
        """Reporting period of an active vehicle."""
        if self.sample_period_s is not None:
            return self.sample_period_s
        assert self.snapshot_period_s is not None
        return self.snapshot_period_s

    @property
    def snapshot_every(self) -> int:
        """Every how many active ticks a snapshot is sent (0 = never)."""
        if self.snapshot_period_s is None:
            return 0
        return round(self.snapshot_period_s / self.active_period_s)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}


def parse_duration(text: str) -> float:
    """Parse `3600`, `90s`, `15m`, `1h`, `2d` or combinations like `1h30m` into seconds."""
    raw = text.strip().lower()
    try:
        value = float(raw)
    except ValueError:
        pass
    else:
        if not 0.0 <= value < math.inf:
            raise InvalidFleetConfig(f"invalid duration {text!r}")
        return value
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(raw):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_S[match.group(2)]
        pos = match.end()
    if pos != len(raw) or not raw:
        raise InvalidFleetConfig(f"invalid duration {text!r} (use e.g. 3600, 90s, 15m, 1h, 2d)")
    return total
