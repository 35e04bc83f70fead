"""YAML node trees to Python data with the semantics of Kubernetes' Go YAML reader.

Kubernetes (kubectl, the API server, Kyverno) reads manifests with sigs.k8s.io/yaml, which decodes
with go-yaml v2 (YAML 1.1-ish) and converts the result to JSON. This module gives the same Python data:

* plain scalars are resolved as go-yaml v2 does: ``y/Y/yes/Yes/YES/on/On/ON/true/True/TRUE`` and the
  ``n/no/off/false`` counterparts are booleans; ``~``, ``null``, ``Null``, ``NULL`` and the empty scalar are
  null; integers follow Go's ``strconv.ParseInt(s, 0, 64)`` after removing ``_`` (``0x1F``, ``0o17``,
  ``0b101``, ``017`` octal; values beyond int64 but within uint64 stay integers, larger ones become floats);
  floats match ``[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?`` (so ``1e3`` is 1000.0, which
  PyYAML gets wrong) and ``.inf``/``-.inf``/``.nan``; timestamps (``2024-01-01``) and sexagesimal
  numbers (``12:30``) stay strings; everything quoted or in block style is a string;
* explicit tags: ``!!str``/``!!binary`` (base64 text kept as is)/``!!timestamp`` give the text,
  ``!!int``/``!!float``/``!!bool``/``!!null`` convert when they can, unknown tags (``!Ref``) give the text;
* mapping keys become strings as in sigs.k8s.io/yaml's JSON conversion (``1: a`` -> ``"1"``, ``true: x``
  -> ``"true"``, ``1.5: x`` -> ``"1.5"``; a null key becomes ``"null"`` where Go would refuse the file);
* duplicate keys: the last one wins; merge keys (``<<: *base``) are applied in order, as go-yaml v2 does;
* aliases are expanded into copies, after a check that refuses alias bombs and recursive aliases.
"""

from __future__ import annotations

import math
import re
import struct
from typing import Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from gpulint.load.limits import DocumentError


# --- scalar resolution (go-yaml v2 resolve.go) -------------------------------------------------------

_TRUE = ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
_FALSE = ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
_WORDS: dict[str, Any] = {
    **dict.fromkeys(_TRUE, True),
    **dict.fromkeys(_FALSE, False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_NUMERIC_START = frozenset("0123456789+-.")
# first characters for which a plain scalar may be something other than a string
_HINTS = frozenset("yYnNtTfFoO~") | _NUMERIC_START | {""}
_KEY_HINTS = _HINTS | {"<"}

_GO_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_GO_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_BASES = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

_F32 = struct.Struct("<f")
_MISSING = object()
_numbers: dict[str, Any] = {}  # resolved plain scalars that start like a number ("1", "80", "0.5", "2Gi")


def _go_int(plain: str) -> int | None:
    """strconv.ParseInt(plain, 0, 64), then ParseUint: None when Go would not give an integer."""
    if not _GO_INT.fullmatch(plain):
        return None
    sign = plain[0] in "+-"
    body = plain[1:] if sign else plain
    if len(body) > 1 and body[0] == "0":
        base = _BASES.get(body[1], 8)
        value = int(body[2:] if base != 8 or body[1] in "oO" else body[1:], base)
    else:
        value = int(body)
    if plain[0] == "-":
        value = -value
    if _INT64_MIN <= value <= _INT64_MAX or (not sign and value <= _UINT64_MAX):
        return value
    return None


def _numeric(s: str) -> Any:
    if s[0] == ".":
        if _GO_DOT_FLOAT.fullmatch(s):
            return float(s)
        return s
    plain = s.replace("_", "") if "_" in s else s
    value = _go_int(plain)
    if value is not None:
        return value
    if _GO_YAML_FLOAT.fullmatch(plain):
        number = float(plain)
        if not math.isinf(number):  # Go reports out-of-range floats as an error: the text stays a string
            return number
    return s


def resolve_plain(s: str) -> Any:
    """The value go-yaml v2 gives an untagged plain scalar."""
    value = _WORDS.get(s, _MISSING)
    if value is not _MISSING:
        return value
    if s[0] not in _NUMERIC_START:
        return s
    value = _numbers.get(s, _MISSING)
    if value is _MISSING:
        if len(_numbers) > 100_000:
            _numbers.clear()
        value = _numbers[s] = _numeric(s)
    return value


_TAG = "tag:yaml.org,2002:"
_TEXT_TAGS = frozenset(_TAG + t for t in ("str", "binary", "timestamp"))


def _is_tagged(node: Any) -> bool:
    return node.tag.__class__ is str


def tagged_scalar(node: ScalarNode) -> Any:
    """The value of a scalar with an explicit tag (``!!int "3"``, ``!Ref x``)."""
    tag, text = node.tag, node.value
    if tag in _TEXT_TAGS or not tag.startswith(_TAG):
        return text
    kind = tag[len(_TAG):]
    if kind == "null":
        return None
    value = resolve_plain(text) if text else None
    if kind == "int":
        if value.__class__ is float and value.is_integer():
            return int(value)
        return value if value.__class__ is int else text
    if kind == "float":
        if value.__class__ is int:
            return float(value)
        return value if value.__class__ is float else text
    if kind == "bool":
        return value if value.__class__ is bool else text
    return text


def _go_float_key(value: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 32): how sigs.k8s.io/yaml writes a float map key."""
    try:
        single = _F32.unpack(_F32.pack(value))[0]
    except OverflowError:
        single = math.copysign(math.inf, value)
    if math.isnan(single):
        return ".nan"
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    for precision in range(9):  # shortest decimal that reads back as the same float32
        text = f"{abs(single):.{precision}e}"
        if _F32.unpack(_F32.pack(float(text)))[0] == abs(single):
            break
    mantissa, _, exp_text = text.partition("e")
    digits, exp = mantissa.replace(".", "").rstrip("0") or "0", int(exp_text)
    sign = "-" if math.copysign(1.0, single) < 0 else ""
    if exp < -4 or exp >= 6:  # Go's %e/%f choice for the shortest 'g' format
        fraction = "." + digits[1:] if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{fraction}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    whole, fraction = digits[: exp + 1].ljust(exp + 1, "0"), digits[exp + 1 :]
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def key_string(value: Any) -> str:
    """A resolved scalar key as the string sigs.k8s.io/yaml makes of it."""
    if value.__class__ is str:
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value.__class__ is float:
        return _go_float_key(value)
    return str(value)


MERGE = object()  # key_of() result for a merge key (plain "<<")
_plain_keys: dict[str, Any] = {"<<": MERGE}  # plain key text -> key string (keys are a small vocabulary)


def key_of(node: Any) -> Any:
    """The string key of a mapping key node, or MERGE; DocumentError for a collection used as a key."""
    if node.__class__ is not ScalarNode:
        mark = node.start_mark
        what = "mapping" if node.__class__ is MappingNode else "list"
        hint = " (an unquoted {{...}} placeholder?)" if what == "mapping" and node.flow_style else ""
        raise DocumentError(f"a mapping key is a {what}, not a string{hint}", mark.line, mark.column)
    text = node.value
    if _is_tagged(node):
        return key_string(tagged_scalar(node))
    if node.style or text[:1] not in _KEY_HINTS:
        return text
    key = _plain_keys.get(text)
    if key is None:
        if len(_plain_keys) > 10_000:
            _plain_keys.clear()
            _plain_keys["<<"] = MERGE
        key = _plain_keys[text] = key_string(resolve_plain(text))
    return key


# --- node tree -> Python objects ---------------------------------------------------------------------


def to_python(node: Any) -> Any:
    """Python data for a composed node (see the module docstring for the rules)."""
    cls = node.__class__
    if cls is MappingNode:
        return _mapping(node)
    if cls is SequenceNode:
        return _sequence(node)
    if _is_tagged(node):
        return tagged_scalar(node)
    text = node.value
    if not node.style and text[:1] in _HINTS:
        return resolve_plain(text)
    return text


def _mapping(node: MappingNode) -> dict:
    # The hot loop of the load stage: scalar keys and values are handled inline.
    result = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if (key_node.__class__ is not ScalarNode or key_node.tag.__class__ is str
                or (not key_node.style and key[:1] in _KEY_HINTS)):
            key = key_of(key_node)
            if key is MERGE:
                _merge(result, value_node)
                continue
        cls = value_node.__class__
        if cls is ScalarNode and value_node.tag.__class__ is not str:
            value = value_node.value
            if not value_node.style and value[:1] in _HINTS:
                value = resolve_plain(value)
        elif cls is MappingNode:
            value = _mapping(value_node)
        elif cls is SequenceNode:
            value = _sequence(value_node)
        else:
            value = tagged_scalar(value_node)
        result[key] = value
    return result


def _sequence(node: SequenceNode) -> list:
    result = []
    append = result.append
    for item in node.value:
        if item.__class__ is ScalarNode and item.tag.__class__ is not str:
            value = item.value
            append(resolve_plain(value) if not item.style and value[:1] in _HINTS else value)
        elif item.__class__ is MappingNode:
            append(_mapping(item))
        elif item.__class__ is SequenceNode:
            append(_sequence(item))
        else:
            append(tagged_scalar(item))
    return result


def _merge(target: dict, node: Any) -> None:
    """Apply a merge key's value (a mapping or a list of mappings, earlier ones winning), like go-yaml v2."""
    sources = list(reversed(node.value)) if node.__class__ is SequenceNode else [node]
    for source in sources:
        if source.__class__ is not MappingNode:
            mark = source.start_mark
            raise DocumentError("a merge key (<<) needs a mapping or a list of mappings", mark.line, mark.column)
        target.update(_mapping(source))
