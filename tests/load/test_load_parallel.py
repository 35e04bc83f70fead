"""Large inputs are loaded on several processes (gpulint/load/parallel.py) with exactly the result of
one process: the same resources, documents, positions, errors and files, in the same order. The
parallel path is forced with min_parallel_bytes=0 instead of huge inputs."""

from __future__ import annotations

import atexit
import dataclasses
import io
import os
import signal
import subprocess
import sys

import pytest

from gpulint import _forking
from gpulint.load import LoadError, LoadResult, Resource, SourceDocument, discover, load_paths
from gpulint.load import parallel
from tests.conftest import ROOT, shared_or_skip
from tests.load.test_load_bad_input import BOMB

GENERATOR = ROOT.parent / "shared" / "bench" / "gen_manifests.py"
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"


def _paths(value, prefix=(), limit=40):
    """Up to `limit` paths into `value`, depth first (every node of a small object)."""
    out = [prefix]
    stack = [(value, prefix)]
    while stack and len(out) < limit:
        node, path = stack.pop()
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            out.append(path + (key,))
            stack.append((child, path + (key,)))
    return out[:limit] + [prefix + ("no-such-key",)]


def signature(result: LoadResult, positions: int = 40) -> tuple:
    """Everything a LoadResult carries, positions included (resolved after loading, as findings do)."""
    assert {f.name for f in dataclasses.fields(LoadResult)} == {"resources", "errors", "files"}, \
        "LoadResult has a new field: parallel._merge must carry it, and this test compare it"
    first_of_document: dict[int, int] = {}
    rows = []
    for i, resource in enumerate(result.resources):
        source = resource.source
        rows.append((resource.obj, resource.file, resource.path_in_document, resource.template,
                     {k: v for k, v in vars(source).items() if k != "_locator"},
                     first_of_document.setdefault(id(source), i),  # which resources share a document
                     [(path, resource.locate(path)) for path in _paths(resource.obj, limit=positions)]))
    return rows, [(type(e), vars(e)) for e in result.errors], list(result.files)


def both(paths, jobs, **kwargs):
    serial = load_paths(paths, jobs=1, **kwargs)
    spread = load_paths(paths, jobs=jobs, min_parallel_bytes=0, **kwargs)
    return serial, spread


def no_child_left():
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return pid == 0


# -- the same result on real, generated and broken input ---------------------------------------------

@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_corpus(jobs, monkeypatch):
    corpus = str(shared_or_skip("corpus"))
    forked = []
    real = parallel.load
    monkeypatch.setattr(parallel, "load", lambda *args: forked.append(args[-1]) or real(*args))
    serial, spread = both([corpus], jobs)
    assert forked == ([] if jobs == 1 else [jobs])
    assert len(serial.resources) > 200 and len(serial.errors) == 2
    assert signature(spread) == signature(serial)
    assert no_child_left()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    if not GENERATOR.exists():
        pytest.skip(f"{GENERATOR} is absent")
    out = tmp_path_factory.mktemp("generated")
    for name, extra in (("plain", []), ("helm", ["--helm"])):
        subprocess.run([sys.executable, str(GENERATOR), "--resources", "240", "--out", str(out / name), "--quiet",
                        *extra], check=True)
    return out


@pytest.mark.parametrize("jobs", [1, 2, 3])
@pytest.mark.parametrize("kind", ["plain", "helm"])
def test_generated(generated, kind, jobs, monkeypatch):
    loaded, real = [], parallel._load_share
    monkeypatch.setattr(parallel, "_load_share", lambda *args: loaded.append(os.getpid()) or real(*args))
    serial, spread = both([str(generated / kind)], jobs)
    assert loaded.count(os.getpid()) == (1 if jobs > 1 else 0)  # every worker delivered its share
    assert len(serial.resources) == 240 and len(serial.files) > 20
    if kind == "helm":
        assert all(r.template for r in serial.resources)
    assert signature(spread, positions=12) == signature(serial, positions=12)


def _bad_tree(root):
    """Good files next to each kind of bad input the loader reports."""
    (root / "a-good.yaml").write_text(POD.format(name="a") + "---\n" + POD.format(name="b"))
    (root / "b-syntax.yaml").write_text(POD.format(name="c") + "---\napiVersion: v1\nkind: Pod\nspec:\n\tx: 1\n"
                                        + "---\n" + POD.format(name="d"))
    (root / "c-bomb.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n" + BOMB)
    (root / "d-deep.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 600 + "]" * 600 + "\n")
    (root / "e-binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "f-latin1.yaml").write_bytes(POD.format(name="caf\xe9").encode("latin-1"))
    (root / "g-utf16.yaml").write_bytes(b"\xff\xfe" + POD.format(name="g").encode("utf-16-le"))
    (root / "h-bad.json").write_text('{\n  "apiVersion": "v1",\n  "kind": "Pod",\n}\n')
    (root / "i-deep.json").write_text('{"a":' * 700 + "1" + "}" * 700)
    with open(root / "j-huge.yaml", "wb") as handle:
        handle.truncate(discover.MAX_FILE_BYTES + 1)  # sparse
    os.symlink(root / "nowhere.yaml", root / "k-broken.yaml")
    os.symlink(root / "l-loop2.yaml", root / "l-loop1.yaml")
    os.symlink(root / "l-loop1.yaml", root / "l-loop2.yaml")
    (root / "m-sub").mkdir()
    os.symlink(root, root / "m-sub" / "up")
    os.symlink(root / "a-good.yaml", root / "m-sub" / "same-as-a.yaml")  # read once
    item = POD.format(name="n").replace("\n", "\n  ")
    (root / "n-list.yaml").write_text("apiVersion: v1\nkind: List\nitems:\n- " + item + "- 42\n- {kind: Thing}\n")
    (root / "o-nan.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata: {a: .nan, b: [.nan, .inf, -.inf]}\n")
    (root / "o-nan.json").write_text('[{"apiVersion": "v1", "kind": "ConfigMap", "data": [NaN, Infinity, NaN]},'
                                     ' 7, {"kind": "Pod"}]')
    (root / "p-helm.yaml").write_text("---\n# Source: chart/templates/pod.yaml\n" + POD.format(name="p")
                                      + "---\n# Source: chart/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n")
    (root / "q-empty.yaml").write_text("")
    (root / "r-values.yaml").write_text("replicas: 3\nimage: {tag: x}\n")
    (root / "s-scalar.yaml").write_text("just text\n---\n[1, 2]\n---\n{kind: Pod}\n")
    (root / "t-alias.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nx: *nope\n")
    (root / "u-unreadable.yaml").write_text(POD.format(name="u"))
    (root / "v-closed").mkdir()
    (root / "v-closed" / "w.yaml").write_text(POD.format(name="w"))
    for i in range(6):
        (root / f"z{i}.yaml").write_text("".join(POD.format(name=f"z{i}-{j}") + "---\n" for j in range(i * 5)))


def _deny(monkeypatch):
    """Permission errors (root reads everything, so they are simulated; forked workers inherit this)."""
    real_open, real_scandir = open, os.scandir

    def deny_open(path, *args, **kwargs):
        if str(path).endswith("u-unreadable.yaml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    def deny_scandir(path):
        if str(path).endswith("v-closed"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discover, "open", deny_open, raising=False)
    monkeypatch.setattr(discover.os, "scandir", deny_scandir)


class _Stdin:
    def __init__(self, text: str) -> None:
        self.buffer = io.BytesIO(text.encode())


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_bad_input(tmp_path, monkeypatch, jobs):
    _bad_tree(tmp_path)
    _deny(monkeypatch)
    named = [str(tmp_path / "z5.yaml"), "-", str(tmp_path), str(tmp_path / "missing.yaml"), "-",
             str(tmp_path / "a-good.yaml")]
    serial = load_paths(named, jobs=1, stdin=_Stdin(POD.format(name="stdin")))
    spread = load_paths(named, jobs=jobs, min_parallel_bytes=0, stdin=_Stdin(POD.format(name="stdin")))
    assert signature(spread) == signature(serial)
    messages = [e.message for e in serial.errors]
    for expected in ("found character '\\t' that cannot start any token", "(alias bomb?)", "nesting deeper than 500",
                     "binary file", "not valid UTF-8", "invalid JSON", "file is larger than", "broken symbolic link",
                     "too many levels of symbolic links", "symbolic link loop", "item 2 of document 1 is a number",
                     "cannot read: permission denied", "cannot read directory: permission denied",
                     "no such file or directory", "found undefined alias"):
        assert any(expected in m for m in messages), expected
    assert serial.files.count("<stdin>") == 2 and serial.files.count(str(tmp_path / "a-good.yaml")) == 1
    nan = [r.obj["data"] for r in spread.resources if r.kind == "ConfigMap" and r.file.endswith("o-nan.yaml")]
    assert nan == [r.obj["data"] for r in serial.resources if r.kind == "ConfigMap" and r.file.endswith("o-nan.yaml")]


def test_already_loaded_files_are_not_read_again(tmp_path):
    _bad_tree(tmp_path)
    first = load_paths([str(tmp_path / "a-good.yaml")], jobs=1)
    serial = load_paths([str(tmp_path)], already=first, jobs=1)
    spread = load_paths([str(tmp_path)], already=load_paths([str(tmp_path / "a-good.yaml")]), jobs=2,
                        min_parallel_bytes=0)
    assert signature(spread) == signature(serial)
    assert serial.files.count(str(tmp_path / "a-good.yaml")) == 1


def test_file_deleted_after_the_walk(tmp_path, monkeypatch):
    for name in "abcd":
        (tmp_path / f"{name}.yaml").write_text(POD.format(name=name))
    real_split = parallel._split

    def split_then_delete(entries, count):
        shares = real_split(entries, count)
        os.remove(tmp_path / "b.yaml")
        return shares

    monkeypatch.setattr(parallel, "_split", split_then_delete)
    result = load_paths([str(tmp_path)], jobs=2, min_parallel_bytes=0)
    assert result.errors == [LoadError(str(tmp_path / "b.yaml"), 1, 1, "no such file or directory")]
    assert [r.name for r in result.resources] == ["a", "c", "d"]


# -- a worker that fails costs time, not results -------------------------------------------------------

def _in_worker(parent: int, action) -> None:
    if os.getpid() != parent:
        action()


@pytest.mark.parametrize("failure", ["killed", "exception", "garbage", "truncated", "no fork"])
def test_worker_failure_falls_back_to_the_parent(tmp_path, monkeypatch, failure):
    _bad_tree(tmp_path)
    expected = signature(load_paths([str(tmp_path)], jobs=1))
    parent = os.getpid()
    real_add_text, real_encode = discover.add_text, parallel._encode

    def add_text(result, text, file):
        if failure == "killed":
            _in_worker(parent, lambda: os.kill(os.getpid(), signal.SIGKILL))
        elif failure == "exception":
            _in_worker(parent, lambda: 1 / 0)
        real_add_text(result, text, file)

    def encode(part, shared_seen):
        payload = real_encode(part, shared_seen)
        return b"garbage" if failure == "garbage" else payload

    def truncated(fd, data):
        os.write(fd, len(data).to_bytes(8, "little") + bytes(data[:100]))

    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(discover, "add_text", add_text)
    monkeypatch.setattr(parallel, "_encode", encode)
    if failure == "truncated":
        monkeypatch.setattr(_forking, "_write_all", truncated)
    if failure == "no fork":
        monkeypatch.setattr(os, "fork", no_fork)
    loaded = []
    real_load_share = parallel._load_share
    monkeypatch.setattr(parallel, "_load_share", lambda *args: loaded.append(os.getpid()) or real_load_share(*args))
    assert signature(load_paths([str(tmp_path)], jobs=3, min_parallel_bytes=0)) == expected
    assert loaded.count(parent) == 3  # its own share, then the two the workers did not deliver
    assert no_child_left()


def test_workers_leave_atexit_handlers_and_buffers_alone(tmp_path, monkeypatch):
    _bad_tree(tmp_path)
    read_fd, write_fd = os.pipe()
    stream = os.fdopen(write_fd, "w", buffering=1 << 16)
    stream.write("written once")  # in the buffer when the workers are forked
    handler = lambda: os.write(write_fd, b" atexit")  # noqa: E731
    atexit.register(handler)
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        load_paths([str(tmp_path)], jobs=3, min_parallel_bytes=0)
    finally:
        atexit.unregister(handler)
        monkeypatch.undo()
    stream.close()
    with os.fdopen(read_fd) as pipe:
        assert pipe.read() == "written once"


# -- when to fork ------------------------------------------------------------------------------------

def _entries(*sizes):
    return [(f"f{i}.yaml", size) for i, size in enumerate(sizes)]


def test_small_inputs_and_single_files_stay_in_process(monkeypatch):
    big = parallel.MIN_PARALLEL_BYTES
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    assert parallel.processes(0, _entries(big * 10)) == 1  # one file
    assert parallel.processes(0, _entries(1000, 1000)) == 1  # small
    assert parallel.processes(0, _entries(big, big)) == 2
    assert parallel.processes(1, _entries(big, big)) == 1  # -j 1
    assert parallel.processes(3, _entries(big, big, big, big)) == 3
    assert parallel.processes(0, _entries(big, -1) + [LoadError("d", 1, 1, "x")]) == 1  # stdin stays here
    monkeypatch.setattr(parallel, "can_fork", lambda: False)
    assert parallel.processes(0, _entries(big, big)) == 1


def test_shares_are_balanced_and_keep_stdin_here():
    entries = _entries(900, 100, 500, 500, -1, 300) + [LoadError("d", 1, 1, "x")] + _entries(200)
    shares = parallel._split(entries, 2)
    assert sorted(sum(shares, [])) == [0, 1, 2, 3, 4, 5, 7]
    assert 4 in shares[0] and all(share == sorted(share) for share in shares)
    costs = [sum(entries[i][1] + parallel.FILE_COST for i in share if entries[i][1] >= 0) for share in shares]
    assert abs(costs[0] - costs[1]) <= 600
    huge = discover.MAX_FILE_BYTES + 1  # refused unread: costs nothing
    assert parallel.processes(0, _entries(huge, 1000)) == 1
    shares = parallel._split(_entries(huge, 500, 500, 400, 600), 2)
    assert sorted(len(share) for share in shares) == [2, 3]


def test_model_fields_travel(tmp_path):
    """A worker sends each object's attributes: new fields of the model travel without changes."""
    assert {f.name for f in dataclasses.fields(Resource)} == {"obj", "source", "path_in_document"}
    assert {f.name for f in dataclasses.fields(SourceDocument)} >= {"file", "index", "line", "text", "template"}
    (tmp_path / "a.yaml").write_text(POD.format(name="a"))
    (tmp_path / "b.yaml").write_text(POD.format(name="b"))
    result = load_paths([str(tmp_path)], jobs=2, min_parallel_bytes=0)
    assert [type(r.source) for r in result.resources] == [SourceDocument] * 2
    assert [r.locate(("metadata", "name")).line for r in result.resources] == [4, 4]
