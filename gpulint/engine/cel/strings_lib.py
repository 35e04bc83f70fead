"""cel-go strings extension pieces whose cel-cpp versions print differently.

The environment enables cel-cpp's strings extension at version 0 (charAt,
indexOf, lowerAscii, replace, split, substring, trim, upperAscii) and adds
``format``, ``strings.quote`` and ``join`` here, because Kyverno messages are
produced by cel-go's formatter (ext/formatting.go, the strings v2 "legacy"
formatter): lists/maps print as CEL literals, ``%d`` on a double is an error
(relevant offline, where every number of a manifest is a double, §9.1).
Also ``__gpl_string``: ``string()`` for opaque values, used when an
expression converts an ip/cidr to string (built-in ``string`` cannot be
overloaded in cel-cpp).
"""

from __future__ import annotations

import math

from cel_expr_python import cel

from .errors import LibraryError
from .registry import ANY_OPAQUE, Registry
from .values import cel_type_name, duration_str, go_float, go_quote, rfc3339

T = cel.Type


class FormatError(LibraryError):
    pass


def _type_of(v) -> str:
    n = cel_type_name(v)
    return {"google.protobuf.Timestamp": "google.protobuf.Timestamp",
            "google.protobuf.Duration": "google.protobuf.Duration"}.get(n, n)


def _as_string(v) -> str:
    """FormatString (the %s clause)."""
    n = cel_type_name(v)
    if n == "list":
        return _fmt_list(v)
    if n == "map":
        return _fmt_map(v)
    if n == "null_type":
        return "null"
    if n in ("int", "string"):
        return str(v)
    if n == "bool":
        return "true" if v else "false"
    if n == "double":
        return go_float(v)
    if n == "bytes":
        return bytes(v).decode("utf-8", errors="replace")
    if n == "google.protobuf.Timestamp":
        return rfc3339(v)
    if n == "google.protobuf.Duration":
        return duration_str(v)
    if n == "type":
        from .checks import normalize_type
        return normalize_type(v.name())
    raise FormatError("error during formatting: string clause can only be used on strings, bools, bytes, ints, "
                      f"doubles, maps, lists, types, durations, and timestamps, was given {n}")


def _member(v) -> str:
    """clauseForType + quoteForCEL, used inside lists and maps."""
    n = cel_type_name(v)
    if n == "int":
        return str(v)
    if n == "double":
        if math.isnan(v) or math.isinf(v):
            return go_quote(go_float(v))
        return f"{v:.6f}"
    if n == "string":
        return go_quote(v)
    if n == "bytes":
        return "b" + go_quote(bytes(v).decode("utf-8", errors="replace"))
    if n == "google.protobuf.Timestamp":
        return f"timestamp({go_quote(rfc3339(v))})"
    if n == "google.protobuf.Duration":
        return f"duration({go_quote(duration_str(v))})"
    if n in ("list", "map", "bool", "null_type", "type"):
        return _as_string(v)
    raise FormatError(f"error during formatting: no formatting function for {n}")


def _fmt_list(v) -> str:
    return "[" + ", ".join(_member(x) for x in v) + "]"


def _fmt_map(v) -> str:
    pairs = []
    for k, x in v.items():
        kn = cel_type_name(k)
        if kn == "string":
            ks = go_quote(k)
        elif kn == "bool":
            ks = "true" if k else "false"
        elif kn == "int":
            ks = str(k)
        else:
            raise FormatError(f"error during formatting: no formatting function for map key of type {kn}")
        pairs.append((ks, _member(x)))
    pairs.sort(key=lambda p: p[0])
    return "{" + ", ".join(f"{k}:{x}" for k, x in pairs) + "}"


def _group(intpart: str) -> str:
    # golang.org/x/text/message prints %f with the locale's digit grouping (en-US).
    neg = intpart.startswith("-")
    digits = intpart[1:] if neg else intpart
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return ("-" if neg else "") + ",".join(out)


def _float_arg(v, clause: str) -> float:
    n = cel_type_name(v)
    if n == "string" and v in ("NaN", "Infinity", "-Infinity"):
        return float(v.replace("Infinity", "inf"))
    if n != "double":
        raise FormatError(f"error during formatting: {clause} clause can only be used on doubles, was given {n}")
    return v


def _clause(verb: str, precision, v) -> str:
    n = cel_type_name(v)
    if verb == "s":
        return _as_string(v)
    if verb == "d":
        if n != "int":
            raise FormatError(f"error during formatting: decimal clause can only be used on integers, was given {n}")
        return str(v)
    if verb == "f":
        f = _float_arg(v, "fixed-point")
        if math.isnan(f) or math.isinf(f):
            return "NaN" if math.isnan(f) else ("+Inf" if f > 0 else "-Inf")
        txt = f"{f:.{6 if precision is None else precision}f}"
        ip, dot, frac = txt.partition(".")
        return _group(ip) + dot + frac
    if verb == "e":
        f = _float_arg(v, "scientific")
        return f"{f:.6e}"
    if verb == "b":
        if n == "int":
            return format(v, "b")
        if n == "bool":
            return "1" if v else "0"
        raise FormatError(f"error during formatting: only integers and bools can be formatted as binary, was given {n}")
    if verb in "xX":
        if n == "int":
            s = format(v, "x")
        elif n == "string":
            s = v.encode().hex()
        elif n == "bytes":
            s = bytes(v).hex()
        else:
            raise FormatError("error during formatting: only integers, byte buffers, and strings can be formatted "
                              f"as hex, was given {n}")
        return s.upper() if verb == "X" else s
    if verb == "o":
        if n != "int":
            raise FormatError(f"error during formatting: octal clause can only be used on integers, was given {n}")
        return format(v, "o")
    raise FormatError(f'could not parse formatting clause: unrecognized formatting clause "{verb}"')


def parse_clauses(fmt: str):
    """Yield literal text (str) and (verb, precision) clauses; raises FormatError on bad syntax."""
    i, n = 0, len(fmt)
    buf = []
    while i < n:
        c = fmt[i]
        if c != "%":
            buf.append(c)
            i += 1
            continue
        if i + 1 < n and fmt[i + 1] == "%":
            buf.append("%")
            i += 2
            continue
        if buf:
            yield "".join(buf)
            buf = []
        if i + 1 >= n:
            yield ("end", None)
            return
        j = i + 1
        precision = None
        if fmt[j] == ".":
            j += 1
            start = j
            while j < n and fmt[j].isdigit():
                j += 1
            if j >= n:
                yield ("badprec", None)
                return
            precision = int(fmt[start:j] or "0")
        yield (fmt[j], precision)
        i = j + 1
    if buf:
        yield "".join(buf)


def string_format(fmt: str, args: list) -> str:
    out = []
    idx = 0
    for part in parse_clauses(fmt):
        if isinstance(part, str):
            out.append(part)
            continue
        verb, precision = part
        if idx >= len(args):
            raise FormatError(f"index {idx} out of range")
        if verb == "end":
            raise FormatError("unexpected end of string")
        if verb == "badprec":
            raise FormatError("could not parse formatting clause: error while parsing precision: "
                              "could not find end of precision specifier")
        out.append(_clause(verb, precision, args[idx]))
        idx += 1
    return "".join(out)


def cel_quote(s: str) -> str:
    """cel-go strings.quote: only the C escapes, everything else verbatim."""
    table = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
             "\v": "\\v", "\\": "\\\\", '"': '\\"'}
    return '"' + "".join(table.get(c, c) for c in s) + '"'


def join(lst, sep: str = "") -> str:
    for x in lst:
        if type(x) is not str:
            raise LibraryError(f"join: invalid input: {x}")
    return sep.join(lst)


def to_string(v) -> str:
    """string(x) for every runtime type, including ip/cidr (cel-go conversions)."""
    n = cel_type_name(v)
    if n in ("net.IP", "net.CIDR"):
        return v.v
    if n == "string":
        return v
    if n == "bytes":
        try:
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            raise LibraryError("invalid UTF-8 in bytes, cannot convert to string") from None
    if n in ("int", "double", "bool", "google.protobuf.Timestamp", "google.protobuf.Duration"):
        return _as_string(v)
    if n == "type":
        from .checks import normalize_type
        return normalize_type(v.name())
    raise LibraryError(f"type conversion error from '{n}' to 'string'")


def register(reg: Registry) -> None:
    reg.fn("format", [T.STRING, T.List(T.DYN)], T.STRING, string_format, member=True)
    reg.fn("strings.quote", [T.STRING], T.STRING, cel_quote)
    reg.fn("join", [T.List(T.DYN)], T.STRING, join, member=True)
    reg.fn("join", [T.List(T.DYN), T.STRING], T.STRING, join, member=True)
    reg.fn("__gpl_string", [ANY_OPAQUE], T.STRING, to_string)


__all__ = ["string_format", "parse_clauses", "join", "to_string", "register", "FormatError", "cel_quote"]
