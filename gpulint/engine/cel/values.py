"""Helpers over the Python values cel-expr-python hands to Python functions.

Python functions see CEL values as plain Python objects: int (int *and*
uint), float, str, bytes/bytearray, bool, None, list, dict, datetime,
timedelta, protobuf messages (opaque types) and cel.Type. These helpers give
them CEL semantics (bool is not a number, Go's number formatting ...).
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal

from cel_expr_python import cel

from gpulint.engine.gofmt import format_float_g

__all__ = ["cel_type_name", "cel_equal", "go_float", "rfc3339", "duration_str", "go_quote", "ints_to_floats",
           "to_plain"]


def cel_type_name(v) -> str:
    if v is None:
        return "null_type"
    t = type(v)
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "double"
    if t is str:
        return "string"
    if t in (bytes, bytearray):
        return "bytes"
    if t is list:
        return "list"
    if t is dict:
        return "map"
    if isinstance(v, _dt.datetime):
        return "google.protobuf.Timestamp"
    if isinstance(v, _dt.timedelta):
        return "google.protobuf.Duration"
    if isinstance(v, cel.Type):
        return "type"
    desc = getattr(v, "DESCRIPTOR", None)
    if desc is not None:
        return desc.full_name
    return type(v).__name__


def cel_equal(a, b) -> bool:
    """CEL heterogeneous equality: numbers compare numerically, bool never equals a number."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (list, tuple) and tb in (list, tuple):
        return len(a) == len(b) and all(cel_equal(x, y) for x, y in zip(a, b))
    if ta is dict and tb is dict:
        if len(a) != len(b):
            return False
        for k, v in a.items():
            if k not in b or not cel_equal(v, b[k]):
                return False
        return True
    num = (int, float)
    if ta in num and tb in num:
        return a == b
    if ta in (bytes, bytearray) and tb in (bytes, bytearray):
        return bytes(a) == bytes(b)
    if ta is not tb:
        return False
    return a == b


def go_float(f: float) -> str:
    """Go's strconv.FormatFloat(f, 'g', -1, 64) (cel-go's string(double))."""
    return format_float_g(f)


def rfc3339(t: _dt.datetime) -> str:
    """Go's time.RFC3339Nano rendering (trailing zeros of the fraction dropped)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{t.microsecond:06d}".rstrip("0")
    off = t.utcoffset() or _dt.timedelta(0)
    if off == _dt.timedelta(0):
        tz = "Z"
    else:
        total = int(off.total_seconds())
        sign = "+" if total >= 0 else "-"
        total = abs(total)
        tz = f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"
    return base + ("." + frac if frac else "") + tz


def duration_str(d: _dt.timedelta) -> str:
    """cel-go's string(duration): seconds with Go 'f' -1 formatting plus 's'."""
    micros = d.days * 86_400_000_000 + d.seconds * 1_000_000 + d.microseconds
    s = Decimal(micros) / Decimal(1_000_000)
    txt = format(s.normalize(), "f")
    return txt + "s"


def go_quote(s: str) -> str:
    """strconv.Quote."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                        "\v": "\\v"}[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


def ints_to_floats(obj):
    """Recursive copy with every int turned into a float (Kyverno CLI: resources are float64, §2.3)."""
    t = type(obj)
    if t is dict:
        return {k: ints_to_floats(v) for k, v in obj.items()}
    if t is list:
        return [ints_to_floats(v) for v in obj]
    if t is int:
        return float(obj)
    return obj


def to_plain(v):
    """Result conversion: bytearray -> bytes, opaque messages -> their canonical string."""
    t = type(v)
    if t is list:
        return [to_plain(x) for x in v]
    if t is dict:
        return {to_plain(k): to_plain(x) for k, x in v.items()}
    if t is bytearray:
        return bytes(v)
    if isinstance(v, cel.Type):
        from .checks import normalize_type
        return normalize_type(v.name())
    desc = getattr(v, "DESCRIPTOR", None)
    if desc is not None:
        fields = [f.name for f in desc.fields]
        if desc.full_name == "kubernetes.Quantity":
            # the message holds nano-units; hand back a plain decimal ("1.5", "1073741824")
            return format((Decimal(v.v or "0") / 1_000_000_000).normalize(), "f")
        if fields == ["v"]:
            return v.v
        return {f: getattr(v, f) for f in fields}
    return v
