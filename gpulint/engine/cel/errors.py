"""Exceptions of the CEL layer and translation of cel-cpp messages to cel-go wording.

Kyverno reports CEL runtime errors in cel-go's words (``no such key: foo``);
cel-cpp says ``Key not found in map : "foo"``. Users compare messages with
Kyverno's output, so the common ones are translated; the rest lose only the
absl status prefix (``INVALID_ARGUMENT:``).
"""

from __future__ import annotations

import re

__all__ = ["CelCompileError", "CelEvalError", "translate_runtime", "translate_compile", "LibraryError"]


class CelCompileError(Exception):
    """Syntax/type error or wrong static output type. ``str(e)`` is the reason only."""


class CelEvalError(Exception):
    """A CEL evaluation error; ``str(e)`` is cel-go style (``no such key: foo``)."""


class LibraryError(Exception):
    """Raised by Python-implemented library functions; its text becomes the CEL error verbatim."""


_STATUS = re.compile(r"^(?:OK|CANCELLED|UNKNOWN|INVALID_ARGUMENT|DEADLINE_EXCEEDED|NOT_FOUND|ALREADY_EXISTS|"
                     r"PERMISSION_DENIED|RESOURCE_EXHAUSTED|FAILED_PRECONDITION|ABORTED|OUT_OF_RANGE|"
                     r"UNIMPLEMENTED|INTERNAL|UNAVAILABLE|DATA_LOSS|UNAUTHENTICATED): ")
_TRAILER = re.compile(r" \[[A-Z_]+\]$")

# cel-cpp type names in overload errors -> cel-go names
_CPP_TYPES = {"int64": "int", "uint64": "uint", "double": "double", "string": "string", "bool": "bool",
              "bytes": "bytes", "map": "map", "list": "list", "null_type": "null_type",
              "google.protobuf.Timestamp": "google.protobuf.Timestamp",
              "google.protobuf.Duration": "google.protobuf.Duration", "timestamp": "google.protobuf.Timestamp",
              "duration": "google.protobuf.Duration", "type": "type"}

_KEY = re.compile(r'^Key not found in map : "?(.*?)"?$')
_INDEX = re.compile(r"^Index error: index=(-?\d+) size=(\d+)$")
_OVERLOAD = re.compile(r"^No matching overloads found : (.*)$")


def _strip(msg: str) -> str:
    msg = _TRAILER.sub("", msg.strip())
    while True:
        m = _STATUS.match(msg)
        if not m:
            return msg
        msg = msg[m.end():]


def translate_runtime(msg: str) -> str:
    msg = _strip(msg)
    m = _KEY.match(msg)
    if m:
        return f"no such key: {m.group(1)}"
    m = _INDEX.match(msg)
    if m:
        return f"index '{m.group(1)}' out of range in list size '{m.group(2)}'"
    if msg == "Index error: expected integer type, got string" or msg.startswith("Index error: expected integer"):
        return "unsupported index type"
    m = _OVERLOAD.match(msg)
    if m:
        sig = m.group(1).replace("__gpl_matches(", "matches(")   # fast_regex.py's stand-in
        fn = sig.split("(", 1)[0]
        if fn.startswith("_") or fn.startswith("!") or fn.startswith("("):
            return "no such overload"
        for cpp, go in _CPP_TYPES.items():
            sig = re.sub(rf"\b{re.escape(cpp)}\b", go, sig)
        return f"no such overload: {sig}"
    if msg == "divide by zero":
        return "division by zero"
    if msg == "Applying SELECT to non-message type":
        return "no such key (field selection on a null or non-map value)"
    if msg == "Iteration budget exceeded":
        return ("operation cancelled: actual cost limit exceeded "
                "(more than 10000 comprehension iterations in one expression)")
    if msg.startswith("invalid regular expression: "):
        return "error parsing regexp: " + msg[len("invalid regular expression: "):]
    return msg


def translate_compile(msg: str) -> str:
    """Keep cel-cpp's checker text (it mirrors cel-go's) but drop the status wrapper."""
    return _strip(msg)
