"""Autogen of pod controller rules."""

from gpulint.engine.legacy.autogen import ANNOTATION, can_autogen, compute_rules

RULE = {
    "name": "check-gpu",
    "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
    "preconditions": {"all": [{"key": "{{ request.object.spec.nodeName || '' }}", "operator": "Equals", "value": ""}]},
    "validate": {"message": "m", "pattern": {"spec": {"containers": [{"name": "*"}]}}},
}
SPEC = {"rules": [RULE]}


def names(rules):
    return [r["name"] for r in rules]


def test_pod_gets_only_original_rules():
    assert names(compute_rules(SPEC, {}, "Pod")) == ["check-gpu"]


def test_deployment_gets_autogen_rule_with_template_paths():
    rules = compute_rules(SPEC, {}, "Deployment")
    assert names(rules) == ["check-gpu", "autogen-check-gpu"]
    gen = rules[1]
    assert gen["match"]["any"][0]["resources"]["kinds"] == ["apps/v1/Deployment"]
    assert gen["validate"]["pattern"] == {"spec": {"template": RULE["validate"]["pattern"]}}
    assert "request.object.spec.template.spec.nodeName" in gen["preconditions"]["all"][0]["key"]


def test_cronjob_gets_autogen_cronjob_rule():
    rules = compute_rules(SPEC, {}, "CronJob")
    gen = rules[1]
    assert gen["name"] == "autogen-cronjob-check-gpu"
    assert gen["match"]["any"][0]["resources"]["kinds"] == ["batch/v1/CronJob"]
    assert gen["validate"]["pattern"] == {"spec": {"jobTemplate": {"spec": {"template": RULE["validate"]["pattern"]}}}}
    assert "request.object.spec.jobTemplate.spec.template.spec.nodeName" in gen["preconditions"]["all"][0]["key"]


def test_annotation_restricts_controllers():
    ann = {ANNOTATION: "Deployment"}
    assert names(compute_rules(SPEC, ann, "StatefulSet")) == ["check-gpu"]
    assert names(compute_rules(SPEC, ann, "Deployment")) == ["check-gpu", "autogen-check-gpu"]
    assert names(compute_rules(SPEC, {ANNOTATION: "none"}, "Deployment")) == ["check-gpu"]


def test_ineligible_policies():
    with_names = {"rules": [dict(RULE, match={"any": [{"resources": {"kinds": ["Pod"], "names": ["x"]}}]})]}
    assert not can_autogen(with_names)
    mixed = {"rules": [dict(RULE, match={"any": [{"resources": {"kinds": ["Pod", "Service"]}}]})]}
    assert not can_autogen(mixed)
    no_pod = {"rules": [dict(RULE, match={"any": [{"resources": {"kinds": ["Service"]}}]})]}
    assert not can_autogen(no_pod)


def test_long_names_are_truncated_and_autogen_rules_dropped():
    long_rule = dict(RULE, name="x" * 60)
    rules = compute_rules({"rules": [long_rule, dict(RULE, name="autogen-old")]}, {}, "Job")
    assert [len(n) for n in names(rules)] == [60, 63]
