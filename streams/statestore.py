"""Per-vehicle rolling state: a bounded cache of live objects over a changelog-backed byte store."""

from collections import OrderedDict
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from streams.errors import StateCorrupted

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class DirtyState:
    """A vehicle whose state changed since the last flush, encoded for the changelog."""

    vehicle_id: str
    partition: int
    value: bytes


class StateStore(Generic[S]):
    """Keep decoded states of recently active vehicles; the backing mapping holds the bytes.

    The backing mapping is the Faust table's storage (restored from its changelog on start and
    on rebalance) or a plain dict in tests. Live objects are cached up to `capacity` vehicles;
    an evicted state is encoded into the backing mapping first, so nothing is lost. `drain()`
    encodes every changed state once per flush, for the changelog.
    """

    def __init__(
        self,
        backing: MutableMapping[str, bytes],
        *,
        factory: Callable[[str], S],
        encode: Callable[[S], bytes],
        decode: Callable[[bytes], S],
        capacity: int = 50_000,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._backing = backing
        self._factory = factory
        self._encode = encode
        self._decode = decode
        self._capacity = capacity
        self._live: OrderedDict[str, S] = OrderedDict()
        self._partition: dict[str, int] = {}
        self._dirty: set[str] = set()

    def get(self, vehicle_id: str, partition: int) -> S:
        """Return the live state of `vehicle_id`, loading or creating it, and mark it changed."""
        live = self._live
        state = live.get(vehicle_id)
        if state is None:
            raw = self._backing.get(vehicle_id)
            if raw is None:
                state = self._factory(vehicle_id)
            else:
                try:
                    state = self._decode(raw)
                except Exception as exc:
                    raise StateCorrupted(f"state of {vehicle_id!r} cannot be decoded") from exc
            live[vehicle_id] = state
            if len(live) > self._capacity:
                self._evict()
        else:
            live.move_to_end(vehicle_id)
        self._partition[vehicle_id] = partition
        self._dirty.add(vehicle_id)
        return state

    def peek(self, vehicle_id: str) -> S | None:
        """Return the state of `vehicle_id` without creating it or marking it changed."""
        state = self._live.get(vehicle_id)
        if state is not None:
            return state
        raw = self._backing.get(vehicle_id)
        return None if raw is None else self._decode(raw)

    def _evict(self) -> None:
        vehicle_id, state = self._live.popitem(last=False)
        self._backing[vehicle_id] = self._encode(state)

    def drain(self) -> list[DirtyState]:
        """Encode every changed state into the backing mapping and return them for the changelog."""
        out: list[DirtyState] = []
        for vehicle_id in self._dirty:
            state = self._live.get(vehicle_id)
            value = self._backing[vehicle_id] if state is None else self._encode(state)
            self._backing[vehicle_id] = value
            out.append(DirtyState(vehicle_id, self._partition.get(vehicle_id, 0), value))
        self._dirty.clear()
        return out

    def discard_changes(self, vehicle_ids: Iterable[str]) -> None:
        """Forget live objects whose changes must not be kept (they are reloaded from bytes)."""
        for vehicle_id in vehicle_ids:
            self._live.pop(vehicle_id, None)
            self._dirty.discard(vehicle_id)

    def drop_partitions(self, partitions: set[int]) -> list[str]:
        """Forget the vehicles of partitions this worker no longer owns; return their ids."""
        gone = [v for v, p in self._partition.items() if p in partitions]
        for vehicle_id in gone:
            self._live.pop(vehicle_id, None)
            self._dirty.discard(vehicle_id)
            del self._partition[vehicle_id]
        return gone

    def vehicle_ids(self) -> list[str]:
        """Every vehicle with state on this worker (live or only in the backing mapping)."""
        return list({*self._backing.keys(), *self._live.keys()})

    def partition_of(self, vehicle_id: str) -> int | None:
        """The partition the vehicle's readings last came from, if known."""
        return self._partition.get(vehicle_id)

    def __len__(self) -> int:
        return len({*self._backing.keys(), *self._live.keys()})

    @property
    def live_count(self) -> int:
        """How many decoded states are cached."""
        return len(self._live)
