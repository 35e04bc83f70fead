"""Values files: precedence, rule values, namespaces (kyverno-semantics.md 9.3)."""

import pytest

from gpulint.testrunner.inputs import SuiteError, Values, load_values

VALUES = {
    "apiVersion": "cli.kyverno.io/v1alpha1",
    "kind": "Values",
    "globalValues": {"request.operation": "UPDATE", "cluster": "dgx-a", "tier": "global"},
    "policies": [
        {"name": "p", "resources": [{"name": "web", "values": {"tier": "resource", "request.operation": "DELETE"}}],
         "rules": [{"name": "r", "values": {"max": 8}, "foreachValues": {"gpu": ["a", "b"]}}]},
        {"name": "other", "resources": [{"name": "web", "values": {"tier": "other"}}]},
    ],
    "namespaceSelector": [{"name": "ml", "labels": {"tier": "h100"}}, {"name": "both", "labels": {"from": "selector"}}],
    "namespaces": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "both", "labels": {"from": "object"}}},
                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bare"}}],
}


def test_resource_values_override_global_values_for_their_policy_only():
    values = Values.from_data(VALUES)
    assert values.resource_values("p", "web") == {"request.operation": "DELETE", "cluster": "dgx-a", "tier": "resource"}
    assert values.resource_values("p", "db")["tier"] == "global"
    assert values.resource_values("other", "web")["request.operation"] == "UPDATE"


def test_rule_values_and_foreach_values_are_kept_apart():
    rule_values, foreach_values = Values.from_data(VALUES).rule_values("p")
    assert rule_values == {"r": {"max": 8}}
    assert foreach_values == {"r": {"gpu": ["a", "b"]}}
    assert Values.from_data(VALUES).rule_values("unknown") == ({}, {})


def test_namespace_objects_win_over_namespace_selector():
    values = Values.from_data(VALUES)
    assert values.namespace_labels("ml") == {"tier": "h100"}
    assert values.namespace_labels("both") == {"from": "object"}
    assert values.namespace_labels("bare") == {}
    assert values.namespace_labels("nowhere") is None
    assert values.namespace_object("both")["metadata"]["labels"] == {"from": "object"}
    assert values.namespace_object("ml") == {"apiVersion": "v1", "kind": "Namespace",
                                             "metadata": {"name": "ml", "labels": {"tier": "h100"}}}
    assert values.namespace_object("nowhere") is None


def test_inline_values_win_over_the_variables_file(tmp_path):
    (tmp_path / "values.yaml").write_text("apiVersion: cli.kyverno.io/v1alpha1\nkind: Values\nglobalValues: {a: file}\n")
    test = {"variables": "values.yaml", "values": {"globalValues": {"a": "inline"}}}
    assert load_values(test, str(tmp_path)).global_values == {"a": "inline"}
    assert load_values({"variables": "values.yaml"}, str(tmp_path)).global_values == {"a": "file"}


def test_values_file_needs_type_meta(tmp_path):
    (tmp_path / "values.yaml").write_text("globalValues: {a: 1}\n")
    with pytest.raises(SuiteError, match="apiVersion and kind are required"):
        load_values({"variables": "values.yaml"}, str(tmp_path))
