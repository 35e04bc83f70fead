"""`gpulint new`: a scaffold that passes `gpulint test` and works with `gpulint check -p` as created."""

import json

import pytest
import yaml
from chainsaw_helpers import ROOT, run, schema_errors, tree

from gpulint.chainsaw.scaffold import scaffold


@pytest.fixture
def created(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "new", "gpu-require-memory-limit", "--dir", "policies")
    assert code == 0, err
    assert "  gpulint test policies/gpu-require-memory-limit/\n" in out
    return tmp_path / "policies" / "gpu-require-memory-limit"


def test_scaffold_layout(created):
    files = set(tree(created))
    assert {"gpu-require-memory-limit.yaml", ".kyverno-test/kyverno-test.yaml", ".kyverno-test/good-pod.yaml",
            ".kyverno-test/bad-pod.yaml", ".chainsaw-test/chainsaw-test.yaml",
            ".chainsaw-test/policy-ready.yaml"} <= files
    assert schema_errors((created / ".chainsaw-test" / "chainsaw-test.yaml").read_text()) == []


def test_scaffold_passes_gpulint_test(created, capsys):
    code, out, err = run(capsys, "test", created)
    assert code == 0, out + err
    assert "2 checks passed, 0 failed" in out


def test_scaffold_works_with_check(created, capsys):
    code, out, err = run(capsys, "check", "--no-builtin", "-p", created, "-o", "json", "--fail-on", "medium",
                         created / ".kyverno-test")
    assert code == 1, err
    findings = [r for r in json.loads(out)["results"] if r["policy"] == "gpu-require-memory-limit"
                and r["result"] == "fail"]
    assert [f["resource"]["name"] for f in findings] == ["cuda-without-memory-limit"]
    # The `field` auditAnnotation points the finding at the container's resources.
    bad_pod = (created / ".kyverno-test" / "bad-pod.yaml").read_text().splitlines()
    assert bad_pod[findings[0]["line"] - 1].strip() == "resources:"
    code, _, err = run(capsys, "check", "--no-builtin", "-p", created, created / ".kyverno-test" / "good-pod.yaml")
    assert code == 0, err


def test_policy_follows_gpulint_conventions(created):
    policy = yaml.safe_load((created / "gpu-require-memory-limit.yaml").read_text())
    annotations = policy["metadata"]["annotations"]
    for key in ("title", "category", "severity", "subject", "description"):
        assert annotations[f"policies.kyverno.io/{key}"]
    description = annotations["policies.kyverno.io/description"]
    assert all(part in description for part in ("What it does:", "Why it matters:", "How to fix:"))
    assert annotations["gpulint.io/fix"]
    assert policy["spec"]["auditAnnotations"][0]["key"] == "field"
    seccomp = yaml.safe_load((ROOT / "rules" / "gpu-require-seccomp.yaml").read_text())
    expected = next(c for c in seccomp["spec"]["matchConditions"] if c["name"] == "is-gpu-workload")
    condition = policy["spec"]["matchConditions"][0]
    assert condition["name"] == "is-gpu-workload"
    assert " ".join(condition["expression"].split()) == " ".join(expected["expression"].split())


def test_rerun_changes_nothing(created, capsys, tmp_path):
    code, out, _ = run(capsys, "new", "gpu-require-memory-limit", "--dir", tmp_path / "policies")
    assert code == 0 and "0 written" in out and "0 kept" in out


@pytest.mark.parametrize("name", ["GPU-Rule", "gpu_rule", "gpu rule", "gpu-", "a" * 64, "gpu.rule", ""])
def test_invalid_names_exit_2(capsys, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "new", name)
    assert code == 2 and "DNS-1123" in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_scaffold_is_deterministic():
    assert scaffold("gpu-x").files.files == scaffold("gpu-x").files.files
