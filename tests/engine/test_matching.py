from gpulint.engine.matching import Request, constraints_match, resources_named

POD_RULE = {"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "operations": ["CREATE", "UPDATE"]}


def pod_request(**overrides):
    values = dict(group="", version="v1", kind="Pod", resource="pods", namespace="ml", name="p",
                  operation="CREATE", labels={"app": "x"})
    values.update(overrides)
    return Request(**values)


def no_labels(ns):
    return None


def test_rule_matches_pod():
    assert constraints_match({"resourceRules": [POD_RULE]}, pod_request(), no_labels)


def test_operations_missing_never_matches():
    rule = {k: v for k, v in POD_RULE.items() if k != "operations"}
    assert not constraints_match({"resourceRules": [rule]}, pod_request(), no_labels)


def test_absent_constraints_never_match_but_empty_rules_match_everything():
    assert not constraints_match(None, pod_request(), no_labels)
    assert constraints_match({}, pod_request(), no_labels)


def test_version_must_match_exactly():
    rule = dict(POD_RULE, apiGroups=["batch"], apiVersions=["v1"], resources=["cronjobs"])
    req = pod_request(group="batch", version="v1beta1", kind="CronJob", resource="cronjobs")
    assert not constraints_match({"resourceRules": [rule]}, req, no_labels)


def test_exclude_rules_win():
    constraints = {"resourceRules": [POD_RULE], "excludeResourceRules": [POD_RULE]}
    assert not constraints_match(constraints, pod_request(), no_labels)


def test_namespace_selector_uses_synthetic_name_label_without_values():
    selector = {"matchLabels": {"kubernetes.io/metadata.name": "ml"}}
    assert constraints_match({"resourceRules": [POD_RULE], "namespaceSelector": selector}, pod_request(), no_labels)
    assert not constraints_match({"resourceRules": [POD_RULE], "namespaceSelector": selector},
                                 pod_request(namespace="other"), no_labels)


def test_namespace_selector_with_resolver_labels():
    selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["dev"]}]}
    constraints = {"resourceRules": [POD_RULE], "namespaceSelector": selector}
    assert constraints_match(constraints, pod_request(), lambda ns: {"tier": "dev"})
    assert not constraints_match(constraints, pod_request(), lambda ns: {"tier": "prod"})


def test_object_selector_and_scope_and_names():
    constraints = {"resourceRules": [POD_RULE], "objectSelector": {"matchLabels": {"app": "y"}}}
    assert not constraints_match(constraints, pod_request(), no_labels)
    scoped = dict(POD_RULE, scope="Cluster")
    assert not constraints_match({"resourceRules": [scoped]}, pod_request(), no_labels)
    named = dict(POD_RULE, resourceNames=["q"])
    assert not constraints_match({"resourceRules": [named]}, pod_request(), no_labels)


def test_subresources():
    rule = dict(POD_RULE, resources=["pods/ephemeralcontainers"])
    assert not constraints_match({"resourceRules": [rule]}, pod_request(), no_labels)
    assert constraints_match({"resourceRules": [rule]}, pod_request(subresource="ephemeralcontainers"), no_labels)


def test_resources_named_for_indexing():
    assert resources_named({"resourceRules": [POD_RULE]}) == {("", "pods")}
    assert resources_named({"resourceRules": [dict(POD_RULE, resources=["*"])]}) is None
    assert resources_named({}) is None
    assert resources_named(None) == set()
