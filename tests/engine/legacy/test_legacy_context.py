"""Context entries and the JSON context."""

import pytest

from gpulint.engine.legacy.context import Context, Sources, add_entries, api_get, build_context, merge
from gpulint.engine.legacy.jmespath_ext import JMESPathError, NotFoundError

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ml"}}


def ctx_with(entries, sources=None, variables=None):
    ctx = build_context(POD, None, "CREATE", None, None)
    for k, v in (variables or {}).items():
        ctx.add_variable(k, v)
    add_entries(ctx, entries, sources or Sources())
    return ctx


def test_builtin_variables():
    ctx = build_context(POD, None, "UPDATE", {"userInfo": {"username": "system:serviceaccount:ml:trainer"},
                                              "roles": ["ml:r"], "clusterRoles": []}, None)
    assert ctx.query("request.operation") == "UPDATE"
    assert ctx.query("request.namespace") == "ml"
    assert ctx.query("serviceAccountName") == "trainer"
    assert ctx.query("serviceAccountNamespace") == "ml"
    assert ctx.query("request.roles") == ["ml:r"]


def test_no_user_info_means_no_user_variables():
    ctx = build_context(POD, None, "CREATE", None, None)
    with pytest.raises(NotFoundError):
        ctx.query("serviceAccountName")


def test_variable_entries():
    ctx = ctx_with([{"name": "a", "variable": {"value": {"x": 1}}},
                    {"name": "b", "variable": {"jmesPath": "request.object.metadata.name"}},
                    {"name": "c", "variable": {"jmesPath": "request.object.metadata.nope", "default": "d"}},
                    {"name": "d", "variable": {"value": {"k": "{{ b }}"}, "jmesPath": "k"}}])
    assert ctx.query("a.x") == 1
    assert ctx.query("b") == "p"
    assert ctx.query("c") == "d"
    assert ctx.query("d") == "p"


def test_entries_load_lazily_and_failures_leave_the_name_undefined():
    ctx = ctx_with([{"name": "bad", "variable": {"jmesPath": "request.object.nope"}},
                    {"name": "good", "variable": {"value": 1}}])
    assert ctx.query("good") == 1  # the failing entry was never evaluated
    with pytest.raises(NotFoundError):
        ctx.query("bad")


def test_later_entry_with_same_name_replaces():
    ctx = ctx_with([{"name": "o", "variable": {"value": {"a": 1}}},
                    {"name": "o", "variable": {"value": {"b": 2}}}])
    assert ctx.query("o") == {"b": 2}


def test_values_file_variables_use_dotted_keys_and_merge():
    ctx = ctx_with([], variables={"request.object.spec.serviceAccountName": "sa", "cm.data.k": "v"})
    assert ctx.query("request.object.spec.serviceAccountName") == "sa"
    assert ctx.query("request.object.metadata.name") == "p"
    assert ctx.query("cm.data.k") == "v"


def test_api_call_without_cluster_is_skipped_and_explained():
    ctx = ctx_with([{"name": "count", "apiCall": {"urlPath": "/api/v1/pods", "jmesPath": "length(items)"}}])
    with pytest.raises(JMESPathError, match="needs cluster access"):
        ctx.query("count")


def test_api_call_values_fill_the_gap():
    ctx = ctx_with([{"name": "count", "apiCall": {"urlPath": "/api/v1/pods"}}], variables={"count": 3})
    assert ctx.query("count") == 3


def test_service_calls_need_network():
    ctx = ctx_with([{"name": "r", "apiCall": {"service": {"url": "https://x"}}}])
    with pytest.raises(JMESPathError, match="requires network"):
        ctx.query("r")


def test_api_call_answered_from_resources():
    pods = [dict(POD, metadata={"name": "a", "namespace": "ml", "labels": {"x": "1"}}),
            dict(POD, metadata={"name": "b", "namespace": "ml"})]
    sources = Sources(get_resource=lambda av, pl, ns, n: next((p for p in pods if p["metadata"]["name"] == n), None),
                      list_resources=lambda av, pl, ns: pods)
    ctx = ctx_with([{"name": "n", "apiCall": {"urlPath": "/api/v1/namespaces/ml/pods", "jmesPath": "length(items)"}},
                    {"name": "one", "apiCall": {"urlPath": "/api/v1/namespaces/ml/pods/a"}},
                    {"name": "cm", "configMap": {"name": "a", "namespace": "ml"}}], sources)
    assert ctx.query("n") == 2
    assert ctx.query("one.metadata.name") == "a"
    assert ctx.query("cm.metadata.name") == "a"
    assert api_get("/api/v1/pods?labelSelector=x%3D1", sources)["items"][0]["metadata"]["name"] == "a"


def test_image_registry_needs_registry_access():
    ctx = ctx_with([{"name": "img", "imageRegistry": {"reference": "nginx"}}])
    with pytest.raises(JMESPathError, match="registry access"):
        ctx.query("img")
    ctx = ctx_with([{"name": "img", "imageRegistry": {"reference": "nginx", "jmesPath": "configData.user"}}],
                   Sources(image_data={"nginx": {"configData": {"user": "root"}}}))
    assert ctx.query("img") == "root"


def test_global_reference():
    ctx = ctx_with([{"name": "g", "globalReference": {"name": "gpus", "jmesPath": "[0]"}}],
                   Sources(global_context={"gpus": ["a100"]}))
    assert ctx.query("g") == "a100"


def test_child_contexts_do_not_leak():
    base = Context({"a": 1})
    child = base.child()
    child.add(["b"], 2)
    assert base.data == {"a": 1} and child.data == {"a": 1, "b": 2}


def test_merge_shares_unchanged_subtrees():
    big = {"x": 1}
    out = merge({"a": big, "b": {"c": 1}}, {"b": {"d": 2}})
    assert out["a"] is big and out["b"] == {"c": 1, "d": 2}
