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


# -- the event-based locator gives what composing the nodes gives -------------------------------------

def _composed_tree(text, part):
    """The former locator: libyaml's composer, then a walk over the nodes (the reference)."""
    from yaml.nodes import MappingNode, SequenceNode

    from gpulint.load import goyaml, yamlio
    from gpulint.load.limits import DocumentError

    def children_of(node, memo):
        if node.__class__ is not MappingNode and node.__class__ is not SequenceNode:
            return None
        if id(node) in memo:
            return memo[id(node)]
        if node.__class__ is SequenceNode:
            out = [(i.start_mark.line, i.start_mark.column, children_of(i, memo)) for i in node.value]
        else:
            out = {}
            for key_node, value_node in node.value:
                try:
                    name = goyaml.key_of(key_node)
                except DocumentError:
                    continue
                if name is goyaml.MERGE:
                    sources = reversed(value_node.value) if value_node.__class__ is SequenceNode else [value_node]
                    for source in sources:
                        merged = children_of(source, memo)
                        if isinstance(merged, dict):
                            out.update(merged)
                    continue
                out[name] = (key_node.start_mark.line, key_node.start_mark.column, children_of(value_node, memo))
        memo[id(node)] = out
        return out

    node = yamlio.compose_yaml(text)[part]
    return (node.start_mark.line, node.start_mark.column, children_of(node, {}))


TRICKY = [
    POD,
    "a: &x {b: 1, c: [1, 2]}\nd: *x\ne:\n  <<: *x\n  b: 2\n",
    "base: &b\n  x: 1\n  y: 2\nother: &o\n  z: 3\nm:\n  x: 0\n  <<: [*b, *o]\n  y: 9\n",
    "? [a, b]\n: 1\n? {k: v}\n: 2\nplain: 3\n'quoted': 4\n1: int\ntrue: bool\n~: null\n1.5: f\n",
    "!!str 1: a\n!custom k: b\n? |\n  block\n: c\nlist:\n- - nested\n  - [x, {y: z}]\n- &s scalar\n- *s\n",
    "---\nfirst: 1\n---\nsecond:\n  deep: {a: [1, {b: 2}]}\n...\n",
    "k: &a v\n*a : w\n<<: {m: 1}\n",
]


def test_event_locator_matches_composed_nodes():
    from gpulint.load.positions import _yaml_tree

    for text in TRICKY:
        import yaml
        documents = len(list(yaml.compose_all(text, Loader=yaml.SafeLoader)))
        for part in range(documents):
            assert _yaml_tree(text, part) == _composed_tree(text, part), (text, part)


def test_event_locator_matches_on_the_corpus():
    import pathlib

    import pytest

    from gpulint.load.documents import _chunks, _content_start
    from gpulint.load.positions import _yaml_tree

    corpus = pathlib.Path(__file__).resolve().parents[3] / "shared" / "corpus"
    files = sorted(corpus.rglob("*.yaml"))[:60] + sorted(pathlib.Path(__file__).resolve().parents[2].joinpath(
        "examples").glob("*.yaml"))
    if not files:
        pytest.skip("no corpus")
    checked = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for start, end in _chunks(text):
            content, _ = _content_start(text, start, end)
            chunk = text[content:end]
            try:
                expected = _composed_tree(chunk, 0)
            except Exception:  # noqa: BLE001 - not a document the loader would accept
                continue
            assert _yaml_tree(chunk, 0) == expected, (path, start)
            checked += 1
    assert checked > 20


def test_event_locator_matches_on_generated_yaml():
    import yaml
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from gpulint.load.positions import _yaml_tree

    scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "yes", "1.5", "<<", "~"]),
                        st.text(max_size=5))
    data = st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=4), st.integers(0, 3)), inner,
                                                     max_size=4)), max_leaves=20)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data, st.booleans(), st.booleans())
    def check(value, flow, share):
        doc = {"a": value, "b": value} if share and isinstance(value, (dict, list)) else value  # anchors/aliases
        text = yaml.safe_dump(doc, default_flow_style=flow)
        try:
            expected = _composed_tree(text, 0)
        except Exception:  # noqa: BLE001
            return
        assert _yaml_tree(text, 0) == expected

    check()
