"""Evaluate a large input on several processes, with the results of one process.

The parent loads every input and prepares the engine (policies, the index that answers
``resource.Get``/``resource.List``), then forks workers: each sees every resource, the whole index
and the compiled policies, copy-on-write, and evaluates chunks of consecutive resources handed out
on demand. A worker returns plain tuples (policy and resource by reference to the parent's objects,
the position of each finding already resolved); the parent rebuilds the RuleResults in input order,
so the output is the same whatever the number of workers. A chunk whose worker fails or dies is
evaluated again in the parent. Only ``os.fork`` and pipes are used: nothing is written anywhere.
"""

from __future__ import annotations

import gc
import os
import pickle
import selectors
import signal
import sys
from typing import Callable, Iterable, Optional

from gpulint.engine.result import ERROR, FAIL, WARN, RuleResult
from gpulint.load.model import Position

MIN_RESOURCES = 200      # fewer resources are evaluated in-process (a fork costs more than it saves)
PER_WORKER = 100         # ... and at least this many per worker
MAX_JOBS = 16
# cel-expr-python 0.1.3 leaks the arguments of every call of a Python-implemented function (about
# 70 MB per 1,000 generated resources): a worker is replaced by a fresh fork after this many resources.
RECYCLE_AFTER = 1500
_LOCATED = (FAIL, WARN, ERROR)


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def auto_jobs(resources: int) -> int:
    """Workers for `resources` resources: one per CPU for large inputs, in-process for small ones."""
    if resources < MIN_RESOURCES or not hasattr(os, "fork"):
        return 1
    return max(1, min(available_cpus(), MAX_JOBS, resources // PER_WORKER))


def evaluate(engine, resources: list, jobs: int, *, locate_all: bool = False,
             progress: Optional[Callable[[int], None]] = None) -> list[RuleResult]:
    """``engine.evaluate(resources)`` on `jobs` processes (in-process when jobs <= 1).

    Positions of fail/warn/error results (of every result with `locate_all`) are resolved in the
    workers; `progress(n)` is called as n more resources are done.
    """
    if jobs <= 1 or len(resources) < 2 or not hasattr(os, "fork"):
        return _sequential(engine, resources, progress)
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


class _Worker:
    __slots__ = ("pid", "tasks", "results", "buffer", "busy", "given", "alive")

    def __init__(self, pid: int, tasks: int, results: int):
        self.pid, self.tasks, self.results = pid, tasks, results
        self.buffer = bytearray()
        self.busy: list[int] = []
        self.given = 0          # tasks handed to it so far
        self.alive = True       # False once told to stop (or dead)


def map_forked(fn: Callable[[int], object], count: int, jobs: int,
               done: Optional[Callable[[int], None]] = None, then: Callable = lambda value: value,
               recycle: int = 0) -> list:
    """[then(fn(0)), ..., then(fn(count - 1))] with fn computed by `jobs` forked workers (tasks handed
    out on demand; `then` runs here as each result arrives); a task whose worker fails is computed in
    this process. With `recycle`, a worker that has been given that many tasks is told to stop once
    they are done and a new one is forked in its place."""
    results: list = [None] * count
    finished = [False] * count
    pending = list(range(count - 1, -1, -1))  # a stack: pop() gives the lowest task first
    workers: list[_Worker] = []
    open_fds: set[int] = set()
    selector = selectors.DefaultSelector()
    sys.stdout.flush()
    sys.stderr.flush()

    def spawn() -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            for fd in open_fds | {task_w, result_r}:
                try:
                    os.close(fd)
                except OSError:
                    pass
            _serve(fn, task_r, result_w)  # never returns
        os.close(task_r)
        os.close(result_w)
        open_fds.update((task_w, result_r))
        worker = _Worker(pid, task_w, result_r)
        workers.append(worker)
        selector.register(result_r, selectors.EVENT_READ, worker)
        for _ in range(2):  # two tasks each: a worker never waits for its next task
            feed(worker)

    def stop(worker: _Worker) -> None:
        worker.alive = False
        try:
            os.write(worker.tasks, (-1).to_bytes(4, "little", signed=True))
        except OSError:
            pass
        os.close(worker.tasks)
        open_fds.discard(worker.tasks)

    def feed(worker: _Worker) -> None:
        if not worker.alive:
            return
        if pending and not (recycle and worker.given >= recycle):
            task = pending.pop()
            worker.busy.append(task)
            worker.given += 1
            os.write(worker.tasks, task.to_bytes(4, "little", signed=True))
        elif not worker.busy:
            stop(worker)
            if pending:
                spawn()  # a fresh process in its place (recycling)

    try:
        for _ in range(min(jobs, count)):
            spawn()
        while any(w.alive for w in workers):
            for key, _ in selector.select():
                worker = key.data
                data = os.read(worker.results, 1 << 20)
                if not data:  # exited (or died)
                    selector.unregister(worker.results)
                    os.close(worker.results)
                    open_fds.discard(worker.results)
                    if worker.alive:
                        worker.alive = False
                        os.close(worker.tasks)
                        open_fds.discard(worker.tasks)
                    for task in worker.busy:  # computed here below (a task that kills a worker
                        finished[task] = None  # is not handed to the next one)
                    worker.busy.clear()
                    if pending and not any(w.alive for w in workers):
                        spawn()
                    continue
                worker.buffer += data
                while len(worker.buffer) >= 8:
                    size = int.from_bytes(worker.buffer[:8], "little")
                    if len(worker.buffer) < 8 + size:
                        break
                    payload = bytes(worker.buffer[8:8 + size])
                    del worker.buffer[:8 + size]
                    task, ok, value = pickle.loads(payload)
                    worker.busy.remove(task)
                    if ok:
                        results[task], finished[task] = then(value), True
                        if done is not None:
                            done(task)
                    else:
                        finished[task] = None  # computed here below: the same exception, in this process
                    feed(worker)
    finally:
        selector.close()
        for fd in open_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        for worker in workers:
            try:
                if worker.alive:
                    os.kill(worker.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                os.waitpid(worker.pid, 0)
            except OSError:
                pass
    for task in range(count):
        if not finished[task]:
            results[task] = then(fn(task))
            if done is not None:
                done(task)
    return results


def _serve(fn: Callable[[int], object], tasks: int, results: int) -> None:
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        gc.enable()
        while True:
            raw = b""
            while len(raw) < 4:
                chunk = os.read(tasks, 4 - len(raw))
                if not chunk:
                    raise EOFError
                raw += chunk
            task = int.from_bytes(raw, "little", signed=True)
            if task < 0:
                break
            try:
                payload = pickle.dumps((task, True, fn(task)), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - the parent evaluates this task again and reports it
                payload = pickle.dumps((task, False, None), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(len(payload).to_bytes(8, "little") + payload)
            while view:
                written = os.write(results, view)
                view = view[written:]
    except BaseException:  # noqa: BLE001 - EOF, a signal, anything: the parent recovers
        status = 1
    finally:
        os._exit(status)
