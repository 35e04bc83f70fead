"""Property tests: no input makes the load stage raise; JSON-compatible data reads back unchanged."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpulint.load import LoadResult, load_text
from gpulint.load.documents import TextError, decode

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

YAMLISH = st.lists(st.sampled_from(list("ab:-?[]{},&*!|>'\"#%@`\t\n \\.0123456789yn~<=") + ["---\n", "...\n", "<<"])).map("".join)
CHARS = st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs", "Cc"))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(CHARS, max_size=20))
JSONISH = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(CHARS, max_size=8), children, max_size=4)), max_leaves=25)


def check(result: LoadResult) -> None:
    assert isinstance(result, LoadResult)
    for error in result.errors:
        assert error.line >= 1 and error.column >= 1
        assert "\n" not in str(error)
    for resource in result.resources:
        assert isinstance(resource.obj, dict)
        resource.locate(("metadata", "name"))
        resource.locate(("spec", 0, "x"))


@SETTINGS
@given(st.text())
def test_any_text(text):
    check(load_text(text, "any.yaml"))
    check(load_text(text, "any.json"))


@SETTINGS
@given(YAMLISH)
def test_yaml_like_text(text):
    check(load_text(text, "y.yaml"))
    check(load_text("apiVersion: v1\nkind: Pod\nspec:\n  " + text.replace("\n", "\n  "), "p.yaml"))


@SETTINGS
@given(st.binary(max_size=200))
def test_any_bytes(data):
    try:
        text = decode(data)
    except TextError as error:
        assert error.line >= 1 and error.column >= 1
    else:
        check(load_text(text, "b.yaml"))


@SETTINGS
@given(JSONISH, st.sampled_from(["block", "flow", "json"]))
def test_dumped_structures(data, style):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "data": data}
    if style == "json":
        text = json.dumps(obj, indent=1)
    else:
        text = yaml.safe_dump(obj, default_flow_style=style == "flow", allow_unicode=True)
    result = load_text(text, "d.yaml")
    check(result)
    assert result.errors == [] and len(result.resources) == 1
    if style == "json":  # JSON text is YAML: every value comes back as it was (quoted strings, int64 ints)
        assert result.resources[0].obj == obj


@SETTINGS
@given(JSONISH)
def test_json_files(data):
    text = json.dumps([{"apiVersion": "v1", "kind": "ConfigMap", "data": data}, data])
    result = load_text(text, "d.json")
    check(result)
    assert result.resources[0].obj["data"] == data
