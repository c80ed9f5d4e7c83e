"""A machine-speed yardstick: CPU time of ``orjson.loads`` on the generator's envelopes."""

import math
import time

import orjson

from load_tests.bench_hotpath import READINGS_PER_MESSAGE, messages

#: ``orjson.loads`` CPU µs per reading (``python -m load_tests.bench_hotpath``) on 2026-12-06, in
#: the session whose `voltstream-max` run gave 10,260 readings/s; the README's full runs of
#: 2026-11-22 imply ~13 µs (the hot path was "about 4x orjson.loads" at 50-51 µs).
REFERENCE_US = 16.1


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
