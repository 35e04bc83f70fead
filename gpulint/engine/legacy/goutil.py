"""Go behaviours Kyverno's results depend on: number formatting, JSON encoding, durations,
Kubernetes quantities and wildcards.

Kyverno's messages and comparisons are produced by Go's strconv/fmt/encoding/json, time and
k8s.io/apimachinery resource packages; Python's defaults differ (e.g. `1.0` vs `1`), so every
place that turns a value into text or compares quantities goes through this module.
"""

from __future__ import annotations

import json
import math
import re
import struct
from fractions import Fraction
from functools import lru_cache

from gpulint.engine.gofmt import fixed_notation, format_float_g, format_g, shortest_digits

# ---------------------------------------------------------------------------------------------
# Numbers


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def format_float_v(f: float) -> str:
    """Go fmt `%v` of a float64."""
    return format_float_g(f)


def format_value_v(value) -> str:
    """Go `fmt.Sprintf("%v", v)` for JSON-decoded values (Kyverno uses it for In/NotIn)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float_v(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(format_value_v(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{format_value_v(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def format_float_E(f: float) -> str:
    """Go strconv.FormatFloat(f, 'E', -1, 64), e.g. 1.5 -> 1.5E+00, 8080 -> 8.08E+03."""
    if f == 0:
        return "0E+00"
    digits, point = shortest_digits(f)
    exp = point - 1
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if f < 0 else ""
    es = "-" if exp < 0 else "+"
    return f"{sign}{mant}E{es}{abs(exp):02d}"


def format_float32_f(f: float) -> str:
    """Go strconv.FormatFloat(f, 'f', -1, 32): shortest digits that round-trip a float32."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    f32 = struct.unpack("f", struct.pack("f", f))[0]
    if f32 == 0:
        return "0"
    for prec in range(1, 18):
        s = f"{f32:.{prec}e}"
        if struct.unpack("f", struct.pack("f", float(s)))[0] == f32:
            break
    mant, e = s.split("e")
    sign = "-" if mant.startswith("-") else ""
    mant = mant.lstrip("-")
    ip, _, fp = mant.partition(".")
    digits = (ip + fp).rstrip("0") or "0"
    return sign + fixed_notation(digits, int(e) + 1)


def format_float_f(f: float) -> str:
    """Go fmt `%f` (6 decimals)."""
    return f"{f:.6f}"


def num_to_str(value) -> str:
    """Kyverno's ifaceToString (regex/pattern functions): floats with float32 precision."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float32_f(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# JSON the way Go's encoding/json writes it


def _json_float(f: float) -> str:
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        s = format_g(f, 0)  # always exponent form
        s = re.sub(r"e([+-])0(\d)$", r"e\1\2", s)
        return s
    digits, point = shortest_digits(f)
    return ("-" if f < 0 else "") + fixed_notation(digits, point)


def _json_str(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    return out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace(
        "\u2028", "\\u2028").replace("\u2029", "\\u2029")


def go_json(value) -> str:
    """Compact JSON as Go's json.Marshal writes it (sorted keys, HTML escaping, ints as ints)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return _json_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(_json_str(str(k)) + ":" + go_json(value[k]) for k in sorted(value)) + "}"
    return _json_str(str(value))


# ---------------------------------------------------------------------------------------------
# Durations (Go time.ParseDuration / Duration.String)

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DUR_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([a-zA-Z\u00b5\u03bc]+)")
_MAX_DUR = (1 << 63) - 1


@lru_cache(maxsize=4096)
def parse_duration(s: str) -> int | None:
    """Nanoseconds, or None if Go's time.ParseDuration rejects `s`."""
    if not isinstance(s, str):
        return None
    orig = s
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        return None
    total = Fraction(0)
    pos = 0
    while pos < len(s):
        m = _DUR_PART.match(s, pos)
        if not m or m.group(1) in ("", ".") or m.end() == pos:
            return None
        num, unit = m.group(1), m.group(2)
        if unit not in _UNITS:
            return None
        total += Fraction(num) * _UNITS[unit]
        pos = m.end()
    if total > _MAX_DUR:
        return None
    del orig
    v = int(total)  # Go truncates fractional nanoseconds
    return -v if neg else v


def format_duration(ns: int) -> str:
    """Go time.Duration.String()."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    sign = "-" if neg else ""
    if u < 1_000_000_000:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return sign + _frac(u, 1_000) + "\u00b5s"
        return sign + _frac(u, 1_000_000) + "ms"
    out = ""
    h, rem = divmod(u, 3_600_000_000_000)
    m, rem = divmod(rem, 60_000_000_000)
    secs = _frac(rem, 1_000_000_000) + "s"
    if h:
        out = f"{h}h{m}m{secs}"
    elif m:
        out = f"{m}m{secs}"
    else:
        out = secs
    return sign + out


def _frac(v: int, unit: int) -> str:
    ip, fp = divmod(v, unit)
    if fp == 0:
        return str(ip)
    width = len(str(unit)) - 1
    return f"{ip}." + f"{fp:0{width}d}".rstrip("0")


# ---------------------------------------------------------------------------------------------
# Kubernetes resource.Quantity

_QTY = re.compile(r"^([+-]?[0-9]*\.?[0-9]*)(.*)$")
_BIN = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DEC = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DEC_BY_EXP = {v: k for k, v in _DEC.items()}
_BIN_BY_EXP = {v: k for k, v in _BIN.items()}
BINARY_SI, DECIMAL_SI, DECIMAL_EXPONENT = "BinarySI", "DecimalSI", "DecimalExponent"


class Quantity:
    """Exact value plus the format it was written in, like resource.Quantity."""

    __slots__ = ("value", "format")

    def __init__(self, value: Fraction, fmt: str = DECIMAL_SI):
        self.value = Fraction(value)
        self.format = fmt

    def cmp(self, other: "Quantity") -> int:
        return (self.value > other.value) - (self.value < other.value)

    def __repr__(self) -> str:
        return f"Quantity({self})"

    def __str__(self) -> str:
        return format_quantity(self.value, self.format)


@lru_cache(maxsize=4096)
def parse_quantity(s) -> Quantity | None:
    """resource.ParseQuantity; None when it would return an error."""
    if not isinstance(s, str) or s == "":
        return None
    m = _QTY.match(s)
    if not m:
        return None
    num, suffix = m.group(1), m.group(2)
    digits = num.lstrip("+-")
    if digits in ("", ".") or digits.count(".") > 1:
        return None
    if suffix in _BIN:
        mult, fmt = Fraction(2) ** _BIN[suffix], BINARY_SI
    elif suffix in _DEC:
        mult, fmt = Fraction(10) ** _DEC[suffix], DECIMAL_SI
    elif suffix[:1] in ("e", "E"):
        try:
            e = int(suffix[1:])
        except ValueError:
            return None
        if not re.fullmatch(r"[eE][+-]?[0-9]+", suffix):
            return None
        mult, fmt = Fraction(10) ** e, DECIMAL_EXPONENT
    else:
        return None
    value = Fraction(num if num not in ("+", "-") else "0") * mult
    # quantities keep at most nano precision and round up (away from zero) beyond it
    scaled = value * 10**9
    if scaled.denominator != 1:
        q = math.ceil(abs(scaled))
        value = Fraction(q if value > 0 else -q, 10**9)
    return Quantity(value, fmt)


def format_quantity(value: Fraction, fmt: str) -> str:
    """resource.Quantity.String() (CanonicalizeBytes)."""
    if value == 0:
        return "0"
    if fmt == BINARY_SI:
        if -1024 < value < 1024:
            fmt = DECIMAL_SI
        elif value.denominator != 1:
            fmt = DECIMAL_SI
    if fmt == BINARY_SI:
        n = int(value)
        exp = 0
        while n % 1024 == 0 and exp < 60:
            n //= 1024
            exp += 10
        return f"{n}{_BIN_BY_EXP.get(exp, '')}"
    # decimal: mantissa integer, exponent multiple of 3
    sign = "-" if value < 0 else ""
    v = abs(value)
    exp = 0
    while v.denominator != 1:
        v *= 10
        exp -= 1
    n = int(v)
    while n % 10 == 0 and n != 0:
        n //= 10
        exp += 1
    r = exp % 3
    if r:
        n *= 10**r
        exp -= r
    if fmt == DECIMAL_EXPONENT:
        return f"{sign}{n}" + (f"e{exp}" if exp != 0 else "")
    if exp > 18:
        n *= 10 ** (exp - 18)
        exp = 18
    if exp < -9:  # cannot happen after nano rounding; keep the value exact anyway
        return f"{sign}{n}e{exp}"
    return f"{sign}{n}{_DEC_BY_EXP[exp]}"


def quantity_from_number(f) -> Quantity | None:
    return parse_quantity(number_to_string(f))


def number_to_string(value) -> str:
    """Kyverno pattern's convertNumberToString: floats with %f."""
    if isinstance(value, float):
        return format_float_f(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Wildcards (IGLOU-EU/go-wildcard v1.0.3: '*' any run, '?' exactly one character)


@lru_cache(maxsize=8192)
def _wildcard_re(pattern: str):
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def wildcard_match(pattern: str, s: str) -> bool:
    if pattern == "":
        return s == ""
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern == s
    return _wildcard_re(pattern).fullmatch(s) is not None


def contains_wildcard(s: str) -> bool:
    return "*" in s or "?" in s
