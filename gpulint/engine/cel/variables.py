"""Policy ``variables``: lazy, memoised, statically typed (Kyverno semantics, fact sheet §1.4/§1.5).

Kyverno compiles each variable once and registers its static type as the field
``variables.<name>``; at run time a variable is evaluated on first access and
memoised for the rest of that evaluation, so an unused erroring variable is
harmless and ``false && variables.bad`` is false.

cel-expr-python has no lazy activation values, so:

* each variable is compiled on its own (once per (variable prefix, namespace))
  into a program, in declaration order;
* ``variables.<name>`` in any expression is rewritten to a call of a
  Python-implemented *accessor* declared once in the environment, one per static
  type: ``__gpulint_var_bool(17)``, ``__gpulint_var_list(17)`` ... (17 = the
  variable's id in its environment). The accessor's declared return
  type gives the reference its static type: the variable's own type, or the
  nearest declared one (``list(map(string, int))`` -> ``list(map(string, dyn))``,
  anything else -> ``dyn``);
* the accessor finds the activation being evaluated on a per-thread frame stack
  (pushed by ``CelProgram.evaluate``), evaluates the variable's program on that
  same cel activation the first time, memoises the Python value or the error on
  the :class:`Activation` wrapper (one per resource, shared by every policy and
  program evaluated on it) and returns it; a memoised error is raised again, so
  cel-cpp turns it into a CEL error at that point of the expression
  (short-circuit preserved, message = the variable's own error);
* in each program, every accessor call is hoisted into a lazy ``cel.bind``
  around the whole expression (``hoist``), so a value crosses from Python into
  CEL at most once per program evaluation, not once per reference or per
  iteration of an enclosing comprehension.

A cel-expr-python function cannot return a ``cel.Value``: values go through
Python (``plain_value()`` once per activation, then a full Python -> CEL
conversion per program that reads them, cost proportional to their size).
Hence variables that are mere access paths or literal lists
(``object.spec.template.spec``, ``variables.x.y``, ``['a', 'b']``) are inlined
instead: re-running them is cheaper than converting, they keep their exact
type and cannot grow the source (one root each).

Top-level ``optional_type(T)`` variables are stored as ``[]``/``[v]`` and
rebuilt as optionals at the reference. Values that cannot cross the boundary
where the accessor type says ``dyn`` (timestamps, durations, type values,
nested optionals; uints would come back as ints) are detected from the syntax
and static type; such a variable is bound with its own expression in each
program that uses it (``BIND_FN``, evaluated lazily at most once per program).
"""

from __future__ import annotations

import threading
from typing import Callable

from cel_expr_python import cel

from .errors import LibraryError, translate_runtime
from .opaque import TYPES
from .rewrite import debind
from .syntax import (MACROS, Binary, Call, Cond, Ident, Index, ListLit, Lit, MapLit, MsgLit, Node, Select, Unary,
                     children, walk)

T = cel.Type
_ERROR = T.ERROR

__all__ = ["Activation", "Variable", "ACCESSOR_PREFIX", "accessor_decls", "push", "pop", "nearest_type",
           "hoist"]

ACCESSOR_PREFIX = "__gpulint_var_"
BIND_FN = "__gpulint_bind"          # placeholder of a variable bound in each program (never compiled)

# Declared accessors: cel-go style static type -> (function name suffix, cel type).
_ACCESSORS: dict[str, tuple[str, object]] = {
    "bool": ("bool", T.BOOL),
    "int": ("int", T.INT),
    "uint": ("uint", T.UINT),
    "double": ("double", T.DOUBLE),
    "string": ("string", T.STRING),
    "bytes": ("bytes", T.BYTES),
    "null_type": ("null", T.NULL),
    "google.protobuf.Timestamp": ("timestamp", T.TIMESTAMP),
    "google.protobuf.Duration": ("duration", T.DURATION),
    "list(dyn)": ("list", T.List(T.DYN)),
    "list(string)": ("list_string", T.List(T.STRING)),
    "list(int)": ("list_int", T.List(T.INT)),
    "list(double)": ("list_double", T.List(T.DOUBLE)),
    "list(bool)": ("list_bool", T.List(T.BOOL)),
    "list(list(dyn))": ("list_list", T.List(T.List(T.DYN))),
    "list(list(string))": ("list_list_string", T.List(T.List(T.STRING))),
    "list(map(string, dyn))": ("list_map", T.List(T.Map(T.STRING, T.DYN))),
    "list(map(string, string))": ("list_map_string", T.List(T.Map(T.STRING, T.STRING))),
    "map(string, dyn)": ("map", T.Map(T.STRING, T.DYN)),
    "map(string, string)": ("map_string", T.Map(T.STRING, T.STRING)),
    "map(string, int)": ("map_int", T.Map(T.STRING, T.INT)),
    "map(string, bool)": ("map_bool", T.Map(T.STRING, T.BOOL)),
    "map(string, list(string))": ("map_list_string", T.Map(T.STRING, T.List(T.STRING))),
    "map(string, list(dyn))": ("map_list", T.Map(T.STRING, T.List(T.DYN))),
    "map(string, map(string, dyn))": ("map_map", T.Map(T.STRING, T.Map(T.STRING, T.DYN))),
    "map(dyn, dyn)": ("map_dyn", T.Map(T.DYN, T.DYN)),
    "dyn": ("dyn", T.DYN),
}
for _name, _t in TYPES.items():
    _ACCESSORS[_name] = (_name.replace(".", "_"), _t)

# Expressions that can put such values where a widened accessor type says dyn.
_SPECIAL_CALLS = frozenset({"timestamp", "duration", "uint", "type", "now", "truncate"})
_TYPE_IDENTS = frozenset({"int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type",
                          "dyn", "optional_type", "google"})

# ------------------------------------------------------------------------------- activation

class Activation:
    """One resource's cel activation plus the memo of the policy variables evaluated on it.

    Returned by ``CelEnvironment.activation``; reuse it for every program of every policy
    on that resource (conversion of ``object`` is cached per cel activation, variables
    per wrapper)."""

    __slots__ = ("act", "memo", "owner", "__weakref__")

    def __init__(self, act, owner=None):
        self.act = act
        self.memo: dict = {}
        self.owner = owner          # the variable table of the environment that made it


_state = threading.local()


def push(activation: Activation) -> None:
    try:
        _state.frames.append(activation)
    except AttributeError:
        _state.frames = [activation]


def pop() -> None:
    _state.frames.pop()


class _Failure:
    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


_MISSING = object()


# ------------------------------------------------------------------------------- variables

class Variable:
    """One compiled policy variable (its own program, static type and reference node)."""

    __slots__ = ("id", "name", "expr", "is_bool", "type", "accessor", "ref", "inline", "free", "special",
                 "source", "value", "widened", "ast", "compiler")

    def __init__(self, vid: int, name: str):
        self.id = vid
        self.name = name
        self.expr = None            # cel Expression of the stored value ([v]/[] for optionals)
        self.is_bool = False
        self.type = "dyn"           # the variable's static type (cel-go style)
        self.accessor: str | None = None
        self.ref: Node | None = None      # node replacing `variables.<name>` (accessor call)
        self.inline: Node | None = None   # rewritten AST inlined instead, when that is cheaper/needed
        self.free: frozenset = frozenset()  # identifiers the inline AST reads
        self.special = False        # may produce timestamps/durations/uints/types
        self.source = ""
        self.value: Node | None = None    # rewritten AST bound with cel.bind in each program (ref = BIND_FN)
        self.widened = False        # the accessor's type is wider than the static type
        self.ast: Node | None = None      # rewritten AST of a plain accessor variable (hoist(bind_values=True))
        self.compiler = None        # compiles ``source`` on first use when ``expr`` is None (rule cache)

    def compute(self, act):
        """Evaluate on a cel activation: the Python value, or a _Failure."""
        if self.expr is None:
            self.expr = self.compiler(self.source)
        try:
            v = self.expr.eval(act)
        except RuntimeError as e:
            return _Failure(translate_runtime(str(e)))
        if self.is_bool:
            r = v.plain_value()
            if r is True or r is False:
                return r
        if v.type() == _ERROR:
            return _Failure(translate_runtime(v.value()))
        try:
            return v.plain_value()
        except TypeError as e:
            return _Failure(f"unsupported variable value ({self.name}): {e}")

    def __repr__(self) -> str:
        return f"Variable({self.name!r}, id={self.id}, type={self.type!r}, accessor={self.accessor!r})"


def accessor_decls(table: dict[int, Variable]) -> list:
    """(name, return type, impl) of every accessor; ``table`` maps ids to variables."""

    def access(key):
        try:
            frame = _state.frames[-1]
        except (AttributeError, IndexError):
            raise LibraryError("variables are not available here") from None
        if frame.owner is not table:  # ids are per environment
            raise LibraryError("variables of another CEL environment are not available here")
        memo = frame.memo
        v = memo.get(key, _MISSING)
        if v is _MISSING:
            v = memo[key] = table[key].compute(frame.act)
        if type(v) is _Failure:
            raise LibraryError(v.message)
        return v

    return [(ACCESSOR_PREFIX + suffix, t, access) for suffix, t in _ACCESSORS.values()]


# ------------------------------------------------------------------------------- typing

def _parse_type(s: str):
    """'list(map(string, dyn))' -> ('list', [('map', [('string', []), ('dyn', [])])])."""
    s = s.strip()
    head, paren, rest = s.partition("(")
    if not paren or not rest.endswith(")"):
        return (s, [])
    args, depth, cur = [], 0, []
    for ch in rest[:-1]:
        if ch == "," and depth == 0:
            args.append("".join(cur))
            cur = []
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur.append(ch)
    args.append("".join(cur))
    return (head, [_parse_type(a) for a in args])


def _print_type(t) -> str:
    head, args = t
    return f"{head}({', '.join(_print_type(a) for a in args)})" if args else head


def _widenings(t):
    """t, then ever wider types, ending with dyn."""
    head, args = t
    if head == "list" and len(args) == 1:
        for e in _widenings(args[0]):
            yield ("list", [e])
    elif head == "map" and len(args) == 2:
        for k in _widenings(args[0]):
            for v in _widenings(args[1]):
                yield ("map", [k, v])
    else:
        yield t
    yield ("dyn", [])


def nearest_type(static: str) -> str:
    """The declared accessor type closest to ``static`` (itself if declared)."""
    if static in _ACCESSORS:
        return static
    for w in _widenings(_parse_type(static)):
        name = _print_type(w)
        if name in _ACCESSORS:
            return name
    return "dyn"


def accessor_name(declared: str) -> str:
    return ACCESSOR_PREFIX + _ACCESSORS[declared][0]


# ------------------------------------------------------------------------------- AST helpers

def accessor_call(name: str, vid: int) -> Call:
    return Call(name, [Lit("int", str(vid), vid)])


def optional_ref(name: str, vid: int) -> Node:
    """Rebuild the optional of a variable stored as [] / [v]."""
    v = Ident(f"__gpl_vo{vid}")
    return Call("bind", [v, accessor_call(name, vid), Cond(
        Binary("==", Call("size", [v]), Lit("int", "0", 0)),
        Call("none", [], target=Ident("optional")),
        Call("of", [Index(v, Lit("int", "0", 0))], target=Ident("optional")))], target=Ident("cel"))


def is_path(n: Node, budget: int = 24) -> bool:
    """An access path or small literal: cheaper to re-run than to convert, and one root only."""
    nodes = 0
    while True:
        nodes += 1
        if nodes > budget:
            return False
        if isinstance(n, Select):
            n = n.operand
        elif isinstance(n, Index):
            if not isinstance(n.index, Lit):
                return False
            n = n.operand
        elif isinstance(n, Ident):
            return not n.leading_dot
        elif isinstance(n, Lit):
            return True
        elif isinstance(n, ListLit):
            return len(n.elems) <= budget and all(isinstance(e, Lit) and not o for e, o in n.elems)
        elif isinstance(n, Call):
            return (n.target is None and (n.fn.startswith(ACCESSOR_PREFIX) or n.fn == BIND_FN)
                    and len(n.args) == 1 and isinstance(n.args[0], Lit))
        else:
            return False


def produces_special(tree: Node, is_special: Callable[[str], bool]) -> bool:
    """Whether the user's expression ``tree`` (before rewriting) can produce timestamps,
    durations, uints or type values; ``is_special(name)`` answers for ``variables.<name>``."""
    for c in walk(tree):
        if isinstance(c, Call):
            if c.fn in _SPECIAL_CALLS:
                return True
        elif isinstance(c, Lit) and c.kind == "uint":
            return True
        elif isinstance(c, Ident) and c.name in _TYPE_IDENTS:
            return True
        elif isinstance(c, MsgLit):
            return True
        elif isinstance(c, Select) and isinstance(c.operand, Ident) and c.operand.name == "variables":
            if is_special(c.field):
                return True
        elif (isinstance(c, Index) and isinstance(c.operand, Ident) and c.operand.name == "variables"
              and isinstance(c.index, Lit) and c.index.kind == "string"):
            if is_special(c.index.value):
                return True
    return False


def _map(n: Node, f: Callable[[Node], Node | None]) -> Node:
    """Rebuild ``n`` bottom-up where ``f`` returns a replacement (None = keep, recurse)."""
    r = f(n)
    if r is not None:
        return r
    if isinstance(n, Select):
        return Select(_map(n.operand, f), n.field, n.optional)
    if isinstance(n, Index):
        return Index(_map(n.operand, f), _map(n.index, f), n.optional)
    if isinstance(n, Call):
        return Call(n.fn, [_map(a, f) for a in n.args], None if n.target is None else _map(n.target, f))
    if isinstance(n, Unary):
        return Unary(n.op, _map(n.operand, f))
    if isinstance(n, Binary):
        return Binary(n.op, _map(n.left, f), _map(n.right, f))
    if isinstance(n, Cond):
        return Cond(_map(n.cond, f), _map(n.then, f), _map(n.other, f))
    if isinstance(n, ListLit):
        return ListLit([(_map(e, f), o) for e, o in n.elems])
    if isinstance(n, MapLit):
        return MapLit([(_map(k, f), _map(v, f), o) for k, v, o in n.entries])
    if isinstance(n, MsgLit):
        return MsgLit(n.name, [(name, _map(v, f), o) for name, v, o in n.fields])
    return n


map_nodes = _map


def hoist(root: Node, table: dict, all_accessors: bool = True, bind_values: bool = False,
          inline_single: bool = False, in_place: frozenset = frozenset(), levels: bool = False) -> Node:
    """Bind each variable used by ``root`` once, around the whole expression.

    Accessor calls and BIND_FN placeholders are replaced by aliases bound with
    ``cel.bind``, which cel-cpp evaluates lazily (on first use of the alias) and
    caches for the rest of the evaluation: laziness and short-circuits are kept, an
    accessed value crosses from Python into CEL once per evaluation instead of once
    per reference (or per iteration of a comprehension around it), and a bound
    variable's expression runs at most once per evaluation. Binds are nested by
    variable id, so a variable's dependencies (compiled first, smaller ids) are in
    scope of its value; ``table`` maps ids to variables.

    Each bind costs two levels of cel-cpp's parser depth limit (32): with
    ``all_accessors=False`` accessor calls are left in place (only placeholders,
    which must be bound, are). With ``bind_values=True`` a variable read through an
    accessor whose rewritten AST is known (``Variable.ast``) is bound to that AST
    instead, so its value never crosses into Python (used by ``CelEnvironment.fuse``),
    and with ``inline_single=True`` too, such a value read only once is put in place
    of its reference (no bind: less nesting above the body, more inside the value).
    Accessor calls of the variables in ``in_place`` are left where they are. With ``levels=True``
    (and ``bind_values``) variables are bound by dependency level (``_bind_levels``).
    """
    values: dict[int, Node] = {}
    inline = _single_use(root, table) if bind_values and inline_single else set()

    def swap(n: Node):
        if (isinstance(n, Call) and n.target is None and len(n.args) == 1 and isinstance(n.args[0], Lit)
                and (n.fn.startswith(ACCESSOR_PREFIX) or n.fn == BIND_FN)):
            if n.fn != BIND_FN and not all_accessors:
                return n
            vid = n.args[0].value
            if vid in in_place and n.fn != BIND_FN:
                return n
            if vid in inline:
                return _map(debind(table[vid].ast), swap)
            if vid not in values:
                var = table[vid]
                if n.fn == BIND_FN:
                    values[vid] = _map(debind(var.value), swap)
                elif bind_values and var.ast is not None:
                    values[vid] = _map(debind(var.ast), swap)
                else:
                    values[vid] = accessor_call(n.fn, vid)
            return Ident(f"__gpl_v{vid}")
        return None

    out = _map(root, swap)
    if levels and len(values) > 1:
        return _bind_levels(out, values)
    for vid in reversed(_bind_order(values) if bind_values else sorted(values)):
        out = Call("bind", [Ident(f"__gpl_v{vid}"), values[vid], out], target=Ident("cel"))
    return out


def _bind_levels(out: Node, values: dict[int, Node]) -> Node:
    """Bind the variables level by level: variables whose values read only earlier levels share one
    ``cel.bind`` of a list, so the nesting grows with the dependency levels, not with the variables.
    The list is built eagerly (every variable of a level is evaluated, used or not) and an error in
    any of its values fails the whole program (fused programs are then evaluated program by program)."""
    needs = _needs(values)
    level: dict[int, int] = {}
    for vid in _bind_order(values):
        level[vid] = 1 + max((level[d] for d in needs[vid]), default=-1)
    groups: dict[int, list[int]] = {}
    for vid in sorted(values):
        groups.setdefault(level[vid], []).append(vid)
    where: dict[str, Node] = {}
    for lvl, vids in groups.items():
        if len(vids) > 1:
            for position, vid in enumerate(vids):
                where[f"__gpl_v{vid}"] = Index(Ident(f"__gpl_l{lvl}"), Lit("int", str(position), position))

    def relink(n: Node):
        return where.get(n.name) if isinstance(n, Ident) else None

    out = _map(out, relink)
    for lvl in sorted(groups, reverse=True):
        vids = groups[lvl]
        if len(vids) == 1:
            value = _map(values[vids[0]], relink)
            out = Call("bind", [Ident(f"__gpl_v{vids[0]}"), value, out], target=Ident("cel"))
        else:
            items = ListLit([(Call("dyn", [_map(values[vid], relink)]), False) for vid in vids])
            out = Call("bind", [Ident(f"__gpl_l{lvl}"), items, out], target=Ident("cel"))
    return out


def _needs(values: dict[int, Node]) -> dict[int, set[int]]:
    """The bound variables each value reads."""
    return {vid: {int(c.name[len("__gpl_v"):]) for c in walk(value)
                  if isinstance(c, Ident) and c.name.startswith("__gpl_v") and c.name[7:].isdigit()
                  and int(c.name[7:]) in values and int(c.name[7:]) != vid}
            for vid, value in values.items()}


def rebalance(root: Node) -> Node:
    """``root`` with long ``&&``/``||`` chains and ``+`` chains of strings or lists as balanced trees
    (nesting log2(n) instead of n: cel-cpp's parser allows 32 levels). Both operators give the same
    value either way (``+`` chains that hold a string or list literal can only succeed on strings or
    lists, where ``+`` is associative); an error may name another operand, so only fused programs
    use it, whose callers evaluate program by program after any error."""

    def balance(n: Node):
        if not isinstance(n, Binary) or n.op not in ("&&", "||", "+"):
            return None
        operands = _chain(n, n.op)
        if len(operands) < 4 or (n.op == "+" and not any(
                isinstance(o, ListLit) or (isinstance(o, Lit) and o.kind == "string") for o in operands)):
            return None
        return _balanced(n.op, [_map(o, balance) for o in operands])

    return _map(root, balance)


def _chain(n: Node, op: str) -> list[Node]:
    out: list[Node] = []
    stack = [n]
    while stack:
        node = stack.pop()
        if isinstance(node, Binary) and node.op == op:
            stack.append(node.right)
            stack.append(node.left)
        else:
            out.append(node)
    return out


def _balanced(op: str, operands: list[Node]) -> Node:
    if len(operands) == 1:
        return operands[0]
    middle = len(operands) // 2
    return Binary(op, _balanced(op, operands[:middle]), _balanced(op, operands[middle:]))


def _depth(n: Node) -> int:
    best, stack = 0, [(n, 1)]
    while stack:
        node, d = stack.pop()
        if d > best:
            best = d
        stack.extend((c, d + 1) for c in children(node))
    return best


def _bind_order(values: dict[int, Node]) -> list[int]:
    """Outermost first: a variable after the variables its value reads, the deepest values as far
    out as that allows (each enclosing bind adds to the nesting of a value; cel-cpp allows 32)."""
    needs = _needs(values)
    depth = {vid: _depth(value) for vid, value in values.items()}
    order: list[int] = []
    placed: set[int] = set()
    while len(order) < len(values):
        ready = [vid for vid in values if vid not in placed and needs[vid] <= placed]
        if not ready:  # not expected (ids grow with dependencies): keep the id order
            return sorted(values)
        best = max(ready, key=lambda vid: (depth[vid], -vid))
        order.append(best)
        placed.add(best)
    return order


def reference_counts(root: Node, table: dict) -> dict[int, int]:
    """How often each variable is read by ``root`` and the values it binds (a read inside a
    comprehension counts twice)."""
    counts: dict[int, int] = {}
    walked: set[int] = set()
    stack = [(root, False)]
    while stack:
        n, looped = stack.pop()
        if (isinstance(n, Call) and n.target is None and len(n.args) == 1 and isinstance(n.args[0], Lit)
                and (n.fn.startswith(ACCESSOR_PREFIX) or n.fn == BIND_FN)):
            vid = n.args[0].value
            counts[vid] = counts.get(vid, 0) + (2 if looped else 1)
            var = table[vid]
            if vid not in walked:
                walked.add(vid)
                value = var.value if n.fn == BIND_FN else var.ast
                if value is not None:
                    stack.append((value, False))
            continue
        if isinstance(n, Call) and n.target is not None and n.fn in MACROS:
            bound = MACROS[n.fn]
            stack.append((n.target, looped))
            stack.extend((a, looped or i >= bound) for i, a in enumerate(n.args))
            continue
        stack.extend((c, looped) for c in children(n))
    return counts


def _single_use(root: Node, table: dict) -> set[int]:
    """Variables with a known AST read exactly once in ``root`` and in the values it binds, and not
    inside a comprehension: substituting the value there keeps laziness and evaluates it as often
    (once), and costs no ``cel.bind`` (each costs two of cel-cpp's 32 levels of nesting)."""
    return {vid for vid, count in reference_counts(root, table).items()
            if count == 1 and table[vid].ast is not None and table[vid].value is None}


def accessor_ids(n: Node) -> list[int]:
    """Ids of the variables read through accessors in ``n``."""
    return [c.args[0].value for c in walk(n)
            if isinstance(c, Call) and c.target is None and c.fn.startswith(ACCESSOR_PREFIX) and len(c.args) == 1
            and isinstance(c.args[0], Lit)]
