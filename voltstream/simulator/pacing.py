"""Wall-clock pacing of a simulated stream: replay speed factor and a messages-per-second cap."""

import time
from collections.abc import Callable


class Pacer:
    """Sleeps so that simulated time runs `speed` x real time and at most `rate` messages/s.

    `speed` 0 (or less) means as fast as possible; `rate` None means no cap.
    """

    def __init__(
        self,
        speed: float = 0.0,
        rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be > 0")
        self.speed = speed
        self.interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._began = clock()
        self._next_slot = self._began

    def wait(self, sim_offset_s: float) -> None:
        """Block until the message sent at `sim_offset_s` (seconds since start) is due."""
        due = self._began
        if self.speed > 0:
            due = self._began + sim_offset_s / self.speed
        if self.interval:
            due = max(due, self._next_slot)
        now = self._clock()
        if due > now:
            self._sleep(due - now)
            now = due
        if self.interval:
            self._next_slot = max(self._next_slot, now - self.interval) + self.interval
