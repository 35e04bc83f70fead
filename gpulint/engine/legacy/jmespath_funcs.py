"""Kyverno's custom JMESPath functions (kyverno: pkg/engine/jmespath/functions.go,
arithmetic.go, time.go, utils.go). TABLE maps name -> ((min_args, max_args), callable)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import posixpath
import random as _random
import re
from urllib.parse import urlsplit

import yaml

from gpulint.engine.legacy import jmespath_time as jt
from gpulint.engine.legacy.jmespath_arith import (
    add, divide, modulo, multiply, round_, subtract, sum_)
from gpulint.engine.legacy.goutil import format_float_v, is_number, num_to_str, wildcard_match
from gpulint.engine.legacy.imageref import ImageError, normalize
from gpulint.engine.legacy.jmespath_ext import JMESPathError, _deep_equal

_GO_TYPES = {str: "string", float: "float64", dict: "map", list: "slice", bool: "bool"}


def _err(fn: str, msg: str) -> JMESPathError:
    return JMESPathError(f"JMESPath function '{fn}': {msg}")


def _type_err(fn: str, index: int, want: str) -> JMESPathError:
    return _err(fn, f"argument #{index + 1} is not of type {want}")


def _str(fn, args, i) -> str:
    if not isinstance(args[i], str):
        raise _type_err(fn, i, "string")
    return args[i]


def _num(fn, args, i) -> float:
    if not is_number(args[i]):
        raise _type_err(fn, i, "float64")
    return args[i]


def _map(fn, args, i) -> dict:
    if not isinstance(args[i], dict):
        raise _type_err(fn, i, "map")
    return args[i]


def _list(fn, args, i) -> list:
    if not isinstance(args[i], list):
        raise _type_err(fn, i, "slice")
    return args[i]


def _str_or_num(fn, args, i) -> str:
    v = args[i]
    if isinstance(v, str):
        return v
    if is_number(v) or isinstance(v, bool):
        return num_to_str(v)
    raise _err(fn, f"argument #{i + 1} is not of type String or Real")


def _regex(fn: str, pattern: str):
    try:
        return re.compile(_go_regex(pattern))
    except re.error as exc:
        raise _err(fn, f"error parsing regexp: {exc}") from None


def _go_regex(pattern: str) -> str:
    # RE2 syntax differences that matter for policies: \z end of text, (?<name>) groups
    return pattern.replace(r"\z", r"\Z").replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace(
        "(?P<!", "(?<!")


def _go_expand(template: str, m: re.Match) -> str:
    """regexp.Expand: $1, ${1}, $name, ${name}, $$; unknown groups expand to ''."""
    out = []
    i = 0
    while i < len(template):
        c = template[i]
        if c != "$" or i + 1 >= len(template):
            out.append(c)
            i += 1
            continue
        nxt = template[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = template.find("}", i + 2)
            name = template[i + 2:end] if end != -1 else ""
            if end == -1 or not re.fullmatch(r"[A-Za-z0-9_]+", name):
                out.append(c)
                i += 1
                continue
            i = end + 1
        else:
            mm = re.compile(r"[A-Za-z0-9_]+").match(template, i + 1)
            if not mm:
                out.append(c)
                i += 1
                continue
            name = mm.group(0)
            i = mm.end()
        out.append(_group(m, name))
    return "".join(out)


def _group(m: re.Match, name: str) -> str:
    try:
        g = m.group(int(name)) if name.isdigit() else m.group(name)
    except IndexError:
        return ""
    return g or ""


# ---------------------------------------------------------------------------------------------
# strings


def compare(a, b):
    a, b = _str("compare", [a, b], 0), _str("compare", [a, b], 1)
    return (a > b) - (a < b)


def equal_fold(a, b):
    return _str("equal_fold", [a, b], 0).casefold() == _str("equal_fold", [a, b], 1).casefold()


def replace(s, old, new, n):
    args = [s, old, new, n]
    s, old, new = (_str("replace", args, i) for i in range(3))
    count = int(_num("replace", args, 3))
    return s.replace(old, new) if count < 0 else s.replace(old, new, count)


def replace_all(s, old, new):
    args = [s, old, new]
    return _str("replace_all", args, 0).replace(_str("replace_all", args, 1),
                                                _str("replace_all", args, 2))


def to_upper(s):
    return _str("to_upper", [s], 0).upper()


def to_lower(s):
    return _str("to_lower", [s], 0).lower()


def trim(s, cutset):
    args = [s, cutset]
    return _str("trim", args, 0).strip(_str("trim", args, 1))


def trim_prefix(s, prefix):
    args = [s, prefix]
    return _str("trim_prefix", args, 0).removeprefix(_str("trim_prefix", args, 1))


def split(s, sep):
    args = [s, sep]
    s, sep = _str("split", args, 0), _str("split", args, 1)
    return list(s) if sep == "" else s.split(sep)


def truncate(s, n):
    args = [s, n]
    s = _str("truncate", args, 0)
    length = max(int(_num("truncate", args, 1)), 0)
    raw = s.encode()
    return raw[:length].decode(errors="ignore") if length < len(raw) else s


def path_canonicalize(s):
    s = _str("path_canonicalize", [s], 0)
    if s == "":
        return "."
    out = posixpath.normpath(s)
    return "/" + out.lstrip("/") if out.startswith("//") else out


def base64_encode(s):
    return base64.b64encode(_str("base64_encode", [s], 0).encode()).decode()


def base64_decode(s):
    try:
        return base64.b64decode(_str("base64_decode", [s], 0), validate=True).decode(
            errors="replace")
    except (binascii.Error, ValueError) as exc:
        raise JMESPathError(f"illegal base64 data: {exc}") from None


def _hasher(name):
    def fn(s):
        return hashlib.new(name, _str(name, [s], 0).encode()).hexdigest()
    return fn


# ---------------------------------------------------------------------------------------------
# matching


def regex_match(pattern, value):
    args = [pattern, value]
    rx = _regex("regex_match", _str("regex_match", args, 0))
    return rx.search(_str_or_num("regex_match", args, 1)) is not None


def regex_replace_all(pattern, src, repl):
    args = [pattern, src, repl]
    rx = _regex("regex_replace_all", _str("regex_replace_all", args, 0))
    src, repl = _str_or_num("regex_replace_all", args, 1), _str_or_num("regex_replace_all", args, 2)
    return rx.sub(lambda m: _go_expand(repl, m), src)


def regex_replace_all_literal(pattern, src, repl):
    args = [pattern, src, repl]
    rx = _regex("regex_replace_all_literal", _str("regex_replace_all_literal", args, 0))
    src = _str_or_num("regex_replace_all_literal", args, 1)
    repl = _str_or_num("regex_replace_all_literal", args, 2)
    return rx.sub(lambda m: repl, src)


def pattern_match(pattern, value):
    args = [pattern, value]
    return wildcard_match(_str("pattern_match", args, 0), _str_or_num("pattern_match", args, 1))


def label_match(selector, labels):
    args = [selector, labels]
    sel, lab = _map("label_match", args, 0), _map("label_match", args, 1)
    return all(k in lab and _deep_equal(lab[k], v) for k, v in sel.items())


_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                     r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?$")


def _semver(s: str):
    m = _SEMVER.match(s)
    if not m:
        return None
    pre = tuple(int(p) if p.isdigit() else p for p in (m.group(4) or "").split(".") if p)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))), pre


def _semver_cmp(a, b) -> int:
    if a[0] != b[0]:
        return (a[0] > b[0]) - (a[0] < b[0])
    pa, pb = a[1], b[1]
    if not pa or not pb:
        return (not pa) - (not pb)
    for x, y in zip(pa, pb):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return (x > y) - (x < y)
        if isinstance(x, int):
            return -1
        if isinstance(y, int):
            return 1
        return (x > y) - (x < y)
    return (len(pa) > len(pb)) - (len(pa) < len(pb))


def _range_part(part: str):
    m = re.match(r"^(>=|<=|!=|==|=|>|<|!)?\s*(.+)$", part)
    if not m:
        raise ValueError(f"Could not get version from string: {part!r}")
    op, ver = m.group(1) or "=", m.group(2)
    if re.search(r"(^|\.)[xX*]($|\.)", ver):
        nums = ver.split(".")
        fixed = [n for n in nums if n not in ("x", "X", "*")]
        lo = (fixed + ["0", "0", "0"])[:3]
        lo_v = _semver(".".join(lo))
        if lo_v is None:
            raise ValueError(f"Could not parse Range {part!r}")
        hi = [int(n) for n in lo]
        hi[len(fixed) - 1 if fixed else 0] += 1 if fixed else 0
        for i in range(len(fixed), 3):
            hi[i] = 0
        hi_v = ((hi[0], hi[1], hi[2]), ())
        if op in ("=", "=="):
            return lambda v: _semver_cmp(v, lo_v) >= 0 and _semver_cmp(v, hi_v) < 0
        if op in ("!=", "!"):
            return lambda v: _semver_cmp(v, lo_v) < 0 or _semver_cmp(v, hi_v) >= 0
        ver = ".".join(lo)
    target = _semver(ver)
    if target is None:
        raise ValueError(f"Could not parse Range {part!r}")
    cmp = {"=": lambda c: c == 0, "==": lambda c: c == 0, "!=": lambda c: c != 0,
           "!": lambda c: c != 0, ">": lambda c: c > 0, "<": lambda c: c < 0,
           ">=": lambda c: c >= 0, "<=": lambda c: c <= 0}[op]
    return lambda v: cmp(_semver_cmp(v, target))


def semver_compare(version, rng):
    args = [version, rng]
    v = _semver(_str("semver_compare", args, 0)) or ((0, 0, 0), ())
    try:
        alternatives = []
        for alt in _str("semver_compare", args, 1).split("||"):
            parts = re.sub(r"(>=|<=|!=|==|=|>|<|!)\s+", r"\1", alt.strip()).split()
            if not parts:
                raise ValueError("empty range")
            alternatives.append([_range_part(p) for p in parts])
    except ValueError as exc:
        raise JMESPathError(str(exc)) from None
    return any(all(f(v) for f in conj) for conj in alternatives)


# ---------------------------------------------------------------------------------------------
# conversion and data


def to_boolean(s):
    v = _str("to_boolean", [s], 0).lower()
    if v in ("true", "false"):
        return v == "true"
    raise _err("to_boolean", f"lowercase argument must be 'true' or 'false' (provided: '{s}')")


def parse_json(s):
    try:
        return json.loads(_str("parse_json", [s], 0))
    except json.JSONDecodeError as exc:
        raise JMESPathError(str(exc)) from None


def parse_yaml(s):
    try:
        return _jsonable(yaml.safe_load(_str("parse_yaml", [s], 0)))
    except yaml.YAMLError as exc:
        raise JMESPathError(f"error converting YAML to JSON: {exc}") from None


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, (str, bool, int, float)) or v is None:
        return v
    return str(v)


def lookup(collection, key):
    if isinstance(collection, dict):
        if not isinstance(key, str):
            raise _type_err("lookup", 1, "string")
        return collection.get(key)
    if isinstance(collection, list):
        if not is_number(key):
            raise _type_err("lookup", 1, "float64")
        if key != int(key):
            raise _err("lookup", f"argument #2 must be an integer, got {format_float_v(key)}")
        i = int(key)
        return collection[i] if 0 <= i < len(collection) else None
    raise _err("lookup", "argument #1 is not of type map or slice")


def items(collection, key_name, val_name):
    args = [collection, key_name, val_name]
    kn, vn = _str("items", args, 1), _str("items", args, 2)
    if isinstance(collection, dict):
        return [{kn: k, vn: collection[k]} for k in sorted(collection)]
    if isinstance(collection, list):
        return [{kn: float(i), vn: v} for i, v in enumerate(collection)]
    raise _err("items", "argument #1 is not of type map or slice")


def object_from_lists(keys, values):
    args = [keys, values]
    ks, vs = _list("object_from_lists", args, 0), _list("object_from_lists", args, 1)
    out = {}
    for i, k in enumerate(ks):
        if isinstance(k, str):
            name = k
        elif is_number(k):
            name = num_to_str(k)
        else:
            raise _err("object_from_lists", f"argument #1 item {i} is not a string or a number")
        out[name] = vs[i] if i < len(vs) else None
    return out


def random_string(pattern):
    from gpulint.engine.legacy.regen import generate

    try:
        return generate(_str("random", [pattern], 0), _random.Random())
    except ValueError as exc:
        raise _err("random", str(exc)) from None


def image_normalize(ref):
    try:
        return normalize(_str("image_normalize", [ref], 0))
    except ImageError as exc:
        raise _err("image_normalize", str(exc)) from None


def is_external_url(url):
    s = _str("is_external_url", [url], 0)
    parts = urlsplit(s)
    if not parts.scheme or not s.startswith(parts.scheme + ":"):
        raise _err("is_external_url", f'parse "{s}": invalid URI for request')
    host = parts.hostname or ""
    if host == "localhost":
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise _err("is_external_url", f"resolving host {host!r} requires a DNS lookup, "
                                      "which offline evaluation cannot do") from None
    return not (ip.is_loopback or ip.is_private or ip.is_unspecified or ip.is_link_local)


def x509_decode(pem):
    from gpulint.engine.legacy.x509 import decode

    try:
        return decode(_str("x509_decode", [pem], 0))
    except ValueError as exc:
        raise _err("x509_decode", str(exc)) from None


def _time(fn, n):
    def wrapper(*args):
        for i in range(n):
            _str(fn.__name__, list(args), i)
        try:
            return fn(*args)
        except jt.TimeError as exc:
            raise JMESPathError(str(exc)) from None
    return wrapper


TABLE = {
    "compare": ((2, 2), compare),
    "equal_fold": ((2, 2), equal_fold),
    "replace": ((4, 4), replace),
    "replace_all": ((3, 3), replace_all),
    "to_upper": ((1, 1), to_upper),
    "to_lower": ((1, 1), to_lower),
    "trim": ((2, 2), trim),
    "trim_prefix": ((2, 2), trim_prefix),
    "split": ((2, 2), split),
    "truncate": ((2, 2), truncate),
    "path_canonicalize": ((1, 1), path_canonicalize),
    "base64_encode": ((1, 1), base64_encode),
    "base64_decode": ((1, 1), base64_decode),
    "sha256": ((1, 1), _hasher("sha256")),
    "sha1": ((1, 1), _hasher("sha1")),
    "md5": ((1, 1), _hasher("md5")),
    "regex_match": ((2, 2), regex_match),
    "regex_replace_all": ((3, 3), regex_replace_all),
    "regex_replace_all_literal": ((3, 3), regex_replace_all_literal),
    "pattern_match": ((2, 2), pattern_match),
    "label_match": ((2, 2), label_match),
    "semver_compare": ((2, 2), semver_compare),
    "to_boolean": ((1, 1), to_boolean),
    "parse_json": ((1, 1), parse_json),
    "parse_yaml": ((1, 1), parse_yaml),
    "lookup": ((2, 2), lookup),
    "items": ((3, 3), items),
    "object_from_lists": ((2, 2), object_from_lists),
    "random": ((1, 1), random_string),
    "x509_decode": ((1, 1), x509_decode),
    "image_normalize": ((1, 1), image_normalize),
    "is_external_url": ((1, 1), is_external_url),
    "add": ((2, 2), add),
    "subtract": ((2, 2), subtract),
    "multiply": ((2, 2), multiply),
    "divide": ((2, 2), divide),
    "modulo": ((2, 2), modulo),
    "sum": ((1, 1), sum_),
    "round": ((2, 2), round_),
    "time_since": ((3, 3), _time(jt.time_since, 3)),
    "time_now": ((0, 0), _time(jt.time_now, 0)),
    "time_now_utc": ((0, 0), _time(jt.time_now_utc, 0)),
    "time_to_cron": ((1, 1), _time(jt.time_to_cron, 1)),
    "time_add": ((2, 2), _time(jt.time_add, 2)),
    "time_parse": ((2, 2), _time(jt.time_parse, 2)),
    "time_utc": ((1, 1), _time(jt.time_utc, 1)),
    "time_diff": ((2, 2), _time(jt.time_diff, 2)),
    "time_before": ((2, 2), _time(jt.time_before, 2)),
    "time_after": ((2, 2), _time(jt.time_after, 2)),
    "time_between": ((3, 3), _time(jt.time_between, 3)),
    "time_truncate": ((2, 2), _time(jt.time_truncate, 2)),
}
