"""Source rewriting that maps Kyverno/Kubernetes CEL onto what cel-expr-python can run.

Passes (one recursive walk, scope-aware so comprehension variables are never
mistaken for globals):

* ``variables.<name>`` -> a call of the variable's typed accessor
  (``__gpulint_var_list(17)``, lazy and memoised, see variables.py) or, for
  mere access paths, the variable's own rewritten expression. Only variables
  declared *before* may be used (``undefined field 'x'``).
* ``x.orValue(y)`` -> ``cel.bind(v, x, type(v) == optional_type ?
  dyn(v).orValue(y) : dyn(v))``: Kyverno's ``__orValueCompat__`` (a present
  non-optional x returns x; the result is statically dyn); left as it is when x
  is optional by its syntax (``a.?b``, ``m[?k]``, ``optional.of(..)``).
* every ``cel.bind(v, init, body)`` (the user's and the ones above) ->
  ``[init].map(v, body)[0]`` by ``debind``: cel-cpp's lazily initialised bind
  slots can return a stale value after an early-exiting ``exists``/``all``
  reused the slot (``[['l', 'r'].exists(x, x == 'l'), cel.bind(b, 'p', b)]``
  gives ``[true, 'r']``). The map form is eager, as cel-go's bind is.
* ``l.indexOf(x)``/``lastIndexOf`` -> ``__gpl_indexOf`` (strings and lists
  both handled in Python; the built-in name cannot be overloaded).
* ``s.find(re)``/``findAll`` -> RE2 ``regex.extract``/``extractAll``.
* ``format.named(n)``/``F.validate(s)`` -> wrapped in ``optional.ofNonZeroValue``
  (optionals cannot cross the Python boundary).
* ``resource.Get`` of four literal arguments -> read from the run's constant
  lookups when present (``constant_lookup``), else the call itself.
* ``math.round(x, n)`` -> ``__gpl_math_round``; NamespacedValidatingPolicy
  ``resource.get/list/post`` short forms get the policy namespace inserted.
* ``string(x)`` -> ``__gpl_string(x)``: only when cel-cpp rejects ``string``
  on an ip/cidr (see compile.py).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from .errors import CelCompileError
from .syntax import (MACROS, Binary, Call, Cond, Ident, Index, ListLit, Lit, MapLit, MsgLit, Node, Select,
                     Unary)

_RESOURCE_GET = {"resource.get", "resource.Get"}
CONSTANTS = "__gpl_consts"           # activation variable: run-constant lookups by constant_key
CONSTANT_PREFIX = "resource.Get:"
_RESOURCE_LIST = {"resource.list", "resource.List"}
_RESOURCE_POST = {"resource.post", "resource.Post"}
# Libraries the Kubernetes base environment does not have (they are enabled only for
# gpulint's own rewrites in the "k8s" flavour).
K8S_FORBIDDEN_PREFIXES = ("cel.", "math.", "base64.", "regex.")


@dataclass
class Context:
    variables: object                   # `in` + node(name, scope): what replaces variables.<name>
    namespace: str | None = None
    globals: frozenset = frozenset()
    flavor: str = "vpol"
    string_fallback: bool = False
    numeric_fallback: bool = False
    counter: itertools.count = field(default_factory=itertools.count)


def qualified(call: Call, scope: frozenset, ctx: Context) -> str | None:
    """``a.b.fn(..)`` written as a namespaced function call, or None."""
    parts = [call.fn]
    t = call.target
    while isinstance(t, Select) and not t.optional:
        parts.append(t.field)
        t = t.operand
    if isinstance(t, Ident) and not t.leading_dot and t.name not in scope and t.name not in ctx.globals:
        parts.append(t.name)
        return ".".join(reversed(parts))
    return None


def _optional_syntax(n: Node) -> bool:
    """Whether ``n`` is optional-typed by its syntax alone."""
    if isinstance(n, (Select, Index)):
        return n.optional
    if isinstance(n, Call):
        if isinstance(n.target, Ident) and n.target.name == "optional" and n.fn in ("of", "ofNonZeroValue", "none"):
            return True
        return n.target is not None and n.fn in ("optMap", "optFlatMap")
    return False


def debind(n: Node) -> Node:
    """``cel.bind(v, init, body)`` -> ``[init].map(v, body)[0]`` everywhere (see the module doc)."""
    if isinstance(n, Call):
        args = [debind(a) for a in n.args]
        target = debind(n.target) if n.target is not None else None
        if (n.fn == "bind" and isinstance(target, Ident) and target.name == "cel" and not target.leading_dot
                and len(args) == 3 and isinstance(args[0], Ident)):
            return Index(Call("map", [args[0], args[2]], target=ListLit([(args[1], False)])), Lit("int", "0", 0))
        return Call(n.fn, args, target)
    if isinstance(n, Select):
        return Select(debind(n.operand), n.field, n.optional)
    if isinstance(n, Index):
        return Index(debind(n.operand), debind(n.index), n.optional)
    if isinstance(n, Unary):
        return Unary(n.op, debind(n.operand))
    if isinstance(n, Binary):
        return Binary(n.op, debind(n.left), debind(n.right))
    if isinstance(n, Cond):
        return Cond(debind(n.cond), debind(n.then), debind(n.other))
    if isinstance(n, ListLit):
        return ListLit([(debind(e), o) for e, o in n.elems])
    if isinstance(n, MapLit):
        return MapLit([(debind(k), debind(v), o) for k, v, o in n.entries])
    if isinstance(n, MsgLit):
        return MsgLit(n.name, [(f, debind(v), o) for f, v, o in n.fields])
    return n


def constant_lookup(call: Call, args: list[str]) -> Node:
    """``resource.Get`` of literal arguments answers the same for every resource of a run: read it
    from ``CONSTANTS`` (filled once per run, converted once per activation, see env.py) when it is
    there, else make the call (a lookup that failed is left out, so its error is the call's own)."""
    key = constant_key(args)
    return Cond(Binary("in", _lit_str(key), Ident(CONSTANTS)), Index(Ident(CONSTANTS), _lit_str(key)), call)


def constant_key(args: list[str]) -> str:
    return CONSTANT_PREFIX + json.dumps(args, separators=(",", ":"))


def _lit_str(s: str) -> Lit:
    return Lit("string", '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"', s)


def _bound_names(call: Call) -> list[str]:
    if call.target is not None and call.fn in MACROS:
        n = MACROS[call.fn]
        if len(call.args) > n and all(isinstance(a, Ident) for a in call.args[:n]):
            return [a.name for a in call.args[:n]]
    return []


def rewrite(node: Node, ctx: Context, scope: frozenset = frozenset()) -> Node:
    return _Rewriter(ctx).visit(node, scope)


class _Rewriter:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def visit(self, n: Node, scope: frozenset) -> Node:
        m = getattr(self, "_" + type(n).__name__)
        return m(n, scope)

    # -- leaves / structure
    def _Lit(self, n, scope):
        return n

    def _Ident(self, n, scope):
        if n.name == "variables" and not n.leading_dot and "variables" not in scope:
            raise CelCompileError("undeclared reference to 'variables': use variables.<name>")
        return n

    def _Select(self, n, scope):
        if (isinstance(n.operand, Ident) and n.operand.name == "variables" and not n.operand.leading_dot
                and "variables" not in scope):
            return self._variable(n.field, scope)
        return Select(self.visit(n.operand, scope), n.field, n.optional)

    def _Index(self, n, scope):
        if (isinstance(n.operand, Ident) and n.operand.name == "variables" and "variables" not in scope
                and isinstance(n.index, Lit) and n.index.kind == "string"):
            return self._variable(n.index.value, scope)
        return Index(self.visit(n.operand, scope), self.visit(n.index, scope), n.optional)

    def _variable(self, name: str, scope: frozenset) -> Node:
        if name not in self.ctx.variables:
            raise CelCompileError(f"undefined field '{name}'")
        return self.ctx.variables.node(name, scope)

    def _Unary(self, n, scope):
        return Unary(n.op, self.visit(n.operand, scope))

    def _Binary(self, n, scope):
        left, right = self.visit(n.left, scope), self.visit(n.right, scope)
        if self.ctx.numeric_fallback and n.op in ("<", "<=", ">", ">="):
            # Kubernetes enables cross-type numeric comparisons (1 < 1.5); cel-cpp only
            # supports them at runtime, on dyn operands.
            left, right = Call("dyn", [left]), Call("dyn", [right])
        return Binary(n.op, left, right)

    def _Cond(self, n, scope):
        return Cond(self.visit(n.cond, scope), self.visit(n.then, scope), self.visit(n.other, scope))

    def _ListLit(self, n, scope):
        return ListLit([(self.visit(e, scope), o) for e, o in n.elems])

    def _MapLit(self, n, scope):
        return MapLit([(self.visit(k, scope), self.visit(v, scope), o) for k, v, o in n.entries])

    def _MsgLit(self, n, scope):
        return MsgLit(n.name, [(f, self.visit(v, scope), o) for f, v, o in n.fields])

    # -- calls
    def _Call(self, n: Call, scope):
        ctx = self.ctx
        qn = qualified(n, scope, ctx) if n.target is not None else None
        if qn is not None:
            return self._qualified_call(n, qn, scope)
        if n.target is None and n.fn == "has" and len(n.args) == 1:
            a = n.args[0]
            if (isinstance(a, Select) and isinstance(a.operand, Ident) and a.operand.name == "variables"
                    and "variables" not in scope):
                self._variable(a.field, scope)
                return Lit("bool", "true", True)
        inner = scope
        bound = _bound_names(n)
        if bound:
            inner = scope | frozenset(bound)
        target = self.visit(n.target, scope) if n.target is not None else None
        nb = len(bound)
        args = [a if i < nb else self.visit(a, inner) for i, a in enumerate(n.args)]
        if target is None:
            if n.fn == "string" and len(args) == 1 and ctx.string_fallback:
                return Call("__gpl_string", args)
            return Call(n.fn, args)
        fn = n.fn
        if fn in ("first", "last") and not args:
            # cel-cpp's lists extension has them; cel-go's lists v3 (Kyverno) does not.
            raise CelCompileError(f"undeclared reference to '{fn}'")
        if fn in ("transformMap", "transformMapEntry") and len(args) in (3, 4) and len(bound) == 2:
            # cel-expr-python lacks the runtime of cel.@mapInsert (used by these macros):
            # build a list with transformList and turn it into a map in Python.
            if fn == "transformMap":
                body = ListLit([(Ident(bound[0]), False), (args[-1], False)])
                return Call("__gpl_pairs_to_map", [Call("transformList", args[:-1] + [body], target=target)])
            return Call("__gpl_merge_maps", [Call("transformList", args, target=target)])
        if fn in ("min", "max") and not args:
            v = Ident(f"__gpl_l{next(ctx.counter)}")
            return Call("bind", [v, target, Index(v, Call(f"__gpl_{fn}_index", [], target=v))],
                        target=Ident("cel"))
        if fn == "orValue" and len(args) == 1:
            if _optional_syntax(n.target):
                return Call(fn, args, target=target)        # statically optional: the built-in one
            v = f"__gpl_ov{next(ctx.counter)}"
            vi = Ident(v)
            return Call("bind", [vi, target, Cond(
                Binary("==", Call("type", [vi]), Ident("optional_type")),
                Call("orValue", args, target=Call("dyn", [vi])),
                Call("dyn", [vi]))], target=Ident("cel"))
        if fn in ("indexOf", "lastIndexOf") and not (isinstance(target, Lit) and target.kind == "string"):
            return Call(f"__gpl_{fn}", args, target=target)
        if fn == "find" and len(args) == 1:
            return Call("orValue", [_lit_str("")], target=Call(
                "extract", [target, Call("__gpl_re_group", args)], target=Ident("regex")))
        if fn == "findAll" and len(args) in (1, 2):
            found = Call("extractAll", [target, Call("__gpl_re_group", args[:1])], target=Ident("regex"))
            return found if len(args) == 1 else Call("__gpl_take", [found, args[1]])
        if fn == "validate" and len(args) == 1:
            return Call("ofNonZeroValue", [Call("__gpl_format_validate", args, target=target)],
                        target=Ident("optional"))
        return Call(fn, args, target=target)

    def _qualified_call(self, n: Call, qn: str, scope):
        ctx = self.ctx
        if ctx.flavor == "k8s" and qn.startswith(K8S_FORBIDDEN_PREFIXES):
            raise CelCompileError(f"undeclared reference to '{qn}'")
        bound = [n.args[0].name] if qn == "cel.bind" and n.args and isinstance(n.args[0], Ident) else []
        inner = scope | frozenset(bound)
        args = [a if (bound and i == 0) else self.visit(a, inner if i == 2 and bound else scope)
                for i, a in enumerate(n.args)]
        if qn == "format.named" and len(args) == 1:
            return Call("ofNonZeroValue", [Call("__gpl_format_named", args)], target=Ident("optional"))
        if qn == "math.round" and len(args) == 2:
            return Call("__gpl_math_round", args)
        if ctx.namespace is not None:
            ns = _lit_str(ctx.namespace)
            if qn in _RESOURCE_GET and len(args) == 3:
                args = args[:2] + [ns] + args[2:]
            elif qn in _RESOURCE_LIST and len(args) in (2, 3):
                args = args[:2] + [ns] + args[2:]
            elif qn in _RESOURCE_POST and len(args) == 3:
                args = args[:2] + [ns] + args[2:]
        call = Call(n.fn, args, target=n.target)
        if ctx.flavor == "vpol" and qn in _RESOURCE_GET and len(args) == 4 and all(
                isinstance(a, Lit) and a.kind == "string" for a in args):
            return constant_lookup(call, [a.value for a in args])
        return call


# ------------------------------------------------------------------ free variables

def free_idents(n: Node, scope: frozenset = frozenset()) -> set[str]:
    """Identifiers read by ``n`` that are not bound inside it (qualified function
    prefixes like ``math`` in ``math.abs(..)`` count too; callers filter)."""
    out: set[str] = set()
    _free(n, scope, out)
    return out


def _free(n: Node, scope: frozenset, out: set) -> None:
    if isinstance(n, Ident):
        if n.name not in scope:
            out.add(n.name)
        return
    if isinstance(n, Call):
        bound = _bound_names(n)
        if n.target is not None and n.fn == "bind" and isinstance(n.target, Ident) and n.target.name == "cel" \
                and n.args and isinstance(n.args[0], Ident):
            if len(n.args) > 1:
                _free(n.args[1], scope, out)
            if len(n.args) > 2:
                _free(n.args[2], scope | {n.args[0].name}, out)
            return
        if n.target is not None:
            _free(n.target, scope, out)
        inner = scope | frozenset(bound)
        for i, a in enumerate(n.args):
            if i < len(bound):
                continue
            _free(a, inner, out)
        return
    from .syntax import children
    for c in children(n):
        _free(c, scope, out)
