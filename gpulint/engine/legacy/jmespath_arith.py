"""Kyverno's arithmetic JMESPath functions (kyverno: pkg/engine/jmespath/arithmetic.go): numbers
are scalars; strings are quantities first, then durations (so '5m' is 5 milli-units)."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from gpulint.engine.legacy.goutil import (
    Quantity, format_duration, format_float_v, format_quantity, is_number, parse_duration,
    parse_quantity)
from gpulint.engine.legacy.jmespath_ext import JMESPathError


def _err(fn: str, msg: str) -> JMESPathError:
    return JMESPathError(f"JMESPath function '{fn}': {msg}")


def _list(fn, args, i) -> list:
    if not isinstance(args[i], list):
        raise _err(fn, f"argument #{i + 1} is not of type slice")
    return args[i]


def _num(fn, args, i) -> float:
    if not is_number(args[i]):
        raise _err(fn, f"argument #{i + 1} is not of type float64")
    return args[i]


class _Dur(int):
    pass


def _operand(fn, value, i):
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        q = parse_quantity(value)
        if q is not None:
            return q
        d = parse_duration(value)
        if d is not None:
            return _Dur(d)
    raise _err(fn, "invalid operands")


def _mismatch(fn):
    return _err(fn, "Types mismatch")


def _add_sub(fn, a, b, sign):
    x, y = _operand(fn, a, 0), _operand(fn, b, 1)
    if isinstance(x, Quantity) and isinstance(y, Quantity):
        fmt = y.format if x.value == 0 else x.format
        return format_quantity(x.value + sign * y.value, fmt)
    if isinstance(x, _Dur) and isinstance(y, _Dur):
        return format_duration(int(x) + sign * int(y))
    if isinstance(x, float) and isinstance(y, float):
        return x + sign * y
    raise _mismatch(fn)


def add(a, b):
    return _add_sub("add", a, b, 1)


def subtract(a, b):
    return _add_sub("subtract", a, b, -1)


def _scalar_quantity(f: float) -> Quantity:
    q = parse_quantity(format_float_v(f))
    if q is None:
        raise JMESPathError(f"quantities must match the regular expression: {format_float_v(f)}")
    return q


def multiply(a, b):
    x, y = _operand("multiply", a, 0), _operand("multiply", b, 1)
    if isinstance(x, float) and not isinstance(y, float):
        x, y = y, x
    if isinstance(x, Quantity) and isinstance(y, float):
        return format_quantity(x.value * _scalar_quantity(y).value, x.format)
    if isinstance(x, _Dur) and isinstance(y, float):
        return format_duration(int(int(x) / 1e9 * y * 1e9))
    if isinstance(x, float) and isinstance(y, float):
        return x * y
    raise _mismatch("multiply")


def _dec_scale(s: str) -> int:
    m = re.match(r"^[+-]?([0-9]*)\.?([0-9]*)(.*)$", s)
    frac, suffix = m.group(2), m.group(3)
    exp = 0
    if suffix[:1] in ("e", "E"):
        exp = int(suffix[1:])
    elif suffix in ("n", "u", "m", "k", "M", "G", "T", "P", "E"):
        exp = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}[suffix]
    return len(frac) - exp


def divide(a, b):
    x, y = _operand("divide", a, 0), _operand("divide", b, 1)
    zero = _err("divide", "Zero divisor passed")
    if isinstance(x, Quantity) and isinstance(y, Quantity):
        if y.value == 0:
            raise zero
        return float(x.value) / float(y.value)
    if isinstance(x, Quantity) and isinstance(y, float):
        if y == 0:
            raise zero
        yq = _scalar_quantity(y)
        scale = max(_dec_scale(str(a)), _dec_scale(format_float_v(y)))
        quo = x.value / yq.value * Fraction(10) ** scale
        quo = Fraction(math.trunc(quo)) / Fraction(10) ** scale
        return format_quantity(quo, x.format)
    if isinstance(x, _Dur) and isinstance(y, _Dur):
        if int(y) == 0:
            raise zero
        return (int(x) / 1e9) / (int(y) / 1e9)
    if isinstance(x, _Dur) and isinstance(y, float):
        if y == 0:
            raise zero
        return format_duration(int(int(x) / 1e9 / y * 1e9))
    if isinstance(x, float) and isinstance(y, float):
        if y == 0:
            raise zero
        return x / y
    raise _mismatch("divide")


def _go_mod(a: int, b: int) -> int:
    return int(math.fmod(a, b)) if abs(a) < 2**53 else a - b * int(a / b)


def modulo(a, b):
    x, y = _operand("modulo", a, 0), _operand("modulo", b, 1)
    nonint = _err("modulo", "Non-integer argument(s) passed for modulo")
    zero = _err("modulo", "Zero divisor passed")
    if isinstance(x, Quantity) and isinstance(y, Quantity):
        f1, f2 = float(x.value), float(y.value)
        if f1 != int(f1) or f2 != int(f2):
            raise nonint
        if int(f2) == 0:
            raise zero
        return format_quantity(Fraction(_go_mod(int(f1), int(f2))), x.format)
    if isinstance(x, _Dur) and isinstance(y, _Dur):
        if int(y) == 0:
            raise zero
        return format_duration(_go_mod(int(x), int(y)))
    if isinstance(x, float) and isinstance(y, float):
        if x != int(x) or y != int(y):
            raise nonint
        if int(y) == 0:
            raise zero
        return float(_go_mod(int(x), int(y)))
    raise _mismatch("modulo")


def sum_(values):
    vals = _list("sum", [values], 0)
    if not vals:
        raise _err("sum", "at least one element in the array is required")
    result = vals[0]
    _operand("sum", result, 0)
    if len(vals) == 1:
        x = _operand("sum", result, 0)
        if isinstance(x, Quantity):
            return format_quantity(x.value, x.format)
        if isinstance(x, _Dur):
            return format_duration(int(x))
        return x
    for v in vals[1:]:
        result = _add_sub("sum", result, v, 1)
    return result


def round_(value, digits):
    args = [value, digits]
    v, d = _num("round", args, 0), _num("round", args, 1)
    if d != int(d) or d < 0:
        raise _err("round", "argument #2 must be a non-negative integer")
    scale = 10 ** int(d)
    x = v * scale
    r = math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)
    return r / scale
