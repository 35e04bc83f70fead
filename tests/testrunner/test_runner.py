"""`gpulint test` end to end: suites on disk, real engines, statuses, JSON shape and exit codes."""

import json

import pytest
from fixtures_data import PODS, POD_POLICY, kyverno_test

from gpulint.testrunner import UsageError, render_json, run_paths

GOOD_RESULTS = """
- {policy: require-gpu-limits, rule: check-limits, kind: Pod, resources: [good], result: pass}
- {policy: require-gpu-limits, rule: check-limits, kind: Pod, resources: [bad], result: fail}
- {policy: require-gpu-limits, rule: check-limits, kind: Deployment, resources: [web], result: fail}
"""


def only_suite(path, **kwargs):
    report = run_paths([str(path)], **kwargs)
    assert len(report.suites) == 1
    return report.suites[0]


def test_legacy_suite_passes_with_autogen_rows(suite):
    root = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS, ".kyverno-test/kyverno-test.yaml":
                  kyverno_test(GOOD_RESULTS, policies="[../policy.yaml]", resources="[../resources.yaml]")})
    result = only_suite(root)
    assert result.status == "passed", result.rows
    assert [row.reason for row in result.rows] == ["Ok", "Ok", "Ok"]
    assert result.rows[1].display == "v1/Pod/default/bad"  # namespace defaulted like Kyverno's loader


def test_wrong_expectation_fails_the_suite(suite):
    results = GOOD_RESULTS.replace("[bad], result: fail", "[bad], result: pass")
    root = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(results)})
    result = only_suite(root)
    assert result.status == "failed"
    assert [row.reason for row in result.rows if row.status == "fail"] == ["Want pass, got fail"]


def test_unmatched_kind_is_excluded_and_unknown_policy_not_found(suite):
    results = """
    - {policy: require-gpu-limits, rule: check-limits, kind: Service, resources: [svc], result: fail}
    - {policy: no-such-policy, kind: Pod, resources: [good], result: pass}
    """
    root = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(results)})
    result = only_suite(root)
    assert [(row.status, row.reason) for row in result.rows] == [("pass", "Excluded"), ("fail", "Not found")]


def test_scored_false_turns_fail_into_warn(suite):
    policy = POD_POLICY.replace("  name: require-gpu-limits\n",
                                "  name: require-gpu-limits\n  annotations:\n    policies.kyverno.io/scored: \"false\"\n")
    results = "- {policy: require-gpu-limits, rule: check-limits, kind: Pod, resources: [bad], result: warn}"
    root = suite({"policy.yaml": policy, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(results)})
    assert only_suite(root).status == "passed"


VPOL = """
apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: gpu-limit}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
  validations:
  - expression: "object.spec.containers.all(c, has(c.resources) && has(c.resources.limits))"
    message: limits required
"""


def test_vpol_simple_constraints_drop_empty_responses_but_autogen_defaults_keep_them(suite):
    results = """
    - {policy: gpu-limit, kind: Pod, resources: [good], result: pass}
    - {policy: gpu-limit, rule: ignored, kind: Pod, resources: [bad], result: fail}
    - {policy: gpu-limit, kind: Deployment, resources: [web], result: fail}
    - {policy: gpu-limit, kind: Service, resources: [svc], result: fail}
    """
    root = suite({"policy.yaml": VPOL, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(results)})
    result = only_suite(root)
    assert [row.reason for row in result.rows] == ["Ok", "Ok", "Ok", "Excluded"]
    no_autogen = VPOL.replace("  validations:", "  autogen: {podControllers: {controllers: []}}\n  validations:")
    root = suite({"policy.yaml": no_autogen, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(results)},
                 folder="no-autogen")
    result = only_suite(root)
    assert [row.reason for row in result.rows] == ["Ok", "Ok", "Not found", "Not found"]


def test_values_operation_and_namespace_selector(suite):
    policy = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: block-updates}
    spec:
      validationFailureAction: Audit
      background: false
      rules:
      - name: no-updates
        match:
          any:
          - resources:
              kinds: [Pod]
              namespaceSelector: {matchLabels: {tier: gpu}}
        validate:
          message: updates are blocked
          deny:
            conditions:
              any:
              - {key: "{{ request.operation }}", operator: Equals, value: UPDATE}
    """
    values = """
    apiVersion: cli.kyverno.io/v1alpha1
    kind: Values
    namespaceSelector:
    - {name: ml, labels: {tier: gpu}}
    - {name: default, labels: {tier: gpu}}
    policies:
    - name: block-updates
      resources:
      - name: bad
        values: {request.operation: UPDATE}
    """
    results = """
    - {policy: block-updates, rule: no-updates, kind: Pod, resources: [good], result: pass}
    - {policy: block-updates, rule: no-updates, kind: Pod, resources: [bad], result: fail}
    """
    root = suite({"policy.yaml": policy, "resources.yaml": PODS, "values.yaml": values,
                  "kyverno-test.yaml": kyverno_test(results, extra="variables: values.yaml\n")})
    result = only_suite(root)
    assert [row.reason for row in result.rows] == ["Ok", "Ok"], result.rows


def test_invalid_legacy_policy_skips_its_expectations(suite):
    policy = POD_POLICY.replace("  rules:\n", "  rules: []\n  x:\n")  # a policy without rules is invalid
    policy = policy.split("  x:\n")[0]
    results = "- {policy: require-gpu-limits, rule: check-limits, kind: Pod, resources: [bad], result: fail}"
    root = suite({"policy.yaml": policy, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(results)})
    result = only_suite(root)
    assert [(row.status, row.reason) for row in result.rows] == [("skip", "Invalid Policy")]
    assert result.status == "passed"


MUTATE_POLICY = POD_POLICY.replace("    validate:", "    mutate:\n      patchStrategicMerge: {metadata: {labels: {a: b}}}\n"
                                                  "    x-validate:")
PATCHED_RESULTS = ("- {policy: require-gpu-limits, rule: check-limits, kind: Pod, resources: [good], result: pass, "
                   "patchedResources: patched.yaml}")


@pytest.mark.parametrize("policy, results, needle", [
    (MUTATE_POLICY, GOOD_RESULTS, "mutate rules"),
    (POD_POLICY, PATCHED_RESULTS, "patchedResources"),
    ("apiVersion: policies.kyverno.io/v1alpha1\nkind: MutatingPolicy\nmetadata: {name: m}\nspec: {}\n",
     "- {policy: m, kind: Pod, resources: [good], result: pass}", "MutatingPolicy"),
    ("apiVersion: policies.kyverno.io/v1alpha1\nkind: ImageValidatingPolicy\nmetadata: {name: i}\nspec: {}\n",
     "- {policy: i, kind: Pod, resources: [good], result: pass}", "ImageValidatingPolicy"),
])
def test_unsupported_suites_are_never_passed(suite, policy, results, needle):
    root = suite({"policy.yaml": policy, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(results)})
    result = only_suite(root)
    assert result.status == "unsupported"
    assert needle in result.reason


def test_broken_policy_yaml_errors_the_suite_with_a_position_and_the_run_goes_on(suite):
    root = suite({"a/policy.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: [x\n",
                  "a/resources.yaml": PODS, "a/kyverno-test.yaml": kyverno_test(GOOD_RESULTS),
                  "b/policy.yaml": POD_POLICY, "b/resources.yaml": PODS,
                  "b/kyverno-test.yaml": kyverno_test(GOOD_RESULTS)})
    report = run_paths([str(root)])
    statuses = {s.path.split("/")[-2]: s for s in report.suites}
    assert statuses["a"].status == "errored"
    assert "policy.yaml:4:1:" in statuses["a"].reason and "\n" not in statuses["a"].reason
    assert statuses["b"].status == "passed"


def test_multi_document_test_files_hold_several_tests(suite):
    text = kyverno_test(GOOD_RESULTS) + "---\n" + kyverno_test(GOOD_RESULTS.replace("result: pass", "result: fail"))
    root = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS, "kyverno-test.yaml": text})
    assert [s.status for s in run_paths([str(root)]).suites] == ["passed", "failed"]


def test_schema_errors_and_unknown_fields(suite):
    bad = kyverno_test("- {policy: require-gpu-limits, kind: Pod, resources: [good], result: maybe}")
    root = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS, "kyverno-test.yaml": bad})
    result = only_suite(root)
    assert result.status == "errored" and "result" in result.reason and "kyverno-test.yaml:" in result.reason
    unknown = kyverno_test(GOOD_RESULTS, extra="colour: blue\n")
    root = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS, "kyverno-test.yaml": unknown}, folder="unknown")
    relaxed = only_suite(root)
    assert relaxed.status == "passed" and any("colour" in w for w in relaxed.warnings)
    strict = only_suite(root, strict=True)
    assert strict.status == "failed" and "colour" in strict.reason


def test_deprecated_schema_is_an_error(suite):
    root = suite({"kyverno-test.yaml": "name: old\npolicies: [p.yaml]\nresources: [r.yaml]\nresults: []\n"})
    assert "deprecated schema" in only_suite(root).reason


def test_bad_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        run_paths([str(tmp_path / "missing")])


def test_json_shape(suite):
    root = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(GOOD_RESULTS)})
    data = json.loads(render_json(run_paths([str(root)])))
    assert set(data) == {"summary", "suites"}
    assert data["summary"] == {"suites": 1, "passed": 1, "failed": 0, "errored": 0, "unsupported": 0}
    suite_out = data["suites"][0]
    assert {"path", "name", "status", "reason", "results"} <= set(suite_out)
    row = suite_out["results"][0]
    assert {"policy", "rule", "kind", "namespace", "resource", "expected", "actual", "status"} <= set(row)
    assert row["policy"] == "require-gpu-limits" and row["actual"] == "pass" and row["status"] == "pass"


def run_cli(args, capsys):
    from gpulint.cli import main

    code = main(["test", *args])
    return code, capsys.readouterr()


def test_exit_codes(suite, tmp_path, capsys):
    good = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(GOOD_RESULTS)})
    assert run_cli([str(good)], capsys)[0] == 0
    failing = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS,
                     "kyverno-test.yaml": kyverno_test(GOOD_RESULTS.replace("result: pass", "result: fail"))},
                    folder="failing")
    code, out = run_cli([str(failing), "-o", "json"], capsys)
    assert code == 1 and json.loads(out.out)["summary"]["failed"] == 1
    assert run_cli([str(tmp_path / "missing")], capsys)[0] == 2
    assert run_cli([str(good), "-o", "xml"], capsys)[0] == 2
    unsupported = suite({"policy.yaml": "apiVersion: policies.kyverno.io/v1alpha1\nkind: GeneratingPolicy\n"
                                        "metadata: {name: g}\nspec: {}\n", "resources.yaml": PODS,
                         "kyverno-test.yaml": kyverno_test("- {policy: g, kind: Pod, resources: [good], result: pass}")},
                        folder="unsupported")
    assert run_cli([str(unsupported)], capsys)[0] == 1


def test_dangling_test_file_link_is_a_usage_error(tmp_path, capsys):
    link = tmp_path / "kyverno-test.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    code, out = run_cli([str(link)], capsys)
    assert code == 2 and "no such file" in out.err


def test_unreadable_test_file_is_a_usage_error(suite, capsys):
    import os

    root = suite({"kyverno-test.yaml": kyverno_test(GOOD_RESULTS)})
    path = root / "kyverno-test.yaml"
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):  # running as root: permissions do not stop reads
            pytest.skip("file permissions are not enforced for this user")
        assert run_cli([str(path)], capsys)[0] == 2
    finally:
        os.chmod(path, 0o644)


def test_text_output_has_the_kyverno_table(suite, capsys):
    root = suite({"policy.yaml": POD_POLICY, "resources.yaml": PODS, "kyverno-test.yaml": kyverno_test(GOOD_RESULTS)})
    code, out = run_cli([str(root)], capsys)
    assert code == 0
    assert "ID | POLICY" in out.out and "| RESOURCE" in out.out and "| RESULT | REASON" in out.out
    assert "apps/v1/Deployment/ml/web" in out.out
    assert "Test Summary: 1 suites: 1 passed" in out.out


JSON_POLICY = """
apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: no-root-ca}
spec:
  evaluation: {mode: JSON}
  validations:
  - {expression: "!object.rootCA", message: root CA must be disabled}
"""


def test_json_payloads_are_keyed_by_file_name(suite):
    results = """
    - {kind: "", policy: no-root-ca, resources: [fail.json], result: fail}
    - {kind: "", policy: no-root-ca, resources: [pass.json], result: pass}
    """
    text = kyverno_test(results, extra="jsonPayloads: [./pass.json, fail.json]\n", resources="[]")
    root = suite({"policy.yaml": JSON_POLICY, "pass.json": '{"rootCA": false}', "fail.json": '{"rootCA": true}',
                  "kyverno-test.yaml": text})
    result = only_suite(root)
    assert result.status == "passed", result.rows
    assert [row.display for row in result.rows] == ["fail.json", "pass.json"]


def test_authorization_policies_are_unsupported(suite):
    policy = JSON_POLICY.replace("mode: JSON", "mode: Envoy")
    root = suite({"policy.yaml": policy, "resources.yaml": PODS,
                  "kyverno-test.yaml": kyverno_test("- {kind: '', policy: no-root-ca, result: pass}")})
    result = only_suite(root)
    assert result.status == "unsupported" and "Envoy" in result.reason


def test_vap_suite_with_binding_params_and_values(suite):
    policy = """
    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingAdmissionPolicy
    metadata: {name: max-replicas}
    spec:
      paramKind: {apiVersion: v1, kind: ConfigMap}
      matchConstraints:
        resourceRules:
        - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
      validations:
      - expression: "object.spec.replicas <= int(params.data.max)"
    ---
    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingAdmissionPolicyBinding
    metadata: {name: max-replicas-binding}
    spec:
      policyName: max-replicas
      paramRef: {name: limits}
      matchResources: {objectSelector: {matchLabels: {app: web}}}
    """
    resources = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: small, labels: {app: web}}
    spec: {replicas: 2}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: big, labels: {app: web}}
    spec: {replicas: 9}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: db, labels: {app: db}}
    spec: {replicas: 9}
    """
    params = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: default}\ndata: {max: '5'}\n"
    results = """
    - {policy: max-replicas, rule: ignored, kind: Deployment, resources: [small], result: pass}
    - {policy: max-replicas, kind: Deployment, resources: [big], result: fail}
    - {policy: max-replicas, kind: Deployment, resources: [db], result: fail}
    """
    root = suite({"policy.yaml": policy, "resources.yaml": resources, "params.yaml": params,
                  "kyverno-test.yaml": kyverno_test(results, extra="paramResources: [params.yaml]\n")})
    result = only_suite(root)
    assert [row.reason for row in result.rows] == ["Ok", "Ok", "Excluded"], result.rows
    exception = "apiVersion: kyverno.io/v2\nkind: PolicyException\nmetadata: {name: e}\nspec: {exceptions: []}\n"
    root = suite({"policy.yaml": policy, "resources.yaml": resources, "params.yaml": params, "e.yaml": exception,
                  "kyverno-test.yaml": kyverno_test(results, extra="paramResources: [params.yaml]\n"
                                                                   "exceptions: [e.yaml]\n")}, folder="with-exception")
    assert "exceptions with ValidatingAdmissionPolicies" in only_suite(root).reason


PYTORCHJOBS = """
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: half-limited, namespace: ml}
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      template:
        spec:
          containers:
          - {name: pytorch, image: nvcr.io/nvidia/pytorch:24.01-py3, resources: {limits: {nvidia.com/gpu: 8}}}
    Worker:
      replicas: 3
      template:
        spec:
          containers: [{name: pytorch, image: nvcr.io/nvidia/pytorch:24.01-py3}]
---
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: limited, namespace: ml}
spec:
  pytorchReplicaSpecs:
    Worker:
      replicas: 2
      template:
        spec:
          containers:
          - {name: pytorch, image: nvcr.io/nvidia/pytorch:24.01-py3, resources: {limits: {nvidia.com/gpu: 8}}}
"""


def test_crd_pod_templates_answer_once_per_policy_with_the_worst_template(suite):
    results = """
    - {policy: gpu-limit, kind: PyTorchJob, resources: [half-limited], result: fail}
    - {policy: gpu-limit, kind: PyTorchJob, resources: [limited], result: pass}
    """
    root = suite({"policy.yaml": VPOL, "resources.yaml": PYTORCHJOBS, "kyverno-test.yaml": kyverno_test(results)})
    result = only_suite(root)
    expected = [("Ok", "Worker: limits required"), ("Ok", "Worker: success")]
    assert [(row.reason, row.message) for row in result.rows] == expected


def test_cluster_resources_crds_extend_the_rest_mapping(suite):
    policy = """
    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingAdmissionPolicy
    metadata: {name: small-widgets}
    spec:
      matchConstraints:
        resourceRules:
        - {apiGroups: [example.com], apiVersions: [v1], operations: [CREATE], resources: [widgets]}
      validations:
      - expression: "object.spec.size <= 3"
    """
    crd = """
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: widgets.example.com}
    spec:
      group: example.com
      names: {kind: Widget, plural: widgets}
      scope: Namespaced
      versions: [{name: v1, served: true, storage: true}]
    """
    cluster = ("apiVersion: cli.kyverno.io/v1alpha1\nkind: ClusterResource\nmetadata: {name: c}\n"
               "spec: {crds: [crds/widget.yaml]}\n")
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: ml}\nspec: {size: 2}\n"
    results = "- {policy: small-widgets, kind: Widget, resources: [w], result: pass}"
    files = {"policy.yaml": policy, "resources.yaml": widget, "crds/widget.yaml": crd}
    without = only_suite(suite({**files, "kyverno-test.yaml": kyverno_test(results)}))
    assert [row.reason for row in without.rows] == ["Want pass, got error"]
    with_crds = only_suite(suite({**files, "cluster.yaml": cluster, "kyverno-test.yaml": kyverno_test(
        results, extra="clusterResources: [cluster.yaml]\n")}, folder="with-crds"))
    assert with_crds.status == "passed", with_crds.rows
