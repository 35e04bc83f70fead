"""Documents to resources: multi-document YAML, JSON, lists, Helm sources, non-Kubernetes documents."""

from __future__ import annotations

import glob
import os

import pytest

from gpulint.load import LoadError, Position, load_paths, load_text, parse_documents

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared")


def names(result):
    return [(r.kind, r.name) for r in result.resources]


def test_multi_document_stream():
    text = (
        "# leading comment\n"          # 1
        "apiVersion: v1\n"             # 2
        "kind: ConfigMap\n"            # 3
        "metadata: {name: a}\n"        # 4
        "---\n"                        # 5
        "\n"                           # 6
        "apiVersion: v1\n"             # 7
        "kind: Pod\n"                  # 8
        "metadata:\n"                  # 9
        "  name: b\n"                  # 10
        "  namespace: ns\n"            # 11
        "--- # trailing comment\n"     # 12
        "apiVersion: apps/v1\n"        # 13
        "kind: Deployment\n"           # 14
        "metadata: {name: c}\n"        # 15
    )
    result = load_text(text, "m.yaml")
    assert result.errors == []
    assert names(result) == [("ConfigMap", "a"), ("Pod", "b"), ("Deployment", "c")]
    assert [r.source.line for r in result.resources] == [2, 7, 13]
    assert [r.source.index for r in result.resources] == [0, 1, 2]
    assert result.resources[1].display() == "Pod ns/b"
    assert result.resources[2].api_version == "apps/v1"
    assert result.files == ["m.yaml"]


def test_empty_and_null_documents_are_skipped():
    text = "---\n---\n# only a comment\n---\n~\n---\nnull\n...\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
    result = load_text(text, "m.yaml")
    assert result.errors == []
    assert names(result) == [("Pod", "p")]
    assert result.resources[0].source.line == 10


def test_document_end_marker_and_directives():
    text = (
        "%YAML 1.1\n"                   # 1
        "---\n"                         # 2
        "apiVersion: v1\n"              # 3
        "kind: Pod\n"                   # 4
        "metadata: {name: a}\n"         # 5
        "...\n"                         # 6
        "%YAML 1.1\n"                   # 7
        "--- !!map\n"                   # 8
        "apiVersion: v1\n"              # 9
        "kind: Pod\n"                   # 10
        "metadata: {name: b}\n"         # 11
    )
    result = load_text(text, "m.yaml")
    assert result.errors == []
    assert names(result) == [("Pod", "a"), ("Pod", "b")]
    assert [r.source.line for r in result.resources] == [1, 7]
    assert result.resources[1].locate(("metadata", "name")) == Position(11, 12)


def test_not_kubernetes_objects():
    text = (
        "replicaCount: 1\n"             # 1: helm values: skipped silently
        "image: {repository: x}\n"
        "---\n"
        "kind: Pod\n"                   # 4: kind without apiVersion
        "---\n"
        "apiVersion: v1\n"              # 6: apiVersion without kind
        "---\n"
        "apiVersion: v1\n"              # 8: kind is not a string
        "kind: [Pod]\n"
        "---\n"
        "- apiVersion: v1\n"            # 11: a list
        "  kind: Pod\n"
        "---\n"
        "just some text\n"              # 14: a string
        "---\n"
        "42\n"                          # 16: a number
        "---\n"
        "apiVersion: v1\n"              # 18: a real one still loads
        "kind: Pod\n"
        "metadata: {name: ok}\n"
    )
    result = load_text(text, "m.yaml")
    assert names(result) == [("Pod", "ok")]
    assert result.errors == [
        LoadError("m.yaml", 4, 1, "document 2 has kind Pod but no apiVersion, so it is not a Kubernetes object"),
        LoadError("m.yaml", 6, 1, "document 3 has apiVersion v1 but no kind, so it is not a Kubernetes object"),
        LoadError("m.yaml", 8, 1, "document 4 is not a Kubernetes object (kind and apiVersion must be strings)"),
        LoadError("m.yaml", 11, 1, "document 5 is a list, not a Kubernetes object"),
        LoadError("m.yaml", 14, 1, "document 6 is a string, not a Kubernetes object"),
        LoadError("m.yaml", 16, 1, "document 7 is a number, not a Kubernetes object"),
    ]


def test_kind_list():
    text = (
        "apiVersion: v1\n"              # 1
        "kind: List\n"                  # 2
        "items:\n"                      # 3
        "- apiVersion: v1\n"            # 4
        "  kind: Pod\n"                 # 5
        "  metadata: {name: a}\n"       # 6
        "- apiVersion: v1\n"            # 7
        "  kind: Service\n"             # 8
        "  metadata:\n"                 # 9
        "    name: b\n"                 # 10
        "- just-a-string\n"             # 11
    )
    result = load_text(text, "l.yaml")
    assert names(result) == [("Pod", "a"), ("Service", "b")]
    assert [r.path_in_document for r in result.resources] == [("items", 0), ("items", 1)]
    assert result.resources[1].locate(("metadata", "name")) == Position(10, 5)
    assert result.resources[1].locate() == Position(7, 3)
    assert result.errors == [LoadError("l.yaml", 11, 3, "item 3 of document 1 is a string, not a Kubernetes object")]


def test_typed_list_items_inherit_kind_and_api_version():
    text = "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n- kind: Pod\n  apiVersion: v1\n  metadata: {name: b}\n"
    result = load_text(text, "l.yaml")
    assert result.errors == []
    assert [(r.api_version, r.kind, r.name) for r in result.resources] == [("v1", "Pod", "a"), ("v1", "Pod", "b")]


def test_kind_ending_in_list_without_items_is_an_object():
    result = load_text("apiVersion: example.com/v1\nkind: AccessList\nspec: {}\n", "a.yaml")
    assert names(result) == [("AccessList", "")]
    assert result.resources[0].path_in_document == ()


def test_empty_list():
    assert load_text("apiVersion: v1\nkind: List\nitems: []\n", "l.yaml").resources == []
    assert load_text("apiVersion: v1\nkind: List\n", "l.yaml").errors == []


def test_json_object_list_and_array():
    single = load_text('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}', "p.json")
    assert names(single) == [("Pod", "a")] and single.resources[0].source.is_json
    lst = load_text('{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod"}]}', "l.json")
    assert lst.resources[0].path_in_document == ("items", 0)
    array = load_text('[\n {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}},\n'
                      ' {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"}},\n 7\n]\n', "a.json")
    assert names(array) == [("Pod", "a"), ("Pod", "b")]
    assert [r.path_in_document for r in array.resources] == [(0,), (1,)]
    assert array.resources[1].locate(("metadata", "name")) == Position(3, 51)
    assert array.errors == [LoadError("a.json", 4, 2, "item 3 of document 1 is a number, not a Kubernetes object")]


def test_json_content_in_a_yaml_file_and_empty_json():
    result = load_text('{"apiVersion": "v1", "kind": "Pod"}\n', "p.yaml")
    assert names(result) == [("Pod", "")]
    assert load_text("  \n", "e.json").errors == [] and load_text("", "e.yaml").resources == []


def test_helm_source_comments():
    text = (
        "---\n"
        "# Source: nim-llm/templates/configmap.yaml\n"
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata: {name: a}\n"
        "---\n"
        "# Source: nim-llm/templates/statefulset.yaml\n"
        "# another comment\n"
        "apiVersion: apps/v1\n"
        "kind: StatefulSet\n"
        "metadata: {name: b}\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata: {name: c}\n"
    )
    result = load_text(text, "out.yaml")
    assert [r.template for r in result.resources] == [
        "nim-llm/templates/configmap.yaml", "nim-llm/templates/statefulset.yaml", None]
    assert [r.source.line for r in result.resources] == [3, 9, 13]


@pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED, "corpus", "helm-rendered")),
                    reason="../shared/corpus is not present")
def test_helm_rendered_corpus_records_templates():
    files = sorted(glob.glob(os.path.join(SHARED, "corpus", "helm-rendered", "*.yaml")))
    result = load_paths(files)
    assert len(result.files) == len(files) >= 10
    assert result.resources and all(r.template for r in result.resources)
    nim = [r for r in result.resources if r.file.endswith("/nim-llm.yaml")]
    assert ("nim-llm/templates/deployment.yaml", "StatefulSet") in {(r.template, r.kind) for r in nim}
    first = nim[0]
    assert (first.template, first.kind, first.source.line) == ("nim-llm/templates/configmap.yaml", "ConfigMap", 3)


def test_parse_documents_keeps_any_data():
    documents, errors = parse_documents("a: 1\n---\n- x\n---\n\n---\nb: [yes, 0x10]\n", "policy.yaml")
    assert errors == []
    assert [value for _, value in documents] == [{"a": 1}, ["x"], {"b": [True, 16]}]
    assert [doc.line for doc, _ in documents] == [1, 3, 7]
    assert documents[2][0].locate(("b", 1)) == Position(7, 10)


def test_placeholders_are_strings():
    text = "apiVersion: v1\nkind: Pod\nspec:\n  replicas: $NUM_NODES\n  image: <your-image>\n  x: ${IMAGE_URI}\n"
    spec = load_text(text, "p.yaml").resources[0].obj["spec"]
    assert spec == {"replicas": "$NUM_NODES", "image": "<your-image>", "x": "${IMAGE_URI}"}


def test_read_yaml_documents(tmp_path):
    from gpulint.load import read_yaml_documents

    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nspec:\n  rules:\n  - name: r\n"
                      "---\nbad: [\n---\n- just: a list\n")
    documents, errors = read_yaml_documents(str(policy))
    assert [value for _, value in documents] == [
        {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "spec": {"rules": [{"name": "r"}]}},
        [{"just": "a list"}]]
    assert documents[0][0].locate(("spec", "rules", 0, "name")) == Position(5, 5)
    assert [(e.line, e.column) for e in errors] == [(8, 1)]
    (tmp_path / "values.json").write_text('{"a": [1, 2]}')
    documents, errors = read_yaml_documents(str(tmp_path / "values.json"))
    assert errors == [] and documents[0][0].is_json and documents[0][1] == {"a": [1, 2]}
    assert documents[0][0].locate(("a", 1)) == Position(1, 11)
    assert read_yaml_documents(str(tmp_path / "missing.yaml")) == (
        [], [LoadError(str(tmp_path / "missing.yaml"), 1, 1, "no such file or directory")])
