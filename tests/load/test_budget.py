"""The CPU budget of a scenario and its table in the report."""

import math

import pytest

from load_tests.report import _budget
from load_tests.scenario import cpu_budget


def test_budget_is_cores_per_side_and_what_is_left() -> None:
    budget = cpu_budget(10.0, 9.0, 2.5, 1.0, 3.0, cpus=2)
    assert budget["consumer"] == pytest.approx(0.9)
    assert budget["database"] == pytest.approx(0.25)
    assert budget["generator"] == pytest.approx(0.1)
    assert budget["harness"] == pytest.approx(0.3)
    assert budget["idle"] == pytest.approx(0.45)
    assert budget["cpus"] == 2.0


def test_an_oversubscribed_box_has_no_negative_idle_and_an_unknown_db_counts_nothing() -> None:
    budget = cpu_budget(1.0, 2.0, math.nan, 0.5, 0.5, cpus=2)
    assert budget["database"] == 0.0
    assert budget["idle"] == 0.0


def test_no_measured_time_gives_no_budget() -> None:
    assert cpu_budget(0.0, 1.0, 1.0, 1.0, 1.0, cpus=2) == {}


def test_the_report_tabulates_the_scenarios_that_have_a_budget() -> None:
    lines = _budget(
        [
            {"name": "a", "cpu_budget": cpu_budget(10.0, 9.0, 2.5, 1.0, 3.0, cpus=2)},
            {"name": "b"},
        ]
    )
    assert "| a | 0.90 | 0.25 | 0.10 | 0.30 | 0.45 |" in lines
    assert not any(line.startswith("| b |") for line in lines)
    assert _budget([{"name": "b"}]) == []
