"""`gpulint gen-chainsaw`: where cases come from, what each step expects, files and exit codes."""

import os
import shutil

import pytest
import yaml
from chainsaw_helpers import SCHEMA_COMMENT, applied, run, schema_errors, step, documents_in

from gpulint.chainsaw import FileSet, GenError, generate_chainsaw, write_files

VPOL = """\
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata:
  name: gpu-team-label
spec:
  validationActions: [Audit]
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: [v1]
        resources: [pods]
        operations: [CREATE, UPDATE]
  matchConditions:
    - name: is-gpu-workload
      expression: "object.spec.containers.exists(c, 'nvidia.com/gpu' in c.?resources.?limits.orValue({}))"
  validations:
    - expression: "'team' in object.metadata.?labels.orValue({})"
      message: GPU pods need a team label
"""

LEGACY = """\
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-team-label
spec:
  background: true
  rules:
    - name: team-label
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        failureAction: Audit
        message: pods need a team label
        pattern:
          metadata:
            labels:
              team: "?*"
"""


def pod(name, labels=None, gpu=True, namespace="ml-team"):
    meta = {"name": name, "namespace": namespace, **({"labels": labels} if labels else {})}
    container = {"name": "main", "image": "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04"}
    if gpu:
        container["resources"] = {"limits": {"nvidia.com/gpu": 1}}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": [container]}})


@pytest.fixture
def project(tmp_path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "vpol.yaml").write_text(VPOL)
    (tmp_path / "policies" / "legacy.yaml").write_text(LEGACY)
    fixtures = tmp_path / "fixtures"
    for policy in ("gpu-team-label", "require-team-label"):
        (fixtures / policy).mkdir(parents=True)
        (fixtures / policy / "good-pod.yaml").write_text(pod("trainer", {"team": "nlp"}))
        (fixtures / policy / "bad-pod.yaml").write_text(pod("anonymous"))
    return tmp_path


def generate(tmp_path, policies, options):
    generated = generate_chainsaw(policies, **options)
    out = tmp_path / "out"
    write_files(out, generated.files, force=False)
    return out, generated


def test_vpol_from_a_fixtures_folder_per_policy(project):
    out, generated = generate(project, [str(project / "policies" / "vpol.yaml")],
                              {"fixtures": str(project / "fixtures")})
    folder = out / "gpu-team-label" / ".chainsaw-test"
    text = (folder / "chainsaw-test.yaml").read_text()
    assert text.startswith(SCHEMA_COMMENT) and schema_errors(text) == []
    main, crds = documents_in(folder / "chainsaw-test.yaml")
    enforce = step(main, "policy-enforced")
    assert enforce["try"][0] == {"apply": {"file": "../gpu-team-label.yaml"}}
    assert enforce["try"][1]["patch"]["resource"]["spec"] == {"validationActions": ["Deny"]}
    assert enforce["try"][2] == {"assert": {"file": "policy-ready.yaml"}}
    ready = yaml.safe_load((folder / "policy-ready.yaml").read_text())
    assert set(ready["status"]["conditionStatus"]) == {"(conditions[?type == 'WebhookConfigured'])",
                                                      "(conditions[?type == 'RBACPermissionsGranted'])"}
    # Pod-level policy: a controller is made from the pods; GPU policy: a PyTorchJob too.
    assert applied(step(main, "good-resources-admitted")) == ["good-pod-trainer.yaml", "good-deployment-trainer.yaml"]
    bad = step(main, "bad-resources-denied")
    assert applied(bad) == ["bad-pod-anonymous.yaml", "bad-deployment-anonymous.yaml"]
    check = bad["try"][0]["apply"]["expect"][0]["check"]
    assert check == {"($error != null)": True, "(contains(to_string($error), 'gpu-team-label'))": True}
    assert bad["finally"][-1]["delete"]["ref"] == {"apiVersion": "policies.kyverno.io/v1",
                                                   "kind": "ValidatingPolicy", "name": "gpu-team-label"}
    assert main["spec"]["concurrent"] is False
    # The PyTorchJob made from the bad pod is admitted: the policy matches Pods only.
    assert crds["metadata"]["labels"] == {"gpulint.io/requires-crds": "true"}
    guard = crds["spec"]["steps"][0]
    assert guard["name"] == "crds-installed" and "kubectl get crd pytorchjobs.kubeflow.org" in \
        guard["try"][0]["script"]["content"]
    assert applied(step(crds, "good-resources-admitted")) == ["good-pytorchjob-trainer.yaml",
                                                              "admitted-pytorchjob-anonymous.yaml"]
    assert yaml.safe_load((folder / "ns.yaml").read_text())["metadata"]["name"] == "ml-team"
    assert (out / "gpu-team-label" / "gpu-team-label.yaml").read_text() == VPOL
    assert generated.warnings == []


def test_legacy_policy_with_rule_level_failure_action_is_patched_rule_by_rule(project):
    out, _ = generate(project, [str(project / "policies" / "legacy.yaml")], {"fixtures": str(project / "fixtures")})
    folder = out / "require-team-label" / ".chainsaw-test"
    main = documents_in(folder / "chainsaw-test.yaml")[0]
    patch = step(main, "policy-enforced")["try"][1]["patch"]["resource"]
    assert patch["kind"] == "ClusterPolicy" and patch["spec"]["validationFailureAction"] == "Enforce"
    assert [r["validate"]["failureAction"] for r in patch["spec"]["rules"]] == ["Enforce"]
    ready = yaml.safe_load((folder / "policy-ready.yaml").read_text())
    assert ready["status"] == {"conditions": [{"reason": "Succeeded", "status": "True", "type": "Ready"}]}
    assert "bad-pod-anonymous.yaml" in applied(step(main, "bad-resources-denied"))


def test_flat_good_bad_folder_and_engine_sorting(project, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "good-a.yaml").write_text(pod("a", {"team": "x"}))
    (flat / "bad-b.yaml").write_text(pod("b"))
    (flat / "other.yaml").write_text(pod("c") + "---\n" + pod("d", {"team": "y"}) + "---\n" + pod("cpu", gpu=False))
    generated = generate_chainsaw([str(project / "policies" / "vpol.yaml")], fixtures=str(flat))
    files = generated.files.files
    main = list(yaml.safe_load_all(files["gpu-team-label/.chainsaw-test/chainsaw-test.yaml"]))[0]
    assert applied(step(main, "good-resources-admitted"))[:2] == ["good-pod-a.yaml", "good-pod-d.yaml"]
    assert applied(step(main, "bad-resources-denied"))[:2] == ["bad-pod-b.yaml", "bad-pod-c.yaml"]
    assert any("Pod ml-team/cpu: the policy does not apply to it; applied as a prerequisite only" in w
               for w in generated.warnings)
    assert "Pod" in generated.files.files["gpu-team-label/.chainsaw-test/context.yaml"]
    # No fixtures at all: the resources given on the command line are sorted by the engine.
    sorted_ = generate_chainsaw([str(project / "policies" / "vpol.yaml")], resources=[str(flat / "other.yaml")])
    main = list(yaml.safe_load_all(sorted_.files.files["gpu-team-label/.chainsaw-test/chainsaw-test.yaml"]))[0]
    assert applied(step(main, "bad-resources-denied"))[0] == "bad-pod-c.yaml"


@pytest.fixture(scope="module")
def builtin():
    return generate_chainsaw([], builtin=True)


def _builtin_tests(builtin, name):
    return list(yaml.safe_load_all(builtin.files.files[f"{name}/.chainsaw-test/chainsaw-test.yaml"]))


def test_pod_level_policy_denies_the_pods_a_training_operator_creates(builtin):
    main, crds = _builtin_tests(builtin, "gpu-require-seccomp")
    bad = applied(step(main, "bad-resources-denied"))
    assert {"bad-pod-llama-finetune-master.yaml", "bad-pod-llama-finetune-worker.yaml"} <= set(bad)
    admitted = step(crds, "good-resources-admitted")
    op = next(op for op in admitted["try"] if op["apply"]["file"] == "admitted-pytorchjob-llama-finetune.yaml")
    assert "Kyverno admits this PyTorchJob" in op["description"]
    assert "jobsets.jobset.x-k8s.io pytorchjobs.kubeflow.org" in crds["spec"]["steps"][0]["description"]
    pod = yaml.safe_load(builtin.files.files["gpu-require-seccomp/.chainsaw-test/bad-pod-llama-finetune-worker.yaml"])
    assert "ownerReferences" not in pod["metadata"]


def test_builtin_policies_get_their_settings_configmap_and_rbac(builtin):
    from gpulint.engine.builtin import resolve_settings, settings_configmap

    main = _builtin_tests(builtin, "gpu-require-seccomp")[0]
    assert applied(step(main, "prerequisites")) == ["ns.yaml", "context.yaml"]
    context = list(yaml.safe_load_all(builtin.files.files["gpu-require-seccomp/.chainsaw-test/context.yaml"]))
    assert context[0] == settings_configmap(resolve_settings({}))
    assert context[1]["kind"] == "ClusterRole"


def test_crd_workload_policy_is_tested_at_admission_and_skips_the_rbac_condition(builtin):
    main, crds = _builtin_tests(builtin, "gpu-topology")
    assert "bad-pytorchjob-gpt-pretrain.yaml" in applied(step(crds, "bad-resources-denied"))
    ready = yaml.safe_load(builtin.files.files["gpu-topology/.chainsaw-test/policy-ready.yaml"])
    assert list(ready["status"]["conditionStatus"]) == ["(conditions[?type == 'WebhookConfigured'])"]


def test_resources_kubernetes_itself_refuses_only_check_for_a_denial(builtin):
    main = _builtin_tests(builtin, "gpu-limits-equal-requests")[0]
    ops = step(main, "bad-resources-denied")["try"]
    assert ops
    for op in ops:  # every bad case of this policy is one the API server refuses by itself
        assert op["apply"]["expect"][0]["check"] == {"($error != null)": True}
        assert "Kubernetes' own validation" in op["description"]


def test_existing_files_are_kept_without_force(project, capsys):
    out = project / "out"
    argv = ["gen-chainsaw", "-p", project / "policies" / "vpol.yaml", "--fixtures", project / "fixtures", "--out", out]
    assert run(capsys, *argv)[0] == 0
    target = out / "gpu-team-label" / ".chainsaw-test" / "bad-pod-anonymous.yaml"
    target.write_text("# edited by hand\n")
    code, stdout, _ = run(capsys, *argv)
    assert code == 0 and target.read_text() == "# edited by hand\n"
    assert f"kept {target}: it exists and differs (use --force to overwrite)" in stdout
    assert "0 written" in stdout and "1 kept" in stdout
    code, stdout, _ = run(capsys, *argv, "--force")
    assert code == 0 and "1 written" in stdout and target.read_text() != "# edited by hand\n"


def test_nothing_is_written_outside_out(tmp_path):
    files = FileSet()
    with pytest.raises(GenError):
        files.add("../escape.yaml", "x")
    with pytest.raises(GenError):
        files.add("/etc/escape.yaml", "x")
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "link")
    files.add("link/file.yaml", "x")
    with pytest.raises(GenError, match="outside"):
        write_files(out, files, force=True)
    assert not list(outside.iterdir())


@pytest.mark.parametrize("argv, message", [
    (["gen-chainsaw", "--builtin"], "--out DIR is required"),
    (["gen-chainsaw", "--out", "x"], "no policies"),
    (["gen-chainsaw", "-p", "missing.yaml", "--out", "x"], "missing.yaml: no such file or directory"),
])
def test_usage_errors_are_one_line_with_exit_2(capsys, argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_unreadable_policy_names_file_line_and_column(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: [unclosed\n")
    code, _, err = run(capsys, "gen-chainsaw", "-p", broken, "--out", tmp_path / "out")
    assert code == 2 and err.startswith(f"gpulint: error: {broken}:3:1:") and "Traceback" not in err
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
    code, _, err = run(capsys, "gen-chainsaw", "-p", deployment, "--out", tmp_path / "out")
    assert code == 2 and "no ValidatingPolicy and ClusterPolicy found" in err
    assert not (tmp_path / "out").exists()


def test_help_teaches_with_examples(capsys):
    code, out, _ = run(capsys, "gen-chainsaw", "--help")
    assert code == 0 and "Examples:" in out and "gpulint gen-chainsaw --builtin --out chainsaw/" in out


def test_conformance_policy_folders(tmp_path, capsys):
    from tests.conftest import shared_or_skip

    library = shared_or_skip("conformance", "kyverno-policies")
    for folder in ("best-practices/require-pod-requests-limits", "best-practices-vpol/require-labels"):
        shutil.copytree(library / folder, tmp_path / os.path.basename(folder))
    code, _, err = run(capsys, "gen-chainsaw", "-p", tmp_path / "require-pod-requests-limits",
                       "-p", tmp_path / "require-labels", "--out", tmp_path / "out")
    assert code == 0, err
    for name in ("require-requests-limits", "require-labels"):
        text = (tmp_path / "out" / name / ".chainsaw-test" / "chainsaw-test.yaml").read_text()
        assert schema_errors(text) == []
        main = yaml.safe_load_all(text).__next__()
        assert any(f.startswith("bad-pod-") for f in applied(step(main, "bad-resources-denied")))
        assert any(f.startswith("good-pod-") for f in applied(step(main, "good-resources-admitted")))



def test_a_fixture_the_engine_disagrees_with_is_left_out_with_a_warning(project, tmp_path):
    folder = tmp_path / "mislabelled"
    folder.mkdir()
    (folder / "good-wrong.yaml").write_text(pod("wrong"))
    (folder / "bad-right.yaml").write_text(pod("right"))
    (folder / "bad-clean.yaml").write_text(pod("clean", {"team": "x"}))
    generated = generate_chainsaw([str(project / "policies" / "vpol.yaml")], fixtures=str(folder))
    assert any("Pod ml-team/wrong: is expected to pass but gpulint's engine denies it; left out" in w
               for w in generated.warnings)
    assert any("Pod ml-team/clean: is expected to fail but gpulint's engine finds no violation" in w
               for w in generated.warnings)
    names = set(generated.files.files)
    assert "gpu-team-label/.chainsaw-test/bad-pod-right.yaml" in names
    assert not any("wrong" in n or "clean" in n for n in names)
