"""match / exclude."""

import pytest

from gpulint.engine.legacy.match import Request, check_kind, parse_kind_selector, rule_matches

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "train-0", "namespace": "ml", "labels": {"team": "vision", "gpu": "a100"},
                    "annotations": {"gpu.io/class": "large"}}}
DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ml"}}


def req(resource=POD, op="CREATE", user=None, ns_labels=None):
    return Request(resource, op, user, ns_labels)


@pytest.mark.parametrize("text,parsed", [
    ("Pod", ("*", "*", "Pod", "")),
    ("v1/Pod", ("*", "v1", "Pod", "")),
    ("apps/v1/Deployment", ("apps", "v1", "Deployment", "")),
    ("Pod/exec", ("*", "*", "Pod", "exec")),
    ("v1/Pod/status", ("*", "v1", "Pod", "status")),
    ("apps/v1/Deployment/scale", ("apps", "v1", "Deployment", "scale")),
    ("*/*", ("*", "*", "*", "*")),
    ("Pod.status", ("*", "*", "Pod", "status")),
    ("*", ("*", "*", "*", "")),
])
def test_kind_selectors(text, parsed):
    assert parse_kind_selector(text) == parsed


def test_check_kind():
    assert check_kind(["Pod"], ("", "v1", "Pod"))
    assert check_kind(["apps/v1/Deployment"], ("apps", "v1", "Deployment"))
    assert not check_kind(["batch/v1/Job"], ("apps", "v1", "Deployment"))
    assert check_kind(["*"], ("apps", "v1", "Deployment"))
    assert check_kind(["v1/*"], ("", "v1", "Pod"))


def rule(match, exclude=None):
    r = {"name": "r", "match": match}
    if exclude:
        r["exclude"] = exclude
    return r


def test_any_all_and_legacy_blocks():
    assert rule_matches(rule({"any": [{"resources": {"kinds": ["Service"]}},
                                      {"resources": {"kinds": ["Pod"]}}]}), req(), None)
    assert not rule_matches(rule({"all": [{"resources": {"kinds": ["Pod"]}},
                                          {"resources": {"namespaces": ["prod"]}}]}), req(), None)
    assert rule_matches(rule({"resources": {"kinds": ["Pod"], "namespaces": ["m*"]}}), req(), None)


def test_empty_filter_never_matches():
    assert not rule_matches(rule({"any": [{"resources": {}}]}), req(), None)


def test_names_selector_annotations():
    assert rule_matches(rule({"any": [{"resources": {"kinds": ["Pod"], "names": ["train-*"]}}]}), req(), None)
    assert rule_matches(rule({"any": [{"resources": {"kinds": ["Pod"],
                                                     "selector": {"matchLabels": {"gpu": "a*"}}}}]}), req(), None)
    assert not rule_matches(rule({"any": [{"resources": {"kinds": ["Pod"],
                                                         "selector": {"matchLabels": {"gpu": "h*"}}}}]}), req(), None)
    sel = {"matchExpressions": [{"key": "team", "operator": "In", "values": ["vision", "nlp"]}]}
    assert rule_matches(rule({"any": [{"resources": {"kinds": ["Pod"], "selector": sel}}]}), req(), None)
    assert rule_matches(rule({"any": [{"resources": {"kinds": ["Pod"],
                                                     "annotations": {"gpu.io/*": "lar*"}}}]}), req(), None)


def test_namespace_selector_uses_supplied_labels():
    r = rule({"any": [{"resources": {"kinds": ["Pod"], "namespaceSelector": {"matchLabels": {"tier": "gpu"}}}}]})
    assert rule_matches(r, req(ns_labels={"tier": "gpu"}), None)
    assert not rule_matches(r, req(ns_labels={}), None)


def test_namespace_resource_uses_its_own_name():
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}
    assert rule_matches(rule({"any": [{"resources": {"kinds": ["Namespace"], "namespaces": ["ml"]}}]}),
                        req(ns), None)


def test_operations():
    r = rule({"any": [{"resources": {"kinds": ["Pod"], "operations": ["UPDATE"]}}]})
    assert not rule_matches(r, req(op="CREATE"), None)
    assert rule_matches(r, req(op="UPDATE"), None)


def test_exclude_any_all():
    m = {"any": [{"resources": {"kinds": ["Pod"]}}]}
    assert not rule_matches(rule(m, {"any": [{"resources": {"namespaces": ["ml"]}},
                                             {"resources": {"names": ["x"]}}]}), req(), None)
    assert rule_matches(rule(m, {"all": [{"resources": {"namespaces": ["ml"]}},
                                         {"resources": {"names": ["x"]}}]}), req(), None)


def test_user_info_dropped_from_match_but_not_from_exclude_without_user_info():
    only_subjects = rule({"any": [{"subjects": [{"kind": "User", "name": "alice"}]}]})
    assert not rule_matches(only_subjects, req(), None)  # the filter becomes empty
    with_kind = rule({"any": [{"resources": {"kinds": ["Pod"]}, "clusterRoles": ["admin"]}]})
    assert rule_matches(with_kind, req(), None)           # clusterRoles dropped
    excl = rule({"any": [{"resources": {"kinds": ["Pod"]}}]}, {"any": [{"clusterRoles": ["cluster-admin"]}]})
    assert rule_matches(excl, req(), None)                # exclude on user info never matches
    user = {"userInfo": {"username": "system:serviceaccount:ml:trainer", "groups": ["ml-team"]},
            "clusterRoles": ["cluster-admin"], "roles": []}
    assert not rule_matches(excl, req(user=user), None)
    sa = rule({"any": [{"resources": {"kinds": ["Pod"]},
                        "subjects": [{"kind": "ServiceAccount", "name": "trainer", "namespace": "ml"}]}]})
    assert rule_matches(sa, req(user=user), None)
    grp = rule({"any": [{"resources": {"kinds": ["Pod"]}, "subjects": [{"kind": "Group", "name": "ml-*"}]}]})
    assert rule_matches(grp, req(user=user), None)


def test_namespaced_policy_only_sees_its_namespace():
    r = rule({"any": [{"resources": {"kinds": ["Pod"]}}]})
    assert rule_matches(r, req(), "ml")
    assert not rule_matches(r, req(), "default")
