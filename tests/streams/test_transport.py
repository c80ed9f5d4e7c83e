"""The app's assignor: as leader of a group of several, it waits before assigning."""

import time
from types import SimpleNamespace
from typing import Any

import pytest
from faust.assignor.partition_assignor import PartitionAssignor

from streams.transport import Assignor


def _assignor(delay: float) -> Any:
    assignor: Any = object.__new__(Assignor)  # no Faust app needed for `assign`
    assignor.app = SimpleNamespace(conf=SimpleNamespace(voltstream_leader_sync_delay_s=delay))
    return assignor


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def assign(self: Any, cluster: Any, members: Any) -> str:
        seen.append(("assign", len(members)))
        return "plan"

    monkeypatch.setattr(time, "sleep", lambda s: seen.append(("sleep", s)))
    monkeypatch.setattr(PartitionAssignor, "assign", assign)
    return seen


def test_leader_of_several_waits_then_assigns(calls: list[tuple[str, Any]]) -> None:
    assert _assignor(0.75).assign(None, {"a": 1, "b": 2}) == "plan"
    assert calls == [("sleep", 0.75), ("assign", 2)]


def test_sole_member_assigns_at_once(calls: list[tuple[str, Any]]) -> None:
    assert _assignor(0.75).assign(None, {"a": 1}) == "plan"
    assert calls == [("assign", 1)]


def test_no_delay_configured_assigns_at_once(calls: list[tuple[str, Any]]) -> None:
    assert _assignor(0.0).assign(None, {"a": 1, "b": 2}) == "plan"
    assert calls == [("assign", 2)]
