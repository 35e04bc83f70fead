"""Legacy `validate.cel` rules (kyverno: pkg/engine/handlers/validation/validate_cel.go; CEL fact
sheet §8). Evaluated by the Kubernetes validator semantics with failurePolicy Fail:
celPreconditions false → skip "cel preconditions not met"; an evaluation error is a Deny
(fail "expression '<expr>' resulted in error: <err>"); a false expression fails with its
messageExpression / message (inheriting validate.message) / "failed expression: <expr>".
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from gpulint.engine.legacy.validate import ERROR, FAIL, PASS, SKIP, LegacyRuleResponse


def cel_available() -> bool:
    try:
        importlib.import_module("gpulint.engine.cel")
    except ImportError:
        return False
    return True


@lru_cache(maxsize=4)
def _environment(params: bool):
    from gpulint.engine.cel import CelEnvironment

    return CelEnvironment("k8s", params=params)


def _guess_resource(kind: str) -> str:
    plural = kind.lower()
    if plural.endswith("s"):
        return plural + "es"
    if plural.endswith("y"):
        return plural[:-1] + "ies"
    return plural + "s"


def build_request(obj: dict | None, old: dict | None, operation: str, user_info: dict | None) -> dict:
    subject = obj or old or {}
    api_version = str(subject.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    kind = str(subject.get("kind") or "")
    meta = subject.get("metadata") or {}
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": _guess_resource(kind)}
    request = {"uid": "", "kind": gvk, "resource": gvr, "requestKind": gvk,
               "requestResource": gvr, "name": str(meta.get("name") or ""),
               "operation": operation, "object": obj, "oldObject": old, "dryRun": False}
    if meta.get("namespace"):
        request["namespace"] = str(meta["namespace"])
    info = (user_info or {}).get("userInfo") if user_info else None
    if info is None and user_info:
        info = {k: user_info[k] for k in ("username", "uid", "groups", "extra") if user_info.get(k)}
    request["userInfo"] = {k: v for k, v in (info or {}).items() if v}
    return request


def _variables(cel: dict) -> list[tuple[str, str]]:
    return [(str(v.get("name", "")), str(v.get("expression", "")))
            for v in cel.get("variables") or [] if isinstance(v, dict)]


def evaluate_cel_rule(policy, rule: dict, new, old, operation: str, data) -> LegacyRuleResponse | None:
    name = str(rule.get("name", ""))
    if not cel_available():
        return LegacyRuleResponse(name, ERROR, "validate.cel needs the CEL engine "
                                  "(gpulint.engine.cel), which is not available")
    from gpulint.engine.cel import CelCompileError, CelEvalError

    validate = rule.get("validate") or {}
    cel = validate.get("cel") or {}
    has_params = bool(cel.get("paramKind"))
    env = _environment(has_params)
    variables = _variables(cel)
    subject = new or old or {}
    meta = subject.get("metadata") or {}
    namespace = str(meta.get("namespace") or "")
    if subject.get("kind") == "Namespace" and subject.get("apiVersion") == "v1":
        namespace = ""
    ns_object = data.namespace_object if data.namespace_object is not None else (
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}} if namespace else None)
    request = build_request(new, old if operation != "CREATE" else None, operation, data.user_info)
    params_list = [None]
    if has_params:
        if data.cel_params is None:
            return LegacyRuleResponse(name, ERROR, "error in parameterized resource: no param "
                                      "resources were supplied")
        params_list = list(data.cel_params)
    for params in params_list:
        kwargs = {"object": new, "oldObject": old if operation != "CREATE" else None,
                  "request": request, "namespaceObject": ns_object}
        if has_params:
            kwargs["params"] = params
        act = env.activation(**kwargs)
        response = _validate_once(env, act, rule, name, validate, cel, variables,
                                  CelCompileError, CelEvalError)
        if response.status != PASS:
            return response
    return LegacyRuleResponse(name, PASS, f"Validation rule '{name}' passed.")


def _validate_once(env, act, rule, name, validate, cel, variables, compile_error, eval_error):
    # matchConditions: the first false wins; otherwise an error denies (failurePolicy Fail)
    first_error = None
    for cond in rule.get("celPreconditions") or []:
        expr = str((cond or {}).get("expression", ""))
        try:
            value = env.compile(expr, variables=variables, expect="bool").evaluate(act)
        except (compile_error, eval_error) as exc:
            first_error = first_error or exc
            continue
        if value is False:
            return LegacyRuleResponse(name, SKIP, "cel preconditions not met")
    if first_error is not None:
        return LegacyRuleResponse(name, FAIL, f"failed to evaluate match conditions: {first_error}")
    default_message = validate.get("message") or ""
    for item in cel.get("expressions") or []:
        expr = str((item or {}).get("expression", ""))
        try:
            value = env.compile(expr, variables=variables, expect="bool").evaluate(act)
        except (compile_error, eval_error) as exc:
            return LegacyRuleResponse(name, FAIL, f"expression '{expr}' resulted in error: {exc}")
        if value is True:
            continue
        return LegacyRuleResponse(name, FAIL, _failure_message(env, act, item, expr, variables,
                                                               default_message, compile_error,
                                                               eval_error))
    return LegacyRuleResponse(name, PASS, f"Validation rule '{name}' passed.")


def _failure_message(env, act, item, expr, variables, default_message, compile_error, eval_error):
    message_expr = (item or {}).get("messageExpression")
    if message_expr:
        try:
            text = env.compile(str(message_expr), variables=variables,
                               expect="string").evaluate(act)
            if isinstance(text, str) and text.strip():
                return text.strip()
        except (compile_error, eval_error) as exc:
            return f"failed to evaluate message expression: {exc}"
    message = (item or {}).get("message") or default_message
    if message:
        return str(message).strip()
    return f"failed expression: {expr.strip()}"


def match_conditions_pass(conditions: list, new, old, operation: str, data) -> bool:
    """webhookConfiguration.matchConditions: every condition must hold; a false one (or an
    evaluation error) means the policy yields no rule responses."""
    if not conditions:
        return True
    if not cel_available():
        return True  # cannot evaluate offline without the CEL layer; do not hide the policy
    from gpulint.engine.cel import CelCompileError, CelEvalError

    env = _environment(False)
    request = build_request(new, old if operation != "CREATE" else None, operation, data.user_info)
    act = env.activation(object=new, oldObject=old if operation != "CREATE" else None,
                         request=request, namespaceObject=data.namespace_object)
    for cond in conditions:
        try:
            if env.compile(str((cond or {}).get("expression", "")), expect="bool").evaluate(act) is not True:
                return False
        except (CelCompileError, CelEvalError):
            return False
    return True
