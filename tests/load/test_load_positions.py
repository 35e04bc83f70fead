"""Lazy positions: keys, list items, nesting, flow style, JSON, aliases, document offsets."""

from __future__ import annotations

from gpulint.load import Position, load_text
from gpulint.load.model import SourceDocument

POD = (
    "# header comment\n"                                          # 1
    "---\n"                                                       # 2
    "apiVersion: v1\n"                                            # 3
    "kind: Pod\n"                                                 # 4
    "metadata:\n"                                                 # 5
    "  name: trainer\n"                                           # 6
    "spec:\n"                                                     # 7
    "  containers:\n"                                             # 8
    "  - name: main\n"                                            # 9
    "    image: nvcr.io/nvidia/pytorch:24.01-py3\n"               # 10
    "    resources:\n"                                            # 11
    "      limits: {nvidia.com/gpu: 8, memory: 64Gi}\n"           # 12
    "  - name: sidecar\n"                                         # 13
    "    securityContext:\n"                                      # 14
    "      privileged: true\n"                                    # 15
    "    env:\n"                                                  # 16
    "      - name: NCCL_DEBUG\n"                                  # 17
    "        value: INFO\n"                                       # 18
    "    args: [\"--port\", \"8080\"]\n"                          # 19
    "    command:\n"                                              # 20
    "    - sh\n"                                                  # 21
    "    - -c\n"                                                  # 22
)


def pod():
    result = load_text(POD, "pod.yaml")
    assert result.errors == []
    return result.resources[0]


def test_mapping_keys():
    p = pod()
    assert p.locate(("metadata",)) == Position(5, 1)
    assert p.locate(("metadata", "name")) == Position(6, 3)
    assert p.locate(("spec", "containers")) == Position(8, 3)
    assert p.locate(("spec", "containers", 0, "image")) == Position(10, 5)
    assert p.locate(("spec", "containers", 1, "securityContext")) == Position(14, 5)
    assert p.locate(("spec", "containers", 1, "securityContext", "privileged")) == Position(15, 7)
    assert p.locate(("spec", "containers", 1, "env", 0, "value")) == Position(18, 9)


def test_list_items_point_at_the_item():
    p = pod()
    assert p.locate(("spec", "containers", 0)) == Position(9, 5)
    assert p.locate(("spec", "containers", 1)) == Position(13, 5)
    assert p.locate(("spec", "containers", 1, "env", 0)) == Position(17, 9)
    assert p.locate(("spec", "containers", 1, "command", 1)) == Position(22, 7)


def test_flow_style():
    p = pod()
    assert p.locate(("spec", "containers", 0, "resources", "limits")) == Position(12, 7)
    assert p.locate(("spec", "containers", 0, "resources", "limits", "nvidia.com/gpu")) == Position(12, 16)
    assert p.locate(("spec", "containers", 0, "resources", "limits", "memory")) == Position(12, 35)
    assert p.locate(("spec", "containers", 1, "args", 1)) == Position(19, 22)


def test_missing_paths_give_the_deepest_existing_node():
    p = pod()
    assert p.locate(()) == Position(3, 1)
    assert p.locate(("spec", "containers", 0, "securityContext", "privileged")) == Position(9, 5)
    assert p.locate(("spec", "containers", 7, "image")) == Position(8, 3)
    assert p.locate(("spec", "volumes")) == Position(7, 1)
    assert p.locate(("spec", "containers", "0")) == Position(8, 3)
    assert p.locate(("metadata", "name", "deeper")) == Position(6, 3)


def test_positions_in_later_documents_are_file_lines():
    text = POD + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n"
    result = load_text(text, "two.yaml")
    assert result.resources[1].locate(("metadata", "name")) == Position(27, 3)


def test_non_string_keys_match_the_loaded_keys():
    text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  1: one\n  true: yes\n  0x10: hex\n"
    resource = load_text(text, "c.yaml").resources[0]
    assert resource.obj["data"] == {"1": "one", "true": True, "16": "hex"}
    assert resource.locate(("data", "16")) == Position(6, 3)
    assert resource.locate(("data", "true")) == Position(5, 3)


def test_duplicate_keys_point_at_the_last_one():
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n"
    resource = load_text(text, "d.yaml").resources[0]
    assert resource.name == "b"
    assert resource.locate(("metadata", "name")) == Position(5, 3)


def test_aliases_and_merge_keys():
    text = (
        "apiVersion: v1\n"            # 1
        "kind: ConfigMap\n"           # 2
        "base: &base\n"               # 3
        "  image: x\n"                # 4
        "  pull: Always\n"            # 5
        "data:\n"                     # 6
        "  <<: *base\n"               # 7
        "  pull: Never\n"             # 8
        "copy: *base\n"               # 9
    )
    resource = load_text(text, "a.yaml").resources[0]
    assert resource.obj["data"] == {"image": "x", "pull": "Never"}
    assert resource.locate(("data", "image")) == Position(4, 3)
    assert resource.locate(("data", "pull")) == Position(8, 3)
    assert resource.locate(("copy", "pull")) == Position(5, 3)


def test_json_positions():
    text = (
        "{\n"                                                          # 1
        '  "apiVersion": "v1",\n'                                      # 2
        '  "kind": "Pod",\n'                                           # 3
        '  "spec": {\n'                                                # 4
        '\t"containers": [\n'                                          # 5
        '\t\t{"name": "a", "image": "i:1"},\n'                         # 6
        '\t\t{"name": "b", "args": ["x", "y\\"z"], "env": []}\n'       # 7
        "\t]\n"                                                        # 8
        "  }\n"                                                        # 9
        "}\n"
    )
    resource = load_text(text, "p.json").resources[0]
    assert resource.source.is_json
    assert resource.locate(()) == Position(1, 1)
    assert resource.locate(("kind",)) == Position(3, 3)
    assert resource.locate(("spec", "containers")) == Position(5, 2)
    assert resource.locate(("spec", "containers", 0, "image")) == Position(6, 17)
    assert resource.locate(("spec", "containers", 1)) == Position(7, 3)
    assert resource.locate(("spec", "containers", 1, "args", 1)) == Position(7, 31)
    assert resource.locate(("spec", "containers", 1, "env")) == Position(7, 40)
    assert resource.locate(("spec", "containers", 1, "env", 0)) == Position(7, 40)


def test_json_document_not_on_the_first_line():
    resource = load_text('\n\n  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}', "p.json").resources[0]
    assert resource.source.line == 3
    assert resource.locate(("metadata", "name")) == Position(3, 52)


def test_unicode_columns_count_characters():
    text = "apiVersion: v1\nkind: ConfigMap\ndata: {\"é€\": 1, b: 2}\n"
    assert load_text(text, "u.yaml").resources[0].locate(("data", "b")) == Position(3, 17)


def test_locator_is_cached_and_tolerates_unreadable_text():
    resource = pod()
    resource.locate(("spec",))
    locator = resource.source._locator
    resource.locate(("kind",))
    assert resource.source._locator is locator
    broken = SourceDocument("x.yaml", 0, 10, "a: [\n", is_json=False)
    assert broken.locate(("a",)) == Position(10, 1)
    broken_json = SourceDocument("x.json", 0, 4, "{'a': 1}", is_json=True)
    assert broken_json.locate(("a",)) == Position(4, 1)
