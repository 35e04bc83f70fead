"""validate.pattern matching, anchors and scalar operators."""

import pytest

from gpulint.engine.legacy.pattern import match_pattern, validate_value

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "labels": {"app.kubernetes.io/name": "dcgm"}},
    "spec": {
        "hostNetwork": False,
        "containers": [
            {"name": "gpu-a", "image": "nvcr.io/nvidia/cuda:12.2",
             "resources": {"limits": {"nvidia.com/gpu": 2.0, "memory": "8Gi"}},
             "securityContext": {"privileged": True}},
            {"name": "sidecar", "image": "busybox:latest"},
        ],
    },
}


def m(pattern, resource=POD):
    return match_pattern(resource, pattern)


# --- scalar operators ----------------------------------------------------------------------


@pytest.mark.parametrize("value,pattern,ok", [
    (2.0, "<=8", True), (9.0, "<=8", False), ("500m", "<1", True), ("2Gi", ">=1024Mi", True),
    ("1Gi", "1024Mi", True),                    # quantities compare numerically
    (None, "<10", True),                        # missing compares as 0
    (None, "!foo", False),                      # null never matches a string pattern
    (None, "?*", False), ("", "?*", False), ("x", "?*", True),
    ("latest", "!latest", False), ("1.2", "!latest", True),
    ("a", "a | b", True), ("c", "a | b", False), (5.0, ">1 & <10", True),
    (5.0, "1-10", True), (11.0, "1-10", False), (11.0, "1!-10", True), ("2Gi", "1Gi-4Gi", True),
    ("1h", ">30m", True), ("10m", "<5m", False),   # durations (and '5m' milli-quantities) agree here
    (True, True, True), ("true", True, False),    # bool patterns need bools
    (3.0, 3, True), ("3", 3, True), (3.5, 3, False),
    (1.5, "1.5E+00", True),                     # floats stringify in Go's %E form
    (8080.0, "80*", False), (8080, "80*", True),  # ... so wildcards only work on ints
    (None, None, True), (0.0, None, True), ("", None, True), (False, None, True), ({}, None, False),
    ({"a": 1}, {"x": 1}, True),                 # a map pattern reached as a scalar only checks type
    ("!", "!", True),                           # a lone '!' is a literal
])
def test_scalar_values(value, pattern, ok):
    assert validate_value(value, pattern) is ok


# --- structure and messages ----------------------------------------------------------------


def test_plain_mismatch_reports_path():
    err = m({"spec": {"containers": [{"securityContext": {"privileged": False}}]}})
    assert err is not None and not err.skip
    assert err.path == ("spec", "containers", 0, "securityContext", "privileged")
    assert err.path_str == "/spec/containers/0/securityContext/privileged/"


def test_star_requires_presence():
    assert m({"spec": {"containers": [{"image": "*"}]}}) is None
    err = m({"spec": {"containers": [{"securityContext": "*"}]}})
    assert err.path == ("spec", "containers", 1)  # the parent path, as Kyverno reports it


def test_array_pattern_uses_first_element_for_all():
    assert m({"spec": {"containers": [{"name": "*"}, {"name": "nomatch"}]}}) is None


def test_scalar_pattern_against_array():
    assert m({"spec": {"containers": [{"name": "?*"}]}}) is None
    assert match_pattern({"a": ["x", "y"]}, {"a": "x | y"}) is None
    assert match_pattern({"a": []}, {"a": "nothing"}) is None


def test_conditional_anchor_filters_elements():
    pattern = {"spec": {"containers": [{"(name)": "gpu-*", "resources": {"limits": {"nvidia.com/gpu": "<=8"}}}]}}
    assert m(pattern) is None
    pattern = {"spec": {"containers": [{"(name)": "gpu-*", "resources": {"limits": {"nvidia.com/gpu": "<=1"}}}]}}
    err = m(pattern)
    assert err.path == ("spec", "containers", 0, "resources", "limits", "nvidia.com/gpu")


def test_conditional_anchor_unmet_everywhere_is_skip():
    err = m({"spec": {"containers": [{"(name)": "tpu-*", "image": "x"}]}})
    assert err.skip and "conditional anchor mismatch" in err.message


def test_conditional_anchor_key_missing_is_skip():
    err = m({"spec": {"(runtimeClassName)": "nvidia", "hostNetwork": True}})
    assert err.skip


def test_mismatch_with_never_seen_anchor_key_is_an_error_without_path():
    # the anchor key `X(hostPID)` never appears in the resource → no path → rule error
    pattern = {"spec": {"X(hostPID)": "null", "hostNetwork": True}}
    err = m(pattern)
    assert not err.skip and err.path is None


def test_global_anchor_inside_array_only_drops_that_element():
    pattern = {"spec": {"containers": [{"<(image)": "nvcr.io/*", "securityContext": {"privileged": False}}]}}
    err = m(pattern)
    assert err is not None and not err.skip  # the nvcr.io container is still checked and fails
    pattern = {"spec": {"containers": [{"<(image)": "quay.io/*", "securityContext": {"privileged": False}}]}}
    assert m(pattern).skip


def test_equality_anchor():
    assert m({"spec": {"=(hostNetwork)": False}}) is None
    assert m({"spec": {"=(hostPID)": False}}) is None  # absent is fine
    assert m({"spec": {"=(hostNetwork)": True}}).path == ("spec", "hostNetwork")


def test_negation_anchor():
    err = m({"spec": {"X(hostNetwork)": "null"}})
    assert err.path == ("spec", "hostNetwork") and "negation anchor" in err.message
    assert m({"spec": {"X(hostPID)": "null"}}) is None


def test_existence_anchor():
    assert m({"spec": {"^(containers)": [{"name": "sidecar"}]}}) is None
    err = m({"spec": {"^(containers)": [{"name": "nope"}]}})
    assert err.path == ("spec", "containers")


def test_wildcard_label_keys_in_metadata():
    assert m({"metadata": {"labels": {"app.kubernetes.io/*": "dcgm"}}}) is None
    assert m({"metadata": {"labels": {"app.kubernetes.io/*": "other"}}}) is not None


def test_structure_mismatch():
    err = m({"spec": {"containers": {"name": "x"}}})
    assert err.path == ("spec", "containers")


def test_empty_array_pattern_fails():
    assert m({"spec": {"containers": []}}) is not None


def test_array_of_arrays_length_mismatch_is_error():
    err = match_pattern({"a": [[1]]}, {"a": [[1], [2]]})
    assert err.path is None
