"""1-D Kalman filter over per-session SOH observations, plus fusion with the BMS capacity field."""

import math
from typing import Any, NamedTuple

from streams.analytics.profiles import CalibrationProfile

FilterState = list[Any]


class Fused(NamedTuple):
    """Inverse-variance combination of two estimates (percent SOH and its 1-sigma)."""

    soh_percent: float
    std_percent: float


class CapacityFilter:
    """Random-walk Kalman filter on SOH percent.

    State ``x`` (SOH %) with variance ``p``. Each session: predict ``p += q^2`` (slow fade,
    ``fusion_process_std_percent``), update with the observation ``z`` of variance ``r``.
    An observation more than 4 sigma away from the estimate is rejected once ``sessions >= 3``;
    three rejections in a row re-initialise the filter on the new level (a replaced pack).
    """

    __slots__ = ("_p", "_rejected", "_sessions", "_x")

    def __init__(self) -> None:
        self._x = math.nan
        self._p = math.inf
        self._sessions = 0
        self._rejected = 0

    @property
    def sessions(self) -> int:
        """Number of accepted observations."""
        return self._sessions

    @property
    def estimate(self) -> float | None:
        """Current SOH estimate (percent) or None before the first observation."""
        return None if self._sessions == 0 else self._x

    @property
    def std(self) -> float | None:
        """1-sigma of the estimate (percent) or None before the first observation."""
        return None if self._sessions == 0 else math.sqrt(self._p)

    def update(self, z: float, z_std: float, profile: CalibrationProfile) -> bool:
        """Fold one observation (SOH %, 1-sigma %) in; returns False when it was rejected."""
        if not (math.isfinite(z) and math.isfinite(z_std)) or z_std <= 0.0:
            return False
        r = z_std * z_std
        if self._sessions == 0:
            self._x = z
            self._p = r
            self._sessions = 1
            self._rejected = 0
            return True
        q = profile.fusion_process_std_percent
        p = self._p + q * q
        if self._sessions >= 3 and abs(z - self._x) > 4.0 * math.sqrt(p + r):
            self._rejected += 1
            if self._rejected < 3:
                return False
            self._x = z
            self._p = r
            self._sessions = 1
            self._rejected = 0
            return True
        k = p / (p + r)
        self._x += k * (z - self._x)
        self._p = (1.0 - k) * p
        self._sessions += 1
        self._rejected = 0
        return True

    def dump(self) -> FilterState:
        """Compact JSON-able state (standard JSON: no NaN/inf before the first observation)."""
        if self._sessions == 0:
            return [None, None, 0, self._rejected]
        return [self._x, self._p, self._sessions, self._rejected]

    @classmethod
    def load(cls, data: FilterState) -> "CapacityFilter":
        """Inverse of ``dump``."""
        f = cls()
        f._sessions = int(data[2])
        if f._sessions:
            f._x = float(data[0])
            f._p = float(data[1])
        f._rejected = int(data[3])
        return f


def fuse(a: float, a_std: float, b: float, b_std: float) -> Fused:
    """Inverse-variance weighted mean of two independent estimates."""
    wa = 1.0 / (a_std * a_std)
    wb = 1.0 / (b_std * b_std)
    return Fused((a * wa + b * wb) / (wa + wb), math.sqrt(1.0 / (wa + wb)))
