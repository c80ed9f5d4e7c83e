"""Which alerts a subscriber wants: minimum severity, types and vehicles."""

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.alerts import Alert, AlertType, Severity


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Keep alerts at or above `min_severity` whose type and vehicle are listed (empty: all)."""

    min_severity: Severity = Severity.info
    types: frozenset[AlertType] = frozenset()
    vehicles: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        min_severity: Severity | str = Severity.info,
        types: Iterable[AlertType | str] = (),
        vehicles: Iterable[str] = (),
    ) -> "AlertFilter":
        """Build a filter from plain strings (CLI flags, settings)."""
        return cls(
            min_severity=Severity(min_severity),
            types=frozenset(AlertType(t) for t in types),
            vehicles=frozenset(vehicles),
        )

    def accepts(self, alert: Alert) -> bool:
        """Whether `alert` passes every condition."""
        if Severity(alert.severity).rank < self.min_severity.rank:
            return False
        if self.types and AlertType(alert.type) not in self.types:
            return False
        return not self.vehicles or alert.vehicle_id in self.vehicles
