"""`{{ ... }}` variable and `$(...)` reference substitution (kyverno: pkg/engine/variables/vars.go,
pkg/engine/variables/regex/vars.go).

Every string leaf and map key of a document is scanned; a string that is exactly one variable is
replaced by the value with its JSON type, otherwise values are spliced in as text (strings raw,
everything else Go-JSON encoded). After each pass the string is rescanned, which resolves nested
forms like `{{ a.{{ b }} }}` inside-out. `\\{{ ... }}` is an escape and loses its backslash at the end.
"""

from __future__ import annotations

import posixpath
import re

from gpulint.engine.legacy.goutil import format_value_v, go_json
from gpulint.engine.legacy.jmespath_ext import JMESPathError, NotFoundError

VARIABLE = re.compile(r"(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})")
_VARIABLE_INIT = re.compile(r"^\{\{(?:\{[^{}]*\}|[^{}])*\}\}")
_ESCAPED = re.compile(r"\\\{\{(?:\{[^{}]*\}|[^{}])*\}\}")
_REFERENCE = re.compile(r"^\$\(.[^ ]*\)|[^\\]\$\(.[^ ]*\)")
_OPERATORS = (">=", "<=", ">", "<", "!")


class SubstitutionError(Exception):
    """A variable could not be resolved; `not_found` marks JMESPath missing-key errors."""

    def __init__(self, message: str, not_found: bool = False):
        super().__init__(message)
        self.not_found = not_found


_HAS_VARS: dict[int, tuple[object, bool]] = {}


def has_variables(value) -> bool:
    """Whether a document contains `{{` or `$(`; memoized for the (static) policy documents."""
    if isinstance(value, (dict, list)):
        hit = _HAS_VARS.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        result = _has_variables(value)
        if len(_HAS_VARS) > 50_000:
            _HAS_VARS.clear()
        _HAS_VARS[id(value)] = (value, result)
        return result
    return _has_variables(value)


def _has_variables(value) -> bool:
    if isinstance(value, str):
        return "{{" in value or "$(" in value
    if isinstance(value, dict):
        return any(has_variables(k) or has_variables(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_variables(v) for v in value)
    return False


def strip_braces(text: str) -> str:
    return text.replace("{{", "").replace("}}", "").strip()


def substitute_all(ctx, document):
    """References, then variables, over the whole document (Kyverno's SubstituteAll)."""
    if not has_variables(document):
        return document
    document = _walk(document, "", lambda s, path: _substitute_references(s, path, document))
    return _walk(document, "", lambda s, path: _substitute_string(ctx, s, path))


def substitute_string(ctx, text: str):
    return _substitute_string(ctx, text, "")


def _walk(node, path: str, fn):
    if isinstance(node, str):
        return fn(node, path)
    if not has_variables(node):
        return node  # static subtrees are shared, not copied
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            new_key = fn(key, f"{path}/{key}") if isinstance(key, str) and "{{" in key else key
            if not isinstance(new_key, str):
                new_key = go_json(new_key)
            out[new_key] = _walk(value, f"{path}/{key}", fn)
        return out
    if isinstance(node, list):
        return [_walk(v, f"{path}/{i}", fn) for i, v in enumerate(node)]
    return node


def _substitute_string(ctx, value: str, path: str):
    if "{{" not in value:
        return value
    found = _find(value)
    while found:
        original = value
        for text in found:
            initial = _VARIABLE_INIT.match(text) is not None
            old = text
            if not initial:
                text = text[1:]
            variable = strip_braces(text)
            shallow = variable.startswith("-")
            if shallow:
                variable = variable[1:].strip()
            if variable == "@":
                variable = _current_path_query(ctx, path)
            if getattr(ctx, "is_delete", False):
                variable = variable.replace("request.object", "request.oldObject")
            resolved = resolve(ctx, variable, path)
            if original == text:
                return resolved  # a whole-value variable is returned as is, never rescanned
            if shallow and isinstance(resolved, str):
                resolved = resolved.replace("{{", "\\{{")
            prefix = "" if initial else old[0]
            replacement = resolved if isinstance(resolved, str) else go_json(resolved)
            value = value.replace(prefix + text, prefix + replacement, 1)
        found = _find(value)
    for text in [m.group(0) for m in _ESCAPED.finditer(value)]:
        value = value.replace(text, text[1:])
    return value


def _find(value: str) -> list[str]:
    # Go's FindAllString returns the whole match, including the one-character prefix
    return [m.group(0) for m in VARIABLE.finditer(value)]


def resolve(ctx, variable: str, path: str = ""):
    try:
        return ctx.query(variable)
    except NotFoundError as exc:
        raise SubstitutionError(str(exc), not_found=True) from None
    except SubstitutionError:
        raise
    except JMESPathError as exc:
        raise SubstitutionError(f"failed to resolve {variable} at path {path}: {exc}") from None


def _current_path_query(ctx, path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if "foreach" in parts:
        parts = parts[parts.index("foreach") + 1:]
    parts = parts[2:]
    prefix = "target"
    try:
        ctx.query("target")
    except (JMESPathError, SubstitutionError):
        prefix = "request.object"
    out = prefix
    for part in parts:
        if part.isdigit():
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += "." + part
        else:
            out += "." + '"' + part.replace('"', '\\"') + '"'
    return out


# ---------------------------------------------------------------------------------------------
# $(...) references to other values of the same document


def _substitute_references(value: str, path: str, document):
    if "$(" not in value:
        return value
    for m in list(_REFERENCE.finditer(value)):
        text = m.group(0)
        initial = text.startswith("$(")
        ref = text if initial else text[1:]
        inner = ref[2:-1]
        op = next((o for o in _OPERATORS if inner.startswith(o)), "")
        target_path = posixpath.normpath(posixpath.join(path, inner[len(op):]))
        resolved = _value_at(document, target_path)
        if resolved is None:
            raise SubstitutionError(f"failed to resolve reference {ref} at path {path}")
        if value == ref and not op:
            return resolved
        value = value.replace(ref, op + format_value_v(resolved), 1)
    return value


def _value_at(document, path: str):
    from gpulint.engine.legacy.anchors import parse_anchor

    node = document
    for part in [p for p in path.split("/") if p]:
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return None
            node = node[int(part)]
        elif isinstance(node, dict):
            for key, child in node.items():
                anchor = parse_anchor(key)
                if key == part or (anchor is not None and anchor.key == part):
                    node = child
                    break
            else:
                return None
        else:
            return None
    return node
