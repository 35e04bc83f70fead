"""End-to-end evaluation of legacy policies, including the fact sheet's §12 surprises."""

import textwrap

import pytest
import yaml

from gpulint.engine.legacy import LegacyContextData, LegacyPolicy, LegacyPolicyError


def policy(text: str) -> LegacyPolicy:
    return LegacyPolicy.from_object(yaml.safe_load(textwrap.dedent(text)))


def pod(name="p", namespace="default", containers=None, **spec):
    spec = dict(spec)
    spec["containers"] = containers if containers is not None else [{"name": "c", "image": "nginx:1.2"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def deploy(name="d", containers=None):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"template": {"metadata": {"labels": {}}, "spec": {
                "containers": containers or [{"name": "c", "image": "nginx:latest"}]}}}}


PRIVILEGED = """
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: no-privileged}
spec:
  rules:
  - name: check
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      message: "Privileged mode is not allowed"
      pattern:
        spec:
          containers:
          - =(securityContext):
              =(privileged): "false"
"""


def run(pol, resource, **kw):
    return [(r.rule, r.status, r.message) for r in pol.evaluate(resource, LegacyContextData(**kw))]


def test_pattern_fail_message_and_path():
    pol = policy(PRIVILEGED)
    res = pol.evaluate(pod(containers=[{"name": "c", "securityContext": {"privileged": True}}]), LegacyContextData())
    assert res[0].status == "fail"
    assert res[0].message == ("validation error: Privileged mode is not allowed. rule check failed at path "
                              "/spec/containers/0/securityContext/privileged/")
    assert res[0].path == ("spec", "containers", 0, "securityContext", "privileged")
    assert run(pol, pod()) == [("check", "pass", "validation rule 'check' passed.")]


def test_autogen_rule_for_deployments():
    pol = policy(PRIVILEGED)
    res = pol.evaluate(deploy(containers=[{"name": "c", "securityContext": {"privileged": True}}]),
                       LegacyContextData())
    assert [(r.rule, r.status) for r in res] == [("autogen-check", "fail")]
    assert res[0].path == ("spec", "template", "spec", "containers", 0, "securityContext", "privileged")


def test_unmatched_resource_yields_no_response():  # §12.1
    pol = policy(PRIVILEGED)
    assert pol.evaluate({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}, LegacyContextData()) == []


FOREACH = """
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: gpu-limits}
spec:
  rules:
  - name: limits
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      message: "GPU containers need limits"
      foreach:
      - list: "request.object.spec.containers[?contains(name, 'gpu')]"
        deny:
          conditions:
            any:
            - key: "{{ element.resources.limits.\\"nvidia.com/gpu\\" || '' }}"
              operator: Equals
              value: ""
"""


def test_foreach_that_processed_nothing_yields_no_response():  # §12.1
    assert policy(FOREACH).evaluate(pod(), LegacyContextData()) == []


def test_foreach_fail_and_pass():
    pol = policy(FOREACH)
    bad = pod(containers=[{"name": "gpu-a", "image": "x"}])
    assert run(pol, bad) == [("limits", "fail", "validation failure: GPU containers need limits")]
    good = pod(containers=[{"name": "gpu-a", "image": "x", "resources": {"limits": {"nvidia.com/gpu": 1.0}}}])
    assert run(pol, good) == [("limits", "pass", "rule passed")]


def test_foreach_element_scope_and_nested_paths():
    pol = policy("""
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: p}
    spec:
      rules:
      - name: r
        match: {any: [{resources: {kinds: [Pod]}}]}
        validate:
          foreach:
          - list: request.object.spec.containers
            pattern:
              image: "!*:latest"
    """)
    res = pol.evaluate(pod(containers=[{"name": "a", "image": "x:1"}, {"name": "b", "image": "x:latest"}]),
                       LegacyContextData())
    assert res[0].status == "fail"
    assert res[0].message == "validation failure: validation error: rule r failed at path /image/"
    assert res[0].path == ("spec", "containers", 1, "image")


MISSING_KEY = """
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  rules:
  - name: r
    match: {any: [{resources: {kinds: [Pod]}}]}
    preconditions:
      all:
      - key: "{{ request.object.metadata.labels.app }}"
        operator: Equals
        value: x
    validate:
      deny: {}
"""


def test_missing_key_in_preconditions_is_error():  # §12.3
    (rule, status, message), = run(policy(MISSING_KEY), pod())
    assert status == "error" and message.startswith("failed to evaluate preconditions")


def test_guarded_missing_key_is_skip():
    text = MISSING_KEY.replace("labels.app }}", "labels.app || '' }}")
    assert run(policy(text), pod()) == [("r", "skip", "preconditions not met")]


def test_deny_messages():
    pol = policy("""
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: p}
    spec:
      rules:
      - name: r
        match: {any: [{resources: {kinds: [Pod]}}]}
        validate:
          message: "pod {{ request.object.metadata.name }} denied"
          deny:
            conditions:
              any:
              - key: "{{ request.object.spec.hostNetwork || false }}"
                operator: Equals
                value: true
                message: "hostNetwork"
    """)
    assert run(pol, pod(hostNetwork=True)) == [("r", "fail", "pod p denied; hostNetwork")]
    assert run(pol, pod()) == [("r", "pass", "validation rule 'r' passed.")]


def test_conditional_anchor_skip_and_error():  # §12.4
    pol = policy("""
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: p}
    spec:
      rules:
      - name: r
        match: {any: [{resources: {kinds: [Pod]}}]}
        validate:
          pattern:
            spec:
              containers:
              - (name): "gpu-*"
                image: "nvcr.io/*"
    """)
    assert run(pol, pod())[0][1] == "skip"


def test_anypattern_messages():
    pol = policy("""
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: p}
    spec:
      rules:
      - name: r
        match: {any: [{resources: {kinds: [Pod]}}]}
        validate:
          message: "need a runtime class or a node selector"
          anyPattern:
          - spec: {runtimeClassName: "?*"}
          - spec: {nodeSelector: {"nvidia.com/gpu.present": "true"}}
    """)
    (_, status, message), = run(pol, pod())
    assert status == "fail"
    assert message == ("validation error: need a runtime class or a node selector. rule r[0] failed at path "
                       "/spec/runtimeClassName/ rule r[1] failed at path /spec/nodeSelector/")
    assert run(pol, pod(runtimeClassName="nvidia"))[0][1:] == ("pass", "validation rule 'r' anyPattern[0] passed.")


def test_patterns_with_quantities_and_missing_fields():  # §12.5
    pol = policy("""
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: p}
    spec:
      rules:
      - name: r
        match: {any: [{resources: {kinds: [Pod]}}]}
        validate:
          pattern:
            spec:
              containers:
              - resources:
                  limits:
                    nvidia.com/gpu: "<10"
    """)
    empty_limits = pod(containers=[{"name": "c", "resources": {"limits": {}}}])
    assert run(pol, empty_limits)[0][1] == "pass"  # a missing leaf compares as 0
    assert run(pol, pod())[0][1] == "fail"  # but a missing map is a structure mismatch


def test_exception_skip_message_has_no_space():  # §12.6
    pol = policy(PRIVILEGED)
    exc = {"apiVersion": "kyverno.io/v2", "kind": "PolicyException",
           "metadata": {"name": "allow", "namespace": "gpu"},
           "spec": {"exceptions": [{"policyName": "no-privileged", "ruleNames": ["check", "autogen-*"]}],
                    "match": {"any": [{"resources": {"kinds": ["Pod"], "names": ["p"]}}]}}}
    res = pol.evaluate(pod(containers=[{"name": "c", "securityContext": {"privileged": True}}]),
                       LegacyContextData(exceptions=[exc]))
    assert (res[0].status, res[0].message) == ("skip", "rule is skipped due to policy exceptionsgpu/allow")
    assert res[0].properties["exceptions"] == "allow"


def test_exception_conditions_and_empty_any():
    pol = policy(PRIVILEGED)
    exc = {"apiVersion": "kyverno.io/v2", "kind": "PolicyException", "metadata": {"name": "allow"},
           "spec": {"exceptions": [{"policyName": "no-privileged", "ruleNames": ["check"]}],
                    "match": {"any": [{"resources": {"kinds": ["Pod"]}}]}, "conditions": {"any": []}}}
    assert pol.evaluate(pod(), LegacyContextData(exceptions=[exc]))[0].status == "skip"
    exc["spec"]["conditions"] = {"all": [{"key": "{{ request.object.metadata.nope }}", "operator": "Equals",
                                          "value": 1}]}
    assert pol.evaluate(pod(), LegacyContextData(exceptions=[exc]))[0].status == "pass"  # error → ignored


def test_enforce_update_with_preexisting_violation_is_skip():
    text = PRIVILEGED.replace("spec:\n  rules:", "spec:\n  validationFailureAction: Enforce\n  rules:")
    bad = pod(containers=[{"name": "c", "securityContext": {"privileged": True}}])
    res = policy(text).evaluate(bad, LegacyContextData(operation="UPDATE", old_object=bad))
    assert (res[0].status, res[0].message) == (
        "skip", "skipping the rule evaluation as pre-existing violations are allowed")
    audit = policy(PRIVILEGED).evaluate(bad, LegacyContextData(operation="UPDATE", old_object=bad))
    assert audit[0].status == "fail"


def test_delete_skips_pattern_rules():
    bad = pod(containers=[{"name": "c", "securityContext": {"privileged": True}}])
    assert policy(PRIVILEGED).evaluate(bad, LegacyContextData(operation="DELETE")) == []


def test_namespaced_policy():
    text = PRIVILEGED.replace("kind: ClusterPolicy\nmetadata: {name: no-privileged}",
                              "kind: Policy\nmetadata: {name: no-privileged, namespace: ml}")
    pol = policy(text)
    assert pol.key == "ml/no-privileged"
    assert pol.evaluate(pod(namespace="default"), LegacyContextData()) == []
    assert pol.evaluate(pod(namespace="ml"), LegacyContextData())[0].status == "pass"


def test_apply_rules_one():
    text = PRIVILEGED.replace("  rules:\n", "  applyRules: One\n  rules:\n") + """
  - name: second
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      deny: {}
"""
    assert [r[0] for r in run(policy(text), pod())] == ["check"]


def test_report_properties_are_substituted():
    text = PRIVILEGED.replace("    validate:\n      message", "    reportProperties:\n      owner: \"{{ request.object.metadata.name }}\"\n    validate:\n      message")
    assert policy(text).evaluate(pod(), LegacyContextData())[0].properties == {"owner": "p"}


def test_invalid_policy_raises():
    with pytest.raises(LegacyPolicyError):
        policy("""
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: p, namespace: x}
        spec: {rules: [{name: r, match: {any: [{resources: {kinds: [Pod]}}]}, validate: {deny: {}}}]}
        """)


def test_unsupported_rule_types_are_recorded():
    pol = policy("""
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: p}
    spec:
      rules:
      - name: m
        match: {any: [{resources: {kinds: [Pod]}}]}
        mutate: {patchStrategicMerge: {metadata: {labels: {a: b}}}}
    """)
    assert pol.unsupported == [("m", "mutate")]
    assert pol.evaluate(pod(), LegacyContextData()) == []
