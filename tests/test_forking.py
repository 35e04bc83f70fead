"""gpulint/_forking.map_forked: results in task order whatever the workers do, and recycled workers
reaped as they stop (not left as zombies until the run ends)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from gpulint._forking import map_forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def test_results_come_back_in_task_order_with_several_workers():
    assert map_forked(lambda task: task * task, 50, 3) == [task * task for task in range(50)]


def test_a_task_that_fails_in_its_worker_is_computed_in_this_process():
    parent = os.getpid()

    def fn(task):
        if task == 7 and os.getpid() != parent:
            raise RuntimeError("only in the worker")
        return task

    assert map_forked(fn, 20, 2) == list(range(20))


def _zombie_children() -> int:
    me = str(os.getpid())
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        count += fields[0] == "Z" and fields[1] == me  # state, parent pid
    return count


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_recycled_workers_are_reaped_as_they_stop():
    seen = []

    def then(value):
        seen.append(_zombie_children())
        return value

    # recycle=1: a new worker for every task, 30 workers stopped one after another
    assert map_forked(lambda task: task, 30, 1, then=then, recycle=1) == list(range(30))
    assert max(seen) <= 2, seen
    assert _zombie_children() == 0


def test_workers_keep_the_collector_state_of_the_parent():
    import gc

    was_enabled = gc.isenabled()
    gc.disable()  # what engine/parallel.py does around an evaluation
    try:
        states = map_forked(lambda task: gc.isenabled(), 6, 2)
    finally:
        if was_enabled:
            gc.enable()
    assert states == [False] * 6
