"""Evaluate a large input on several processes, with the results of one process.

The parent loads every input and prepares the engine (policies, the index that answers
``resource.Get``/``resource.List``), then forks workers: each sees every resource, the whole index
and the compiled policies, copy-on-write, and evaluates chunks of consecutive resources handed out
on demand. A worker returns plain tuples (policy and resource by reference to the parent's objects,
the position of each finding already resolved); the parent rebuilds the RuleResults in input order,
so the output is the same whatever the number of workers. A chunk whose worker fails or dies is
evaluated again in the parent. Only ``os.fork`` and pipes are used (gpulint/_forking.py): nothing is
written anywhere.
"""

from __future__ import annotations

import gc
from typing import Callable, Iterable, Optional

from gpulint._forking import available_cpus, can_fork, map_forked
from gpulint.engine.result import ERROR, FAIL, WARN, RuleResult
from gpulint.load.model import Position

MIN_RESOURCES = 200      # fewer resources are evaluated in-process (a fork costs more than it saves)
PER_WORKER = 100         # ... and at least this many per worker
MAX_JOBS = 16
# cel-expr-python 0.1.3 leaks the arguments of every call of a Python-implemented function (about
# 70 MB per 1,000 generated resources): a worker is replaced by a fresh fork after this many resources.
RECYCLE_AFTER = 1500
_LOCATED = (FAIL, WARN, ERROR)


def auto_jobs(resources: int) -> int:
    """Workers for `resources` resources: one per CPU for large inputs, in-process for small ones."""
    if resources < MIN_RESOURCES or not can_fork():
        return 1
    return max(1, min(available_cpus(), MAX_JOBS, resources // PER_WORKER))


def evaluate(engine, resources: list, jobs: int, *, locate_all: bool = False,
             progress: Optional[Callable[[int], None]] = None) -> list[RuleResult]:
    """``engine.evaluate(resources)`` on `jobs` processes (in-process when jobs <= 1).

    Positions of fail/warn/error results (of every result with `locate_all`) are resolved in the
    workers; `progress(n)` is called as n more resources are done.
    """
    # The collector would walk the young objects of every evaluation (CEL values handed to Python,
    # results) and find no cycles worth it. Workers inherit the paused collector and are replaced
    # after RECYCLE_AFTER resources anyway.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if jobs <= 1 or len(resources) < 2 or not can_fork():
            return _sequential(engine, resources, progress)
        return _forked(engine, resources, jobs, locate_all, progress)
    finally:
        if was_enabled:
            gc.enable()


def _forked(engine, resources: list, jobs: int, locate_all: bool, progress) -> list[RuleResult]:
    engine.warm(resources)  # compiled once here, inherited by every worker
    size = max(1, min(64, len(resources) // (jobs * 8)))
    bounds = [(start, min(start + size, len(resources))) for start in range(0, len(resources), size)]
    known = {id(policy.info): policy.info for policy in engine.policies}
    index_of = {id(resource): i for i, resource in enumerate(resources)}

    def work(task: int) -> list:
        start, stop = bounds[task]
        rows = []
        for resource in resources[start:stop]:
            for r in engine.evaluate_resource(resource):
                position = None
                if locate_all or r.result in _LOCATED:
                    found = r.location()
                    position = (found.line, found.column)
                rows.append((id(r.policy) if id(r.policy) in known else r.policy, r.rule, r.result, r.message,
                             index_of.get(id(r.resource), r.resource), r.role, r.template_path, r.field_path,
                             r.properties, r.applicable, position))
        for resource in resources[start:stop]:
            resource.source.forget_positions()  # this process needs them no more
        return rows

    def rebuild(rows: list) -> list[RuleResult]:
        return [RuleResult(known[info] if isinstance(info, int) else info, rule, result, message,
                           resources[resource] if isinstance(resource, int) else resource, role, template_path,
                           field_path, properties, applicable, position=Position(*position) if position else None)
                for (info, rule, result, message, resource, role, template_path, field_path, properties, applicable,
                     position) in rows]

    def done(task: int) -> None:
        if progress is not None:
            start, stop = bounds[task]
            progress(stop - start)

    results: list[RuleResult] = []
    recycle = max(1, RECYCLE_AFTER // size)
    for chunk in map_forked(work, len(bounds), jobs, done, rebuild, recycle):
        results.extend(chunk)
    return results


def _sequential(engine, resources: Iterable, progress) -> list[RuleResult]:
    results: list[RuleResult] = []
    for resource in resources:
        results.extend(engine.evaluate_resource(resource))
        if progress is not None:
            progress(1)
    return results
