"""Kubernetes ``quantity`` CEL library (k8s.io/apiserver/pkg/cel/library/quantity.go).

Parsing follows k8s.io/apimachinery resource.ParseQuantity exactly (scanner,
suffix table, round-up to nano precision, BinarySI cap at 2^63-1). Every
parsed value is an integer number of nano-units, which is what the opaque
message stores: ``quantity('1')`` and ``quantity('1000m')`` both hold
``1000000000`` and therefore compare equal.

Known deviation: Go's ``isInteger()``/``asInteger()`` depend on the internal
representation (``quantity('1000m').isInteger()`` and ``quantity('0.5Gi')...``
are false in Go); here they depend on the value only (integral and int64).
``mul``/``div``/``divInt`` exist only in newer Kubernetes trees and are not
exposed (kyverno-cel-semantics.md §3.3 "verify before exposing").
"""

from __future__ import annotations

from functools import lru_cache

from cel_expr_python import cel

from .errors import LibraryError
from .opaque import TYPES, make
from .registry import Registry

T = cel.Type
Q = "kubernetes.Quantity"
QT = TYPES[Q]

NANO = 10 ** 9
MAX_INT64 = 2 ** 63 - 1

_SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT = f"quantities must match the regular expression '{_SPLIT_RE}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

_DEC = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BIN = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DIGITS = "0123456789"


def _scan(s: str):
    """Port of parseQuantityString: returns (positive, num, denom, suffix)."""
    positive = True
    pos, end = 0, len(s)
    if pos < end and s[0] in "+-":
        positive = s[0] == "+"
        pos += 1
    while True:                                   # strip leading zeros
        if pos >= end:
            return positive, "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    start = pos
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    num = s[start:pos] or "0"
    if pos >= end:
        return positive, num, "", ""
    denom = ""
    if s[pos] == ".":
        pos += 1
        start = pos
        while pos < end and s[pos] in _DIGITS:
            pos += 1
        denom = s[start:pos]
        if pos >= end:
            return positive, num, denom, ""
    suffix_start = pos
    while pos < end and s[pos] in "eEinumkKMGTP":
        pos += 1
    if pos >= end:
        return positive, num, denom, s[suffix_start:]
    if s[pos] in "+-":
        pos += 1
    while pos < end:
        if s[pos] not in _DIGITS:
            raise LibraryError(ERR_FORMAT)
        pos += 1
    return positive, num, denom, s[suffix_start:]


def _interpret(suffix: str):
    """(base, exponent, binary?) or None, as quantitySuffixer.interpret."""
    if suffix in _DEC:
        return 10, _DEC[suffix], False
    if suffix in _BIN:
        return 2, _BIN[suffix], True
    if len(suffix) > 1 and suffix[0] in "eE":
        body = suffix[1:]
        digits = body[1:] if body[0] in "+-" else body
        if digits and all(c in _DIGITS for c in digits):
            exp = int(body)
            if -(2 ** 31) <= exp < 2 ** 31:
                return 10, exp, False
    return None


@lru_cache(maxsize=4096)
def parse_nanos(s: str) -> int:
    """Value of a quantity string in nano-units (raises LibraryError like ParseQuantity)."""
    if not s:
        raise LibraryError(ERR_FORMAT)
    positive, num, denom, suffix = _scan(s)
    interp = _interpret(suffix)
    if interp is None:
        raise LibraryError(ERR_SUFFIX)
    base, exp, binary = interp
    # Bounded work: Go handles absurd exponents/lengths with big decimals; we refuse them.
    if abs(exp) > 1000 or len(num) + len(denom) > 1000:
        raise LibraryError(ERR_NUMERIC)
    mantissa = int(num + denom)                  # value = mantissa * 10^-len(denom) * base^exp
    scale = -len(denom)
    if base == 2:
        num_n, den_n = mantissa * (2 ** exp) * NANO, 10 ** (-scale)
    else:
        e10 = scale + exp + 9
        num_n, den_n = (mantissa * 10 ** e10, 1) if e10 >= 0 else (mantissa, 10 ** (-e10))
    nanos = -(-num_n // den_n)                    # round up (away from zero on the magnitude)
    if binary and nanos > MAX_INT64 * NANO:
        nanos = MAX_INT64 * NANO
    return nanos if positive else -nanos


def _q(nanos: int):
    return make(Q, str(nanos))


def _n(q) -> int:
    return int(q.v or "0")


def quantity(s: str):
    return _q(parse_nanos(s))


def is_quantity(s: str) -> bool:
    try:
        parse_nanos(s)
    except LibraryError:
        return False
    return True


def _as_int(q):
    n = _n(q)
    if n % NANO or not (-MAX_INT64 - 1 <= n // NANO <= MAX_INT64):
        return None
    return n // NANO


def as_integer(q) -> int:
    v = _as_int(q)
    if v is None:
        raise LibraryError("cannot convert value to integer")
    return v


def _cmp(a, b) -> int:
    x, y = _n(a), _n(b)
    return (x > y) - (x < y)


def register(reg: Registry) -> None:
    reg.fn("quantity", [T.STRING], QT, quantity)
    reg.fn("isQuantity", [T.STRING], T.BOOL, is_quantity)
    reg.fn("sign", [QT], T.INT, lambda q: (_n(q) > 0) - (_n(q) < 0), member=True)
    reg.fn("isInteger", [QT], T.BOOL, lambda q: _as_int(q) is not None, member=True)
    reg.fn("asInteger", [QT], T.INT, as_integer, member=True)
    reg.fn("asApproximateFloat", [QT], T.DOUBLE, lambda q: _n(q) / NANO, member=True)
    reg.fn("compareTo", [QT, QT], T.INT, _cmp, member=True, oid="gpl_quantity_compareTo")
    reg.fn("isGreaterThan", [QT, QT], T.BOOL, lambda a, b: _cmp(a, b) == 1, member=True, oid="gpl_quantity_gt")
    reg.fn("isLessThan", [QT, QT], T.BOOL, lambda a, b: _cmp(a, b) == -1, member=True, oid="gpl_quantity_lt")
    reg.fn("add", [QT, QT], QT, lambda a, b: _q(_n(a) + _n(b)), member=True, oid="gpl_quantity_add")
    reg.fn("add", [QT, T.INT], QT, lambda a, i: _q(_n(a) + i * NANO), member=True, oid="gpl_quantity_add_int")
    reg.fn("sub", [QT, QT], QT, lambda a, b: _q(_n(a) - _n(b)), member=True, oid="gpl_quantity_sub")
    reg.fn("sub", [QT, T.INT], QT, lambda a, i: _q(_n(a) - i * NANO), member=True, oid="gpl_quantity_sub_int")
