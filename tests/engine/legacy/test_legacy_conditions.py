"""Preconditions / deny conditions and their operators."""

import pytest

from gpulint.engine.legacy.conditions import ConditionError, check_preconditions, evaluate
from gpulint.engine.legacy.context import Context


def ev(key, op, value):
    return evaluate({"key": key, "operator": op, "value": value})[0]


@pytest.mark.parametrize("key,value,expected", [
    ("3", 3, False), (3, "3", True),            # asymmetric (fact sheet §12.6)
    (3.0, 3, True), (True, True, True), (True, "true", False),
    ("gpu-a100", "gpu-*", True),                # the value is the wildcard pattern
    ("gpu-*", "gpu-a100", False),
    ("1Gi", "1024Mi", True),                    # quantities
    ("1h", "60m", True), ("60", "1m", False),   # durations; "60" is a quantity, not seconds
    ("1m", 60, True),                           # duration vs number of seconds
    ({"a": 1}, {"a": 1}, True), ([1, 2], [1, 2], True), ([1, 2], [2, 1], False),
    (None, None, False),
])
def test_equals(key, value, expected):
    assert ev(key, "Equals", value) is expected
    assert ev(key, "NotEquals", value) is (not expected)


def test_operator_names_are_case_insensitive_for_lookup():
    assert ev("a", "equals", "a") is True


def test_numeric_operators_compare_the_name_case_sensitively():
    assert ev(5, "GreaterThan", 3) is True
    assert ev(5, "greaterthan", 3) is False


@pytest.mark.parametrize("key,op,value,expected", [
    (5, "GreaterThan", 3, True), ("5", "GreaterThan", "3", True), ("2Gi", "GreaterThan", "1Gi", True),
    ("500m", "LessThan", "1", True), ("1h", "GreaterThan", "30m", True), (90, "GreaterThan", "1m", True),
    ("1.10.0", "GreaterThan", "1.9.0", True), ("abc", "GreaterThan", "1", False),
    (3, "LessThanOrEquals", 3.0, True), (3, "GreaterThanOrEquals", "x", False),
    ("1h", "DurationGreaterThan", "30m", True), (30, "DurationLessThan", "1m", True),
    ("x", "DurationLessThan", "1m", False),
])
def test_numeric_and_duration(key, op, value, expected):
    assert ev(key, op, value) is expected


@pytest.mark.parametrize("key,op,value,expected", [
    ("a", "AnyIn", ["a", "b"], True), ("c", "AnyIn", ["a", "b"], False),
    ("a", "AnyIn", ["a*"], True), ("a*", "AnyIn", ["abc"], True),   # wildcards both ways
    (["a", "c"], "AnyIn", ["a", "b"], True), (["a", "c"], "AllIn", ["a", "b"], False),
    (["a", "b"], "AllIn", ["a", "b", "c"], True),
    (["a", "c"], "AnyNotIn", ["a", "b"], True), (["a", "b"], "AnyNotIn", ["a", "b"], False),
    (["c", "d"], "AllNotIn", ["a", "b"], True), (["a", "d"], "AllNotIn", ["a", "b"], False),
    ("a", "AnyIn", '["a", "b"]', True),          # JSON array string
    ("a", "AnyIn", "a", True),                  # single string
    ("5", "AnyIn", "1-10", True), ("15", "AnyIn", "1-10", False),   # ranges
    ("15", "AnyNotIn", "1-10", True),
    (5, "AnyIn", [5, 6], True),                 # numbers compared through %v
    (1000000.0, "AnyIn", ["1e+06"], True),
    (5, "AnyIn", 5, False),                     # scalar key vs number value
    ([5], "AnyIn", 5, True),
    ("a", "In", ["a"], True), (["a", "b"], "In", ["a", "b", "c"], True),
    (["a", "z"], "NotIn", ["a", "b"], True),
    ("A=*", "AnyNotIn", ["A=ATest", "B=BTest"], False),
])
def test_membership(key, op, value, expected):
    assert ev(key, op, value) is expected


CTX = Context({"request": {"object": {"metadata": {"name": "web", "labels": {}}}}})


def test_any_all_blocks_and_messages():
    conds = {"any": [{"key": 1, "operator": "Equals", "value": 2, "message": "m1"},
                     {"key": 1, "operator": "Equals", "value": 1, "message": "m2"}],
             "all": [{"key": 1, "operator": "Equals", "value": 1, "message": "m3"}]}
    assert check_preconditions(CTX, conds) == (True, "m2; m3")
    conds["all"][0]["value"] = 5
    assert check_preconditions(CTX, conds) == (False, "m1; m3")


def test_empty_any_is_false_for_rules_and_true_for_exceptions():
    assert check_preconditions(CTX, {"any": []})[0] is False
    assert check_preconditions(CTX, {"any": []}, exception=True)[0] is True


def test_legacy_list_is_and():
    conds = [{"key": 1, "operator": "Equals", "value": 1}, {"key": 1, "operator": "Equals", "value": 2}]
    assert check_preconditions(CTX, conds)[0] is False


def test_missing_key_is_an_error_unless_guarded():
    with pytest.raises(ConditionError, match="Unknown key"):
        check_preconditions(CTX, {"all": [{"key": "{{ request.object.metadata.labels.app }}",
                                           "operator": "Equals", "value": "x"}]})
    ok, _ = check_preconditions(CTX, {"all": [{"key": "{{ request.object.metadata.labels.app || '' }}",
                                               "operator": "Equals", "value": ""}]})
    assert ok


def test_whole_document_is_substituted_before_any_short_circuit():
    conds = {"any": [{"key": 1, "operator": "Equals", "value": 1},
                     {"key": "{{ request.object.nope }}", "operator": "Equals", "value": 1}]}
    with pytest.raises(ConditionError):
        check_preconditions(CTX, conds)


def test_unknown_operator_is_an_error():
    with pytest.raises(ConditionError):
        check_preconditions(CTX, [{"key": 1, "operator": "Bogus", "value": 1}])
