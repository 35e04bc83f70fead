"""Go's number formatting, shared by the CEL layer and the legacy JMESPath engine.

Kyverno's messages print numbers the way Go does (strconv.FormatFloat with 'g' and the shortest
round-trip digits), and results are compared as text, so both engines must print them identically.
"""

from __future__ import annotations

import math


def shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits and exponent: f = 0.d1d2d3... * 10**exp."""
    r = repr(abs(f))
    if "e" in r or "E" in r:
        mant, e = r.lower().split("e")
        exp = int(e)
    else:
        mant, exp = r, 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    if fp == "0":
        fp = ""
    digits = (ip + fp).lstrip("0")
    point = len(ip) + exp  # position of the decimal point relative to ip+fp
    lead = len(ip + fp) - len((ip + fp).lstrip("0"))
    point -= lead
    digits = digits.rstrip("0") or "0"
    return digits, point


def format_float_g(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64), which is also fmt `%v` of a float64 and cel-go's
    string(double): shortest digits, exponent form when exp < -4 || exp >= 6 (1e6 -> 1e+06)."""
    return format_g(f, 6)


def format_g(f: float, eprec: int) -> str:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    digits, point = shortest_digits(f)
    sign = "-" if f < 0 else ""
    exp = point - 1
    if exp < -4 or exp >= eprec:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        es = "-" if exp < 0 else "+"
        return f"{sign}{mant}e{es}{abs(exp):02d}"
    return sign + fixed_notation(digits, point)


def fixed_notation(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * (-point) + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]
