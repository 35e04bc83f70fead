"""Policy validation performed before evaluation."""

import pytest

from gpulint.engine.legacy import LegacyPolicy, LegacyPolicyError


def base(**rule):
    r = {"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]}, "validate": {"deny": {}}}
    r.update(rule)
    return {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "p"},
            "spec": {"rules": [r]}}


def test_valid_policy():
    assert LegacyPolicy.from_object(base()).name == "p"


@pytest.mark.parametrize("mutate", [
    lambda p: p.update(kind="ValidatingPolicy"),
    lambda p: p["metadata"].update(namespace="x"),
    lambda p: p["spec"]["rules"][0].update(name="x" * 64),
    lambda p: p["spec"]["rules"].append(dict(p["spec"]["rules"][0])),
    lambda p: p["spec"]["rules"][0].pop("match"),
    lambda p: p["spec"]["rules"][0]["match"].update(all=[{"resources": {"kinds": ["Pod"]}}]),
    lambda p: p["spec"]["rules"][0]["validate"].update(pattern={"a": 1}),
    lambda p: p["spec"]["rules"][0].update(preconditions=[{"key": 1, "operator": "Bogus", "value": 1}]),
    lambda p: p["spec"]["rules"][0]["validate"].update(deny={"conditions": [{"key": "{{ element.x }}",
                                                                              "operator": "Equals", "value": 1}]}),
    lambda p: p["spec"]["rules"][0]["validate"].update(deny={"conditions": [{"key": "{{ request.userInfo.username }}",
                                                                              "operator": "Equals", "value": 1}]}),
    lambda p: p["spec"]["rules"][0]["match"]["any"][0].update(subjects=[{"kind": "User", "name": "a"}]),
    lambda p: p["spec"]["rules"][0].update(context=[{"name": "request", "variable": {"value": 1}}]),
])
def test_invalid_policies(mutate):
    p = base()
    mutate(p)
    with pytest.raises(LegacyPolicyError):
        LegacyPolicy.from_object(p)


def test_user_info_allowed_when_background_is_off():
    p = base()
    p["spec"]["background"] = False
    p["spec"]["rules"][0]["match"]["any"][0]["subjects"] = [{"kind": "User", "name": "a"}]
    LegacyPolicy.from_object(p)


def test_namespaced_policy_cannot_match_namespaces():
    p = base()
    p["kind"] = "Policy"
    p["metadata"]["namespace"] = "ml"
    p["spec"]["rules"][0]["match"]["any"][0]["resources"]["namespaces"] = ["other"]
    with pytest.raises(LegacyPolicyError):
        LegacyPolicy.from_object(p)
