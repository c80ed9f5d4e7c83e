"""Machine-speed yardsticks: `orjson.loads` and a fixed pure-Python loop on generated envelopes."""

import math
import time
from typing import Any

import orjson

from load_tests.bench_hotpath import READINGS_PER_MESSAGE, messages

#: ``orjson.loads`` CPU µs per reading (``python -m load_tests.bench_hotpath``) on 2026-12-06, in
#: the session whose `voltstream-max` run gave 10,260 readings/s; the README's full runs of
#: 2026-11-22 imply ~13 µs (the hot path was "about 4x orjson.loads" at 50-51 µs).
REFERENCE_US = 16.1

#: ``python_us_per_reading`` on the Intel Xeon VM of 2026-12-07, whose ``bench_hotpath`` ran
#: 1.35-1.5x slower than the reference machine's while ``orjson.loads`` ran 1.03-1.09x. The
#: yardstick came after the reference runs, so this is the first figure to compare against.
PYTHON_US_SEEN = (19.3, 20.0)


def orjson_us_per_reading(vehicles: int = 200, repeat: int = 5) -> float:
    """Best of ``repeat`` passes over ``vehicles`` 10-snapshot envelopes, in CPU µs per reading.

    Independent of voltstream's code, so it tells how fast *this* machine (or this moment of a
    shared one) is: a run where it is 1.5x the reference ran on a 1.5x slower CPU, whatever
    voltstream's own figures say.
    """
    values = [m.value for m in messages(vehicles, 1)]
    best = math.inf
    for _ in range(repeat):
        started = time.process_time()
        for value in values:
            orjson.loads(value)
        best = min(best, time.process_time() - started)
    return best / (len(values) * READINGS_PER_MESSAGE) * 1e6


def python_us_per_reading(vehicles: int = 200, repeat: int = 5) -> float:
    """Best of ``repeat`` passes of a fixed pure-Python workload, in CPU µs per reading.

    ``orjson.loads`` is C: it does not see how fast a CPU runs the *interpreter*, which is where
    most of the worker's time goes (on 2026-12-07 a Xeon VM parsed JSON as fast as the reference
    machine but ran ``bench_hotpath`` 1.35-1.5x slower). This loop does what the worker's Python
    does per reading (attribute-free: list comprehensions over 96 cells, float arithmetic,
    comparisons, tuple building, dict lookups) on the already parsed envelopes, and depends on
    none of voltstream's code, so it moves only with the machine and the interpreter.
    """
    readings = [r for m in messages(vehicles, 1) for r in _readings(orjson.loads(m.value))]
    best = math.inf
    for _ in range(repeat):
        started = time.process_time()
        for reading in readings:
            _interpreted(reading)
        best = min(best, time.process_time() - started)
    return best / len(readings) * 1e6


def _readings(envelope: Any) -> list[dict[str, Any]]:
    return list(envelope["readings"]) if "readings" in envelope else [envelope]


def _interpreted(reading: dict[str, Any]) -> tuple[float, ...]:
    cells = reading["cells"]
    volts = [c["voltage"] for c in cells]
    temps = [c["temperature"] for c in cells]
    ids = [c["id"] for c in cells]
    n = len(volts)
    v_sum = 0.0
    v_lo = v_hi = volts[0]
    for v in volts:
        v_sum += v
        if v < v_lo:
            v_lo = v
        elif v > v_hi:
            v_hi = v
    t_max = max(temps)
    hot = [i for i, t in zip(ids, temps, strict=True) if t >= t_max - 0.5]
    spread = round(v_hi - v_lo, 6)
    return (v_sum / n, v_lo, v_hi, spread, t_max, float(len(hot)), float(sum(ids)))
