"""Compile-time validators of the Kubernetes base environment that cel-cpp lacks.

(kubernetes: staging/src/k8s.io/apiserver/pkg/cel/environment/base.go 1.29 AST
validators; cel-go: cel/validator.go, ext/formatting.go stringFormatValidator)

* HomogeneousAggregateLiterals: ``[1, 'a']``, ``[1, 2.0]``, ``{'a': 1, 'b': 'x'}``
  are errors, except anywhere inside a ``.format()`` argument.
* ``duration('5x')``, ``timestamp('bad')`` and ``matches('(')`` with literal
  arguments are errors.
* ``'<literal>'.format([<list literal>])`` is checked clause by clause.

Element types are those cel-go's checker would infer: literals directly,
other subexpressions by compiling them alone when they only read global
variables; elements depending on comprehension variables are not checked
(lenient: a mismatch there is accepted).
"""

from __future__ import annotations

from typing import Callable

from .errors import CelCompileError
from .rewrite import free_idents
from .strings_lib import parse_clauses
from .syntax import Binary, Call, Ident, ListLit, Lit, MapLit, Node, Unary, children, emit
from .variables import ACCESSOR_PREFIX, accessor_ids

_LIT_TYPES = {"int": "int", "uint": "uint", "double": "double", "string": "string", "bytes": "bytes",
              "bool": "bool", "null": "null_type"}
_BOOL_FNS = {"startsWith", "endsWith", "contains", "matches", "exists", "all", "exists_one", "existsOne",
             "has", "isSorted", "hasValue"}
_STR_FNS = {"lowerAscii", "upperAscii", "trim", "replace", "substring", "charAt", "format", "join"}


def normalize_type(name: str) -> str:
    """cel-cpp Type.name() ('LIST<INT>', 'DYN', 'TYPE<net.IP>') -> cel-go style ('list(int)', 'dyn', 'type(net.IP)')."""
    head, lt, rest = name.partition("<")
    if lt:
        args = _split_args(rest[:-1])
        base = head if head == "optional_type" else head.lower()
        return f"{base}({', '.join(normalize_type(a) for a in args)})"
    if "." in name:
        return name
    return {"NULL": "null_type", "DURATION": "google.protobuf.Duration",
            "TIMESTAMP": "google.protobuf.Timestamp"}.get(name, name.lower())


def _split_args(s: str) -> list[str]:
    out, depth, cur = [], 0, []
    for ch in s:
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        depth += ch == "<"
        depth -= ch == ">"
        cur.append(ch)
    out.append("".join(cur).strip())
    return out


class Checker:
    def __init__(self, type_of_source: Callable[..., str | None], variables: dict | None = None):
        # compiles (and with evaluate=True runs) text alone -> normalized type, or None on error
        self._type_of_source = type_of_source
        self._variables = variables if variables is not None else {}    # policy variables by id

    def check(self, root: Node) -> None:
        self._walk(root, in_format=False, scope=frozenset())

    def _walk(self, n: Node, in_format: bool, scope: frozenset) -> None:
        if isinstance(n, ListLit) and not in_format:
            self._homogeneous([(e, o) for e, o in n.elems], scope)
        if isinstance(n, MapLit) and not in_format:
            self._homogeneous([(k, False) for k, _, _ in n.entries], scope)
            self._homogeneous([(v, o) for _, v, o in n.entries], scope)
        if isinstance(n, Call):
            self._call(n, scope)
            if n.fn == "format" and n.target is not None:
                for c in children(n):
                    self._walk(c, in_format or c is not n.target, scope)
                return
            from .rewrite import _bound_names
            bound = _bound_names(n)
            if n.fn == "bind" and isinstance(n.target, Ident) and n.target.name == "cel" and n.args \
                    and isinstance(n.args[0], Ident):
                bound = [n.args[0].name]
            inner = scope | frozenset(bound)
            if n.target is not None:
                self._walk(n.target, in_format, scope)
            for a in n.args:
                self._walk(a, in_format, inner)
            return
        for c in children(n):
            self._walk(c, in_format, scope)

    # ------------------------------------------------------------------ types
    def type_of(self, n: Node, scope: frozenset) -> str | None:
        if isinstance(n, Lit):
            return _LIT_TYPES[n.kind]
        if isinstance(n, Unary):
            return "bool" if n.op == "!" else self.type_of(n.operand, scope)
        if isinstance(n, Binary):
            if n.op in ("==", "!=", "<", "<=", ">", ">=", "in", "&&", "||"):
                return "bool"
        if isinstance(n, Call):
            if n.target is None and n.fn in ("string", "int", "uint", "double", "bytes", "bool", "dyn"):
                return n.fn
            if n.fn == "size":
                return "int"
            if n.fn in _BOOL_FNS:
                return "bool"
            if n.fn in _STR_FNS and n.target is not None:
                return "string"
        if isinstance(n, ListLit):
            types = {self.type_of(e, scope) for e, _ in n.elems}
            if len(types) == 1 and None not in types:
                return f"list({types.pop()})"
            return None
        if free_idents(n) & scope:
            return None          # depends on a comprehension/bind variable: not checked
        ids = accessor_ids(n)
        if ids:
            if isinstance(n, Call) and n.fn.startswith(ACCESSOR_PREFIX):
                return self._variables[ids[0]].type              # the variable's exact static type
            if any(self._variables[i].widened for i in ids):
                return None      # the accessor's type is wider than Kyverno's: not checked
        return self._type_of_source(emit(n))

    def _homogeneous(self, elems: list, scope: frozenset) -> None:
        first = None
        for e, optional in elems:
            t = self.type_of(e, scope)
            if t is None:
                continue
            if optional and t.startswith("optional_type("):
                t = t[len("optional_type("):-1]          # `[?x]` contributes x's value type
            if first is None:
                first = t
            elif t != first:
                raise CelCompileError(f"expected type '{first}' but found '{t}'")

    # ------------------------------------------------------------------ literal calls
    def _call(self, n: Call, scope: frozenset) -> None:
        if n.target is None and n.fn in ("duration", "timestamp") and len(n.args) == 1 \
                and isinstance(n.args[0], Lit) and n.args[0].kind == "string":
            if self._type_of_source(f"{n.fn}({n.args[0].raw})", evaluate=True) is None:
                raise CelCompileError(f"invalid {n.fn} argument: {n.args[0].raw}")
        pattern = None
        if n.fn == "matches":
            if n.target is not None and len(n.args) == 1:
                pattern = n.args[0]
            elif n.target is None and len(n.args) == 2:
                pattern = n.args[1]
        if isinstance(pattern, Lit) and pattern.kind == "string":
            if self._type_of_source(f"''.matches({pattern.raw})", evaluate=True) is None:
                raise CelCompileError(f"invalid matches argument: error parsing regexp: {pattern.value}")
        if (n.fn == "format" and isinstance(n.target, Lit) and n.target.kind == "string" and len(n.args) == 1
                and isinstance(n.args[0], ListLit)):
            self._format(n.target.value, [e for e, _ in n.args[0].elems], scope)

    def _format(self, fmt: str, args: list, scope: frozenset) -> None:
        idx = 0
        allowed = {"d": ("int", "uint"), "f": ("double", "string"), "e": ("double", "string"),
                   "b": ("int", "uint", "bool"), "x": ("int", "uint", "string", "bytes"),
                   "X": ("int", "uint", "string", "bytes"), "o": ("int", "uint")}
        names = {"d": "decimal clause can only be used on integers",
                 "f": "fixed-point clause can only be used on doubles",
                 "e": "scientific clause can only be used on doubles",
                 "b": "only integers and bools can be formatted as binary",
                 "x": "only integers, byte buffers, and strings can be formatted as hex",
                 "X": "only integers, byte buffers, and strings can be formatted as hex",
                 "o": "octal clause can only be used on integers"}
        for part in parse_clauses(fmt):
            if isinstance(part, str):
                continue
            verb, _ = part
            if idx >= len(args):
                raise CelCompileError(f"index {idx} out of range")
            if verb == "end":
                raise CelCompileError("unexpected end of string")
            if verb == "badprec":
                raise CelCompileError("could not parse formatting clause: error while parsing precision: "
                                      "could not find end of precision specifier")
            if verb != "s" and verb not in allowed:
                raise CelCompileError(f'could not parse formatting clause: unrecognized formatting clause "{verb}"')
            t = self.type_of(args[idx], scope)
            if verb in allowed and t not in (None, "dyn"):
                base = t.split("(", 1)[0]
                if base not in allowed[verb]:
                    raise CelCompileError(f"error during formatting: {names[verb]}, was given {t}")
            idx += 1
        if len(args) > idx:
            raise CelCompileError(f"too many arguments supplied to string.format (expected {idx}, got {len(args)})")
