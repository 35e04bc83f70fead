"""Load a large input on several processes, with the result of one process.

The files (each kept whole) are split by size between this process and forked workers; each process
loads its share with the same code as a serial run, and a worker sends back what it loaded (plain
data, through marshal: about six times cheaper than pickling the same objects). The parent rebuilds the
Resources, SourceDocuments and LoadErrors and merges every share in the order of the serial loader,
so the LoadResult is the same whatever the number of processes. A share whose worker fails or dies
(or that could not be forked) is loaded in the parent. Only ``os.fork`` and pipes are used
(gpulint/_forking.py): nothing is written anywhere.
"""

from __future__ import annotations

import json.decoder
import marshal
import math
import sys
from typing import Callable, Optional, Sequence, Union

from gpulint._forking import available_cpus, can_fork, discard, fork_calls, gather
from gpulint.load.limits import MAX_FILE_BYTES
from gpulint.load.model import LoadError, LoadResult, Resource, SourceDocument

# Inputs that cost less than this many bytes are loaded in this process: forking, sending the result
# back and rebuilding it would save less than it costs (break-even measured at about 0.5 MB, loaded
# in 50 ms; a one-file run never forks).
MIN_PARALLEL_BYTES = 1024 * 1024
FILE_COST = 1024  # what opening and splitting one more file costs, in bytes of YAML loaded
# The parent's share is this much larger than a worker's: a worker also encodes and sends its result,
# and was measured loading a few per cent slower (10,000 generated resources; copy-on-write faults?).
PARENT_WEIGHT = 1.06
MAX_PROCESSES = 16

# (path, size): a file to read; size < 0 for what only this process may read (stdin, a FIFO, a path
# that cannot be stat'ed, whose error is then reported cheaply).
Entry = Union[LoadError, tuple]
LoadOne = Callable[[LoadResult, str], None]

# Singletons the loader puts into data (a plain `.nan` in YAML, `NaN` in JSON). A NaN is equal only to
# itself, so the parent must get these very objects back, not copies, for the data to compare equal.
_SHARED = (math.nan, json.decoder.NaN)


def processes(jobs: int, entries: Sequence[Entry], min_bytes: Optional[int] = None) -> int:
    """How many processes load `entries` (1: this one alone). `jobs` 0 means one per usable CPU;
    `min_bytes` defaults to MIN_PARALLEL_BYTES."""
    min_bytes = MIN_PARALLEL_BYTES if min_bytes is None else min_bytes
    if jobs == 1 or not can_fork():
        return 1
    movable = [_cost(entry[1]) for entry in entries if not isinstance(entry, LoadError) and entry[1] >= 0]
    cost = sum(movable)
    if len(movable) < 2 or cost < min_bytes:
        return 1
    wanted = jobs if jobs > 0 else min(available_cpus(), MAX_PROCESSES)
    if jobs == 0 and min_bytes > 0:
        wanted = min(wanted, max(2, cost // (min_bytes // 2 or 1)))  # each share worth a fork
    return max(1, min(wanted, len(movable)))


def load(entries: Sequence[Entry], result: LoadResult, load_one: LoadOne, count: int) -> None:
    """Load `entries` (in order: walk errors and files) into `result` on `count` processes."""
    shares = _split(entries, count)
    children = fork_calls([_worker_call(entries, share, load_one) for share in shares[1:]])
    try:
        parts = [_load_share(entries, shares[0], load_one)]
        payloads = gather(children)
    finally:
        discard(children)
    for share, payload in zip(shares[1:], payloads):
        part = _decode(payload) if payload is not None else None
        parts.append(part if part is not None else _load_share(entries, share, load_one))
    _merge(entries, shares, parts, result)


def _split(entries: Sequence[Entry], count: int) -> list[list[int]]:
    """Indexes of the files of each share (share 0 is this process's), balanced by size: the largest
    file first into the lightest share."""
    shares: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    files = [i for i, entry in enumerate(entries) if not isinstance(entry, LoadError)]
    for i in files:
        if entries[i][1] < 0:
            shares[0].append(i)
    weights = [PARENT_WEIGHT] + [1.0] * (count - 1)
    for i in sorted((i for i in files if entries[i][1] >= 0), key=lambda i: -_cost(entries[i][1])):
        cost = _cost(entries[i][1])
        lightest = min(range(count), key=lambda share: (loads[share] + cost) / weights[share])
        shares[lightest].append(i)
        loads[lightest] += cost
    for share in shares:
        share.sort()  # stdin, named twice, is read in order
    return shares


def _cost(size: int) -> int:
    return FILE_COST + (size if size <= MAX_FILE_BYTES else 0)  # a larger file is refused unread


class _Part:
    """What one process loaded from its share: the result, and where each file's output ends."""

    __slots__ = ("result", "ends")

    def __init__(self, result: LoadResult, ends: list) -> None:
        self.result, self.ends = result, ends


def _load_share(entries: Sequence[Entry], share: list[int], load_one: LoadOne,
                shared_seen: Optional[list] = None) -> _Part:
    result = LoadResult()
    ends = []
    for i in share:
        before = [sys.getrefcount(value) for value in _SHARED] if shared_seen is not None else None
        load_one(result, entries[i][0])
        ends.append((len(result.resources), len(result.errors), len(result.files)))
        if before is not None and [sys.getrefcount(value) for value in _SHARED] != before:
            shared_seen.append(len(ends) - 1)  # this file's data may hold a shared NaN
    return _Part(result, ends)


def _worker_call(entries: Sequence[Entry], share: list[int], load_one: LoadOne) -> Callable[[], bytes]:
    def call() -> bytes:
        shared_seen: list[int] = []
        part = _load_share(entries, share, load_one, shared_seen)
        return _encode(part, shared_seen)

    return call


def _encode(part: _Part, shared_seen: list[int]) -> bytes:
    """Plain data for marshal: documents by index, each object's own attributes (any field added to
    the model travels too, as long as it holds plain data)."""
    documents: dict[int, int] = {}
    states: list[dict] = []
    resources = []
    for resource in part.result.resources:
        source = resource.source
        index = documents.get(id(source))
        if index is None:
            source.forget_positions()  # a position tree is a closure; the parent builds it again if asked
            index = documents[id(source)] = len(states)
            states.append(source.__dict__)
        state = dict(resource.__dict__)
        state["source"] = index
        resources.append(state)
    errors = [error.__dict__ for error in part.result.errors]
    # _SHARED first: every reference to one of them in the data becomes a reference to that first copy
    return marshal.dumps((_SHARED, shared_seen, states, resources, errors, part.result.files, part.ends))


def _decode(payload: memoryview) -> Optional[_Part]:
    try:
        return _rebuild(*marshal.loads(payload))
    except Exception:  # noqa: BLE001 - whatever went wrong, the parent loads this share itself
        return None


def _rebuild(shared, shared_seen, states, resources, errors, files, ends) -> _Part:
    new = object.__new__
    documents = []
    for state in states:
        document = new(SourceDocument)
        document.__dict__ = state
        documents.append(document)
    result = LoadResult(errors=[], files=files)
    for state in resources:
        resource = new(Resource)
        state["source"] = documents[state["source"]]
        resource.__dict__ = state
        result.resources.append(resource)
    for state in errors:
        error = new(LoadError)
        error.__dict__ = state
        result.errors.append(error)
    part = _Part(result, [tuple(end) for end in ends])
    if shared_seen:
        _restore_shared(part, shared_seen, dict(zip(map(id, shared), _SHARED)))
    return part


def _restore_shared(part: _Part, files: list[int], copies: dict[int, float]) -> None:
    """Put the parent's own NaN singletons back where the worker's data held them."""
    for position in files:
        start = part.ends[position - 1][0] if position else 0
        for resource in part.result.resources[start:part.ends[position][0]]:
            stack = [resource.obj]
            while stack:
                node = stack.pop()
                pairs = node.items() if isinstance(node, dict) else enumerate(node)
                for key, value in list(pairs):
                    if isinstance(value, (dict, list)):
                        stack.append(value)
                    elif id(value) in copies and value.__class__ is float:
                        node[key] = copies[id(value)]


def _merge(entries: Sequence[Entry], shares: list[list[int]], parts: list[_Part], result: LoadResult) -> None:
    """Every share's output into `result`, file by file in the order of `entries` (a serial run's)."""
    where: dict[int, tuple[_Part, int]] = {}
    for share, part in zip(shares, parts):
        for position, i in enumerate(share):
            where[i] = (part, position)
    for i, entry in enumerate(entries):
        if isinstance(entry, LoadError):
            result.errors.append(entry)
            continue
        part, position = where[i]
        start = part.ends[position - 1] if position else (0, 0, 0)
        end = part.ends[position]
        result.resources.extend(part.result.resources[start[0]:end[0]])
        result.errors.extend(part.result.errors[start[1]:end[1]])
        result.files.extend(part.result.files[start[2]:end[2]])
