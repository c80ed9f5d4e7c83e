"""Exponential backoff with full jitter, capped, for retrying deliveries."""

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays `initial_s * multiplier**n`, capped at `max_s`, each scaled by a random jitter.

    `jitter` is the fraction of the delay that is randomised (0 gives exact delays).
    """

    initial_s: float = 0.5
    max_s: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        """Return the pause after failed attempt number `attempt` (0-based)."""
        base = min(self.max_s, self.initial_s * self.multiplier ** max(0, attempt))
        if self.jitter <= 0:
            return base
        spread = base * self.jitter
        return max(0.0, base - spread + random.random() * 2 * spread)

    def delays(self) -> Iterator[float]:
        """Yield the delays after each failed attempt, without end."""
        attempt = 0
        while True:
            yield self.delay(attempt)
            attempt += 1
