"""CPU pinning: each process under test on a core of its own, the harness on the others."""

import logging
import os
from collections.abc import Iterable, Sequence

import psutil  # type: ignore[import-untyped,unused-ignore]

logger = logging.getLogger(__name__)


def _pin(pid: int, cores: set[int]) -> bool:
    """Pin every thread of `pid` (affinity is per thread on Linux) to `cores`."""
    try:
        tids = [t.id for t in psutil.Process(pid).threads()]
    except psutil.Error:
        return False
    pinned = False
    for tid in tids:
        try:
            os.sched_setaffinity(tid, cores)
            pinned = True
        except OSError:  # the thread ended meanwhile
            continue
    return pinned


def _tree(pids: Iterable[int]) -> set[int]:
    """`pids` and all their descendants."""
    out: set[int] = set()
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            out.add(pid)
            out.update(c.pid for c in proc.children(recursive=True))
        except psutil.Error:
            continue
    return out


class CorePlan:
    """Give the processes under test a core each and move everything else off those cores.

    "Per worker process on one core" is then literally what is measured: the generator, the
    embedded broker (threads of this process), the database server and the observers share the
    remaining cores instead of preempting the worker. Without a spare core (as many processes
    under test as cores, or more), nothing is pinned.
    """

    def __init__(self, harness_pids: Sequence[int]) -> None:
        self._harness = list(harness_pids)
        self._all = set(range(os.cpu_count() or 1))
        self.cores: dict[int, int] = {}
        """Process under test -> its core, while isolated."""

    def isolate(self, targets: Sequence[int]) -> bool:
        """Pin `targets[i]` to core i and the harness to the cores left; False if none are."""
        if not targets or len(targets) >= len(self._all):
            self.release()
            return False
        cores = sorted(self._all)
        rest = set(cores[len(targets) :])
        for pid in _tree(self._harness) - set(targets):
            _pin(pid, rest)
        self.cores = {}
        for pid, core in zip(targets, cores, strict=False):
            if _pin(pid, {core}):
                self.cores[pid] = core
        logger.info("pinned %s; harness on cores %s", self.cores, sorted(rest))
        return bool(self.cores)

    def release(self) -> None:
        """Every process may use every core again."""
        for pid in _tree(self._harness):
            _pin(pid, self._all)
        self.cores = {}
