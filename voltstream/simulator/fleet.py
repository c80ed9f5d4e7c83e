"""A fleet of simulated vehicles merged into one globally time-ordered message stream."""

import heapq
from collections.abc import Iterable, Iterator

from voltstream.simulator.config import FleetConfig
from voltstream.simulator.messages import SimMessage
from voltstream.simulator.truth import GroundTruth
from voltstream.simulator.vehicle import VehicleSim


class Fleet:
    """`config.vehicles` vehicles (or the `indices` subset); deterministic for a given config.

    `messages()` streams: one generator per vehicle, merged lazily by send time, so memory is
    O(vehicles), not O(messages). `ground_truth()` is complete once `messages()` is exhausted
    (vehicle specs and fault windows are known before).
    """

    def __init__(self, config: FleetConfig, indices: Iterable[int] | None = None) -> None:
        self.config = config
        chosen = range(config.vehicles) if indices is None else indices
        self._indices = list(chosen)
        self._vehicles: dict[int, VehicleSim] = {}
        self._truth = GroundTruth(start=config.start)

    def vehicle(self, index: int) -> VehicleSim:
        """The simulator of vehicle `index` (created on first use)."""
        sim = self._vehicles.get(index)
        if sim is None:
            sim = VehicleSim(self.config, index)
            self._vehicles[index] = sim
            self._truth.vehicles[sim.vehicle_id] = sim.truth
        return sim

    def vehicles(self) -> Iterator[VehicleSim]:
        """Every vehicle of the fleet, in index order."""
        for index in self._indices:
            yield self.vehicle(index)

    def messages(self) -> Iterator[SimMessage]:
        """All messages of all vehicles, ordered by (send time, vehicle index, seq)."""
        streams = [sim.messages() for sim in self.vehicles()]
        return heapq.merge(*streams, key=SimMessage.sort_key)

    def ground_truth(self) -> GroundTruth:
        """Ground truth of the vehicles simulated so far."""
        for _ in self.vehicles():
            pass
        return self._truth
