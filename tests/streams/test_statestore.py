"""The state store caches live objects over a byte mapping and drains changes once."""

import json

import pytest

from streams.errors import StateCorrupted
from streams.statestore import StateStore


def make(backing: dict[str, bytes], capacity: int = 10) -> StateStore[dict[str, int]]:
    return StateStore(
        backing,
        factory=lambda vid: {"n": 0},
        encode=lambda s: json.dumps(s).encode(),
        decode=json.loads,
        capacity=capacity,
    )


def test_changes_are_drained_once_with_their_partition() -> None:
    backing: dict[str, bytes] = {}
    store = make(backing)
    store.get("a", 3)["n"] += 1
    drained = store.drain()
    assert [(d.vehicle_id, d.partition, d.value) for d in drained] == [("a", 3, b'{"n": 1}')]
    assert backing["a"] == b'{"n": 1}'
    assert store.drain() == []


def test_eviction_keeps_state_in_backing() -> None:
    backing: dict[str, bytes] = {}
    store = make(backing, capacity=2)
    for vid in ("a", "b", "c"):
        store.get(vid, 0)["n"] = ord(vid)
    assert store.live_count == 2
    assert json.loads(backing["a"]) == {"n": ord("a")}
    assert store.get("a", 0) == {"n": ord("a")}
    assert {d.vehicle_id for d in store.drain()} == {"a", "b", "c"}


def test_recovered_state_is_loaded_from_backing() -> None:
    store = make({"x": b'{"n": 41}'})
    assert store.get("x", 1)["n"] == 41


def test_discarded_changes_reload_the_last_flushed_state() -> None:
    backing: dict[str, bytes] = {}
    store = make(backing)
    store.get("a", 0)["n"] = 1
    store.drain()
    store.get("a", 0)["n"] = 99
    store.discard_changes(["a"])
    assert store.get("a", 0)["n"] == 1


def test_drop_partitions_forgets_their_vehicles() -> None:
    store = make({})
    store.get("a", 0)
    store.get("b", 1)
    assert store.drop_partitions({1}) == ["b"]
    assert store.partition_of("b") is None
    assert store.partition_of("a") == 0


def test_corrupt_bytes_raise_a_typed_error() -> None:
    store = make({"bad": b"\xff"})
    with pytest.raises(StateCorrupted, match="bad"):
        store.get("bad", 0)
