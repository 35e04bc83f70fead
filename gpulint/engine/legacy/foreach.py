"""validate.foreach (kyverno: validate_resource.go validateForEach / validateElements,
pkg/engine/utils/foreach.go).

Each element gets a fresh copy of the context taken when the entry started, with `element`,
`element<N>`, `elementIndex` and `elementIndex<N>` set (N = nesting depth). Elements whose outcome
is skip, or an error about preconditions, are ignored; any other non-pass ends the rule with
"validation failure: <message>". When no element was processed the rule yields no response.
"""

from __future__ import annotations

from gpulint.engine.legacy.jmespath_ext import JMESPathError
from gpulint.engine.legacy.validate import ERROR, PASS, SKIP, LegacyRuleResponse, Validator, rule_error


def evaluate_list(ctx, expression: str):
    """(elements, error): a non-list result becomes a one-element list."""
    value = ctx.query(expression)
    return value if isinstance(value, list) else [value]


def validate_foreach(parent: Validator) -> LegacyRuleResponse | None:
    state = parent.state
    entries = parent.spec.get("foreach")
    if not isinstance(entries, list):
        return rule_error(state.name, "failed to process foreach", "foreach must be a list")
    applied = 0
    list_error = None
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        expression = entry.get("list")
        try:
            elements = evaluate_list(parent.ctx, str(expression or ""))
        except JMESPathError as exc:
            if "Unknown key" not in str(exc):
                list_error = exc
            continue
        response, count = _validate_elements(parent, entry, elements)
        if response is not None and response.status != PASS:
            return response
        applied += count
    if applied == 0:
        if list_error is not None:
            return rule_error(state.name, "failed to evaluate list", list_error)
        return None
    return LegacyRuleResponse(state.name, PASS, "rule passed")


def _validate_elements(parent: Validator, entry: dict, elements: list):
    state = parent.state
    nesting = parent.nesting
    scope = entry.get("elementScope")
    applied = 0
    for index, element in enumerate(elements):
        if element is None:
            continue
        ctx = parent.ctx.child()
        ctx.add([], {"element": element, f"element{nesting}": element,
                     "elementIndex": index, f"elementIndex{nesting}": index})
        scoped = isinstance(element, dict)
        if scope is not None:
            if scope and not isinstance(element, dict):
                return rule_error(state.name, "failed to process foreach",
                                  "failed to add element to context: cannot use elementScope=true "
                                  "foreach rules for elements that are not maps, expected type=map "
                                  f"got type={_go_type(element)}"), applied
            scoped = bool(scope)
        target = element if scoped else parent.element
        spec = {k: entry[k] for k in ("deny", "pattern", "anyPattern") if k in entry}
        if "foreach" in entry:
            spec["foreach"] = entry["foreach"]
        child = Validator(state, ctx, spec, nesting=nesting + 1, element=target,
                          entries=entry.get("context"), preconditions=entry.get("preconditions"))
        response = child.validate()
        if response is None or response.status == SKIP:
            continue
        if response.status == ERROR and "failed to evaluate preconditions" in response.message:
            continue
        if response.status != PASS:
            path = response.path
            if path is not None and scoped and isinstance(element, dict):
                base = find_path(state.resource, element)
                path = None if base is None else base + tuple(path)
            return LegacyRuleResponse(state.name, response.status,
                                      f"validation failure: {response.message}", path=path), applied
        applied += 1
    return None, applied


def find_path(root, target) -> tuple | None:
    """Where `target` (the very object, as JMESPath returns references) sits inside `root`."""
    stack = [(root, ())]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if isinstance(node, dict):
            stack.extend((v, path + (k,)) for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(node) if isinstance(v, (dict, list)))
    return None


def _go_type(v) -> str:
    if isinstance(v, list):
        return "[]interface {}"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    return "float64"
