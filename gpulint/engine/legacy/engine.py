"""Entry point of the legacy engine: kyverno.io/v1 and v2beta1 ClusterPolicy / Policy validate
rules (kyverno: pkg/engine/engine.go, pkg/engine/validation.go, pkg/engine/internal/match.go).

    policy = LegacyPolicy.from_object(obj)          # raises LegacyPolicyError when invalid
    responses = policy.evaluate(resource, LegacyContextData(...))

One LegacyRuleResponse per rule that matched the resource; a rule that does not match (or a
foreach that processed nothing) yields no response at all, as in Kyverno.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from gpulint.engine.legacy import autogen
from gpulint.engine.legacy.conditions import ConditionError, check_preconditions
from gpulint.engine.legacy.context import Context, ContextError, Sources, add_entries, build_context
from gpulint.engine.legacy.exceptions import select_exceptions
from gpulint.engine.legacy.imageref import extract_images
from gpulint.engine.legacy.match import Request, resource_namespace, rule_matches
from gpulint.engine.legacy.policy_check import LegacyPolicyError, check_policy
from gpulint.engine.legacy.validate import (
    FAIL, PASS, SKIP, LegacyRuleResponse, State, Validator, rule_error, validate_resource_rule)
from gpulint.engine.legacy.variables import SubstitutionError, substitute_all

__all__ = ["LegacyContextData", "LegacyPolicy", "LegacyPolicyError", "LegacyRuleResponse"]


@dataclass
class LegacyContextData:
    """Everything offline evaluation can know, injected by the caller."""

    operation: str = "CREATE"
    # {"username", "groups", "roles", "clusterRoles", ...} (or the UserInfo file shape with a
    # nested "userInfo"); None when no user info was given
    user_info: dict | None = None
    namespace_labels: Callable[[str], dict | None] = lambda ns: None
    variables: dict = field(default_factory=dict)  # policy/resource values (dotted keys)
    rule_variables: dict = field(default_factory=dict)  # rule name -> values for that rule
    foreach_variables: dict = field(default_factory=dict)  # rule name -> {name: [values]}
    # (apiVersion, plural, namespace, name) -> object; (apiVersion, plural, namespace) -> objects.
    # Leave both None when no cluster data exists: configMap/apiCall entries are then skipped.
    get_resource: Callable[[str, str, str, str], dict | None] | None = None
    list_resources: Callable[[str, str, str], list] | None = None
    global_context: dict = field(default_factory=dict)
    image_data: dict | Callable[[str], dict | None] | None = None  # imageRegistry answers
    old_object: dict | None = None
    exceptions: list = field(default_factory=list)  # kyverno.io/v2, v2beta1 PolicyExceptions
    namespace_object: dict | None = None  # for validate.cel (namespaceObject)
    cel_params: list | None = None  # param objects for validate.cel paramKind rules


class LegacyPolicy:
    """A validated policy, compiled once; evaluate() may be called for many resources."""

    def __init__(self, obj: dict):
        self.obj = obj
        meta = obj.get("metadata") or {}
        self.kind: str = obj.get("kind", "")
        self.name: str = str(meta.get("name", ""))
        self.namespace: str | None = meta.get("namespace") if self.kind == "Policy" else None
        if self.kind == "Policy" and not self.namespace:
            self.namespace = "default"
        self.key = f"{self.namespace}/{self.name}" if self.kind == "Policy" else self.name
        self.annotations: dict = meta.get("annotations") or {}
        self.spec: dict = obj.get("spec") or {}
        self.rules: list[dict] = list(self.spec.get("rules") or [])
        self.unsupported: list[tuple[str, str]] = [
            (str(r.get("name", "")), t) for r in self.rules
            for t in ("mutate", "generate", "verifyImages") if t in r]
        self._rules_by_kind: dict[str, list[dict]] = {}

    @classmethod
    def from_object(cls, obj: dict, cel_env=None) -> "LegacyPolicy":
        """Validate and compile; `cel_env` is accepted for callers sharing a CEL environment."""
        check_policy(obj)
        return cls(obj)

    def rules_for(self, kind: str) -> list[dict]:
        rules = self._rules_by_kind.get(kind)
        if rules is None:
            rules = autogen.compute_rules(self.spec, self.annotations, kind)
            self._rules_by_kind[kind] = rules
        return rules

    def _enforce(self, rule: dict) -> bool:
        action = (rule.get("validate") or {}).get("failureAction")
        if action is None:
            action = self.spec.get("validationFailureAction")
        return action in ("Enforce", "enforce")

    def evaluate(self, resource: dict, data: LegacyContextData | None = None
                 ) -> list[LegacyRuleResponse]:
        data = data or LegacyContextData()
        operation = data.operation or "CREATE"
        new = resource if operation != "DELETE" else None
        old = data.old_object if operation != "DELETE" else (data.old_object or resource)
        subject = new if new else old or {}
        if self.kind == "Policy" and resource_namespace(subject) != self.namespace:
            return []
        conditions = (self.spec.get("webhookConfiguration") or {}).get("matchConditions")
        if conditions:
            from gpulint.engine.legacy.cel_rule import match_conditions_pass

            if not match_conditions_pass(conditions, new, old, operation, data):
                return []
        namespace = resource_namespace(subject)
        ns_labels = data.namespace_labels(namespace) if namespace else None
        base = build_context(new, old, operation, data.user_info,
                             extract_images(new) if new else None)
        for key, value in (data.variables or {}).items():
            base.add_variable(str(key), value)
        sources = Sources(data.get_resource, data.list_resources, data.global_context,
                          data.image_data, self.namespace)
        out: list[LegacyRuleResponse] = []
        for rule in self.rules_for(str(subject.get("kind", ""))):
            if "validate" not in rule:
                continue
            req = Request(subject, operation, data.user_info, ns_labels)
            if not rule_matches(rule, req, self.namespace):
                continue
            response = self._evaluate_rule(rule, base, data, sources, new, old, operation)
            if response is None:
                continue
            out.append(response)
            if self.spec.get("applyRules") == "One" and response.status in (PASS, FAIL):
                break
        return out

    def _evaluate_rule(self, rule, base: Context, data: LegacyContextData, sources: Sources,
                       new, old, operation) -> LegacyRuleResponse | None:
        name = str(rule.get("name", ""))
        ctx = base.child()
        for key, value in (data.rule_variables.get(name) or {}).items():
            ctx.add_variable(str(key), value)
        for key, values in (data.foreach_variables.get(name) or {}).items():
            if isinstance(values, list) and values:
                ctx.add_variable(str(key), values[0])
        validate = rule.get("validate") or {}
        try:
            add_entries(ctx, rule.get("context"), sources)
        except ContextError as exc:
            return rule_error(name, "failed to load context", exc)
        try:
            passed, msg = check_preconditions(ctx, rule.get("preconditions"))
        except ConditionError as exc:
            return rule_error(name, "failed to evaluate preconditions", exc)
        if not passed:
            return LegacyRuleResponse(name, SKIP,
                                      "; ".join(x for x in ("preconditions not met", msg) if x))
        properties = self._report_properties(rule, ctx)
        matched = select_exceptions(self, rule, data, ctx, new or old or {})
        if validate.get("cel") is not None and validate.get("podSecurity") is None:
            from gpulint.engine.legacy.cel_rule import evaluate_cel_rule

            response = _exception_skip(name, matched) if matched else \
                evaluate_cel_rule(self, rule, new, old, operation, data)
        elif validate.get("podSecurity") is not None:
            from gpulint.engine.legacy.podsecurity import validate_pod_security

            if new is None:
                return None
            response = validate_pod_security(rule, new, matched)
        elif matched:
            response = _exception_skip(name, matched)
        else:
            state = State(rule, new, sources, operation, is_delete=operation == "DELETE")

            def old_result():
                return self._validate_old(rule, data, sources, old)

            response = validate_resource_rule(state, ctx, self._enforce(rule),
                                              old_result if old is not None else None)
        if response is not None:
            response.properties.update(properties)
        return response

    def _validate_old(self, rule, data: LegacyContextData, sources: Sources, old):
        """Re-validate the old object as if it were CREATEd (pre-existing violations)."""
        req = Request(old, "CREATE", data.user_info,
                      data.namespace_labels(resource_namespace(old)) if resource_namespace(old)
                      else None)
        if not rule_matches(rule, req, self.namespace):
            return LegacyRuleResponse(str(rule.get("name", "")), SKIP, "resource not matched")
        ctx = build_context(old, None, "CREATE", data.user_info, extract_images(old))
        for key, value in (data.variables or {}).items():
            ctx.add_variable(str(key), value)
        ctx.add(["request", "operation"], "CREATE")  # Kyverno sets the operation after values
        try:
            add_entries(ctx, rule.get("context"), sources)
        except ContextError as exc:
            return rule_error(str(rule.get("name", "")), "failed to load context", exc)
        state = State(rule, old, sources, "CREATE")
        return Validator(state, ctx, rule.get("validate") or {},
                         preconditions=rule.get("preconditions")).validate()

    def _report_properties(self, rule: dict, ctx: Context) -> dict:
        props = rule.get("reportProperties")
        if not isinstance(props, dict) or not props:
            return {}
        try:
            out = substitute_all(ctx, props)
        except SubstitutionError:
            return dict(props)
        return {str(k): v if isinstance(v, str) else str(v) for k, v in out.items()}


def _exception_skip(rule_name: str, matched: list) -> LegacyRuleResponse:
    keys = [key for key, _ in matched]
    return LegacyRuleResponse(rule_name, SKIP,
                              "rule is skipped due to policy exceptions" + ", ".join(keys),
                              properties={"exceptions": ",".join(
                                  (exc.get("metadata") or {}).get("name", "") for _, exc in matched)})
