"""`Fleet.messages()` streams: a huge fleet yields its first messages without materialising."""

import itertools
import tracemalloc
from collections.abc import Iterator

from voltstream.simulator import FaultRates, Fleet, FleetConfig


def test_messages_is_a_lazy_iterator() -> None:
    # 2000 vehicles x 30 days would be tens of millions of messages if materialised: the first
    # ones come out of the first simulated hour, and the pytest timeout catches materialising.
    fleet = Fleet(FleetConfig(vehicles=2000, duration_s=30 * 86_400.0, faults=FaultRates()))
    stream = fleet.messages()
    assert isinstance(stream, Iterator)
    first = list(itertools.islice(stream, 3000))
    assert len(first) == 3000
    assert max(m.emit_offset_s for m in first) < 3600.0


def test_memory_does_not_grow_with_messages() -> None:
    fleet = Fleet(FleetConfig(vehicles=50, duration_s=2 * 86_400.0, faults=FaultRates()))
    stream = fleet.messages()
    tracemalloc.start()
    try:
        for _ in itertools.islice(stream, 2000):
            pass
        early, _ = tracemalloc.get_traced_memory()
        consumed = 0
        for _ in itertools.islice(stream, 15_000):
            consumed += 1
        late, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert consumed == 15_000
    assert late - early < 2_000_000, (early, late)
