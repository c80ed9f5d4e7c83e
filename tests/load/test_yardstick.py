"""The machine-speed yardsticks measure real work on the generator's envelopes."""

import math

import orjson
import pytest

from load_tests import yardstick
from load_tests.bench_hotpath import READINGS_PER_MESSAGE, messages


def test_the_interpreted_loop_computes_pack_figures() -> None:
    cells = [
        {"id": 0, "voltage": 3.70, "temperature": 25.0},
        {"id": 1, "voltage": 3.60, "temperature": 31.0},
        {"id": 2, "voltage": 3.80, "temperature": 30.8},
    ]
    mean, low, high, spread, t_max, hot, id_sum = yardstick._interpreted({"cells": cells})
    assert mean == pytest.approx(3.70)
    assert (low, high, spread, t_max) == (3.60, 3.80, 0.2, 31.0)
    assert hot == 2.0  # cells within 0.5 C of the hottest
    assert id_sum == 3.0


def test_both_yardsticks_time_every_reading_of_the_envelopes() -> None:
    envelopes = messages(4, 1)
    readings = [r for m in envelopes for r in yardstick._readings(orjson.loads(m.value))]
    assert len(readings) == 4 * READINGS_PER_MESSAGE
    assert all(len(r["cells"]) == 96 for r in readings)
    for measure in (yardstick.orjson_us_per_reading, yardstick.python_us_per_reading):
        us = measure(vehicles=4, repeat=1)
        assert math.isfinite(us)
        assert 0.0 < us < 10_000.0
