"""Kyverno ValidatingPolicy / NamespacedValidatingPolicy: compile once, evaluate per resource.

Semantics follow kyverno-cel-semantics.md section 1 (evaluation order, result words and messages)
and 1.8 (autogen by text rewriting of the spec, as Kyverno does it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from gpulint.engine.cel import CelCompileError, CelEnvironment, CelEvalError
from gpulint.engine.exceptions_cel import CelExceptionSet
from gpulint.engine.matching import ConstraintsMatcher, Request, resources_named
from gpulint.engine.policyinfo import PolicyError, policy_info

VPOL_KINDS = ("ValidatingPolicy", "NamespacedValidatingPolicy")
VPOL_GROUP = "policies.kyverno.io"
ALL_CONTROLLERS = ("daemonsets", "deployments", "replicasets", "statefulsets", "jobs", "cronjobs")
_APPS = ("daemonsets", "deployments", "replicasets", "statefulsets")
# Where a Pod's fields live in the generated controllers (used to map finding paths back).
POD_PREFIX = {"original": (), "defaults": ("spec", "template"), "cronjobs": ("spec", "jobTemplate", "spec", "template")}
_REWRITE = re.compile(r"(oldObject|object)\.(spec|metadata(?!\.namespace\b))")


@dataclass
class VpolResponse:
    rule: str
    status: str
    message: str
    properties: dict = field(default_factory=dict)
    variant: str = "original"
    matched: bool = True  # False for "match conditions not met" skips


_UNFUSED = object()


@dataclass
class _Variant:
    name: str
    constraints: Optional[dict]
    match_conditions: list
    validations: list
    audit_annotations: list
    env: Optional[CelEnvironment] = None
    _fused: Any = _UNFUSED
    matches: Any = None

    def __post_init__(self):
        self.matches = ConstraintsMatcher(self.constraints)

    @property
    def fused(self):
        """One program for validations, messages and audit annotations (CelEnvironment.fuse), or None."""
        if self._fused is _UNFUSED:
            self._fused = self.env.fuse([(i, p, m) for i, p, _, m in self.validations],
                                        [p for _, p in self.audit_annotations]) if self.env else None
        return self._fused


class ValidatingPolicy:
    """A compiled ValidatingPolicy (or NamespacedValidatingPolicy) with its autogen variants."""

    def __init__(self, obj: dict, env: CelEnvironment, file: str = "", line: int = 1):
        self.obj = obj
        self.info = policy_info(obj, file, line)
        self.kind = obj.get("kind", "")
        meta = obj.get("metadata") or {}
        self.name = meta.get("name", "")
        self.namespace = meta.get("namespace", "") if self.kind == "NamespacedValidatingPolicy" else ""
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            raise PolicyError(f"policy {self.name}: spec is missing", ("spec",))
        self.spec = spec
        self.failure_policy = spec.get("failurePolicy") or "Fail"
        evaluation = spec.get("evaluation") or {}
        self.json_mode = (evaluation.get("mode") or "Kubernetes") == "JSON"
        self.env = env
        self.variants = [self._compile_variant("original", spec)]
        for name, variant_spec in _autogen_specs(spec):
            self.variants.append(self._compile_variant(name, variant_spec))
        self.exceptions: Optional[CelExceptionSet] = None
        # gpulint.io/warn-validations: "1,3" marks advisory validations. Kyverno ignores the
        # annotation (a false validation is a failure there); gpulint reports them as `warn`.
        advisory = str(self.info.annotations.get("gpulint.io/warn-validations", ""))
        self.warn_validations = frozenset(part.strip() for part in advisory.split(",") if part.strip())

    # -- compilation ---------------------------------------------------------------------------
    def _compile(self, expression: Any, variables, expect: Optional[str], where: str):
        if not isinstance(expression, str):
            raise PolicyError(f"failed to compile policy {self.name} ({where}: Required value)", _where_path(where))
        try:
            return self.env.compile(expression, variables=variables, expect=expect,
                                    namespace=self.namespace or None)
        except CelCompileError as error:
            detail = str(error)
            if "expected to be of type" in detail or "output is expected" in detail:
                text = f'{where}: Invalid value: "{expression}": {detail}'
            else:
                text = f"{where}: Invalid value: \"{expression}\": compilation failed: {detail}"
            raise PolicyError(f"failed to compile policy {self.name} ({text})", _where_path(where)) from None

    def _compile_variant(self, name: str, spec: dict) -> _Variant:
        variables = []
        for index, variable in enumerate(spec.get("variables") or ()):
            if not isinstance(variable, dict) or not isinstance(variable.get("name"), str):
                raise PolicyError(f"failed to compile policy {self.name} (spec.variables[{index}].name: Required value)",
                                  ("spec", "variables", index))
            expression = variable.get("expression", "")
            if not isinstance(expression, str):
                raise PolicyError(f"failed to compile policy {self.name} (spec.variables[{index}].expression: "
                                  "Required value)", ("spec", "variables", index))
            variables.append((variable["name"], expression))
        # Kyverno compiles every variable, used or not: a broken unused variable is still an error.
        for index, error in self.env.check_variables(variables, namespace=self.namespace or None):
            expression = variables[index][1]
            raise PolicyError(f"failed to compile policy {self.name} (spec.variables[{index}].expression: "
                              f'Invalid value: "{expression}": {error})', ("spec", "variables", index))
        conditions = []
        for index, condition in enumerate(spec.get("matchConditions") or ()):
            condition = condition if isinstance(condition, dict) else {}
            program = self._compile(condition.get("expression"), variables, "bool",
                                    f"spec.matchConditions[{index}].expression")
            conditions.append((condition.get("name", ""), program))
        validations = []
        for index, validation in enumerate(spec.get("validations") or ()):
            validation = validation if isinstance(validation, dict) else {}
            program = self._compile(validation.get("expression"), variables, "bool",
                                    f"spec.validations[{index}].expression")
            message_program = None
            if validation.get("messageExpression"):
                message_program = self._compile(validation["messageExpression"], variables, "string",
                                                f"spec.validations[{index}].messageExpression")
            validations.append((index, program, validation.get("message") or "", message_program))
        audits = []
        for index, audit in enumerate(spec.get("auditAnnotations") or ()):
            audit = audit if isinstance(audit, dict) else {}
            program = self._compile(audit.get("valueExpression"), variables, "string_or_null",
                                    f"spec.auditAnnotations[{index}].valueExpression")
            audits.append((audit.get("key", ""), program))
        return _Variant(name, spec.get("matchConstraints"), conditions, validations, audits,
                        env=self.env if self.validations_fusable(validations, audits) else None)

    @staticmethod
    def validations_fusable(validations: list, audits: list) -> bool:
        return bool(validations) and len(validations) + len(audits) <= 16

    # -- indexing --------------------------------------------------------------------------------
    def resources(self) -> Optional[set[tuple[str, str]]]:
        """(group, resource) pairs this policy can match; None = any."""
        named: set = set()
        for variant in self.variants:
            part = resources_named(variant.constraints)
            if part is None:
                return None
            named |= part
        return named

    def matches_pods(self) -> bool:
        """Whether the policy's own rules cover Pods (then CRD pod templates are evaluated too)."""
        named = resources_named(self.variants[0].constraints)
        return named is None or ("", "pods") in named or ("*", "pods") in named

    def warm(self, variants=None) -> None:
        """Compile and plan now what an evaluation prepares on first use (before worker processes fork,
        so that each inherits it): match conditions, the fused program and the variables it reads."""
        for variant in self.variants if variants is None else variants:
            for _name, program in variant.match_conditions:
                self.env.prepare(program)
            fused = variant.fused
            if fused is not None:
                self.env.prepare(fused)

    # -- evaluation --------------------------------------------------------------------------------
    def evaluate(self, req: Request, activation_for, namespace_labels, variants=None) -> list[VpolResponse]:
        """Evaluate on one request. `activation_for(exceptions)` builds (or reuses) the activation."""
        responses = []
        for variant in self.variants if variants is None else variants:
            if self.json_mode:
                continue
            if not variant.matches(req, namespace_labels):
                continue
            responses.append(self._evaluate_variant(variant, activation_for))
        return responses

    def evaluate_json(self, activation_for) -> VpolResponse:
        """evaluation.mode JSON (1.7): no matching; the activation's `object` is the payload."""
        return self._evaluate_variant(self.variants[0], activation_for)

    def _evaluate_variant(self, variant: _Variant, activation_for) -> VpolResponse:
        allowed = None
        if self.exceptions is not None:
            outcome = self.exceptions.evaluate(activation_for(None), self.failure_policy)
            if outcome.error:
                return VpolResponse("evaluation", "error", f"failed to load context: {outcome.error}",
                                    variant=variant.name)
            if outcome.full:
                return VpolResponse("exception", outcome.status, outcome.message,
                                    {"exceptions": outcome.names}, variant.name)
            allowed = outcome.allowed
        activation = activation_for(allowed)
        errors = []
        for _name, program in variant.match_conditions:
            try:
                value = program.evaluate_shared(activation)
            except CelEvalError as error:
                errors.append(str(error))
                continue
            if value is False:
                return VpolResponse("", "skip", "skip", variant=variant.name, matched=False)
        if errors:
            if self.failure_policy == "Ignore":
                return VpolResponse("", "skip", "skip", variant=variant.name, matched=False)
            return VpolResponse("evaluation", "error", "failed to load context: " + "; ".join(errors),
                                variant=variant.name)
        if allowed is None and variant.fused is not None:
            response = self._evaluate_fused(variant, activation)
            if response is not None:
                return response
        for index, program, message, message_program in variant.validations:
            try:
                value = program.evaluate(activation)
            except CelEvalError as error:
                return VpolResponse("", "error", f"error: {error}", {"cel.validationIndex": str(index)},
                                    variant.name)
            if value is True:
                continue
            text = message
            if message_program is not None:
                try:
                    text = message_program.evaluate(activation)
                    if not isinstance(text, str):
                        text = f"failed to convert message expression to string: {text!r}"
                except CelEvalError as error:
                    text = f"failed to evaluate message expression: {error}"
            if not text:
                text = f"CEL expression validation failed at index {index}"
            properties = {"cel.validationIndex": str(index)}
            failure = self._audit(variant, activation, properties)
            if failure:
                return VpolResponse("", "error", failure, variant=variant.name)
            return VpolResponse("", "fail", text, properties, variant.name)
        properties: dict = {}
        failure = self._audit(variant, activation, properties)
        if failure:
            return VpolResponse("evaluation", "error", f"failed to load context: {failure}", variant=variant.name)
        return VpolResponse("", "pass", "success", properties, variant.name)

    @staticmethod
    def _evaluate_fused(variant: _Variant, activation) -> Optional[VpolResponse]:
        """The response from the fused program, or None when it failed (the caller then evaluates
        program by program, which gives the exact error)."""
        try:
            (outcome, audits) = variant.fused.evaluate(activation)
        except Exception:  # noqa: BLE001 - CEL errors above all; the program by program path decides
            return None
        failed = outcome[0]
        properties: dict = {}
        if failed != -1:
            for index, _program, message, message_program in variant.validations:
                if index == failed:
                    break
            text = outcome[1] if message_program is not None else message
            if not text:
                text = f"CEL expression validation failed at index {failed}"
            properties["cel.validationIndex"] = str(failed)
        for (key, _program), value in zip(variant.audit_annotations, audits):
            if value not in (None, ""):
                properties[key] = value
        if failed != -1:
            return VpolResponse("", "fail", text, properties, variant.name)
        return VpolResponse("", "pass", "success", properties, variant.name)

    @staticmethod
    def _audit(variant: _Variant, activation, properties: dict) -> Optional[str]:
        for key, program in variant.audit_annotations:
            try:
                value = program.evaluate(activation)
            except CelEvalError as error:
                return f"error: failed to evaluate auditAnnotation '{key}': {error}"
            if value not in (None, ""):
                properties[key] = value
        return None


def _where_path(where: str) -> tuple:
    path: list = []
    for part in re.findall(r"[A-Za-z_]+|\[\d+\]", where):
        path.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(path)


def _autogen_specs(spec: dict) -> list[tuple[str, dict]]:
    """Kyverno's autogen variants of a Pod policy: ('cronjobs', spec), ('defaults', spec)."""
    constraints = spec.get("matchConstraints")
    if not isinstance(constraints, dict):
        return []
    rules = constraints.get("resourceRules") or []
    if len(rules) != 1 or not isinstance(rules[0], dict):
        return []
    rule = rules[0]
    if (rule.get("apiGroups") != [""] or rule.get("apiVersions") != ["v1"] or rule.get("resources") != ["pods"]
            or rule.get("resourceNames") or constraints.get("excludeResourceRules")
            or constraints.get("objectSelector")):
        return []
    autogen = (spec.get("autogen") or {}).get("podControllers") or {}
    controllers = autogen.get("controllers")
    if controllers is None:
        controllers = list(ALL_CONTROLLERS)
    controllers = [c for c in controllers if c in ALL_CONTROLLERS]
    variants = []
    operations = rule.get("operations")
    if "cronjobs" in controllers:
        variants.append(("cronjobs", _rewrite(spec, "object.spec.jobTemplate.spec.template", [
            {"apiGroups": ["batch"], "apiVersions": ["v1"], "resources": ["cronjobs"], "operations": operations}])))
    apps = sorted(c for c in controllers if c in _APPS)
    rules_out = []
    if apps:
        rules_out.append({"apiGroups": ["apps"], "apiVersions": ["v1"], "resources": apps, "operations": operations})
    if "jobs" in controllers:
        rules_out.append({"apiGroups": ["batch"], "apiVersions": ["v1"], "resources": ["jobs"], "operations": operations})
    if rules_out:
        variants.append(("defaults", _rewrite(spec, "object.spec.template", rules_out)))
    return variants


def _rewrite(spec: dict, target: str, rules: list[dict]) -> dict:
    body = {k: v for k, v in spec.items() if k != "matchConstraints"}
    prefix = target[len("object."):]

    def replace(match: re.Match) -> str:
        return f"{match.group(1)}.{prefix}.{match.group(2)}"

    rewritten = json.loads(_REWRITE.sub(replace, json.dumps(body)))
    constraints = dict(spec["matchConstraints"])
    if any(rule.get("operations") is None for rule in rules):
        rewritten["matchConstraints"] = None
    else:
        constraints["resourceRules"] = rules
        rewritten["matchConstraints"] = constraints
    return rewritten
