"""`gpulint gen-test`: a generated kyverno-test.yaml passes `gpulint test` (round trips)."""

import os
import shutil

import yaml
from chainsaw_helpers import ROOT, run
from test_gen_chainsaw import LEGACY, VPOL, pod

TWO_RULES = """\
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: gpu-pod-hygiene
spec:
  validationFailureAction: Audit
  rules:
    - name: team-label
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: pods need a team label
        pattern:
          metadata:
            labels:
              team: "?*"
    - name: no-latest
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: no latest tag
        pattern:
          spec:
            containers:
              - image: "!*:latest"
"""


def _round_trip(capsys, tmp_path, policies, resources, out):
    code, stdout, err = run(capsys, "gen-test", *sum((["-p", p] for p in policies), []), *resources, "--out", out)
    assert code == 0, err
    code, stdout, err = run(capsys, "test", out)
    assert code == 0, stdout + err
    assert "1 passed, 0 failed" in stdout
    return yaml.safe_load(out.read_text())


def test_round_trip_for_a_validating_policy_and_a_legacy_cluster_policy(tmp_path, capsys):
    (tmp_path / "vpol.yaml").write_text(VPOL)
    (tmp_path / "legacy.yaml").write_text(LEGACY)
    (tmp_path / "two-rules.yaml").write_text(TWO_RULES)
    resources = tmp_path / "resources"
    resources.mkdir()
    (resources / "pods.yaml").write_text(pod("a", {"team": "x"}) + "---\n" + pod("b") + "---\n" + pod("cpu", gpu=False))
    latest = yaml.safe_load(pod("c", {"team": "y"}))
    latest["spec"]["containers"][0]["image"] = "nvcr.io/nvidia/cuda:latest"
    (resources / "latest.yaml").write_text(yaml.safe_dump(latest))
    out = tmp_path / "tests" / "kyverno-test.yaml"
    test = _round_trip(capsys, tmp_path, [tmp_path / "vpol.yaml", tmp_path / "legacy.yaml", tmp_path / "two-rules.yaml"],
                       [resources], out)
    assert test["policies"] == ["../vpol.yaml", "../legacy.yaml", "../two-rules.yaml"]
    assert test["resources"] == ["../resources/latest.yaml", "../resources/pods.yaml"]
    results = {(r["policy"], r.get("rule", ""), r["result"]): r["resources"] for r in test["results"]}
    assert results[("gpu-team-label", "", "fail")] == ["ml-team/b"]
    assert results[("gpu-team-label", "", "pass")] == ["ml-team/a", "ml-team/c"]
    assert results[("gpu-pod-hygiene", "no-latest", "fail")] == ["ml-team/c"]
    assert results[("gpu-pod-hygiene", "team-label", "fail")] == ["ml-team/b", "ml-team/cpu"]
    assert all(r.get("isValidatingPolicy") for r in test["results"] if r["policy"] == "gpu-team-label")


def test_round_trip_for_a_builtin_policy_writes_the_settings_context(tmp_path, capsys):
    fixtures = ROOT / "fixtures" / "gpu-require-seccomp"
    files = sorted(str(p) for p in fixtures.glob("*-*.yaml"))
    out = tmp_path / "kyverno-test.yaml"
    test = _round_trip(capsys, tmp_path, [ROOT / "rules" / "gpu-require-seccomp.yaml"], files, out)
    assert test["context"] == "context.yaml" and (tmp_path / "context.yaml").is_file()
    expected = yaml.safe_load((fixtures / "kyverno-test.yaml").read_text())
    assert sorted(r["result"] for r in test["results"]) == sorted(r["result"] for r in expected["results"])


def test_conformance_folders_round_trip(tmp_path, capsys):
    from tests.conftest import shared_or_skip

    library = shared_or_skip("conformance", "kyverno-policies")
    for folder in ("best-practices/require-pod-requests-limits", "best-practices-vpol/require-labels"):
        name = os.path.basename(folder)
        shutil.copytree(library / folder, tmp_path / name)
        os.chmod(tmp_path / name, 0o755)
        out = tmp_path / name / "generated" / "kyverno-test.yaml"
        _round_trip(capsys, tmp_path, [tmp_path / name / f"{name}.yaml"], [tmp_path / name / ".kyverno-test"], out)


def test_existing_test_is_kept_without_force(tmp_path, capsys):
    (tmp_path / "vpol.yaml").write_text(VPOL)
    (tmp_path / "pod.yaml").write_text(pod("b"))
    out = tmp_path / "kyverno-test.yaml"
    out.write_text("# mine\n")
    code, stdout, _ = run(capsys, "gen-test", "-p", tmp_path / "vpol.yaml", tmp_path / "pod.yaml", "--out", out)
    assert code == 0 and out.read_text() == "# mine\n" and "kept" in stdout
    code, _, _ = run(capsys, "gen-test", "-p", tmp_path / "vpol.yaml", tmp_path / "pod.yaml", "--out", out, "--force")
    assert code == 0 and "result: fail" in out.read_text()


def test_gen_test_usage_errors(tmp_path, capsys):
    (tmp_path / "vpol.yaml").write_text(VPOL)
    code, _, err = run(capsys, "gen-test", tmp_path / "missing.yaml", "-p", tmp_path / "vpol.yaml",
                       "--out", tmp_path / "t.yaml")
    assert code == 2 and "missing.yaml: no such file or directory" in err
    code, _, err = run(capsys, "gen-test", tmp_path / "vpol.yaml", "--out", tmp_path / "t.yaml")
    assert code == 2 and "no policies" in err
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    code, _, err = run(capsys, "gen-test", "-p", tmp_path / "vpol.yaml", tmp_path / "svc.yaml",
                       "--out", tmp_path / "t.yaml")
    assert code == 2 and "nothing to lock in" in err and len(err.strip().splitlines()) == 1
