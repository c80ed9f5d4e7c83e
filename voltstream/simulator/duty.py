"""Drive / charge / park duty cycle: decides the pack current at every simulation step."""

import math
import random
from dataclasses import dataclass
from enum import StrEnum

from voltstream.simulator.catalog import VehicleSpec

NIGHT_START_H = 21.0
MORNING_H = (6.5, 9.0)
DC_TRIGGER_SOC = 12.0
DC_TARGET_SOC = 80.0
AC_EFFICIENCY = 0.92


class Mode(StrEnum):
    """What the vehicle is doing."""

    PARK = "park"
    DRIVE = "drive"
    CHARGE = "charge"


@dataclass(slots=True)
class ChargeSession:
    """One charging session (ground truth): SOC swing and charge in Ah."""

    start_s: float
    soc_start: float
    kind: str
    end_s: float = math.nan
    soc_end: float = math.nan
    charged_ah: float = 0.0


class DutyCycle:
    """Per-vehicle state machine; `current_a` picks the current for the next step."""

    __slots__ = (
        "_power_noise",
        "charge_kind",
        "charge_target",
        "day_offset_s",
        "mode",
        "odometer_km",
        "park_until_s",
        "rng",
        "session",
        "sessions",
        "spec",
        "speed_kmh",
        "trip_left_km",
        "usage_scale",
    )

    def __init__(
        self, spec: VehicleSpec, rng: random.Random, day_offset_s: float, usage_scale: float
    ) -> None:
        self.spec = spec
        self.rng = rng
        self.day_offset_s = day_offset_s
        self.usage_scale = usage_scale
        self.mode = Mode.PARK
        self.odometer_km = 0.0
        self.park_until_s = rng.uniform(0.0, 2 * 3600.0)
        self.trip_left_km = 0.0
        self.speed_kmh = 50.0
        self.charge_target = spec.charge_target_percent
        self.charge_kind = "ac"
        self._power_noise = 0.0
        self.session: ChargeSession | None = None
        self.sessions: list[ChargeSession] = []

    def hour_of_day(self, t: float) -> float:
        """Local hour (UTC is used as local time) at `t` seconds since the fleet start."""
        return ((self.day_offset_s + t) % 86_400.0) / 3600.0

    def _park(self, t: float) -> None:
        self.mode = Mode.PARK
        hour = self.hour_of_day(t)
        rng = self.rng
        if hour >= NIGHT_START_H or hour < MORNING_H[0] - 1.0:
            wake = rng.uniform(*MORNING_H)
            hours = (wake - hour) % 24.0
        else:
            hours = rng.uniform(0.3, 4.0) / math.sqrt(self.usage_scale)
            if hour + hours >= NIGHT_START_H:
                hours = (rng.uniform(*MORNING_H) - hour) % 24.0
        self.park_until_s = t + hours * 3600.0

    def _start_trip(self) -> None:
        rng = self.rng
        daily = self.spec.daily_km * self.usage_scale
        trips_per_day = 2.5 if self.usage_scale <= 1.0 else 2.5 * math.sqrt(self.usage_scale)
        km = daily / trips_per_day * rng.uniform(0.4, 1.6)
        if rng.random() < 0.05:
            km = daily * rng.uniform(1.0, 2.0)
        self.trip_left_km = km
        self.speed_kmh = rng.uniform(35.0, 90.0)
        self.mode = Mode.DRIVE

    def _start_charge(self, t: float, soc: float, kind: str, target: float) -> None:
        self.mode = Mode.CHARGE
        self.charge_kind = kind
        self.charge_target = target
        self.session = ChargeSession(start_s=t, soc_start=soc, kind=kind)

    def _end_charge(self, t: float, soc: float) -> None:
        session = self.session
        if session is not None:
            session.end_s = t
            session.soc_end = soc
            self.sessions.append(session)
        self.session = None

    def advance(self, t: float, soc: float) -> Mode:
        """Apply the mode transitions due at `t` (trip start/end, charge start/end)."""
        spec = self.spec
        if self.mode is Mode.PARK and t >= self.park_until_s:
            self._start_trip()
        if self.mode is Mode.DRIVE:
            if soc < DC_TRIGGER_SOC:
                self._start_charge(t, soc, "dc", max(DC_TARGET_SOC, self.charge_target - 10.0))
            elif self.trip_left_km <= 0.0:
                hour = self.hour_of_day(t)
                threshold = spec.charge_threshold_percent
                evening = hour >= 17.0 or hour < 6.0
                opportunistic = evening and soc < threshold + 15 and self.rng.random() < 0.5
                if soc < threshold or opportunistic:
                    self._start_charge(t, soc, "ac", spec.charge_target_percent)
                else:
                    self._park(t)
        elif self.mode is Mode.CHARGE and soc >= self.charge_target:
            self._end_charge(t, soc)
            if self.trip_left_km > 0.0:
                self.mode = Mode.DRIVE
            else:
                self._park(t)
        return self.mode

    def current_a(self, dt: float, soc: float, pack_v: float) -> float:
        """Pack current (A, > 0 charging) for the next `dt` seconds in the current mode."""
        if self.mode is Mode.DRIVE:
            return self._drive_current(dt, pack_v)
        if self.mode is Mode.CHARGE:
            return self._charge_current(soc, pack_v)
        return 0.0

    def _drive_current(self, dt: float, pack_v: float) -> float:
        rng = self.rng
        speed = self.speed_kmh * (1.0 + 0.15 * rng.uniform(-1.0, 1.0))
        self.trip_left_km -= speed * dt / 3600.0
        self.odometer_km += speed * dt / 3600.0
        mean_kw = self.spec.model.consumption_kwh_per_km * speed
        self._power_noise = 0.85 * self._power_noise + 0.5 * rng.gauss(0.0, 1.0) * 0.55
        power_kw = mean_kw * (1.0 + self._power_noise)
        if rng.random() < 0.08:
            power_kw = -rng.uniform(0.1, 0.5) * mean_kw  # regenerative braking
        return round(-power_kw * 1000.0 / pack_v, 2)

    def _charge_current(self, soc: float, pack_v: float) -> float:
        spec = self.spec
        if self.charge_kind == "dc":
            taper = 1.0 if soc < 50.0 else max(0.25, 1.0 - (soc - 50.0) / 30.0 * 0.6)
            power_kw = spec.model.max_dc_power_kw * taper
        else:
            power_kw = spec.ac_power_kw * AC_EFFICIENCY
            if soc > 95.0:
                power_kw *= max(0.2, (100.0 - soc) / 5.0)
        current = power_kw * 1000.0 / pack_v
        return round(current, 2)

    def account_charge(self, current_a: float, dt: float) -> None:
        """Add the step's charge to the open session."""
        if self.session is not None and current_a > 0:
            self.session.charged_ah += current_a * dt / 3600.0
