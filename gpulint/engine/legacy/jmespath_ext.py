"""Kyverno's JMESPath dialect on top of the `jmespath` package.

Kyverno evaluates JMESPath with its fork of go-jmespath, which differs from the Python library:
- a field missing from a map is an error (`Unknown key "k" in path`), not null; the error is
  swallowed (the value becomes null) in function arguments, both sides of `||` and comparators,
  the left side of `&&`, the operand of `!`, pipe stages, multi-select members and per element
  of projections (elements yielding null are dropped); a projection/flatten/filter whose left side
  fails yields null;
- `<`, `<=`, `>`, `>=` only compare numbers;
- `to_string` writes Go JSON (`5`, not `5.0`); Kyverno adds its own functions (jmespath_funcs).
Compiled expressions are cached: compiling costs ~5x a search on a pod spec.
"""

from __future__ import annotations

from functools import lru_cache

from jmespath import exceptions as jp_exc
from jmespath import functions as jp_functions
from jmespath import parser as jp_parser
from jmespath import visitor as jp_visitor

from gpulint.engine.legacy.goutil import go_json, is_number

# The Python parser binds `.*` with the dot's binding power, so `a.*.b.c` parses as
# `(a.*.b).c` and yields null; the project's reference (bench README) requires the projection
# to continue over `.c` like `a[*].b.c`. One switch, so it can be revisited in one place.
VALUE_PROJECTION_CONTINUES = True


class JMESPathError(Exception):
    """Any JMESPath failure (syntax, function, type) other than a missing key."""


class NotFoundError(JMESPathError):
    """go-jmespath's NotFoundError for a missing map key."""

    def __init__(self, key: str):
        super().__init__(f'Unknown key "{key}" in path')
        self.key = key


class _Parser(jp_parser.Parser):
    # jmespath's Parser caches ASTs in a class attribute; ours must not share it with the
    # stock parser, whose ASTs differ for `.*`.
    _CACHE: dict = {}

    def _token_led_dot(self, left):
        if self._current_token() != "star" or not VALUE_PROJECTION_CONTINUES:
            return super()._token_led_dot(left)
        self._advance()
        right = self._parse_projection_rhs(self.BINDING_POWER["star"])
        return {"type": "value_projection", "children": [left, right]}


class _Expref(jp_visitor._Expression):
    def visit(self, node, *args, **kwargs):
        try:
            return self.interpreter.visit(node, *args, **kwargs)
        except NotFoundError:
            return None


def _is_false(value) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


class _Interpreter(jp_visitor.TreeInterpreter):
    def _soft(self, node, value):
        try:
            return self.visit(node, value)
        except NotFoundError:
            return None

    def visit_field(self, node, value):
        if isinstance(value, dict):
            key = node["value"]
            if key in value:
                return value[key]
            raise NotFoundError(key)
        return None

    def visit_subexpression(self, node, value):
        children = node["children"]
        result = self.visit(children[0], value)
        for child in children[1:]:
            if result is None:
                return None
            result = self.visit(child, result)
        return result

    visit_index_expression = visit_subexpression

    def visit_comparator(self, node, value):
        left = self._soft(node["children"][0], value)
        right = self._soft(node["children"][1], value)
        op = node["value"]
        if op == "eq":
            return _deep_equal(left, right)
        if op == "ne":
            return not _deep_equal(left, right)
        if not (is_number(left) and is_number(right)):
            return None
        return self.COMPARATOR_FUNC[op](left, right)

    def visit_expref(self, node, value):
        return _Expref(node["children"][0], self)

    def visit_function_expression(self, node, value):
        args = [self._soft(child, value) for child in node["children"]]
        return self._functions.call_function(node["value"], args)

    def visit_filter_projection(self, node, value):
        try:
            base = self.visit(node["children"][0], value)
        except JMESPathError:
            return None
        if not isinstance(base, list):
            return None
        comparator, right = node["children"][2], node["children"][1]
        out = []
        for element in base:
            if not _is_false(self._soft(comparator, element)):
                current = self._soft(right, element)
                if current is not None:
                    out.append(current)
        return out

    def visit_flatten(self, node, value):
        try:
            base = self.visit(node["children"][0], value)
        except JMESPathError:
            return None
        if not isinstance(base, list):
            return None
        out = []
        for element in base:
            if isinstance(element, list):
                out.extend(element)
            else:
                out.append(element)
        return out

    def visit_projection(self, node, value):
        base = self._soft(node["children"][0], value)
        if not isinstance(base, list):
            return None
        right = node["children"][1]
        out = []
        for element in base:
            current = self._soft(right, element)
            if current is not None:
                out.append(current)
        return out

    def visit_value_projection(self, node, value):
        try:
            base = self.visit(node["children"][0], value)
        except JMESPathError:
            return None
        if not isinstance(base, dict):
            return None
        right = node["children"][1]
        out = []
        for element in base.values():
            current = self._soft(right, element)
            if current is not None:
                out.append(current)
        return out

    def visit_multi_select_dict(self, node, value):
        if value is None:
            return None
        return {child["value"]: self._soft(child, value) for child in node["children"]}

    def visit_multi_select_list(self, node, value):
        if value is None:
            return None
        return [self._soft(child, value) for child in node["children"]]

    def visit_or_expression(self, node, value):
        matched = self._soft(node["children"][0], value)
        if _is_false(matched):
            matched = self._soft(node["children"][1], value)
        return matched

    def visit_and_expression(self, node, value):
        matched = self._soft(node["children"][0], value)
        if _is_false(matched):
            return matched
        return self.visit(node["children"][1], value)

    def visit_not_expression(self, node, value):
        return _is_false(self._soft(node["children"][0], value))

    def visit_pipe(self, node, value):
        result = value
        for child in node["children"]:
            result = self._soft(child, result)
        return result


def _deep_equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


class _StdFunctions(jp_functions.Functions):
    """Standard functions with Go's output formats where they differ."""

    @jp_functions.signature({"types": []})
    def _func_to_string(self, arg):
        return arg if isinstance(arg, str) else go_json(arg)

    @jp_functions.signature({"types": []})
    def _func_to_number(self, arg):
        if isinstance(arg, bool):
            return None
        if is_number(arg):
            return arg
        if isinstance(arg, str):
            try:
                f = float(arg.strip())
            except ValueError:
                return None
            return f
        return None


class _Functions(_StdFunctions):
    def __init__(self, table: dict):
        super().__init__()
        self._kyverno = table

    def call_function(self, function_name, resolved_args):
        entry = self._kyverno.get(function_name)
        if entry is None:
            try:
                return super().call_function(function_name, resolved_args)
            except jp_exc.JMESPathError as exc:
                raise JMESPathError(str(exc)) from None
        arity, fn = entry
        lo, hi = arity
        n = len(resolved_args)
        if n < lo or (hi is not None and n > hi):
            want = str(lo) if hi == lo else f"{lo}+"
            raise JMESPathError(
                f"Invalid number of arguments for {function_name}(): expected {want}, received {n}")
        return fn(*resolved_args)


_FUNCTIONS: _Functions | None = None


def _functions() -> _Functions:
    global _FUNCTIONS
    if _FUNCTIONS is None:
        from gpulint.engine.legacy import jmespath_funcs

        _FUNCTIONS = _Functions(jmespath_funcs.TABLE)
    return _FUNCTIONS


class Compiled:
    """A parsed expression bound to Kyverno's dialect."""

    __slots__ = ("expression", "_ast")

    def __init__(self, expression: str, ast: dict):
        self.expression = expression
        self._ast = ast

    def search(self, data):
        interp = _Interpreter(jp_visitor.Options(custom_functions=_functions()))
        try:
            return interp.visit(self._ast, data)
        except JMESPathError:
            raise
        except jp_exc.JMESPathError as exc:
            raise JMESPathError(str(exc)) from None
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError,
                RecursionError) as exc:
            raise JMESPathError(f"JMESPath evaluation failed: {exc}") from None


@lru_cache(maxsize=8192)
def compile_expression(expression: str) -> Compiled:
    try:
        parsed = _Parser().parse(expression)
    except jp_exc.JMESPathError as exc:
        raise JMESPathError(_parse_message(exc)) from None
    return Compiled(expression, parsed.parsed)


def _parse_message(exc: Exception) -> str:
    text = str(exc).splitlines()
    return text[0] if text else "invalid JMESPath expression"


def search(expression: str, data):
    """Evaluate `expression` on `data`; raises NotFoundError/JMESPathError like Kyverno."""
    return compile_expression(expression).search(data)
