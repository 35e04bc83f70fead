"""`gpulint check` end to end on hostile input and policies: every bad input is one clear error, the
rest of the run completes, in bounded time and memory; the same results on any number of worker
processes; no network; nothing written but the -o files."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpulint.cli import main
from gpulint.load import MAX_FILE_BYTES, discover
from tests.conftest import ROOT, shared_or_skip

GPU_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: ml
spec:
  containers:
    - name: cuda
      image: nvcr.io/nvidia/cuda:12.4.0-base-ubuntu22.04
      resources:
        limits:
          nvidia.com/gpu: 1
"""
BOMB = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"  {n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
FORMATS = ("json", "sarif", "junit", "github", "policy-report", "text")


def check_json(capsys, *argv):
    code = main(["check", "-o", "json", "--include-pass", "--fail-on", "never", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out)


def hostile_tree(tmp: Path) -> Path:
    tree = tmp / "inputs"
    tree.mkdir()
    (tree / "a-good.yaml").write_text(GPU_POD.format(name="good"))
    (tree / "bomb.yaml").write_text(BOMB)
    (tree / "deep.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 10_000 + "]" * 10_000 + "\n")
    (tree / "deep-block.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n" +
                                          "".join(" " * (i + 1) + "- \n" for i in range(10_000)))
    (tree / "deep.json").write_text('{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + "[" * 10_000 +
                                    "]" * 10_000 + "}")
    with open(tree / "huge.yaml", "wb") as handle:
        handle.truncate(2 * MAX_FILE_BYTES)  # 200 MB, sparse: refused before reading
    (tree / "binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tree / "latin1.yaml").write_bytes("apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xe9}\n".encode("latin-1"))
    os.symlink(tree / "loop2.yaml", tree / "loop1.yaml")
    os.symlink(tree / "loop1.yaml", tree / "loop2.yaml")
    os.symlink(tree / "nowhere.yaml", tree / "broken.yaml")
    (tree / "sub").mkdir()
    os.symlink(tree, tree / "sub" / "up")
    (tree / "unreadable.yaml").write_text(GPU_POD.format(name="secret"))
    (tree / "vanishing.yaml").write_text(GPU_POD.format(name="vanishing"))
    (tree / "z-good.yaml").write_text(GPU_POD.format(name="last"))
    return tree


EXPECTED_ERRORS = {
    "binary.yaml": "binary file, not YAML or JSON",
    "bomb.yaml": "YAML aliases expand to more than 100,000 nodes (alias bomb?)",
    "broken.yaml": "broken symbolic link (its target does not exist)",
    "deep-block.yaml": "nesting deeper than 500 levels",
    "deep.json": "nesting deeper than 500 levels",
    "deep.yaml": "nesting deeper than 500 levels",
    "huge.yaml": "file is larger than 100 MB",
    "latin1.yaml": "not valid UTF-8 text (byte 0xe9 at offset 45)",
    "loop1.yaml": "cannot read: too many levels of symbolic links",
    "loop2.yaml": "cannot read: too many levels of symbolic links",
    "sub/up": "symbolic link loop (a directory that contains itself), skipped",
    "unreadable.yaml": "cannot read: permission denied",
    "vanishing.yaml": "no such file or directory",
}


def test_hostile_inputs_end_to_end(capsys, tmp_path, monkeypatch):
    tree = hostile_tree(tmp_path)
    real_open, real_read = open, discover.read_input

    def deny(path, *args, **kwargs):  # as a file without read permission (tests may run as root)
        if str(path).endswith("unreadable.yaml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    def read_and_delete(path, stdin=None):  # a file deleted by someone else while the run goes on
        if str(path).endswith("broken.yaml") and (tree / "vanishing.yaml").exists():
            os.remove(tree / "vanishing.yaml")
        return real_read(path, stdin)

    monkeypatch.setattr(discover, "open", deny, raising=False)
    monkeypatch.setattr(discover, "read_input", read_and_delete)
    started = time.perf_counter()
    code, report = check_json(capsys, str(tree))
    assert time.perf_counter() - started < 60
    assert code == 2
    errors = {os.path.relpath(e["file"], tree): e["message"] for e in report["errors"]}
    assert errors == EXPECTED_ERRORS
    assert all(e["line"] >= 1 and e["column"] >= 1 for e in report["errors"])
    names = {r["resource"]["name"] for r in report["results"]}
    assert names == {"good", "last"}  # the run completed on the good files
    assert not [r for r in report["results"] if "internal error" in r["message"]]


def test_hostile_inputs_bounded_memory_in_a_subprocess(tmp_path):
    """The same tree through the real command line, with the address space capped at 1.5 GB."""
    tree = hostile_tree(tmp_path)
    os.remove(tree / "unreadable.yaml")
    os.remove(tree / "vanishing.yaml")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20)); "
            "from gpulint.cli import main; sys.exit(main(sys.argv[1:]))")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "check", "-o", "json", "--fail-on", "never", str(tree)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert time.perf_counter() - started < 120
    assert done.returncode == 2, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert len(report["errors"]) == len(EXPECTED_ERRORS) - 2
    assert "internal error" not in done.stdout + done.stderr


# -- hostile policies ------------------------------------------------------------------------------

POLICY = """\
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata:
  name: {name}
spec:
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: [v1]
        resources: [pods]
        operations: [CREATE, UPDATE]
  validations:
    - expression: {expression}
"""
HOSTILE_EXPRESSIONS = {
    "errors": ("object.spec.nothere.deeper == 1", "no such key: nothere"),
    "loops": ("object.spec.containers.all(c, lists.range(5000).all(i, lists.range(5000).all(j, i + j >= 0)))",
              "actual cost limit exceeded"),
    "grows": ("lists.range(200).map(i, lists.range(200).map(j, string(i) + string(j))).size() > 0",
              "actual cost limit exceeded"),
    "regex": ("object.metadata.name.matches('^(a|aa)*(a*)*$')", None),
    "long-text-regex": ("object.metadata.annotations.text.matches('^a*a*a*a*a*b$')", None),
}


def test_hostile_policies_give_an_error_result_in_bounded_time(capsys, tmp_path):
    for name, (expression, _) in HOSTILE_EXPRESSIONS.items():
        (tmp_path / f"{name}.yaml").write_text(POLICY.format(name=name, expression=json.dumps(expression)))
    pods = tmp_path / "pods.yaml"
    pods.write_text("---\n".join(
        GPU_POD.format(name="a" * 40 + "!").replace("  namespace: ml\n",
                                                    f"  namespace: ml\n  annotations: {{text: '{'a' * 50_000}'}}\n")
        for _ in range(3)))
    started = time.perf_counter()
    code, report = check_json(capsys, "--no-builtin", "-p", str(tmp_path), str(pods))
    assert time.perf_counter() - started < 60
    assert code == 0 and report["errors"] == []
    by_policy: dict = {}
    for result in report["results"]:
        by_policy.setdefault(result["policy"], set()).add((result["result"], result["message"]))
    for name, (_, message) in HOSTILE_EXPRESSIONS.items():
        outcomes = by_policy[name]
        assert len(outcomes) == 1, outcomes  # the same for every resource
        (result, text), = outcomes
        if message is None:
            assert result == "fail"
        else:
            assert result == "error" and message in text, (name, text)


# -- arbitrary input through every reporter, on any number of workers --------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64), st.floats(), st.text(max_size=8),
                     st.sampled_from(["nvidia.com/gpu", "8", "1Gi", "<<", "*", "&a", "{{ .Values.x }}", "\x00"]))
_KEYS = st.one_of(st.sampled_from(["spec", "containers", "resources", "limits", "nvidia.com/gpu", "image",
                                   "template", "replicas", "metadata", "name", "namespace", "labels",
                                   "annotations", "pytorchReplicaSpecs", "Worker", "items"]), st.text(max_size=6))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(_KEYS, inner, max_size=5)), max_leaves=25)
_KINDS = st.sampled_from([("v1", "Pod"), ("apps/v1", "Deployment"), ("batch/v1", "CronJob"), ("v1", "List"),
                          ("kubeflow.org/v1", "PyTorchJob"), ("ray.io/v1", "RayCluster"), ("v1", "Service"),
                          ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"), ("x.io/v1", "Thing")])


def _all_formats(tmp_path: Path, inputs: list[str], jobs: str) -> dict:
    out = tmp_path / f"out-{jobs}"
    out.mkdir(exist_ok=True)
    argv = ["check", "--include-pass", "--fail-on", "never", "-j", jobs]
    for fmt in FORMATS:
        argv += ["-o", f"{fmt}={out / fmt}"]
    code = main(argv + inputs)
    files = {}
    for fmt in FORMATS:
        text = (out / fmt).read_text()
        if fmt == "policy-report":  # timestamps
            text = "\n".join(line for line in text.splitlines() if "seconds:" not in line and "nanos:" not in line)
        files[fmt] = text
    return {"code": code, **files}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_KINDS, _VALUES, _VALUES), min_size=1, max_size=4), st.sampled_from(["yaml", "json"]))
def test_arbitrary_manifests_through_every_reporter(tmp_path_factory, documents, syntax):
    import yaml

    tmp = tmp_path_factory.mktemp("arbitrary")
    objects = [{"apiVersion": k[0], "kind": k[1], "metadata": meta, "spec": spec} for k, meta, spec in documents]
    path = tmp / f"input.{syntax}"
    if syntax == "json":
        path.write_text(json.dumps(objects, allow_nan=True))
    else:
        path.write_text(yaml.safe_dump_all(objects, allow_unicode=True))
    first = _all_formats(tmp, [str(path)], "1")
    assert first["code"] in (0, 2)
    assert "internal error" not in first["json"]
    json.loads(first["json"])
    json.loads(first["sarif"])
    assert _all_formats(tmp, [str(path)], "1") == first  # deterministic
    assert _all_formats(tmp, [str(path)], "2") == first  # whatever the number of workers


def _mutations(text: str, rng: random.Random) -> list[str]:
    lines = text.splitlines(keepends=True)
    out = []
    for _ in range(6):
        mutated = list(lines)
        operation = rng.randrange(5)
        if not mutated:
            break
        i = rng.randrange(len(mutated))
        if operation == 0:
            del mutated[i]
        elif operation == 1:
            mutated.insert(i, mutated[rng.randrange(len(mutated))])
        elif operation == 2:
            line = mutated[i]
            j = rng.randrange(len(line) + 1)
            mutated[i] = line[:j] + rng.choice(["- ", ": ", "&a ", "*a", "{", "]", "\t", "'", "<<: ", "!!int "]) + line[j:]
        elif operation == 3:
            mutated[i] = "  " + mutated[i]
        else:
            mutated[i] = mutated[i].replace("nvidia.com/gpu", "nvidia.com/gpu.shared").replace(": 8", ": -1")
        out.append("".join(mutated))
    return out


def test_mutated_corpus_files_through_every_reporter(tmp_path):
    corpus = shared_or_skip("corpus")
    rng = random.Random(20261126)
    files = sorted(corpus.rglob("*.yaml"))
    tree = tmp_path / "mutated"
    tree.mkdir()
    for n, path in enumerate(rng.sample(files, min(12, len(files)))):
        for m, text in enumerate(_mutations(path.read_text(encoding="utf-8", errors="replace"), rng)):
            (tree / f"{n:02d}-{m}.yaml").write_text(text)
    first = _all_formats(tmp_path, [str(tree)], "1")
    assert first["code"] in (0, 2)
    assert "internal error" not in first["json"]
    assert _all_formats(tmp_path, [str(tree)], "3") == first


def test_same_results_on_any_number_of_workers(tmp_path):
    corpus = shared_or_skip("corpus")
    inputs = [str(ROOT / "fixtures"), str(ROOT / "examples"), str(corpus)]
    sequential = _all_formats(tmp_path, inputs, "1")
    for jobs in ("2", "5"):
        assert _all_formats(tmp_path, inputs, jobs) == sequential


def test_inputs_loaded_by_several_processes_give_the_same_report(tmp_path, monkeypatch):
    from gpulint.load import parallel

    corpus = shared_or_skip("corpus")
    inputs = [str(ROOT / "examples"), str(corpus)]
    real, counts = parallel.processes, []

    def processes(jobs, entries, min_bytes=None):  # as if the input were large
        counts.append((jobs, real(jobs, entries, 0)))
        return counts[-1][1]

    monkeypatch.setattr(parallel, "processes", processes)
    sequential = _all_formats(tmp_path, inputs, "1")
    assert (1, 1) in counts and not [n for _, n in counts if n > 1]  # -j 1: no worker loads either
    counts.clear()
    assert _all_formats(tmp_path, inputs, "2") == sequential
    assert (2, 2) in counts


# -- no network, no writes ---------------------------------------------------------------------------

def test_never_opens_a_network_connection(capsys, monkeypatch):
    corpus = shared_or_skip("corpus")

    class NoNetwork(socket.socket):
        def __init__(self, *args, **kwargs):
            raise AssertionError("gpulint opened a socket")

    def refuse(*args, **kwargs):
        raise AssertionError("gpulint resolved or connected")

    monkeypatch.setattr(socket, "socket", NoNetwork)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    code, report = check_json(capsys, "-j", "1", str(ROOT / "fixtures"), str(ROOT / "examples"), str(corpus))
    assert code == 2 and len(report["results"]) > 1000
    assert not [r for r in report["results"] if "internal error" in r["message"] or "gpulint opened" in r["message"]
                or "resolved or connected" in r["message"]]


def test_writes_only_the_output_files(tmp_path, monkeypatch):
    corpus = shared_or_skip("corpus")
    outputs = {str(tmp_path / f"report.{fmt}") for fmt in ("json", "sarif", "xml")} | {str(tmp_path / "base.json")}
    written: list = []

    def audit(event, args):
        if event == "open" and args[1] is not None and any(flag in str(args[1]) for flag in "wax+") or (
                event == "open" and isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)):
            written.append(str(args[0]))
        elif event in ("os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.truncate",
                       "shutil.copyfile", "shutil.move", "os.chmod", "os.utime"):
            written.append(f"{event} {args[0]}")

    sys.addaudithook(audit)  # hooks cannot be removed: this one only appends to a list
    monkeypatch.chdir(tmp_path)
    code = main(["check", "-j", "1", "--fail-on", "never", "-o", f"json={tmp_path / 'report.json'}",
                 "-o", f"sarif={tmp_path / 'report.sarif'}", "-o", f"junit={tmp_path / 'report.xml'}",
                 "--write-baseline", str(tmp_path / "base.json"), str(ROOT / "examples"), str(corpus)])
    hooked = [w for w in written if not w.endswith((".pyc", "__pycache__"))]
    assert code == 2  # the corpus holds two broken inputs
    assert set(hooked) == outputs, sorted(set(hooked) ^ outputs)  # the hook sees writes: exactly these


def test_writes_nothing_else_in_a_subprocess_with_workers(tmp_path):
    corpus = shared_or_skip("corpus")
    cwd, home, temp = tmp_path / "cwd", tmp_path / "home", tmp_path / "tmp"
    for d in (cwd, home, temp):
        d.mkdir()
    env = dict(os.environ, HOME=str(home), TMPDIR=str(temp), PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(ROOT))
    before = {p for p in tmp_path.rglob("*")}
    done = subprocess.run([sys.executable, "-m", "gpulint", "check", "-j", "2", "-o", "sarif=out.sarif", "-q",
                           str(ROOT / "examples"), str(corpus)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode in (1, 2), done.stderr[-2000:]
    assert {p for p in tmp_path.rglob("*")} - before == {cwd / "out.sarif"}
