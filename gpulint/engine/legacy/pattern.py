"""`validate.pattern` matching (kyverno: pkg/engine/validate/validate.go, pkg/engine/pattern/
pattern.go, pkg/engine/anchor/handlers.go, pkg/engine/wildcards/wildcards.go).

match_pattern(resource, pattern) returns None when the resource matches, else a PatternError:
`skip` (conditional/global anchors unmet), or a failure with the failing `path` (a tuple; empty
path with `path_str == ""` means Kyverno reports it as an execution error, not a fail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpulint.engine.legacy.anchors import (
    COND_ERR, CONDITION, EQUALITY, EXISTENCE, GLOBAL, GLOBAL_ERR, NEG_ERR, NEGATION, AnchorMap,
    has_nested_anchors, is_validate_anchor, parse_anchor)
from gpulint.engine.legacy.goutil import (
    contains_wildcard, format_float_E, format_value_v, is_number, number_to_string,
    parse_duration, parse_quantity, wildcard_match)


@dataclass
class PErr:
    message: str
    kind: str | None = None  # COND_ERR, GLOBAL_ERR, NEG_ERR for anchor errors
    skip: bool = False  # a PatternError with Skip set (every array element skipped)

    def is_skip(self) -> bool:
        return self.skip or self.kind in (COND_ERR, GLOBAL_ERR)


@dataclass
class PatternError:
    message: str
    path: tuple | None  # None → no path (Kyverno: execution error)
    skip: bool = False

    @property
    def path_str(self) -> str:
        return "" if self.path is None else render_path(self.path)


def render_path(path: tuple) -> str:
    return "/" + "".join(f"{p}/" for p in path)


def match_pattern(resource, pattern) -> PatternError | None:
    ac = AnchorMap()
    res = _element(resource, pattern, (), ac)
    if res is None:
        return None
    path, err = res
    if err.is_skip():
        return PatternError(err.message, None, skip=True)
    if err.kind == NEG_ERR:
        return PatternError(err.message, path)
    if ac.keys_are_missing():
        return PatternError(err.message, None)
    return PatternError(err.message, path)


def _element(resource, pattern, path: tuple, ac: AnchorMap):
    """(failing path, PErr) or None."""
    if isinstance(pattern, dict):
        if not isinstance(resource, dict):
            return path, PErr(f"pattern and resource have different structures. Path: "
                              f"{render_path(path)}. Expected {_go_type(pattern)}, found "
                              f"{_go_type(resource)}")
        ac.check(pattern, resource)
        return _map(resource, pattern, path, ac)
    if isinstance(pattern, list):
        if not isinstance(resource, list):
            return path, PErr(f"validation rule failed at path {render_path(path)}, resource does "
                              "not satisfy the expected overlay pattern")
        return _array(resource, pattern, path, ac)
    if isinstance(resource, list):
        for item in resource:
            if not validate_value(item, pattern):
                return path, PErr(_mismatch(resource, pattern, path))
        return None
    if not validate_value(resource, pattern):
        return path, PErr(_mismatch(resource, pattern, path))
    return None


def _mismatch(resource, pattern, path) -> str:
    return (f"resource value '{format_value_v(resource)}' does not match "
            f"'{format_value_v(pattern)}' at path {render_path(path)}")


def _go_type(v) -> str:
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, list):
        return "[]interface {}"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if isinstance(v, int):
        return "int64"
    return "float64"


_PLANS: dict[int, tuple[dict, list]] = {}


def _plan(pattern: dict) -> list:
    """Key order of a map pattern: anchors sorted, then global/nested-anchor keys in reverse
    sorted order, then the other keys sorted (kyverno: validateMap, getSortedNestedAnchorResource)."""
    hit = _PLANS.get(id(pattern))
    if hit is not None and hit[0] is pattern:
        return hit[1]
    anchors, front, back = [], [], []
    for key in sorted(pattern):
        a = parse_anchor(key)
        if is_validate_anchor(a):
            anchors.append(key)
        elif (a is not None and a.modifier == GLOBAL) or has_nested_anchors(pattern[key]):
            front.insert(0, key)
        else:
            back.append(key)
    plan = anchors + front + back
    if len(_PLANS) > 50_000:
        _PLANS.clear()
    _PLANS[id(pattern)] = (pattern, plan)
    return plan


def _map(resource: dict, pattern: dict, path: tuple, ac: AnchorMap):
    pattern = expand_in_metadata(pattern, resource)
    for key in _plan(pattern):
        res = _handle(key, pattern[key], resource, path, ac)
        if res is not None:
            return res
    return None


def _handle(key: str, pattern, resource: dict, path: tuple, ac: AnchorMap):
    a = parse_anchor(key)
    if a is None or a.modifier not in (CONDITION, GLOBAL, EXISTENCE, EQUALITY, NEGATION):
        return _default(key, pattern, resource, path, ac)
    here = path + (a.key,)
    present = a.key in resource
    if a.modifier == CONDITION:
        if not present:
            return here, PErr("conditional anchor mismatch: conditional anchor key doesn't exist "
                              "in the resource", COND_ERR)
        res = _element(resource[a.key], pattern, here, ac)
        if res is not None:
            return res[0], PErr(f"conditional anchor mismatch: {res[1].message}", COND_ERR)
        return None
    if a.modifier == GLOBAL:
        if not present:
            return None
        res = _element(resource[a.key], pattern, here, ac)
        if res is not None:
            return res[0], PErr(f"global anchor mismatch: {res[1].message}", GLOBAL_ERR)
        return None
    if a.modifier == EQUALITY:
        return _element(resource[a.key], pattern, here, ac) if present else None
    if a.modifier == NEGATION:
        if present:
            return here, PErr(f"negation anchor matched in resource: {render_path(here)} is not "
                              "allowed", NEG_ERR)
        return None
    # existence
    if not present:
        return None
    value = resource[a.key]
    if not isinstance(value, list):
        return here, PErr(f"invalid resource type {_go_type(value)}: Existence ^ () anchor can be "
                          "used only on list/array type resource")
    if not isinstance(pattern, list):
        return here, PErr(f"invalid pattern type {_go_type(pattern)}: Pattern has to be of list to "
                          "compare against resource")
    for item_pattern in pattern:
        if not isinstance(item_pattern, dict):
            return here, PErr(f"invalid pattern type {_go_type(pattern)}: Pattern has to be of type "
                              "map to compare against items in resource")
        if not any(_element(item, item_pattern, here + (i,), ac) is None
                   for i, item in enumerate(value)):
            return here, PErr(f"existence anchor validation failed at path {render_path(here)}")
    return None


def _default(key: str, pattern, resource: dict, path: tuple, ac: AnchorMap):
    value = resource.get(key)
    if pattern == "*" and isinstance(pattern, str):
        if value is not None:
            return None
        return path, PErr(f"{render_path(path)}/{key} not found")
    return _element(value, pattern, path + (key,), ac)


def _array(resource: list, pattern: list, path: tuple, ac: AnchorMap):
    if not pattern:
        return path, PErr("pattern Array empty")
    first = pattern[0]
    if isinstance(first, dict):
        return _collect(((resource[i], first, path + (i,)) for i in range(len(resource))),
                        path, ac)
    if not isinstance(first, list):
        return _element(resource, first, path, ac)
    if len(resource) < len(pattern):
        return None, PErr(f"validate Array failed, array length mismatch, resource Array len is "
                          f"{len(resource)} and pattern Array len is {len(pattern)}")
    return _collect(((resource[i], p, path + (i,)) for i, p in enumerate(pattern)), path, ac)


def _collect(items, path: tuple, ac: AnchorMap):
    applied, skips = 0, []
    for res_item, pat_item, item_path in items:
        res = _element(res_item, pat_item, item_path, ac)
        if res is None:
            applied += 1
        elif res[1].is_skip():
            skips.append(res[1].message)
        else:
            return res
    if applied == 0 and skips:
        return path, PErr("; ".join(skips), skip=True)
    return None


# ---------------------------------------------------------------------------------------------
# metadata wildcard keys


_META_KEYS: dict[int, tuple[dict, object]] = {}


def _metadata_key(pattern: dict):
    hit = _META_KEYS.get(id(pattern))
    if hit is not None and hit[0] is pattern:
        return hit[1]
    key = next((k for k in pattern if (parse_anchor(k) or _Plain(k)).key == "metadata"), None)
    if len(_META_KEYS) > 50_000:
        _META_KEYS.clear()
    _META_KEYS[id(pattern)] = (pattern, key)
    return key


def expand_in_metadata(pattern: dict, resource: dict) -> dict:
    """Wildcard label/annotation keys in the pattern take the first matching real key."""
    meta_key = _metadata_key(pattern)
    if meta_key is None or not isinstance(pattern[meta_key], dict):
        return pattern
    res_meta = resource.get("metadata")
    if not isinstance(res_meta, dict):
        return pattern
    meta = dict(pattern[meta_key])
    changed = False
    for tag in ("labels", "annotations"):
        tag_key = next((k for k in meta if (parse_anchor(k) or _Plain(k)).key == tag), None)
        if tag_key is None:
            continue
        pat_tags, res_tags = meta[tag_key], res_meta.get(tag)
        if not _string_map(pat_tags) or not _string_map(res_tags):
            continue
        out = {}
        for k, v in pat_tags.items():
            if contains_wildcard(k):
                a = parse_anchor(k)
                bare = a.key if a else k
                match = next((rk for rk in sorted(res_tags) if wildcard_match(bare, rk)), bare)
                out[f"{a.modifier}({match})" if a else match] = v
                changed = True
            else:
                out[k] = v
        meta[tag_key] = out
    if not changed:
        return pattern
    pattern = dict(pattern)
    pattern[meta_key] = meta
    return pattern


class _Plain:
    def __init__(self, key):
        self.key = key


def _string_map(v) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


# ---------------------------------------------------------------------------------------------
# scalar values (pattern.Validate)


def validate_value(value, pattern) -> bool:
    if isinstance(pattern, bool):
        return isinstance(value, bool) and value == pattern
    if isinstance(pattern, int):
        pattern = float(pattern)  # policies reach Kyverno as JSON: every pattern number is a float64
    if isinstance(pattern, float):
        return _float_pattern(value, pattern)
    if pattern is None:
        if value is None:
            return True
        if isinstance(value, bool):
            return not value
        if is_number(value):
            return value == 0
        if isinstance(value, str):
            return value == ""
        return False
    if isinstance(pattern, dict):
        return isinstance(value, dict)
    if isinstance(pattern, str):
        return _string_patterns(value, pattern)
    return False


def go_parse_float(s: str) -> float | None:
    if not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?i:inf|infinity|nan)", s):
        return None
    return float(s)


def _float_pattern(value, pattern: float) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return pattern == int(pattern) and int(pattern) == value
    if isinstance(value, float):
        return value == pattern
    if isinstance(value, str):
        f = go_parse_float(value)
        return f is not None and f == pattern
    return False


def _string_patterns(value, pattern: str) -> bool:
    if isinstance(value, str) and value == pattern:
        return True
    for alternative in pattern.split("|"):
        if all(_string_pattern(value, cond.strip(" ")) for cond in alternative.strip(" ").split("&")):
            return True
    return False


_RANGE = re.compile(r"^([-+]?\d+(?:\.\d+)?[A-Za-z]*)(!?)-([-+]?\d+(?:\.\d+)?[A-Za-z]*)$")
_OPS = (">=", "<=", ">", "<", "!")


def _operator(pattern: str) -> str:
    if len(pattern) < 2:
        return ""
    for op in _OPS:
        if pattern.startswith(op):
            return op
    return ""


def _string_pattern(value, pattern: str) -> bool:
    op = _operator(pattern)
    if not op:
        m = _RANGE.match(pattern)
        if m:
            lo, neg, hi = m.group(1), m.group(2), m.group(3)
            if neg:
                return _compare(value, lo, "<") or _compare(value, hi, ">")
            return _compare(value, lo, ">=") and _compare(value, hi, "<=")
    return _compare(value, pattern[len(op):].strip(), op)


def _cmp_result(c: int, op: str) -> bool:
    return {"": c == 0, "!": c != 0, ">": c > 0, "<": c < 0, ">=": c >= 0, "<=": c <= 0}[op]


def _value_string(value) -> str | None:
    if value is None:
        return "0"
    if isinstance(value, bool):
        return None
    if isinstance(value, (str, int, float)):
        return number_to_string(value)
    return None


def _compare(value, pattern: str, op: str) -> bool:
    text = _value_string(value)
    p_dur = parse_duration(pattern)
    if p_dur is not None and text is not None:
        v_dur = parse_duration(text)
        if v_dur is not None and _cmp_result((v_dur > p_dur) - (v_dur < p_dur), op):
            return True
    p_qty = parse_quantity(pattern)
    if p_qty is not None and text is not None:
        v_qty = parse_quantity(text)
        if v_qty is not None and _cmp_result(v_qty.cmp(p_qty), op):
            return True
    if op not in ("", "!"):
        return False
    if value is None or isinstance(value, (dict, list)):
        return False
    if isinstance(value, bool):
        s = "true" if value else "false"
    elif isinstance(value, float):
        s = format_float_E(value)
    else:
        s = str(value)
    matched = wildcard_match(pattern, s)
    return not matched if op == "!" else matched
