"""CorePlan: a process under test gets a core of its own, the harness the others."""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from load_tests.affinity import CorePlan

CORES = set(range(os.cpu_count() or 1))


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(len(CORES) < 2, reason="pinning needs a spare core")
def test_target_alone_on_its_core_then_released(child: subprocess.Popen[bytes]) -> None:
    plan = CorePlan([os.getpid()])
    try:
        assert plan.isolate([child.pid])
        assert plan.cores == {child.pid: 0}
        assert os.sched_getaffinity(child.pid) == {0}
        assert os.sched_getaffinity(0) == CORES - {0}  # this (harness) thread moved off it
    finally:
        plan.release()
    assert os.sched_getaffinity(0) == CORES
    assert plan.cores == {}


def test_no_spare_core_pins_nothing(child: subprocess.Popen[bytes]) -> None:
    plan = CorePlan([os.getpid()])
    targets = [child.pid] * len(CORES)  # as many processes under test as cores
    assert not plan.isolate(targets)
    assert os.sched_getaffinity(child.pid) == CORES
    assert os.sched_getaffinity(0) == CORES
