"""Kubernetes CEL libraries cel-expr-python lacks: lists, regex find, semver.

(k8s.io/apiserver/pkg/cel/library: lists.go, regex.go, semverlib.go; named formats: k8s_format.py)
Functions that clash with built-ins or return optionals are reached through
source rewriting (see rewrite.py): ``indexOf``/``lastIndexOf`` ->
``__gpl_indexOf``, ``find``/``findAll`` -> cel-cpp's RE2 ``regex.extract*``,
``format.named``/``validate`` -> wrapped in ``optional.ofNonZeroValue``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cel_expr_python import cel

from .errors import LibraryError
from .opaque import TYPES, make
from .registry import ANY, Registry
from .values import cel_equal, cel_type_name

T = cel.Type
SEMVER = TYPES["kubernetes.Semver"]

# ---------------------------------------------------------------------------- lists


def _check_cmp(a, b):
    ta, tb = cel_type_name(a), cel_type_name(b)
    num = ("int", "double")
    if ta != tb and not (ta in num and tb in num):
        raise LibraryError("no such overload")


def is_sorted(lst) -> bool:
    for a, b in zip(lst, lst[1:]):
        _check_cmp(a, b)
        if a > b:
            return False
    return True


def list_sum(lst):
    if not lst:
        return 0
    kinds = {cel_type_name(x) for x in lst}
    # Durations cannot be returned through a dyn-typed Python function (cel-expr-python 0.1.3).
    if len(kinds) != 1 or kinds.pop() not in ("int", "double"):
        raise LibraryError("no such overload")
    total = lst[0]
    for x in lst[1:]:
        total = total + x
    if isinstance(total, int) and not -2 ** 63 <= total < 2 ** 63:
        raise LibraryError("integer overflow")
    return total


def _extreme(name: str, pick_smaller: bool):
    # Returns the *index* of the element: a Python function declared to return dyn cannot
    # hand back timestamps/durations, so the rewrite reads the element in CEL.
    def impl(lst):
        if not lst:
            raise LibraryError(f"{name} called on empty list")
        best = 0
        for i in range(1, len(lst)):
            _check_cmp(lst[best], lst[i])
            if (lst[i] < lst[best]) if pick_smaller else (lst[i] > lst[best]):
                best = i
        return best
    return impl


def index_of(container, item, offset=None):
    if isinstance(container, str):
        return _str_index_of(container, item, offset)
    for i, x in enumerate(container):
        if cel_equal(x, item):
            return i
    return -1


def last_index_of(container, item, offset=None):
    if isinstance(container, str):
        return _str_last_index_of(container, item, offset)
    for i in range(len(container) - 1, -1, -1):
        if cel_equal(container[i], item):
            return i
    return -1


def _str_index_of(s: str, sub: str, offset):
    if offset is None:
        return s.find(sub)
    if sub == "":
        return offset
    if offset < 0 or offset >= len(s):
        raise LibraryError(f"index out of range: {offset}")
    return s.find(sub, offset)


def _str_last_index_of(s: str, sub: str, offset):
    if offset is None:
        return len(s) if sub == "" else s.rfind(sub)
    if sub == "":
        return offset
    if offset < 0 or offset >= len(s):
        raise LibraryError(f"index out of range: {offset}")
    return s.rfind(sub, 0, min(offset, len(s) - len(sub)) + len(sub))


# ---------------------------------------------------------------------------- regex

def re_group(pattern: str) -> str:
    """Wrap an RE2 pattern in one capture group, turning its own groups non-capturing.

    ``find``/``findAll`` run on cel-cpp's RE2 (``regex.extract``/``extractAll``),
    which returns the single capture group, so matching stays linear-time
    and RE2-compatible (no backreferences or lookarounds, like Go).
    """
    out = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if pattern.startswith("\\Q", i):
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end + 2
                out.append(pattern[i:end])
                i = end
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                if end >= 0:
                    out.append(pattern[i:end + 2])
                    i = end + 2
                    continue
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("]")
                i += 1
            continue
        if c == "(":
            m = re.match(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>", pattern[i:])
            if m:
                out.append("(?:")
                i += m.end()
                continue
            if pattern.startswith("(?", i):
                out.append("(")
                i += 1
                continue
            out.append("(?:")
            i += 1
            continue
        out.append(c)
        i += 1
    return "(" + "".join(out) + ")"


def pairs_to_map(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise LibraryError(f"insert failed: key {k} already exists")
        out[k] = v
    return out


def merge_maps(maps):
    out = {}
    for m in maps:
        for k, v in m.items():
            if k in out:
                raise LibraryError(f"insert failed: key {k} already exists")
            out[k] = v
    return out


def take(lst, n: int):
    return lst if n < 0 else lst[:n]


# --------------------------------------------------------------------------- semver

_NUM = re.compile(r"^[0-9]*$")
_ALNUM = re.compile(r"^[0-9A-Za-z-]*$")


def _parse_semver(s: str):
    if not s:
        raise LibraryError("Version string empty")
    parts = s.split(".", 2)
    if len(parts) != 3:
        raise LibraryError("No Major.Minor.Patch elements found")
    nums = []
    for label, p in (("major", parts[0]), ("minor", parts[1])):
        nums.append(_semver_num(label, p))
    patch = parts[2]
    build: list[str] = []
    pre: list[str] = []
    if "+" in patch:
        patch, _, b = patch.partition("+")
        build = b.split(".")
    if "-" in patch:
        patch, _, p = patch.partition("-")
        pre = p.split(".")
    nums.append(_semver_num("patch", patch))
    prv = []
    for p in pre:
        if not p:
            raise LibraryError("Prerelease is empty")
        if _NUM.match(p):
            if len(p) > 1 and p[0] == "0":
                raise LibraryError(f"Numeric PreRelease version must not contain leading zeroes {_goq(p)}")
            prv.append(int(p))
        elif _ALNUM.match(p):
            prv.append(p)
        else:
            raise LibraryError(f"Invalid character(s) found in prerelease {_goq(p)}")
    for b in build:
        if not b:
            raise LibraryError("Build meta data is empty")
        if not _ALNUM.match(b):
            raise LibraryError(f"Invalid character(s) found in build meta data {_goq(b)}")
    return nums[0], nums[1], nums[2], tuple(prv)


def _semver_num(label: str, p: str) -> int:
    if not _NUM.match(p):
        raise LibraryError(f"Invalid character(s) found in {label} number {_goq(p)}")
    if len(p) > 1 and p[0] == "0":
        raise LibraryError(f"{label.capitalize()} number must not contain leading zeroes {_goq(p)}")
    if p == "":
        raise LibraryError('strconv.ParseUint: parsing "": invalid syntax')
    v = int(p)
    if v >= 2 ** 64:
        raise LibraryError(f'strconv.ParseUint: parsing {_goq(p)}: value out of range')
    return v


def _normalize(s: str) -> str:
    s = s[1:] if s.startswith("v") else s
    parts = s.split(".", 2)
    for i, p in enumerate(parts):
        if len(p) > 1:
            p = p.lstrip("0")
            if not p or p[0] not in "0123456789":
                p = "0" + p
            parts[i] = p
    if len(parts) < 3:
        if any(c in parts[-1] for c in "+-"):
            raise LibraryError("short version cannot contain PreRelease/Build meta data")
        parts += ["0"] * (3 - len(parts))
    return ".".join(parts)


def _goq(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _semver_canon(v) -> str:
    major, minor, patch, pre = v
    s = f"{major}.{minor}.{patch}"
    if pre:
        s += "-" + ".".join(str(p) for p in pre)
    return s


def semver(s: str, normalize: bool = False):
    return make("kubernetes.Semver", _semver_canon(_parse_semver(_normalize(s) if normalize else s)))


def is_semver(s: str, normalize: bool = False) -> bool:
    try:
        semver(s, normalize)
        return True
    except LibraryError:
        return False


@lru_cache(maxsize=1024)
def _sv(v: str):
    return _parse_semver(v)


def semver_compare(a, b) -> int:
    x, y = _sv(a.v), _sv(b.v)
    if x[:3] != y[:3]:
        return -1 if x[:3] < y[:3] else 1
    px, py = x[3], y[3]
    if not px or not py:
        return (len(px) == 0) - (len(py) == 0)
    for i, j in zip(px, py):
        if i == j:
            continue
        if isinstance(i, int) != isinstance(j, int):
            return -1 if isinstance(i, int) else 1
        return -1 if i < j else 1
    return (len(px) > len(py)) - (len(px) < len(py))


def register(reg: Registry) -> None:
    L = T.List(T.DYN)
    reg.fn("isSorted", [L], T.BOOL, is_sorted, member=True)
    reg.fn("sum", [L], T.DYN, list_sum, member=True)
    reg.fn("__gpl_min_index", [L], T.INT, _extreme("min", True), member=True)
    reg.fn("__gpl_max_index", [L], T.INT, _extreme("max", False), member=True)
    reg.fn("__gpl_indexOf", [T.STRING, T.STRING], T.INT, index_of, member=True, oid="gpl_str_indexOf")
    reg.fn("__gpl_indexOf", [T.STRING, T.STRING, T.INT], T.INT, index_of, member=True, oid="gpl_str_indexOf_off")
    reg.fn("__gpl_lastIndexOf", [T.STRING, T.STRING], T.INT, last_index_of, member=True, oid="gpl_str_lastIndexOf")
    reg.fn("__gpl_lastIndexOf", [T.STRING, T.STRING, T.INT], T.INT, last_index_of, member=True,
           oid="gpl_str_lastIndexOf_off")
    reg.fn("__gpl_indexOf", [L, ANY], T.INT, index_of, member=True, oid="gpl_list_indexOf")
    reg.fn("__gpl_lastIndexOf", [L, ANY], T.INT, last_index_of, member=True, oid="gpl_list_lastIndexOf")
    reg.fn("__gpl_re_group", [T.STRING], T.STRING, re_group)
    reg.fn("__gpl_pairs_to_map", [L], T.Map(T.DYN, T.DYN), pairs_to_map)
    reg.fn("__gpl_merge_maps", [L], T.Map(T.DYN, T.DYN), merge_maps)
    reg.fn("__gpl_take", [T.List(T.STRING), T.INT], T.List(T.STRING), take)
    reg.fn("semver", [T.STRING], SEMVER, semver)
    reg.fn("semver", [T.STRING, T.BOOL], SEMVER, semver)
    reg.fn("isSemver", [T.STRING], T.BOOL, is_semver)
    reg.fn("isSemver", [T.STRING, T.BOOL], T.BOOL, is_semver)
    reg.fn("major", [SEMVER], T.INT, lambda v: _sv(v.v)[0], member=True)
    reg.fn("minor", [SEMVER], T.INT, lambda v: _sv(v.v)[1], member=True)
    reg.fn("patch", [SEMVER], T.INT, lambda v: _sv(v.v)[2], member=True)
    reg.fn("compareTo", [SEMVER, SEMVER], T.INT, semver_compare, member=True, oid="gpl_semver_compareTo")
    reg.fn("isGreaterThan", [SEMVER, SEMVER], T.BOOL, lambda a, b: semver_compare(a, b) == 1, member=True,
           oid="gpl_semver_gt")
    reg.fn("isLessThan", [SEMVER, SEMVER], T.BOOL, lambda a, b: semver_compare(a, b) == -1, member=True,
           oid="gpl_semver_lt")
