"""engine/parallel.evaluate pauses the garbage collector while it evaluates and restores it after."""

from __future__ import annotations

import gc

import pytest

from gpulint.engine import parallel


class RecordingEngine:
    policies: list = []

    def __init__(self, fail_at=None):
        self.states = []
        self.fail_at = fail_at

    def evaluate_resource(self, resource):
        self.states.append(gc.isenabled())
        if resource == self.fail_at:
            raise RuntimeError("boom")
        return []


@pytest.fixture
def collector_on():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_collector_is_paused_during_evaluation_and_restored(collector_on):
    engine = RecordingEngine()
    assert parallel.evaluate(engine, list(range(5)), jobs=1) == []
    assert engine.states == [False] * 5
    assert gc.isenabled()


def test_collector_is_restored_when_evaluation_raises(collector_on):
    with pytest.raises(RuntimeError):
        parallel.evaluate(RecordingEngine(fail_at=2), list(range(5)), jobs=1)
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        parallel.evaluate(RecordingEngine(), list(range(3)), jobs=1)
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()
