"""CelEnvironment / CelProgram: compile once, evaluate many times against one activation."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal, Sequence

from cel_expr_python import cel

from . import k8s_format, k8s_lib, k8s_net, k8s_quantity, kyverno_image, strings_lib
from .fast_regex import FastMatcher, native_matcher
from .checks import Checker, normalize_type
from .errors import CelCompileError, CelEvalError, LibraryError, translate_compile, translate_runtime
from .kyverno_lib import KyvernoLib
from .opaque import POOL, TYPES, make
from .registry import Registry
from .rewrite import CONSTANTS, CONSTANT_PREFIX, Context, debind, free_idents, rewrite
from .syntax import Call, Cond, Ident, ListLit, Lit, Node, Unary, emit, parse
from .values import to_plain
from . import variables as V

T = cel.Type

_CONFIG = cel.NewEnvConfigFromYaml("""
extensions:
- name: optional
- name: strings
  version: 0
- name: lists
- name: sets
- name: two-var-comprehensions
- name: regex
- name: math
- name: bindings
- name: encoders
""")

AUTHORIZER = TYPES["kubernetes.authorization.Authorizer"]
_NO_CLUSTER = "authorizer requires a cluster (not available offline)"


def _no_resource(api_version: str, resource: str, namespace: str, name: str):
    return None


def _no_list(api_version: str, resource: str, namespace: str):
    return None


@dataclass
class HttpResponse:
    """A mocked HTTP answer; plain values in ``http_responses`` mean status 200."""
    body: Any
    status: int = 200


@dataclass
class OfflineContext:
    """How library calls are answered without a cluster (Kyverno CLI FakeContextProvider).

    ``get_resource`` returns the object or None (-> CEL null, as Kyverno's sdk does
    for NotFound); ``list_resources`` returns the items, or None when the resource
    type is unknown (-> error ``failed to list resource: <gr> resource not found``);
    both may raise to produce ``failed to get/list resource: <message>``.
    """
    get_resource: Callable[[str, str, str, str], dict | None] = _no_resource
    list_resources: Callable[[str, str, str], list[dict] | None] = _no_list
    images: dict[str, dict] = field(default_factory=dict)
    http_responses: dict[str, Any] = field(default_factory=dict)
    global_context: dict[str, Any] = field(default_factory=dict)
    now: datetime | None = None


Expect = Literal["bool", "string", "string_or_null", None]
_ERROR = T.ERROR
_POS = re.compile(r"<input>:\d+:\d+: ")
_FALLBACKS = [
    ("string", re.compile(r"overload for 'string' applied to")),
    ("numeric", re.compile(r"overload for '_(?:<|<=|>|>=)_' applied to '\((?:int|uint|double), (?:int|uint|double)\)'")),
]


class CelProgram:
    """A compiled expression; ``evaluate`` returns plain Python data or raises CelEvalError.

    ``expr`` may be None with ``env`` given: cel-cpp then compiles ``source`` on first evaluation
    (programs whose source and type are known without compiling: see rulecache.py and ``fuse``).
    """

    __slots__ = ("expression", "source", "return_type", "ast", "shared", "key", "plain", "_expr", "_env",
                 "_is_bool", "_uses_vars")

    def __init__(self, expression: str, source: str, expr, return_type: str, uses_vars: bool = False,
                 ast: Node | None = None, env=None):
        self.expression = expression
        self.source = source                # what cel-cpp compiled (after rewriting)
        self.return_type = return_type      # cel-go style static type: bool, string, dyn, list(int) ...
        self.ast = ast                      # rewritten AST before hoisting (for ``fuse``), when known
        self.key = None                     # compile key (CelEnvironment.compile), for the rule cache
        self.plain = False                  # the result holds only JSON-like values: no to_plain pass
        self._expr = expr
        self._env = env
        self._is_bool = return_type == "bool"
        self._uses_vars = uses_vars         # calls variable accessors: needs the activation frame
        # Same source, same value on one activation: evaluated once per activation (policies that
        # share a matchCondition verbatim). Not for variables' readers, nor nondeterministic calls.
        self.shared = not uses_vars and not _NONDETERMINISTIC.search(source)

    def compiled(self):
        """The cel-cpp expression (compiled now if it was deferred)."""
        if self._expr is None:
            self._expr = self._env.compile(self.source)
        return self._expr


    def evaluate(self, activation: V.Activation) -> Any:
        """Evaluate on an activation from ``CelEnvironment.activation`` (variables memoised on it)."""
        expr = self._expr or self.compiled()
        try:
            if self._uses_vars:
                V.push(activation)
                try:
                    v = expr.eval(activation.act)
                finally:
                    V.pop()
            else:
                v = expr.eval(activation.act)
        except RuntimeError as e:
            raise CelEvalError(translate_runtime(str(e))) from None
        if self._is_bool:
            r = v.plain_value()             # bool, or the error text for an error value
            if r is True or r is False:
                return r
        elif self.plain:
            r = v.plain_value()             # a fused program's list, or the error text for an error value
            if r.__class__ is list:
                return r
        if v.type() == _ERROR:
            raise CelEvalError(translate_runtime(v.value()))
        try:
            return v.plain_value() if self.plain else to_plain(v.plain_value())
        except TypeError as e:
            raise CelEvalError(f"unsupported result type: {e}") from None

    def evaluate_shared(self, activation: V.Activation) -> Any:
        """``evaluate``, memoised on the activation by source when the program is ``shared``."""
        if not self.shared:
            return self.evaluate(activation)
        memo = activation.memo
        key = self.source
        if key in memo:
            value = memo[key]
        else:
            try:
                value = self.evaluate(activation)
            except CelEvalError as error:
                value = error
            memo[key] = value
        if isinstance(value, CelEvalError):
            raise CelEvalError(str(value))
        return value

    def __repr__(self) -> str:
        return f"CelProgram({self.expression!r})"


_CONSTANT_KEY = re.compile(CONSTANTS + r'\["((?:[^"\\]|\\.)*)"\]')
_ACCESSOR_ID = re.compile(r"__gpulint_var_\w+?\((\d+)\)")
_SCALARS = frozenset({"bool", "int", "uint", "double", "string", "null_type"})
_NONDETERMINISTIC = re.compile(r"\b(?:random|now)\s*\(")


class _DeferredCompiler:
    """Compiles the rule cache's sources: from their serialized checked form when the cache has it."""

    __slots__ = ("env", "cache", "note")

    def __init__(self, env, cache, note):
        self.env, self.cache, self.note = env, cache, note

    def compile(self, source: str):
        self.note(source)
        blob = self.cache.checked_form(source) if self.cache is not None else None
        if blob is not None:
            try:
                return self.env.deserialize(blob)
            except RuntimeError:
                pass
        return self.env.compile(source)


class _Variables:
    """The policy variables declared before a given index, compiled on first reference."""

    def __init__(self, env: "CelEnvironment", variables: tuple, upto: int, namespace: str | None):
        self._env, self._vars, self._upto, self._ns = env, variables, upto, namespace
        self._names = {name: i for i, (name, _) in enumerate(variables[:upto])}

    def __contains__(self, name) -> bool:
        return name in self._names

    def node(self, name: str, scope: frozenset) -> Node:
        """What replaces ``variables.<name>`` (raises the variable's CelCompileError)."""
        var = self._env._variable(self._vars, self._names[name], self._ns)
        if var.inline is not None and (var.ref is None or not (var.free & scope)):
            return var.inline
        return var.ref


class CelEnvironment:
    """A cel-expr-python environment for one flavour.

    flavor "vpol": Kubernetes base libraries + Kyverno libraries; variables object,
    oldObject, request, namespaceObject, exceptions (and policy ``variables``).
    flavor "k8s": Kubernetes base libraries only (ValidatingAdmissionPolicy, legacy
    ``validate.cel``); variables object, oldObject, request, namespaceObject,
    authorizer (every use errors offline) and params iff ``params=True``.
    """

    def __init__(self, flavor: Literal["vpol", "k8s"] = "vpol", *, params: bool = False,
                 context: OfflineContext | None = None, rulecache: bool = True):
        if flavor not in ("vpol", "k8s"):
            raise ValueError(f"unknown CEL flavor {flavor!r}")
        self.flavor = flavor
        self.params = params
        self.context = context or OfflineContext()
        reg = Registry()
        k8s_quantity.register(reg)
        k8s_net.register(reg)
        k8s_lib.register(reg)
        k8s_format.register(reg)
        strings_lib.register(reg)
        variables = {"object": T.DYN, "oldObject": T.DYN, "request": T.DYN, "namespaceObject": T.DYN}
        if flavor == "vpol":
            kyverno_image.register(reg)
            self._kyverno = KyvernoLib(lambda: self.context)
            self._kyverno.register(reg)
            variables["exceptions"] = T.Map(T.STRING, T.List(T.STRING))
            variables[CONSTANTS] = T.Map(T.STRING, T.DYN)
        else:
            _register_authorizer(reg)
            variables["authorizer"] = AUTHORIZER
            if params:
                variables["params"] = T.DYN
        matcher = FastMatcher(lambda text, pattern: _native_matches()(text, pattern))
        reg.fn(FAST_MATCHES, [T.STRING, T.STRING], T.BOOL, matcher, member=True, oid="gpl_fast_matches_m")
        reg.fn(FAST_MATCHES, [T.STRING, T.STRING], T.BOOL, matcher, oid="gpl_fast_matches_g")
        self._var_table: dict[int, V.Variable] = {}          # id -> compiled policy variable
        for name, ret, impl in V.accessor_decls(self._var_table):
            reg.fn(name, [T.INT], ret, impl)
        self._globals = frozenset(variables) | {"variables"}
        self._env = cel.NewEnv(descriptor_pool=POOL, config=_CONFIG, variables=variables, functions=reg.decls())
        self._programs: dict = {}
        self._variables: dict = {}                           # (variables[:i+1], namespace) -> Variable
        self._types: dict = {}
        self._checker = Checker(self._type_of_source, self._var_table)
        self._fused: dict = {}                               # fuse key -> CelProgram or None
        self._checked: set = set()                           # (variables, namespace) that compile
        self._ids = itertools.count(1)
        self._constant_keys: set[str] = set()               # run-constant lookups the programs read
        self._empty = None                                   # activation without data (prepare())
        self._constants_for: tuple = (None, -1, {})         # (context, number of keys, values)
        self._cache = None
        if rulecache and flavor == "vpol":
            from . import rulecache as cache_module

            self._cache = cache_module.load()
        self._deferred = _DeferredCompiler(self._env, self._cache, self._note_constants)
        if self._cache is not None:
            # The cache's sources call accessors by the ids its build gave: reserve them.
            for vid, name, vtype, is_bool, source in self._cache.variables:
                var = V.Variable(vid, name)
                var.type, var.is_bool, var.source, var.compiler = vtype, is_bool, source, self._deferred.compile
                self._var_table[vid] = var
            self._ids = itertools.count(max(self._var_table, default=0) + 1)

    # ------------------------------------------------------------------ constants
    def _compile_source(self, source: str):
        """cel-cpp's compile of a rewritten source (every compile goes here or through _deferred)."""
        self._note_constants(source)
        return self._env.compile(source)

    def _note_constants(self, source: str) -> None:
        """Remember the run-constant lookups (rewrite.constant_lookup) that a compiled `source` reads:
        the next activations carry their values."""
        if CONSTANTS in source:
            for raw in _CONSTANT_KEY.findall(source):
                key = re.sub(r"\\(.)", r"\1", raw)
                if key.startswith(CONSTANT_PREFIX):
                    self._constant_keys.add(key)

    def _constants(self) -> dict:
        """The values of the run-constant lookups for the current context, computed once: each
        activation converts them (lazily, once) instead of every program calling resource.Get."""
        context, count, values = self._constants_for
        if context is not self.context or count != len(self._constant_keys):
            values = {}
            for key in sorted(self._constant_keys):
                try:
                    args = json.loads(key[len(CONSTANT_PREFIX):])
                    if not (isinstance(args, list) and len(args) == 4 and all(isinstance(a, str) for a in args)):
                        continue
                    values[key] = self._kyverno.get(*args)
                except (ValueError, LibraryError):
                    continue  # left out: the program makes the call and reports its error
            self._constants_for = (self.context, len(self._constant_keys), values)
        return values

    # ------------------------------------------------------------------ activation
    def activation(self, *, object=None, oldObject=None, request=None, namespaceObject=None,  # noqa: A002
                   params=None, exceptions=None) -> V.Activation:
        """One activation per resource; reuse it for every expression and policy (the
        conversion of ``object`` and the values of policy variables are cached on it)."""
        data = {"object": object, "oldObject": oldObject, "request": request, "namespaceObject": namespaceObject}
        if self.flavor == "vpol":
            data["exceptions"] = exceptions if exceptions is not None else {"allowedImages": [], "allowedValues": []}
            data[CONSTANTS] = self._constants()
        else:
            data["authorizer"] = _AUTHZ_VALUE
            if self.params:
                data["params"] = params
        return V.Activation(self._env.Activation(data=data), owner=self._var_table)

    # --------------------------------------------------------------------- compile
    def compile(self, expression: str, *, variables: Sequence[tuple[str, str]] = (), expect: Expect = None,
                namespace: str | None = None) -> CelProgram:
        """Compile (cached) an expression; ``variables`` are the policy's (name, expression)
        in declaration order; ``namespace`` is a NamespacedValidatingPolicy's namespace."""
        key = (expression, tuple(variables), expect, namespace)
        hit = self._programs.get(key)
        if hit is None:
            cached = self._cache.program(key) if self._cache is not None else None
            if cached is not None:
                source, rtype = cached
                hit = CelProgram(expression, source, None, rtype, uses_vars=V.ACCESSOR_PREFIX in source,
                                 env=self._deferred)
            else:
                try:
                    hit = self._compile(expression, tuple(variables), expect, namespace)
                except CelCompileError as e:
                    hit = e
            if isinstance(hit, CelProgram):
                hit.key = key
            self._programs[key] = hit
        if isinstance(hit, CelCompileError):
            raise hit
        return hit

    def check_variables(self, variables: Sequence[tuple[str, str]], namespace: str | None = None) -> list:
        """Compile every policy variable; returns [(index, CelCompileError)] (Kyverno compiles all)."""
        errors = []
        variables = tuple(variables)
        if self._cache is not None and self._cache.checked((variables, namespace)):
            return errors
        for i in range(len(variables)):
            try:
                self._variable(variables, i, namespace)
            except CelCompileError as e:
                errors.append((i, e))
        if not errors:
            self._checked.add((variables, namespace))
        return errors

    def _ctx(self, variables: tuple, upto: int, namespace: str | None, fallbacks=frozenset()) -> Context:
        return Context(variables=_Variables(self, variables, upto, namespace), namespace=namespace,
                       globals=self._globals, flavor=self.flavor, string_fallback="string" in fallbacks,
                       numeric_fallback="numeric" in fallbacks)

    def _compile(self, expression: str, variables: tuple, expect: Expect, namespace: str | None) -> CelProgram:
        source, expr, _, out = self._prepare(expression, variables, namespace)
        if expr.return_type().name().startswith("optional_type"):
            # Optionals cannot cross into Python: hand back the value or null.
            source, expr = self._wrap(expression, source, out,
                                      "__gpl_r.hasValue() ? dyn(__gpl_r.value()) : dyn(null)")
            out = None
        program = self._finish(expression, source, expr, expect)
        program.ast = out
        return program

    def _wrap(self, expression: str, source: str, out: Node | None, body: str):
        """Recompile as ``cel.bind(__gpl_r, <expression>, <body>)`` inside the variable binds."""
        if out is None:
            source = f"cel.bind(__gpl_r, {source}, {body})"
        else:
            wrapped = Call("bind", [Ident("__gpl_r"), debind(out), parse(body)], target=Ident("cel"))
            source = emit(V.hoist(wrapped, self._var_table))
        return source, self._cel_compile(source, expression)

    def _prepare(self, expression: str, variables: tuple, namespace: str | None):
        """Parse, rewrite, check and compile: (source, cel expression, parsed and rewritten ASTs or None)."""
        try:
            tree = parse(expression)
        except CelCompileError:
            # Our parser is a subset of CEL's grammar: let cel-cpp have the final word.
            return expression, self._cel_compile(expression, expression), None, None
        fallbacks: set[str] = set()
        while True:
            out = rewrite(tree, self._ctx(variables, len(variables), namespace, frozenset(fallbacks)))
            self._checker.check(out)
            hoisted = V.hoist(debind(out), self._var_table)
            source = emit(hoisted)
            if source == emit(tree):
                source = expression          # nothing rewritten: keep the user's text (error columns)
            try:
                try:
                    expr = self._cel_compile(source, expression)
                except CelCompileError as e:
                    if "recursion" not in str(e) or not V.accessor_ids(out):
                        raise
                    # Too deep for cel-cpp's parser with one bind per variable: read them in place.
                    hoisted = V.hoist(debind(out), self._var_table, all_accessors=False)
                    source = emit(hoisted)
                    expr = self._cel_compile(source, expression)
                source, expr = self._fast_regex(source, expr, hoisted)
                return source, expr, tree, out
            except CelCompileError as e:
                # Rewrites only needed for rare typings are applied on demand.
                extra = {name for name, pattern in _FALLBACKS if pattern.search(str(e))} - fallbacks
                if not extra:
                    raise
                fallbacks |= extra

    # ------------------------------------------------------------------- variables
    def _variable(self, variables: tuple, index: int, namespace: str | None) -> V.Variable:
        """The compiled variable ``variables[index]`` (cached; raises its CelCompileError)."""
        key = (variables[:index + 1], namespace)
        var = self._variables.get(key)
        if var is None:
            try:
                var = self._build_variable(variables[:index + 1], namespace)
            except CelCompileError as e:
                var = e
            self._variables[key] = var
        if isinstance(var, CelCompileError):
            raise var
        return var

    def _build_variable(self, variables: tuple, namespace: str | None) -> V.Variable:
        name, expression = variables[-1]
        source, expr, tree, ast = self._prepare(expression, variables[:-1], namespace)
        var = V.Variable(next(self._ids), name)
        var.type = static = normalize_type(expr.return_type().name())
        optional = static.startswith("optional_type(")
        stored = f"list({static[len('optional_type('):-1]})" if optional else static
        declared = V.nearest_type(stored)
        path = ast is not None and V.is_path(ast)
        if ast is not None:
            names = {n: i for i, (n, _) in enumerate(variables[:-1])}
            var.special = V.produces_special(
                tree, lambda n: n in names and self._variable(variables, names[n], namespace).special)
        self._var_table[var.id] = var
        if path:
            # Cheaper to re-run than to convert, exact type, one root: inlined (see node()).
            var.inline = ast
            var.free = frozenset(free_idents(ast))
        elif ast is not None and ("optional_type(" in stored or (var.special and "dyn" in declared)):
            # The accessor cannot carry optionals below the top level, nor timestamps,
            # durations, types (uints would turn into ints) where its type says dyn:
            # bound (lazily) in each program that uses it instead.
            var.value = ast
            var.ref = V.accessor_call(V.BIND_FN, var.id)
            return var
        if optional:
            source, expr = self._wrap(expression, source, ast, "__gpl_r.hasValue() ? [__gpl_r.value()] : []")
        elif ast is not None and not var.special:
            var.ast = ast                    # may be bound in CEL by fuse() (no Python round trip)
        var.expr, var.source, var.is_bool = expr, source, stored == "bool"
        var.accessor = V.accessor_name(declared)
        var.widened = declared != stored
        var.ref = V.optional_ref(var.accessor, var.id) if optional else V.accessor_call(var.accessor, var.id)
        return var

    def _fast_regex(self, source: str, expr, hoisted: Node):
        """The same program with ``matches`` answered by the pattern cache (fast_regex.py), when it
        compiles to the same type; otherwise the program as it was."""
        if "matches" not in source:
            return source, expr
        fast = _swap_matches(hoisted)
        if fast is None:
            return source, expr
        text = emit(fast)
        try:
            fast_expr = self._compile_source(text)
        except RuntimeError:
            return source, expr
        if fast_expr.return_type().name() != expr.return_type().name():
            return source, expr
        return text, fast_expr

    def _cel_compile(self, source: str, original: str):
        try:
            return self._compile_source(source)
        except RuntimeError as e:
            lines = [ln.strip() for ln in translate_compile(str(e)).splitlines()]
            msgs = [ln.replace(" (in container '')", "") for ln in lines if ln.startswith("ERROR:")] or lines[:1]
            if source != original:
                msgs = [_POS.sub("", m) for m in msgs]
            raise CelCompileError("; ".join(msgs)) from None

    def _finish(self, expression: str, source: str, expr, expect: Expect) -> CelProgram:
        rtype = normalize_type(expr.return_type().name())
        if expect == "bool" and rtype != "bool":
            raise CelCompileError("output is expected to be of type bool")
        if expect == "string" and rtype != "string":
            raise CelCompileError("output is expected to be of type string")
        if expect == "string_or_null" and rtype not in ("string", "null_type"):
            raise CelCompileError("output is expected to be of type string or null")
        return CelProgram(expression, source, expr, rtype, uses_vars=V.ACCESSOR_PREFIX in source)

    def warm_variables(self, program: CelProgram, _seen: set | None = None) -> None:
        """Compile and plan the variables `program` reads through accessors, and the ones they read."""
        seen = set() if _seen is None else _seen
        for vid in map(int, _ACCESSOR_ID.findall(program.source)):
            var = self._var_table.get(vid)
            if var is None or vid in seen:
                continue
            seen.add(vid)
            if var.expr is None and var.compiler is not None and var.source:
                var.expr = var.compiler(var.source)
            if var.expr is not None:
                self._plan(var.expr)
            if var.source:
                self.warm_variables(CelProgram("", var.source, None, "dyn"), seen)

    def prepare(self, program: CelProgram) -> None:
        """Compile and plan `program` and the variables it reads now, so that worker processes forked
        afterwards inherit them: cel-cpp plans a program on its first evaluation (about 2 ms for a
        fused policy program), which every fresh worker would otherwise repeat."""
        self._plan(program.compiled())
        self.warm_variables(program)

    def _plan(self, expr) -> None:
        if self._empty is None:
            self._empty = self._env.Activation(data={})
        try:
            expr.eval(self._empty)  # no variables: fails at once, after planning
        except Exception:  # noqa: BLE001 - only the planning matters here
            pass

    # ------------------------------------------------------------------------ fuse
    def fuse(self, validations: Sequence[tuple], audits: Sequence[CelProgram]) -> CelProgram | None:
        """One program for a policy's validations, their messages and audit annotations.

        ``validations`` are (index, program, message program or None) in order. The result is
        ``[[-1], [audit values]]`` when every validation holds, else ``[[index, message or null],
        [audit values]]`` for the first that does not (the messages and audits of a policy read the
        same variables as its validations: one evaluation binds each variable once, in CEL, instead
        of handing its value through Python to three programs). Any error makes the whole program
        fail: callers then evaluate the programs one by one, which gives the exact error. None when
        some part has no rewritten AST or the combination does not compile (cel-cpp's depth limit);
        cel-cpp compiles the returned program on first evaluation.
        """
        parts = [p for _, p, m in validations for p in (p, m) if p is not None] + list(audits)
        if not parts:
            return None
        key = None
        if all(p.key is not None for p in parts):
            key = ("fuse", tuple((i, p.key, m.key if m is not None else None) for i, p, m in validations),
                   tuple(a.key for a in audits))
            if key in self._fused:
                return self._fused[key]
            if self._cache is not None:
                source = self._cache.fused(key)
                if source is None or isinstance(source, str):
                    program = None if source is None else self._fused_program(source, None, self._deferred)
                    self._fused[key] = program
                    return program
        program = self._fuse(validations, audits, parts)
        if key is not None:
            self._fused[key] = program
        return program

    def _fused_program(self, source: str, expr, compiler=None) -> CelProgram:
        program = CelProgram("<fused>", source, expr, "list(dyn)", uses_vars=V.ACCESSOR_PREFIX in source,
                             env=compiler or self._deferred)
        program.shared = False
        program.plain = True  # ints, strings (messages, audit values) and nulls
        return program

    def _fuse(self, validations, audits, parts) -> CelProgram | None:
        if any(p.ast is None for p in parts):
            return None
        null = Lit("null", "null", None)
        chain: Node = ListLit([(Call("dyn", [Lit("int", "-1", -1)]), False)])
        for index, program, message in reversed(list(validations)):
            failed = ListLit([(Call("dyn", [Lit("int", str(index), index)]), False),
                              (Call("dyn", [message.ast]) if message is not None else null, False)])
            chain = Cond(Unary("!", program.ast), failed, chain)
        body = ListLit([(chain, False), (ListLit([(Call("dyn", [a.ast]), False) for a in audits]), False)])
        rebound = debind(body)
        counts = V.reference_counts(rebound, self._var_table)
        for values, inline in ((True, False), (True, True), (False, False)):
            in_place: set[int] = set()
            for _ in range(16 if values else 1):
                program, deep = self._fused_attempt(V.hoist(rebound, self._var_table, bind_values=values,
                                                            inline_single=inline, in_place=frozenset(in_place)))
                if program is not None:
                    return program
                # Too deep for cel-cpp: read one bound variable through its accessor, in place (no
                # bind), and try again; only variables read once, outside comprehensions (each read
                # hands the value over from Python), scalars first (cheap to hand over).
                bound = [vid for vid in counts if vid not in in_place and self._var_table[vid].ast is not None
                         and self._var_table[vid].value is None and counts[vid] == 1]
                if not deep or not bound:
                    break
                chosen = min(bound, key=lambda vid: (self._var_table[vid].type not in _SCALARS, counts[vid], vid))
                if values and self._var_table[chosen].type not in _SCALARS and all(
                        self._var_table[vid].type in _SCALARS for vid in in_place):
                    # Handing a list or map over from Python costs more than evaluating every variable
                    # eagerly: bind them by dependency level instead, if that alone is shallow enough.
                    program, _ = self._fused_attempt(V.hoist(
                        rebound, self._var_table, bind_values=True, inline_single=inline,
                        in_place=frozenset(in_place), levels=True))
                    if program is not None:
                        return program
                in_place.add(chosen)
        return None

    def _fused_attempt(self, root: Node) -> tuple[CelProgram | None, bool]:
        """(the compiled program, or None; whether cel-cpp found it too deep). Too deep as written, the
        program is tried again with its long operator chains balanced (variables.rebalance)."""
        program, deep = self._compile_fused(root)
        if program is None and deep:
            program, deep = self._compile_fused(V.rebalance(root))
        return program, deep

    def _compile_fused(self, root: Node) -> tuple[CelProgram | None, bool]:
        deep = False
        for candidate in (_swap_matches(root), root):
            if candidate is None:
                continue
            source = emit(candidate)
            try:
                expr = self._compile_source(source)
            except RuntimeError as error:
                deep = deep or "recursion" in str(error)
                continue
            return self._fused_program(source, expr), deep
        return None, deep

    def export_cache(self) -> dict:
        """What rulecache.py stores for the policies compiled so far (see scripts/build_rulecache.py)."""
        from . import rulecache as cache_module

        return {
            "fingerprint": cache_module.fingerprint(),
            "variables": [[v.id, v.name, v.type, v.is_bool, v.source] for _, v in sorted(self._var_table.items())
                          if v.expr is not None],
            "programs": {cache_module.key_hash(key): [p.source, p.return_type] for key, p in self._programs.items()
                         if isinstance(p, CelProgram)},
            "checked": sorted(cache_module.key_hash(key) for key in self._checked),
            "fused": {cache_module.key_hash(key): (p.source if p is not None else None)
                      for key, p in self._fused.items()},
        }

    def _type_of_source(self, text: str, evaluate: bool = False) -> str | None:
        key = (text, evaluate)
        if key not in self._types:
            try:
                expr = self._compile_source(text)
                t = normalize_type(expr.return_type().name())
                if evaluate and expr.eval().type() == _ERROR:
                    t = None
            except RuntimeError:
                t = None
            self._types[key] = t
        return self._types[key]


# ---------------------------------------------------------------------- helpers

FAST_MATCHES = "__gpl_matches"
_NATIVE: list = []


def _native_matches():
    """cel-cpp's own ``matches`` (for patterns outside fast_regex's subset), built on first use."""
    if not _NATIVE:
        _NATIVE.append(native_matcher(cel.NewEnv(variables={"__gpl_text": T.STRING, "__gpl_pattern": T.STRING})))
    return _NATIVE[0]


def _swap_matches(n: Node) -> Node | None:
    """``n`` with every ``s.matches(p)`` / ``matches(s, p)`` calling FAST_MATCHES (None if there is none)."""
    found = False

    def swap(c: Node):
        nonlocal found
        if isinstance(c, Call) and c.fn == "matches" and (
                (c.target is not None and len(c.args) == 1) or (c.target is None and len(c.args) == 2)):
            found = True
            target = None if c.target is None else V.map_nodes(c.target, swap)
            return Call(FAST_MATCHES, [V.map_nodes(a, swap) for a in c.args], target)
        return None

    out = V.map_nodes(n, swap)
    return out if found else None

def _deny(*_args):
    raise LibraryError(_NO_CLUSTER)


def _register_authorizer(reg: Registry) -> None:
    A, S = AUTHORIZER, T.STRING
    for name in ("group", "resource", "subresource", "namespace", "name", "path", "check", "fieldSelector",
                 "labelSelector"):
        reg.fn(name, [A, S], A, _deny, member=True)
    reg.fn("serviceAccount", [A, S, S], A, _deny, member=True)
    for name, ret in (("allowed", T.BOOL), ("errored", T.BOOL), ("reason", S), ("error", S)):
        reg.fn(name, [A], ret, _deny, member=True)


_AUTHZ_VALUE = make("kubernetes.authorization.Authorizer", "offline")
