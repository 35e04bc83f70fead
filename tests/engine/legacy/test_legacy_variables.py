"""{{ }} variable substitution."""

import pytest

from gpulint.engine.legacy.context import Context
from gpulint.engine.legacy.variables import SubstitutionError, substitute_all

CTX = Context({"request": {"object": {"metadata": {"name": "web", "labels": {"app": "dcgm", "key": "app"}},
                                      "spec": {"replicas": 2.0, "gpus": 8}},
                           "operation": "CREATE"},
               "list": [1, "a"], "obj": {"b": 1, "a": "<"}, "nested": "{{ request.object.metadata.name }}"})


def sub(doc):
    return substitute_all(CTX, doc)


def test_whole_value_keeps_type():
    assert sub("{{ request.object.spec.replicas }}") == 2.0
    assert sub("{{ list }}") == [1, "a"]
    assert sub("{{request.object.metadata.labels}}") == {"app": "dcgm", "key": "app"}


def test_interpolation_formats_like_go():
    assert sub("n={{ request.object.spec.replicas }}") == "n=2"
    assert sub("x {{ list }}") == 'x [1,"a"]'
    assert sub("x {{ obj }}") == 'x {"a":"\\u003c","b":1}'
    assert sub("a {{ request.object.metadata.name }} b {{ request.object.spec.gpus }}") == "a web b 8"


def test_nested_variables_resolve_inside_out():
    assert sub("{{ request.object.metadata.labels.{{ request.object.metadata.labels.key }} }}") == "dcgm"


def test_spliced_values_are_rescanned():
    assert sub("x {{ nested }}") == "x web"


def test_whole_value_is_returned_without_rescan():
    assert sub("{{ nested }}") == "{{ request.object.metadata.name }}"


def test_shallow_substitution_is_not_rescanned():
    assert sub("x {{- nested }}") == "x {{ request.object.metadata.name }}"


def test_escaped_variables_are_left_alone():
    assert sub("\\{{ request.object.metadata.name }}") == "{{ request.object.metadata.name }}"


def test_keys_are_substituted():
    assert sub({"{{ request.object.metadata.name }}": 1}) == {"web": 1}


def test_missing_key_is_an_error():
    with pytest.raises(SubstitutionError) as exc:
        sub("{{ request.object.metadata.annotations.x }}")
    assert exc.value.not_found


def test_or_guard_swallows_missing_key():
    assert sub("{{ request.object.metadata.annotations.x || 'none' }}") == "none"


def test_delete_requests_read_old_object():
    ctx = Context({"request": {"oldObject": {"metadata": {"name": "old"}}, "operation": "DELETE"}},
                  is_delete=True)
    assert substitute_all(ctx, "{{ request.object.metadata.name }}") == "old"


def test_references_resolve_other_pattern_values():
    doc = {"spec": {"containers": [{"resources": {"requests": {"memory": "$(<=./../../limits/memory)"},
                                                  "limits": {"memory": "2Gi"}}}]}}
    out = substitute_all(CTX, doc)
    assert out["spec"]["containers"][0]["resources"]["requests"]["memory"] == "<=2Gi"
