"""The stream clock follows event time during a backlog and wall time once caught up."""

from streams.clock import StreamClock


class FakeWall:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_no_time_before_first_reading() -> None:
    assert StreamClock(FakeWall(0.0)).now() is None


def test_backlog_replay_uses_event_time() -> None:
    wall = FakeWall(10_000.0)
    clock = StreamClock(wall)
    clock.observe(1_000.0)  # an hour-old reading arrives now
    wall.t += 5
    assert clock.now() == 1_005.0


def test_caught_up_clock_advances_with_wall_time_when_silent() -> None:
    wall = FakeWall(10_000.0)
    clock = StreamClock(wall)
    clock.observe(9_999.5)
    wall.t += 900
    assert clock.now() == 10_899.5


def test_never_ahead_of_the_wall_clock() -> None:
    wall = FakeWall(10_000.0)
    clock = StreamClock(wall)
    clock.observe(10_050.0)  # a device clock a little ahead
    assert clock.now() == 10_000.0
