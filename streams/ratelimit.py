"""Per-vehicle flood limit measured on event time, so a worker catching up is never limited."""

from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class EventTimeRateLimiter:
    """A token bucket per vehicle whose clock is the readings' event time.

    A vehicle may send `rate` readings per second of its own event time, with bursts up to
    `burst`. Replaying a backlog quickly does not trip the limit because time is the readings'.
    Readings that arrive out of order do not refill the bucket (its clock never goes back).
    """

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._rate = rate
        self._burst = burst
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, vehicle_id: str, event_time: float) -> bool:
        """Take one token for `vehicle_id` at `event_time` (epoch seconds); False when over."""
        bucket = self._buckets.get(vehicle_id)
        if bucket is None:
            self._buckets[vehicle_id] = _Bucket(self._burst - 1.0, event_time)
            return True
        if event_time > bucket.at:
            bucket.tokens = min(self._burst, bucket.tokens + (event_time - bucket.at) * self._rate)
            bucket.at = event_time
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def forget(self, vehicle_id: str) -> None:
        """Drop a vehicle's bucket (its partition moved to another worker)."""
        self._buckets.pop(vehicle_id, None)

    def __len__(self) -> int:
        return len(self._buckets)
