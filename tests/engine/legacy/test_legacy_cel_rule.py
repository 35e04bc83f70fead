"""validate.cel rules (skipped when the CEL layer is not importable)."""

import pytest

from gpulint.engine.legacy import LegacyContextData, LegacyPolicy
from gpulint.engine.legacy.cel_rule import cel_available

pytestmark = pytest.mark.skipif(not cel_available(), reason="gpulint.engine.cel not importable yet")


def policy(expressions, message="", pre=None):
    rule = {"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "validate": {"message": message, "cel": {"expressions": expressions}}}
    if pre is not None:
        rule["celPreconditions"] = pre
    return LegacyPolicy.from_object({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
                                     "metadata": {"name": "p"}, "spec": {"rules": [rule]}})


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "ml"},
       "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def one(pol, resource=POD):
    (r,) = pol.evaluate(resource, LegacyContextData())
    return r.status, r.message


def test_pass_and_fail_messages():
    assert one(policy([{"expression": "size(object.spec.containers) == 1"}])) == (
        "pass", "Validation rule 'r' passed.")
    assert one(policy([{"expression": "size(object.spec.containers) == 2"}])) == (
        "fail", "failed expression: size(object.spec.containers) == 2")
    assert one(policy([{"expression": "false", "message": " own "}])) == ("fail", "own")
    assert one(policy([{"expression": "false"}], message="inherited")) == ("fail", "inherited")


def test_runtime_error_is_fail():
    status, message = one(policy([{"expression": "object.spec.nope == 1"}]))
    assert status == "fail" and message.startswith("expression 'object.spec.nope == 1' resulted in error:")


def test_cel_preconditions():
    assert one(policy([{"expression": "false"}], pre=[{"name": "a", "expression": "false"}])) == (
        "skip", "cel preconditions not met")


def test_autogen_rewrites_object_spec():
    pol = policy([{"expression": "size(object.spec.containers) == 1"}])
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ml"},
           "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}
    (r,) = pol.evaluate(dep, LegacyContextData())
    assert (r.rule, r.status) == ("autogen-r", "pass")


def test_webhook_match_conditions_filter_the_policy():
    pol = policy([{"expression": "true"}])
    pol.spec["webhookConfiguration"] = {"matchConditions": [{"name": "ns", "expression": "object.metadata.namespace == 'prod'"}]}
    assert pol.evaluate(POD, LegacyContextData()) == []
    pol.spec["webhookConfiguration"]["matchConditions"][0]["expression"] = "object.metadata.namespace == 'ml'"
    assert [r.status for r in pol.evaluate(POD, LegacyContextData())] == ["pass"]
