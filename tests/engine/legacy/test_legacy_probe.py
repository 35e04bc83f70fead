"""The conformance probe's `kyverno test` comparison rules (fact sheet §9.5, §12.1-2)."""

import importlib.util
import os

_SPEC = importlib.util.spec_from_file_location(
    "legacy_conformance_probe", os.path.join(os.path.dirname(__file__), "conformance_probe.py"))
probe = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(probe)

POLICY = """
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: no-latest}
spec:
  rules:
  - name: tag
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate:
      pattern: {spec: {containers: [{image: "!*:latest"}]}}
"""
RESOURCES = """
apiVersion: v1
kind: Pod
metadata: {name: good}
spec: {containers: [{name: c, image: "nginx:1.2"}]}
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {}
"""


def run(tmp_path, results):
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "resources.yaml").write_text(RESOURCES)
    test = {"apiVersion": "cli.kyverno.io/v1alpha1", "kind": "Test", "metadata": {"name": "t"},
            "policies": ["policy.yaml"], "resources": ["resources.yaml"], "results": results}
    return probe.run_suite(probe.Suite(str(tmp_path / "kyverno-test.yaml"), test))


def test_unmatched_resource_counts_as_excluded_pass(tmp_path):
    rows = run(tmp_path, [{"policy": "no-latest", "rule": "tag", "resources": ["svc"], "kind": "Service",
                           "result": "fail"}])
    assert rows and all(ok for ok, _ in rows) and "Excluded" in rows[0][1]


def test_unknown_resource_name_checks_every_resource(tmp_path):
    rows = run(tmp_path, [{"policy": "no-latest", "rule": "tag", "resources": ["nope"], "kind": "Pod",
                           "result": "pass"}])
    assert len(rows) == 2  # good (pass) and svc (Excluded)


def test_unknown_policy_is_not_found(tmp_path):
    rows = run(tmp_path, [{"policy": "other", "rule": "tag", "resources": ["good"], "kind": "Pod",
                           "result": "pass"}])
    assert rows == [(False, "other/tag good: Not found")]


def test_integers_become_floats():
    assert probe.floats({"a": [1, True, 2.5]}) == {"a": [1.0, True, 2.5]}
