"""`gpulint check -o FORMAT[=PATH]`: several outputs in one run, files only where asked."""

import json
import os
import xml.etree.ElementTree as ET

import pytest

from gpulint.cli import main

GPU_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: trainer
  namespace: ml
spec:
  containers:
    - name: cuda
      image: docker.io/nvidia/cuda:12.4.0-base-ubuntu22.04
      resources:
        limits:
          nvidia.com/gpu: 1
"""
POLICY = ["--no-builtin", "-p", "rules/gpu-require-seccomp.yaml"]


@pytest.fixture
def pod(tmp_path):
    path = tmp_path / "in" / "pod.yaml"
    path.parent.mkdir()
    path.write_text(GPU_POD)
    return path


def run(capsys, *argv):
    code = main(["check", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def files_under(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_one_run_writes_three_files_and_text_to_stdout(capsys, tmp_path, pod):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, _ = run(capsys, *POLICY, str(pod), "-o", f"sarif={out_dir / 'r.sarif'}",
                       "-o", f"junit={out_dir / 'r.xml'}", "-o", f"policy-report={out_dir / 'r.yaml'}")
    assert code == 1
    assert files_under(out_dir) == ["r.sarif", "r.xml", "r.yaml"]
    assert json.loads((out_dir / "r.sarif").read_text())["runs"][0]["results"][0]["ruleId"] == "gpu-require-seccomp"
    assert ET.parse(out_dir / "r.xml").getroot().get("failures") == "1"
    assert "kind: PolicyReport" in (out_dir / "r.yaml").read_text()
    assert out.splitlines()[0].endswith("high gpu-require-seccomp Pod ml/trainer")  # the log still shows it
    assert files_under(tmp_path) == ["in", "in/pod.yaml", "out", "out/r.sarif", "out/r.xml", "out/r.yaml"]


def test_a_stdout_format_replaces_text(capsys, tmp_path, pod):
    code, out, _ = run(capsys, *POLICY, str(pod), "-o", "json", "-o", f"sarif={tmp_path / 'r.sarif'}")
    assert code == 1 and json.loads(out)["summary"]["fail"] == 1
    assert (tmp_path / "r.sarif").exists()


def test_same_format_to_stdout_and_file(capsys, tmp_path, pod):
    code, out, _ = run(capsys, *POLICY, str(pod), "-o", "json", "-o", f"json={tmp_path / 'r.json'}")
    assert json.loads(out) == json.loads((tmp_path / "r.json").read_text())


@pytest.mark.parametrize("argv,message", [
    (["-o", "json", "-o", "sarif"], "only one format can go to stdout, got json and sarif"),
    (["-o", "text", "-o", "auto"], "only one format can go to stdout"),
    (["-o", "xml"], "unknown format 'xml'"),
    (["-o", "sarif="], "missing file name"),
    (["-o", "sarif=no/such/dir/r.sarif"], "directory no/such/dir does not exist"),
    (["-o", "sarif=a.sarif", "-o", "junit=a.sarif"], "already the file of another output"),
    (["--write-baseline", "no/such/dir/b.json"], "--write-baseline: directory no/such/dir does not exist"),
    (["--report-api", "v1"], "invalid --report-api 'v1'"),
])
def test_output_usage_errors_exit_two_and_write_nothing(capsys, tmp_path, pod, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *POLICY, str(pod), *argv)
    assert code == 2 and out == ""
    assert err.startswith("gpulint: error: ") and message in err and err.count("\n") == 1
    assert files_under(tmp_path) == ["in", "in/pod.yaml"]


def test_a_directory_is_not_an_output_file(capsys, tmp_path, pod):
    code, _, err = run(capsys, *POLICY, str(pod), "-o", f"sarif={tmp_path}")
    assert code == 2 and "is a directory" in err


def test_an_unwritable_output_is_exit_two_after_the_others(capsys, tmp_path, pod):
    target = tmp_path / "ro"
    target.mkdir()
    os.chmod(target, 0o500)
    try:
        if os.access(target, os.W_OK):
            pytest.skip("running as a user that can write to read-only directories")
        code, _, err = run(capsys, *POLICY, str(pod), "-o", f"sarif={target / 'r.sarif'}",
                           "-o", f"junit={tmp_path / 'r.xml'}")
    finally:
        os.chmod(target, 0o700)
    assert code == 2 and "cannot write" in err
    assert (tmp_path / "r.xml").exists()


@pytest.mark.parametrize("actions,expected", [("true", "::error file="), (None, "high gpu-require-seccomp")])
def test_auto_is_github_in_actions_else_text(capsys, pod, monkeypatch, actions, expected):
    if actions:
        monkeypatch.setenv("GITHUB_ACTIONS", actions)
    code, out, _ = run(capsys, *POLICY, str(pod), "-o", "auto")
    assert code == 1 and expected in out.splitlines()[0]


def test_github_severity_words(capsys, pod):
    code, out, _ = run(capsys, *POLICY, str(pod), "-o", "github")
    first = out.splitlines()[0]
    assert first.startswith(f"::error file={pod},line=8,col=7,title=gpu-require-seccomp (high)::Pod ml/trainer: ")
    assert "%0Afix: " in first
