"""State of health from a measured capacity: SOH = current / nominal * 100 (seeds 000 and 001)."""

import math

from schemas.report import Confidence, SohEstimate, SohMethod

NOT_ESTIMABLE = SohEstimate(
    soh_percent=None,
    method=SohMethod.not_estimable,
    confidence=Confidence.none,
    capacity_kwh=None,
    sessions=0,
    std_percent=None,
)


def soh_percent(current_kwh: float, nominal_kwh: float) -> float:
    """``current / nominal * 100``, rounded to 0.01 % (91.5 for 54.9 / 60)."""
    return round(current_kwh / nominal_kwh * 100.0, 2)


def soh_from_capacity(current_kwh: float, nominal_kwh: float) -> SohEstimate:
    """SOH from the BMS-measured capacity field: method ``measured_capacity``, confidence high."""
    if (
        not (math.isfinite(current_kwh) and math.isfinite(nominal_kwh) and nominal_kwh > 0.0)
        or current_kwh <= 0.0
    ):
        return NOT_ESTIMABLE
    return SohEstimate(
        soh_percent=soh_percent(current_kwh, nominal_kwh),
        method=SohMethod.measured_capacity,
        confidence=Confidence.high,
        capacity_kwh=current_kwh,
        sessions=0,
        std_percent=None,
    )
