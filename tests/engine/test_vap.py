"""ValidatingAdmissionPolicy with bindings and params, as Kyverno's CLI evaluates them."""

import textwrap

import pytest
import yaml

from gpulint.engine import build_engine
from gpulint.engine.runner import RunOptions
from gpulint.engine.vap import ValidatingAdmissionPolicy
from gpulint.load import load_text

VAP = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: max-replicas}}
spec:
  failurePolicy: {failure}
  {param_kind}
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      {operations}
      resources: [deployments]
  {match_conditions}
  validations:
  - expression: "object.spec.replicas <= {limit}"
    {message}
"""


def vap_text(limit="4", message="", operations="operations: [CREATE, UPDATE]", failure="Fail", param_kind="",
             match_conditions=""):
    return VAP.format(limit=limit, message=message, operations=operations, failure=failure, param_kind=param_kind,
                      match_conditions=match_conditions)


def deployment(name, replicas, labels=None, namespace="ml"):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
            "spec": {"replicas": replicas}}


def evaluate(policy_text, objects, params=(), namespace_labels=None, floats=True):
    loaded = load_text(textwrap.dedent(policy_text), "policy.yaml")
    assert not loaded.errors, loaded.errors
    options = RunOptions(floats=floats, namespace_labels=namespace_labels or (lambda ns: None))
    setup = build_engine(loaded.resources, [], options=options)
    assert not setup.errors, setup.errors
    setup.engine.vap_params = list(params)
    manifests = load_text(yaml.safe_dump_all(objects), "resources.yaml")
    return {r.resource.name: r for r in setup.engine.evaluate(manifests.resources)}


def test_policy_match_constraints_and_results():
    results = evaluate(vap_text(), [deployment("small", 2), deployment("big", 9)])
    assert results["small"].result == "pass" and results["small"].message == ""
    assert results["small"].rule == "max-replicas"
    assert results["big"].result == "fail"
    assert results["big"].message == "failed expression: object.spec.replicas <= 4"


def test_messages_are_trimmed_and_message_expression_falls_back():
    text = vap_text(message="messageExpression: \"'too many: ' + string(object.spec.replicas)\"")
    assert evaluate(text, [deployment("big", 9)])["big"].message == "too many: 9"
    broken = vap_text(message="message: '  keep it small  '\n    messageExpression: \"object.missing\"")
    assert evaluate(broken, [deployment("big", 9)])["big"].message == "keep it small"


def test_operations_missing_never_matches_without_bindings():
    assert evaluate(vap_text(operations=""), [deployment("big", 9)]) == {}


def test_bindings_replace_the_policy_match_and_the_last_matching_binding_wins():
    bindings = """
    ---
    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingAdmissionPolicyBinding
    metadata: {name: first}
    spec:
      policyName: max-replicas
      matchResources: {objectSelector: {matchLabels: {team: a}}}
    ---
    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingAdmissionPolicyBinding
    metadata: {name: second}
    spec:
      policyName: max-replicas
      matchResources: {namespaceSelector: {matchLabels: {tier: gpu}}}
    """
    text = textwrap.dedent(vap_text(operations="")) + textwrap.dedent(bindings)
    results = evaluate(text, [deployment("both", 9, {"team": "a"}), deployment("first-only", 9, {"team": "a"}, "web"),
                              deployment("none", 9, {"team": "b"}, "web")],
                       namespace_labels=lambda ns: {"tier": "gpu"} if ns == "ml" else None)
    assert results["both"].properties["binding"] == "second"
    assert results["first-only"].properties["binding"] == "first"
    assert results["first-only"].result == "fail"
    assert "none" not in results


PARAMS = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "limits", "namespace": "default",
                                                          "labels": {"use": "replicas"}}, "data": {"max": "5"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "default",
                                                          "labels": {"use": "replicas"}}, "data": {"max": "1"}},
]


def with_binding(param_ref: str, limit: str) -> str:
    binding = f"""
    ---
    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingAdmissionPolicyBinding
    metadata: {{name: b}}
    spec:
      policyName: max-replicas
      paramRef: {param_ref}
    """
    return textwrap.dedent(vap_text(limit=limit, param_kind="paramKind: {apiVersion: v1, kind: ConfigMap}")) + \
        textwrap.dedent(binding)


def test_params_by_name():
    results = evaluate(with_binding("{name: limits}", "int(params.data.max)"),
                       [deployment("ok", 3), deployment("big", 9)], PARAMS)
    assert results["ok"].result == "pass" and results["big"].result == "fail"


def test_params_by_selector_are_a_list_and_missing_params_are_null():
    results = evaluate(with_binding("{selector: {matchLabels: {use: replicas}}}",
                                    "params.items.map(p, int(p.data.max)).min()"), [deployment("two", 2)], PARAMS)
    assert results["two"].result == "fail"  # the smallest limit (1) applies
    missing = evaluate(with_binding("{name: absent}", "(params == null ? 4 : 0)"), [deployment("three", 3)], PARAMS)
    assert missing["three"].result == "pass"


def test_match_conditions_false_skip_and_errors_follow_failure_policy():
    false = vap_text(match_conditions="matchConditions: [{name: never, expression: 'false'}]")
    assert evaluate(false, [deployment("d", 9)])["d"].result == "skip"
    assert evaluate(false, [deployment("d", 9)])["d"].message == "match conditions aren't met"
    erroring = "matchConditions: [{name: boom, expression: 'object.nope == 1'}]"
    assert evaluate(vap_text(match_conditions=erroring), [deployment("d", 9)])["d"].result == "error"
    assert evaluate(vap_text(match_conditions=erroring, failure="Ignore"), [deployment("d", 9)])["d"].result == "skip"


def test_runtime_errors_are_errors_even_with_ignore():
    result = evaluate(vap_text(limit="object.spec.nope", failure="Ignore"), [deployment("d", 9)])["d"]
    assert result.result == "error"
    assert result.message.startswith("expression 'object.spec.replicas <= object.spec.nope' resulted in error")


def test_compile_errors_surface_as_errors_not_invalid_policies():
    result = evaluate(vap_text(limit="4 +"), [deployment("d", 9)])["d"]
    assert result.result == "error" and result.message.startswith("compilation error:")


def test_namespace_object_comes_from_the_namespace_labels():
    text = vap_text(limit="4 || namespaceObject.metadata.labels.tier == 'gpu'")
    results = evaluate(text, [deployment("gpu", 9), deployment("cpu", 9, namespace="web")],
                       namespace_labels=lambda ns: {"tier": "gpu"} if ns == "ml" else {"tier": "cpu"})
    assert results["gpu"].result == "pass" and results["cpu"].result == "fail"


def test_unmapped_kind_is_an_error():
    policy = vap_text().replace("apiGroups: [apps]", "apiGroups: ['*']").replace("resources: [deployments]",
                                                                               "resources: ['*']")
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "ml"},
              "spec": {"replicas": 1}}
    result = evaluate(policy, [widget])["w"]
    assert result.result == "error" and "failed to map gvk to gvr" in result.message


def test_resources_index_is_any_when_bindings_exist():
    loaded = load_text(textwrap.dedent(vap_text()), "p.yaml")
    setup = build_engine(loaded.resources, [])
    policy = setup.policies[0]
    assert isinstance(policy, ValidatingAdmissionPolicy)
    assert policy.resources() == {("apps", "deployments")}
    policy.bindings = [{"spec": {"policyName": "max-replicas"}}]
    assert policy.resources() is None


@pytest.mark.parametrize("api_version", ["admissionregistration.k8s.io/v1beta1",
                                         "admissionregistration.k8s.io/v1alpha1"])
def test_only_v1_policies_load(api_version):
    loaded = load_text(textwrap.dedent(vap_text()).replace("admissionregistration.k8s.io/v1", api_version), "p.yaml")
    assert build_engine(loaded.resources, []).policies == []
