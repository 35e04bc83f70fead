"""Preconditions, deny conditions and exception conditions (kyverno: pkg/engine/variables/
evaluate.go, pkg/engine/variables/operator/*.go, pkg/engine/internal/precondition.go).

The whole conditions document is variable-substituted first (one unresolvable variable anywhere
is an error, even in a branch `any` would not reach), then evaluated.
"""

from __future__ import annotations

import json

from gpulint.engine.legacy.goutil import (
    format_value_v, is_number, parse_duration, parse_quantity, wildcard_match)
from gpulint.engine.legacy.jmespath_funcs import _semver, _semver_cmp
from gpulint.engine.legacy.pattern import _RANGE, go_parse_float, validate_value
from gpulint.engine.legacy.variables import SubstitutionError, substitute_all


class ConditionError(Exception):
    pass


def check_preconditions(ctx, conditions, *, deny: bool = False, exception: bool = False):
    """(passed, message). Raises ConditionError with Kyverno's wording on errors."""
    if conditions is None:
        return True, ""
    try:
        doc = substitute_all(ctx, conditions)
    except SubstitutionError as exc:
        what = "deny conditions" if deny else "preconditions"
        raise ConditionError(f"failed to substitute variables in {what}: {exc}") from None
    return evaluate_conditions(doc, exception=exception)


def evaluate_conditions(doc, exception: bool = False):
    if isinstance(doc, list):
        true_msgs = []
        for cond in doc:
            ok, msg = evaluate(cond)
            if not ok:
                return False, msg
            true_msgs.append(msg)
        return True, ";".join(m for m in true_msgs if m)
    if isinstance(doc, dict):
        return _any_all(doc, exception)
    raise ConditionError("invalid condition")


def _any_all(doc: dict, exception: bool):
    any_conds, all_conds = doc.get("any"), doc.get("all")
    true_msgs, false_msgs = [], []
    any_ok = all_ok = True
    if any_conds is not None:
        if not isinstance(any_conds, list):
            raise ConditionError("invalid condition")
        # an empty `any` is false for rules but true for PolicyException conditions
        any_ok = exception and not any_conds
        for cond in any_conds:
            ok, msg = evaluate(cond)
            if ok:
                any_ok = True
                true_msgs.append(msg)
                break
            false_msgs.append(msg)
    for cond in all_conds or []:
        ok, msg = evaluate(cond)
        if not ok:
            all_ok = False
            false_msgs.append(msg)
            break
        true_msgs.append(msg)
    if any_ok and all_ok:
        return True, "; ".join(m for m in true_msgs if m)
    return False, "; ".join(m for m in false_msgs if m)


def evaluate(cond) -> tuple[bool, str]:
    if not isinstance(cond, dict):
        raise ConditionError("invalid condition")
    op = cond.get("operator")
    message = cond.get("message") or ""
    handler = _HANDLERS.get(str(op).lower()) if isinstance(op, str) else None
    if handler is None:
        raise ConditionError(f"failed to create handler for condition operator: {op}")
    return bool(handler(cond.get("key"), cond.get("value"), op)), str(message)


# ---------------------------------------------------------------------------------------------
# Equals


def _durations(key, value):
    """Both as seconds when at least one is a duration string and the other a duration or a
    number (seconds); None otherwise."""
    def as_duration(x):
        if isinstance(x, str) and x != "0":
            ns = parse_duration(x)
            return None if ns is None else ns / 1e9
        return None

    kd, vd = as_duration(key), as_duration(value)
    if kd is None and vd is None:
        return None
    if kd is None:
        if not is_number(key):
            return None
        kd = float(key)
    if vd is None:
        if not is_number(value):
            return None
        vd = float(value)
    return kd, vd


def equals(key, value, _op=None) -> bool:
    if isinstance(key, bool):
        return isinstance(value, bool) and key == value
    if is_number(key):
        if isinstance(value, bool):
            return False
        if isinstance(value, float):
            return float(key) == value
        if isinstance(value, int):
            return key == int(key) and int(key) == value
        if isinstance(value, str):
            f = go_parse_float(value)
            return f is not None and f == key
        return False
    if isinstance(key, str):
        d = _durations(key, value)
        if d is not None:
            return d[0] == d[1]
        kq = parse_quantity(key)
        if kq is not None and isinstance(value, str):
            vq = parse_quantity(value)
            return vq is not None and kq.cmp(vq) == 0
        if isinstance(value, str):
            return wildcard_match(value, key)
        return False
    if isinstance(key, (dict, list)):
        return type(value) is type(key) and _deep_equal(key, value)
    return False


def _deep_equal(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if is_number(a) and is_number(b):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def not_equals(key, value, _op=None) -> bool:
    return not equals(key, value)


# ---------------------------------------------------------------------------------------------
# In / AnyIn / AllIn / NotIn / AnyNotIn / AllNotIn


def _v(x) -> str:
    return format_value_v(float(x) if isinstance(x, int) and not isinstance(x, bool) else x)


def _both_ways(a: str, b: str) -> bool:
    return wildcard_match(a, b) or wildcard_match(b, a)


def _string_members(value: str):
    """Members of a string value: a JSON array of strings, or the string itself; None if the
    string is JSON but not an array of strings."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return [value]
    if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
        return parsed
    return None


def _is_range(value) -> bool:
    return isinstance(value, str) and _RANGE.match(value) is not None and "!-" not in value


def _scalar_in(key: str, value, ranges: bool = True):
    """True/False whether a scalar key is in value; None for an unsupported value type."""
    if isinstance(value, list):
        return any(_both_ways(_v(v), key) for v in value)
    if isinstance(value, str):
        if wildcard_match(value, key):
            return True
        if ranges and _is_range(value):
            return validate_value(key, value)
        members = _string_members(value)
        if members is None:
            return None
        return key in members
    return None


def _set_members(value):
    if isinstance(value, list):
        return [_v(v) for v in value]
    if isinstance(value, str):
        return _string_members(value)
    if is_number(value) or isinstance(value, bool):
        return [_v(value)]
    return None


def _membership(mode: str, key, value, *, ranges: bool = True) -> bool:
    """mode: any_in, all_in, any_not_in, all_not_in."""
    if isinstance(key, (str, int, float, bool)) and key is not None:
        k = key if isinstance(key, str) else _v(key)
        if mode in ("any_not_in", "all_not_in") and ranges and _is_range(value):
            return validate_value(k, value.replace("-", "!-", 1))
        found = _scalar_in(k, value, ranges)
        if found is None:
            return False
        return found if mode in ("any_in", "all_in") else not found
    if not isinstance(key, list):
        return False
    keys = [_v(k) for k in key]
    if isinstance(value, str):
        if len(keys) == 1 and keys[0] == value:
            return mode in ("any_in", "all_in")
        if ranges and _is_range(value):
            if mode == "any_in":
                return any(validate_value(k, value) for k in keys)
            if mode == "all_in":
                return all(validate_value(k, value) for k in keys)
            neg = value.replace("-", "!-", 1)
            if mode == "any_not_in":
                return any(validate_value(k, neg) for k in keys)
            return all(validate_value(k, neg) for k in keys)
    members = _set_members(value)
    if members is None:
        return False
    hits = [any(_both_ways(k, m) for m in members) for k in keys]
    if mode == "any_in":
        return any(hits)
    if mode == "all_in":
        return all(hits)
    if mode == "any_not_in":
        return not all(hits)
    return not any(hits)


def _legacy_in(key, value, negate: bool) -> bool:
    if isinstance(key, list):
        members = _set_members(value)
        if members is None or not all(isinstance(k, str) for k in key):
            return False
        contained = all(k in members for k in key)
        return not contained if negate else contained
    return _membership("any_not_in" if negate else "any_in", key, value, ranges=False)


# ---------------------------------------------------------------------------------------------
# numeric and duration comparisons

_NUMERIC = {"GreaterThanOrEquals": lambda c: c >= 0, "GreaterThan": lambda c: c > 0,
            "LessThanOrEquals": lambda c: c <= 0, "LessThan": lambda c: c < 0}


def _by_condition(a: float, b: float, op: str) -> bool:
    check = _NUMERIC.get(op)  # Kyverno compares the operator name case-sensitively here
    return bool(check and check((a > b) - (a < b)))


def _numeric_value(key: float, value, op: str) -> bool:
    if isinstance(value, bool):
        return False
    if is_number(value):
        return _by_condition(float(key), float(value), op)
    if isinstance(value, str):
        d = _durations(key, value)
        if d is not None:
            return _by_condition(d[0], d[1], op)
        f = go_parse_float(value)
        if f is not None:
            return _by_condition(float(key), f, op)
    return False


def numeric(key, value, op: str) -> bool:
    if isinstance(key, bool):
        return False
    if is_number(key):
        return _numeric_value(key, value, op)
    if not isinstance(key, str):
        return False
    d = _durations(key, value)
    if d is not None:
        return _by_condition(d[0], d[1], op)
    kq = parse_quantity(key)
    if kq is not None and isinstance(value, str):
        vq = parse_quantity(value)
        if vq is not None:
            return _by_condition(kq.cmp(vq), 0, op)
    f = go_parse_float(key)
    if f is not None:
        return _numeric_value(f, value, op)
    kv = _semver(key)
    if kv is not None:
        vv = _semver(value) if isinstance(value, str) else None
        return vv is not None and _by_condition(_semver_cmp(kv, vv), 0, op)
    return False


def duration_op(key, value, op: str) -> bool:
    def seconds(x):
        if isinstance(x, bool):
            return None
        if is_number(x):
            return float(x)
        if isinstance(x, str):
            ns = parse_duration(x)
            return None if ns is None else ns / 1e9
        return None

    k, v = seconds(key), seconds(value)
    if k is None or v is None:
        return False
    name = op[len("Duration"):] if op.startswith("Duration") else ""
    return _by_condition(k, v, name)


_HANDLERS = {
    "equal": equals, "equals": equals, "notequal": not_equals, "notequals": not_equals,
    "anyin": lambda k, v, op: _membership("any_in", k, v),
    "allin": lambda k, v, op: _membership("all_in", k, v),
    "anynotin": lambda k, v, op: _membership("any_not_in", k, v),
    "allnotin": lambda k, v, op: _membership("all_not_in", k, v),
    "in": lambda k, v, op: _legacy_in(k, v, False),
    "notin": lambda k, v, op: _legacy_in(k, v, True),
    "greaterthanorequals": numeric, "greaterthan": numeric, "lessthanorequals": numeric,
    "lessthan": numeric,
    "durationgreaterthanorequals": duration_op, "durationgreaterthan": duration_op,
    "durationlessthanorequals": duration_op, "durationlessthan": duration_op,
}
KNOWN_OPERATORS = frozenset(_HANDLERS)
