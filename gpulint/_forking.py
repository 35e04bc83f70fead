"""Forked worker processes and pipes, for any stage (gpulint.load and gpulint.engine both use it).

Only ``os.fork`` and pipes are used: nothing is written anywhere. A worker ends with ``os._exit``, so
it never runs atexit handlers or flushes buffers it inherited from the parent. Whatever a worker
fails to deliver, the caller computes in the parent: a worker's failure costs time, never a result.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable, Optional, Sequence

_FRAME = 8  # bytes of the length that precedes each payload
_PIPE_BYTES = 1 << 20  # a larger pipe: a worker's result crosses in fewer round trips


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return hasattr(os, "fork")


def _write_all(fd: int, data: bytes) -> None:
    for part in (len(data).to_bytes(_FRAME, "little"), data):
        view = memoryview(part)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def _close_quietly(fds) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


# -- one call per worker, while the parent does its own share -------------------------------------------

class Child:
    """A forked process computing one call; its result comes back as bytes (see gather)."""

    __slots__ = ("pid", "fd", "header", "buffer", "filled", "broken", "reaped")

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self.header = b""
        self.buffer: Optional[bytearray] = None  # allocated once the length is known: no copies
        self.filled = 0
        self.broken = False
        self.reaped = False

    def receive(self) -> bool:
        """Read what the pipe holds; False at its end."""
        if self.buffer is None:
            data = os.read(self.fd, _FRAME - len(self.header))
            self.header += data
            if len(self.header) == _FRAME:
                try:
                    self.buffer = bytearray(int.from_bytes(self.header, "little"))
                except (MemoryError, OverflowError):
                    self.broken = True
                    return False
            return bool(data)
        if self.filled == len(self.buffer):
            data = os.read(self.fd, 1)
            self.broken = self.broken or bool(data)  # more than announced
            return bool(data)
        count = os.readv(self.fd, [memoryview(self.buffer)[self.filled:]])
        self.filled += count
        return count > 0

    def payload(self) -> Optional[memoryview]:
        if self.broken or self.buffer is None or self.filled != len(self.buffer):
            return None  # a worker that failed or died mid-way
        return memoryview(self.buffer)


def fork_calls(calls: Sequence[Callable[[], bytes]]) -> list[Optional[Child]]:
    """Start each call in a forked process; None for one that could not be started (no fork, no
    pipe, no process left), which the caller then computes itself.

    Collect the results with gather(), and always call discard() (in a `finally`) so that no worker
    outlives an exception in the parent.
    """
    children: list[Optional[Child]] = []
    for call in calls:
        child = None
        if can_fork():
            try:
                child = _fork_one(call, [c.fd for c in children if c is not None])
            except OSError:
                child = None
        children.append(child)
    return children


def _fork_one(call: Callable[[], bytes], inherited: list[int]) -> Child:
    read_fd, write_fd = os.pipe()
    try:
        import fcntl

        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, OSError):
        pass  # a smaller pipe is only slower
    try:
        pid = os.fork()
    except OSError:
        _close_quietly((read_fd, write_fd))
        raise
    if pid == 0:  # the worker
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _close_quietly(inherited + [read_fd])
            _write_all(write_fd, call())
            status = 0
        except BaseException:  # noqa: BLE001 - anything: the parent computes this call itself
            pass
        finally:
            os._exit(status)
    os.close(write_fd)
    return Child(pid, read_fd)


def gather(children: Sequence[Optional[Child]]) -> list[Optional[memoryview]]:
    """The bytes each child's call returned, waiting for all of them; None for a child that failed,
    died or was never started. Every child is reaped."""
    import selectors  # here: a run that never forks does not pay for it

    live = [c for c in children if c is not None and c.fd >= 0]
    with selectors.DefaultSelector() as selector:
        for child in live:
            selector.register(child.fd, selectors.EVENT_READ, child)
        while live:
            for key, _ in selector.select():
                child = key.data
                if child.receive():
                    continue
                selector.unregister(child.fd)
                live.remove(child)
                os.close(child.fd)
                child.fd = -1
                _reap(child)
    return [child.payload() if child is not None else None for child in children]


def discard(children: Sequence[Optional[Child]]) -> None:
    """Stop and reap the children that gather() has not (after an exception in the parent)."""
    for child in children:
        if child is None or child.reaped:
            continue
        if child.fd >= 0:
            _close_quietly((child.fd,))
            child.fd = -1
        try:
            os.kill(child.pid, signal.SIGKILL)
        except OSError:
            pass
        _reap(child)


def _reap(process) -> None:
    """Wait for a stopped worker (a Child or a _Worker) so that it leaves no zombie."""
    try:
        os.waitpid(process.pid, 0)
    except OSError:
        pass
    process.reaped = True


# -- tasks handed out on demand to a pool of workers (engine/parallel.py) -------------------------------

class _Worker:
    __slots__ = ("pid", "tasks", "results", "buffer", "busy", "given", "alive", "reaped")

    def __init__(self, pid: int, tasks: int, results: int):
        self.pid, self.tasks, self.results = pid, tasks, results
        self.buffer = bytearray()
        self.busy: list[int] = []
        self.given = 0          # tasks handed to it so far
        self.alive = True       # False once told to stop (or dead)
        self.reaped = False


def map_forked(fn: Callable[[int], object], count: int, jobs: int,
               done: Optional[Callable[[int], None]] = None, then: Callable = lambda value: value,
               recycle: int = 0) -> list:
    """[then(fn(0)), ..., then(fn(count - 1))] with fn computed by `jobs` forked workers (tasks handed
    out on demand; `then` runs here as each result arrives); a task whose worker fails is computed in
    this process. With `recycle`, a worker that has been given that many tasks is told to stop once
    they are done and a new one is forked in its place."""
    import pickle
    import selectors

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
            _close_quietly(open_fds | {task_w, result_r})
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
                    _reap(worker)  # its pipe closed: it has exited (no zombie until the end of the run)
                    if pending and not any(w.alive for w in workers):
                        spawn()
                    continue
                worker.buffer += data
                while len(worker.buffer) >= _FRAME:
                    size = int.from_bytes(worker.buffer[:_FRAME], "little")
                    if len(worker.buffer) < _FRAME + size:
                        break
                    payload = bytes(worker.buffer[_FRAME:_FRAME + size])
                    del worker.buffer[:_FRAME + size]
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
        _close_quietly(open_fds)
        for worker in workers:
            if worker.reaped:
                continue
            try:
                if worker.alive:
                    os.kill(worker.pid, signal.SIGTERM)
            except OSError:
                pass
            _reap(worker)
    for task in range(count):
        if not finished[task]:
            results[task] = then(fn(task))
            if done is not None:
                done(task)
    return results


def _serve(fn: Callable[[int], object], tasks: int, results: int) -> None:
    import pickle

    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
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
            _write_all(results, payload)
    except BaseException:  # noqa: BLE001 - EOF, a signal, anything: the parent recovers
        status = 1
    finally:
        os._exit(status)
