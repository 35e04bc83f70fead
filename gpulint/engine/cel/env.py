"""CelEnvironment / CelProgram: compile once, evaluate many times against one activation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal, Sequence

from cel_expr_python import cel

from . import k8s_format, k8s_lib, k8s_net, k8s_quantity, kyverno_image, strings_lib
from .checks import Checker, normalize_type
from .errors import CelCompileError, CelEvalError, LibraryError, translate_compile, translate_runtime
from .kyverno_lib import KyvernoLib
from .opaque import POOL, TYPES, make
from .registry import Registry
from .rewrite import Context, debind, free_idents, rewrite
from .syntax import Call, Ident, Node, emit, parse
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
    """A compiled expression; ``evaluate`` returns plain Python data or raises CelEvalError."""

    __slots__ = ("expression", "source", "return_type", "_expr", "_is_bool", "_uses_vars")

    def __init__(self, expression: str, source: str, expr, return_type: str, uses_vars: bool = False):
        self.expression = expression
        self.source = source                # what cel-cpp compiled (after rewriting)
        self.return_type = return_type      # cel-go style static type: bool, string, dyn, list(int) ...
        self._expr = expr
        self._is_bool = return_type == "bool"
        self._uses_vars = uses_vars         # calls variable accessors: needs the activation frame

    def evaluate(self, activation: V.Activation) -> Any:
        """Evaluate on an activation from ``CelEnvironment.activation`` (variables memoised on it)."""
        try:
            if self._uses_vars:
                V.push(activation)
                try:
                    v = self._expr.eval(activation.act)
                finally:
                    V.pop()
            else:
                v = self._expr.eval(activation.act)
        except RuntimeError as e:
            raise CelEvalError(translate_runtime(str(e))) from None
        if self._is_bool:
            r = v.plain_value()             # bool, or the error text for an error value
            if r is True or r is False:
                return r
        if v.type() == _ERROR:
            raise CelEvalError(translate_runtime(v.value()))
        try:
            return to_plain(v.plain_value())
        except TypeError as e:
            raise CelEvalError(f"unsupported result type: {e}") from None

    def __repr__(self) -> str:
        return f"CelProgram({self.expression!r})"


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
                 context: OfflineContext | None = None):
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
            KyvernoLib(lambda: self.context).register(reg)
            variables["exceptions"] = T.Map(T.STRING, T.List(T.STRING))
        else:
            _register_authorizer(reg)
            variables["authorizer"] = AUTHORIZER
            if params:
                variables["params"] = T.DYN
        self._var_table: dict[int, V.Variable] = {}          # id -> compiled policy variable
        for name, ret, impl in V.accessor_decls(self._var_table):
            reg.fn(name, [T.INT], ret, impl)
        self._globals = frozenset(variables) | {"variables"}
        self._env = cel.NewEnv(descriptor_pool=POOL, config=_CONFIG, variables=variables, functions=reg.decls())
        self._programs: dict = {}
        self._variables: dict = {}                           # (variables[:i+1], namespace) -> Variable
        self._types: dict = {}
        self._checker = Checker(self._type_of_source, self._var_table)

    # ------------------------------------------------------------------ activation
    def activation(self, *, object=None, oldObject=None, request=None, namespaceObject=None,  # noqa: A002
                   params=None, exceptions=None) -> V.Activation:
        """One activation per resource; reuse it for every expression and policy (the
        conversion of ``object`` and the values of policy variables are cached on it)."""
        data = {"object": object, "oldObject": oldObject, "request": request, "namespaceObject": namespaceObject}
        if self.flavor == "vpol":
            data["exceptions"] = exceptions if exceptions is not None else {"allowedImages": [], "allowedValues": []}
        else:
            data["authorizer"] = _AUTHZ_VALUE
            if self.params:
                data["params"] = params
        return V.Activation(self._env.Activation(data=data))

    # --------------------------------------------------------------------- compile
    def compile(self, expression: str, *, variables: Sequence[tuple[str, str]] = (), expect: Expect = None,
                namespace: str | None = None) -> CelProgram:
        """Compile (cached) an expression; ``variables`` are the policy's (name, expression)
        in declaration order; ``namespace`` is a NamespacedValidatingPolicy's namespace."""
        key = (expression, tuple(variables), expect, namespace)
        hit = self._programs.get(key)
        if hit is None:
            try:
                hit = self._compile(expression, tuple(variables), expect, namespace)
            except CelCompileError as e:
                hit = e
            self._programs[key] = hit
        if isinstance(hit, CelCompileError):
            raise hit
        return hit

    def check_variables(self, variables: Sequence[tuple[str, str]], namespace: str | None = None) -> list:
        """Compile every policy variable; returns [(index, CelCompileError)] (Kyverno compiles all)."""
        errors = []
        variables = tuple(variables)
        for i in range(len(variables)):
            try:
                self._variable(variables, i, namespace)
            except CelCompileError as e:
                errors.append((i, e))
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
        return self._finish(expression, source, expr, expect)

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
            source = emit(V.hoist(debind(out), self._var_table))
            if source == emit(tree):
                source = expression          # nothing rewritten: keep the user's text (error columns)
            try:
                try:
                    return source, self._cel_compile(source, expression), tree, out
                except CelCompileError as e:
                    if "recursion" not in str(e) or not V.accessor_ids(out):
                        raise
                    # Too deep for cel-cpp's parser with one bind per variable: read them in place.
                    source = emit(V.hoist(debind(out), self._var_table, all_accessors=False))
                    return source, self._cel_compile(source, expression), tree, out
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
        var = V.Variable(V.ids(), name)
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
        var.expr, var.source, var.is_bool = expr, source, stored == "bool"
        var.accessor = V.accessor_name(declared)
        var.widened = declared != stored
        var.ref = V.optional_ref(var.accessor, var.id) if optional else V.accessor_call(var.accessor, var.id)
        return var

    def _cel_compile(self, source: str, original: str):
        try:
            return self._env.compile(source)
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

    def _type_of_source(self, text: str, evaluate: bool = False) -> str | None:
        key = (text, evaluate)
        if key not in self._types:
            try:
                expr = self._env.compile(text)
                t = normalize_type(expr.return_type().name())
                if evaluate and expr.eval().type() == _ERROR:
                    t = None
            except RuntimeError:
                t = None
            self._types[key] = t
        return self._types[key]


# ---------------------------------------------------------------------- helpers

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
