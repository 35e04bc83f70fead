"""`gpulint check` end to end through main(argv): exact lines, exit codes, formats."""

import json
import textwrap

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
      image: nvcr.io/nvidia/cuda:12.4.0-base-ubuntu22.04
      resources:
        limits:
          nvidia.com/gpu: 1
"""

SECCOMP_POLICY = "rules/gpu-require-seccomp.yaml"


@pytest.fixture
def gpu_pod(tmp_path):
    path = tmp_path / "pod.yaml"
    path.write_text(GPU_POD)
    return path


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_finding_has_file_line_col_severity_policy_resource_message_and_fix(capsys, gpu_pod):
    code, out, _ = run(capsys, "check", "--no-builtin", "-p", SECCOMP_POLICY, str(gpu_pod))
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == f"{gpu_pod}:8:7: high gpu-require-seccomp Pod ml/trainer"
    assert lines[1] == ("    container cuda runs with seccomp profile unset: GPU containers must use "
                        "RuntimeDefault or Localhost")
    assert lines[2].startswith("    fix: set spec.securityContext.seccompProfile.type: RuntimeDefault")
    assert lines[-1] == "1 finding (1 high) in 1 resource from 1 file, 1 policy"


def test_clean_input_exits_zero(capsys, tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(GPU_POD.replace("spec:\n  containers:",
                                    "spec:\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n"
                                    "  containers:"))
    code, out, _ = run(capsys, "check", "--no-builtin", "-p", SECCOMP_POLICY, str(path))
    assert code == 0
    assert out.splitlines()[-1] == "0 findings in 1 resource from 1 file, 1 policy"


def test_fail_on_threshold(capsys, gpu_pod):
    assert run(capsys, "check", "--no-builtin", "-p", SECCOMP_POLICY, "--fail-on", "critical", str(gpu_pod))[0] == 0
    assert run(capsys, "check", "--no-builtin", "-p", SECCOMP_POLICY, "--fail-on", "never", str(gpu_pod))[0] == 0
    assert run(capsys, "check", "--no-builtin", "-p", SECCOMP_POLICY, "--fail-on", "low", str(gpu_pod))[0] == 1


def test_json_output_shape(capsys, gpu_pod):
    code, out, _ = run(capsys, "check", "--no-builtin", "-p", SECCOMP_POLICY, "-o", "json", str(gpu_pod))
    document = json.loads(out)
    assert code == 1
    assert set(document) == {"gpulint", "summary", "results", "errors"}
    assert document["summary"] == {"pass": 0, "fail": 1, "warn": 0, "error": 0, "skip": 0}
    (result,) = document["results"]
    assert result == {
        "policy": "gpu-require-seccomp", "rule": "", "result": "fail", "severity": "high",
        "category": "GPU Security",
        "message": "container cuda runs with seccomp profile unset: GPU containers must use RuntimeDefault or Localhost",
        "resource": {"apiVersion": "v1", "kind": "Pod", "namespace": "ml", "name": "trainer"},
        "file": str(gpu_pod), "line": 8, "column": 7, "template": None, "role": None,
    }


def test_pod_templates_of_crds_are_reported_with_role_and_template_line(capsys, tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(textwrap.dedent("""\
        apiVersion: kubeflow.org/v1
        kind: PyTorchJob
        metadata:
          name: llama
          namespace: ml
        spec:
          pytorchReplicaSpecs:
            Worker:
              replicas: 2
              template:
                spec:
                  containers:
                    - name: pytorch
                      image: nvcr.io/nvidia/pytorch:24.07-py3
                      resources:
                        limits:
                          nvidia.com/gpu: 8
        """))
    code, out, _ = run(capsys, "check", "--no-builtin", "-p", SECCOMP_POLICY, str(job))
    assert code == 1
    assert out.splitlines()[0] == f"{job}:13:15: high gpu-require-seccomp PyTorchJob ml/llama [Worker]"


def test_stdin_and_helm_template_name(capsys, monkeypatch):
    import io

    rendered = "---\n# Source: trainer/templates/pod.yaml\n" + GPU_POD
    monkeypatch.setattr("sys.stdin", io.StringIO(rendered))
    code, out, _ = run(capsys, "check", "--no-builtin", "-p", SECCOMP_POLICY, "-")
    assert code == 1
    assert out.splitlines()[0] == ("<stdin>:10:7: high gpu-require-seccomp Pod ml/trainer "
                                   "(template trainer/templates/pod.yaml)")


def test_broken_input_is_reported_and_the_rest_still_runs(capsys, tmp_path, gpu_pod):
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x\n")
    code, out, _ = run(capsys, "check", "--no-builtin", "-p", SECCOMP_POLICY, str(broken), str(gpu_pod))
    assert code == 2
    assert any(line.startswith(f"{broken}:") and " error " in line for line in out.splitlines())
    assert f"{gpu_pod}:8:7: high gpu-require-seccomp Pod ml/trainer" in out
    assert "Traceback" not in out


def test_broken_policy_is_reported_with_file_and_line(capsys, tmp_path, gpu_pod):
    policy = tmp_path / "policy.yaml"
    policy.write_text(textwrap.dedent("""\
        apiVersion: policies.kyverno.io/v1
        kind: ValidatingPolicy
        metadata:
          name: broken
        spec:
          matchConstraints:
            resourceRules:
              - apiGroups: [""]
                apiVersions: [v1]
                resources: [pods]
                operations: [CREATE]
          validations:
            - expression: "object.spec.hostNetwork"
        """))
    code, out, _ = run(capsys, "check", "--no-builtin", "-p", str(policy), str(gpu_pod))
    assert code == 2
    assert (f"{policy}:13:7: error failed to compile policy broken (spec.validations[0].expression: "
            'Invalid value: "object.spec.hostNetwork": output is expected to be of type bool)') in out


def test_usage_errors_exit_two(capsys, gpu_pod):
    assert run(capsys, "check", "-o", "yaml", str(gpu_pod))[0] == 2
    assert run(capsys, "check", "--fail-on", "urgent", str(gpu_pod))[0] == 2
    assert run(capsys, "check", "--set", "nope", str(gpu_pod))[0] == 2
    assert run(capsys, "check", "--set", "noSuchSetting=1", str(gpu_pod))[0] == 2
    code, _, err = run(capsys, "check", "--disable", "no-such-policy", str(gpu_pod))
    assert code == 2 and "unknown policy 'no-such-policy'" in err
    assert run(capsys, "check", "--bogus-flag")[0] == 2


def test_version_is_fast_path(capsys):
    from gpulint import __version__

    assert run(capsys, "--version") == (0, f"gpulint {__version__}\n", "")


def test_advisory_validations_are_reported_as_warn(capsys, tmp_path, gpu_pod):
    policy = tmp_path / "advisory.yaml"
    policy.write_text(textwrap.dedent("""\
        apiVersion: policies.kyverno.io/v1
        kind: ValidatingPolicy
        metadata:
          name: advisory
          annotations:
            policies.kyverno.io/severity: high
            gpulint.io/warn-validations: "1"
        spec:
          matchConstraints:
            resourceRules:
              - {apiGroups: [""], apiVersions: [v1], resources: [pods], operations: [CREATE]}
          validations:
            - expression: "true"
            - expression: "!has(object.spec.hostNetwork)"
              message: host network is discouraged
        """))
    hostnet = tmp_path / "hostnet.yaml"
    hostnet.write_text(GPU_POD.replace("spec:\n", "spec:\n  hostNetwork: true\n", 1))
    code, out, _ = run(capsys, "check", "--no-builtin", "-p", str(policy), str(hostnet), str(gpu_pod))
    assert code == 0  # a warning never fails the run
    assert out.splitlines()[0] == f"{hostnet}:1:1: warn advisory Pod ml/trainer"
    assert out.splitlines()[-1].startswith("0 findings, 1 warn in 2 resources")
