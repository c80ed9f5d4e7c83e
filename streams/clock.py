"""The stream clock: event time while consuming a backlog, wall-clock time once caught up."""

import time
from collections.abc import Callable


class StreamClock:
    """Tell how late it is for offline detection and session timeouts.

    While a worker replays a backlog, wall-clock time would make every vehicle look silent;
    while it is caught up, event time stops when vehicles stop. The clock is therefore the
    newest event time seen plus the wall-clock time since that event arrived, never ahead of
    the wall clock.
    """

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._event_time: float | None = None
        self._arrived_at = 0.0

    def observe(self, event_time: float) -> None:
        """Note a reading's event time (epoch seconds) as it arrives."""
        if self._event_time is None or event_time > self._event_time:
            self._event_time = event_time
        self._arrived_at = self._wall()

    def now(self) -> float | None:
        """The stream time in epoch seconds, or None before the first reading."""
        if self._event_time is None:
            return None
        wall = self._wall()
        return min(wall, self._event_time + (wall - self._arrived_at))
