"""The validate resource handler: deny, pattern, anyPattern and foreach
(kyverno: pkg/engine/handlers/validation/validate_resource.go)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gpulint.engine.legacy.conditions import ConditionError, check_preconditions
from gpulint.engine.legacy.context import Context, ContextError, Sources, add_entries
from gpulint.engine.legacy.pattern import match_pattern
from gpulint.engine.legacy.variables import SubstitutionError, substitute_all

PASS, FAIL, SKIP, ERROR, WARN = "pass", "fail", "skip", "error", "warn"


@dataclass
class LegacyRuleResponse:
    rule: str
    status: str  # pass|fail|skip|error|warn (Kyverno's words)
    message: str
    path: tuple | None = None  # failing path in the resource (keys / indexes) when known
    properties: dict = field(default_factory=dict)


def rule_error(rule: str, msg: str, err: Exception | str | None = None) -> LegacyRuleResponse:
    return LegacyRuleResponse(rule, ERROR, f"{msg}: {err}" if err else msg)


@dataclass
class State:
    """Per (rule, request) evaluation state shared by nested validators."""

    rule: dict
    resource: dict | None  # request.object (None on DELETE)
    sources: Sources
    operation: str
    is_delete: bool = False

    @property
    def name(self) -> str:
        return str(self.rule.get("name", ""))

    @property
    def message(self) -> str:
        v = (self.rule.get("validate") or {}).get("message")
        return v if isinstance(v, str) else ""


class Validator:
    """One level of validation: the rule itself (nesting 0) or a foreach entry element."""

    def __init__(self, state: State, ctx: Context, spec: dict, *, nesting: int = 0,
                 element: dict | None = None, entries: list | None = None,
                 preconditions=None):
        self.state = state
        self.ctx = ctx
        self.spec = spec  # holds deny / pattern / anyPattern / foreach
        self.nesting = nesting
        self.element = element
        self.entries = entries or []
        self.preconditions = preconditions

    def validate(self) -> LegacyRuleResponse | None:
        name = self.state.name
        try:
            add_entries(self.ctx, self.entries, self.state.sources)
        except ContextError as exc:
            return rule_error(name, "failed to load context", exc)
        try:
            passed, msg = check_preconditions(self.ctx, self.preconditions)
        except ConditionError as exc:
            return rule_error(name, "failed to evaluate preconditions", exc)
        if not passed:
            return LegacyRuleResponse(name, SKIP, "; ".join(x for x in ("preconditions not met", msg) if x))
        if self.spec.get("deny") is not None:
            return self._deny()
        if self.spec.get("pattern") is not None or self.spec.get("anyPattern") is not None:
            return self._patterns()
        if self.spec.get("foreach") is not None:
            from gpulint.engine.legacy.foreach import validate_foreach

            return validate_foreach(self)
        return None

    # -- deny --------------------------------------------------------------------------------

    def _deny(self) -> LegacyRuleResponse:
        name = self.state.name
        deny = self.spec.get("deny") or {}
        conditions = deny.get("conditions") if isinstance(deny, dict) else None
        try:
            denied, msg = check_preconditions(self.ctx, conditions, deny=True)
        except ConditionError as exc:
            return rule_error(name, "failed to check deny conditions", exc)
        if not denied:
            return LegacyRuleResponse(name, PASS, f"validation rule '{name}' passed.")
        return LegacyRuleResponse(name, FAIL, self._deny_message(msg))

    def _deny_message(self, msg: str) -> str:
        base = self.state.message
        if not base and not msg:
            return f"validation error: rule {self.state.name} failed"
        text = "; ".join(x for x in (base, msg) if x)
        try:
            out = substitute_all(self.ctx, text)
        except SubstitutionError:
            return msg
        if not isinstance(out, str):
            return "the produced message didn't resolve to a string, check your policy definition."
        return out

    # -- pattern / anyPattern ----------------------------------------------------------------

    def _patterns(self) -> LegacyRuleResponse | None:
        name = self.state.name
        try:
            pattern = substitute_all(self.ctx, self.spec.get("pattern"))
            any_pattern = substitute_all(self.ctx, self.spec.get("anyPattern"))
        except SubstitutionError as exc:
            return rule_error(name, "variable substitution failed", exc)
        if self.element is not None:
            target = self.element
        elif self.state.is_delete or self.state.resource is None:
            return None
        else:
            target = self.state.resource
        if pattern is not None:
            return self._pattern(target, pattern)
        return self._any_pattern(target, any_pattern)

    def _pattern(self, target, pattern) -> LegacyRuleResponse:
        name = self.state.name
        err = match_pattern(target, pattern)
        if err is None:
            return LegacyRuleResponse(name, PASS, f"validation rule '{name}' passed.")
        if err.skip:
            return LegacyRuleResponse(name, SKIP, err.message)
        if err.path is None:
            return LegacyRuleResponse(name, ERROR, self._error_message(err.message, ""))
        return LegacyRuleResponse(name, FAIL, self._error_message(err.message, err.path_str),
                                  path=err.path)

    def _error_message(self, err: str, path: str) -> str:
        name, base = self.state.name, self.state.message
        if not base:
            if path:
                return f"validation error: rule {name} failed at path {path}"
            return f"validation error: rule {name} execution error: {err}"
        try:
            msg = substitute_all(self.ctx, base)
        except SubstitutionError:
            return (f"validation error: variables substitution error in rule {name} execution "
                    f"error: {err}")
        msg = msg if isinstance(msg, str) else str(msg)
        if not msg.endswith("."):
            msg += "."
        if path:
            return f"validation error: {msg} rule {name} failed at path {path}"
        return f"validation error: {msg} rule {name} execution error: {err}"

    def _any_pattern(self, target, patterns) -> LegacyRuleResponse:
        name = self.state.name
        if not isinstance(patterns, list):
            return rule_error(name, "failed to deserialize anyPattern, expected type array",
                              "json: cannot unmarshal object into Go value of type []interface {}")
        failed, skipped, first_path = [], [], None
        for idx, pattern in enumerate(patterns):
            err = match_pattern(target, pattern)
            if err is None:
                return LegacyRuleResponse(name, PASS,
                                          f"validation rule '{name}' anyPattern[{idx}] passed.")
            if err.skip:
                skipped.append(f"rule {name}[{idx}] skipped: {err.message}")
            elif err.path is None:
                failed.append(f"rule {name}[{idx}] failed: {err.message}")
            else:
                failed.append(f"rule {name}[{idx}] failed at path {err.path_str}")
                first_path = first_path if first_path is not None else err.path
        if skipped and not failed:
            return LegacyRuleResponse(name, SKIP, " ".join(skipped))
        if failed:
            text = " ".join(failed)
            base = self.state.message
            if not base:
                msg = f"validation error: {text}"
            elif base.endswith("."):
                msg = f"validation error: {base} {text}"
            else:
                msg = f"validation error: {base}. {text}"
            return LegacyRuleResponse(name, FAIL, msg, path=first_path)
        return LegacyRuleResponse(name, PASS, self.state.message)


def validate_resource_rule(state: State, ctx: Context, enforce: bool,
                           old_ctx_factory=None) -> LegacyRuleResponse | None:
    """Top-level resource handler, including the pre-existing-violation check of UPDATEs."""
    validate = state.rule.get("validate") or {}
    response = Validator(state, ctx, validate).validate()
    allow_existing = validate.get("allowExistingViolations", True) is not False
    if enforce and state.operation == "UPDATE" and allow_existing and old_ctx_factory:
        prior = old_ctx_factory()
        if prior is not None and response is not None and response.status == FAIL \
                and prior.status == FAIL:
            return LegacyRuleResponse(state.name, SKIP, "skipping the rule evaluation as "
                                      "pre-existing violations are allowed")
    return response
