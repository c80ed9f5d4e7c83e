"""Per-target failure budget: K consecutive failures park a target for a cool-down."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class CircuitState(StrEnum):
    """closed: deliver; open: parked, skip; half_open: cool-down over, one probe allowed."""

    closed = "closed"
    open = "open"
    half_open = "half_open"


@dataclass(slots=True)
class CircuitBreaker:
    """Counts consecutive failures of one target; parks it for `cooldown_s` at `budget`."""

    budget: int
    cooldown_s: float
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = field(default=None)

    @property
    def state(self) -> CircuitState:
        """The state now (an open circuit turns half-open when its cool-down is over)."""
        if self.opened_at is None:
            return CircuitState.closed
        if self.clock() - self.opened_at >= self.cooldown_s:
            return CircuitState.half_open
        return CircuitState.open

    def allows(self) -> bool:
        """Whether a delivery may be attempted now."""
        return self.state is not CircuitState.open

    def record_success(self) -> None:
        """A delivery succeeded: close the circuit and reset the count."""
        self.failures = 0
        self.opened_at = None

    def record_failure(self) -> bool:
        """A delivery attempt failed; return True when this (re)opens the circuit."""
        self.failures += 1
        if self.state is CircuitState.half_open or self.failures >= self.budget:
            self.opened_at = self.clock()
            return True
        return False
