"""Kubernetes ValidatingAdmissionPolicy (+Binding, params) as Kyverno's CLI evaluates them.

Semantics follow kyverno-cel-semantics.md section 6: the Kubernetes CEL environment (no Kyverno
libraries, `params` only with `paramKind`), a request that is always CREATE, a namespaceObject made
of the namespace's name and labels, and offline bindings: when bindings name the policy its own
matchConstraints are not checked and only the last matching binding's outcome is kept.
Compile errors do not make the policy invalid: like the Kubernetes validator they surface as an
`error` result for the resources the policy applies to.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Optional

from gpulint.engine.cel import CelCompileError, CelEnvironment, CelEvalError
from gpulint.engine.labels import selector_matches
from gpulint.engine.matching import Request, constraints_match, resources_named
from gpulint.engine.policyinfo import PolicyError, policy_info

VAP_API_VERSION = "admissionregistration.k8s.io/v1"
VAP_KIND = "ValidatingAdmissionPolicy"
BINDING_KIND = "ValidatingAdmissionPolicyBinding"
SKIP_MESSAGE = "match conditions aren't met"

# One params-enabled environment per base environment: building an environment is not free.
_PARAM_ENVS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def is_vap(api_version: str, kind: str) -> bool:
    return api_version == VAP_API_VERSION and kind == VAP_KIND


def is_binding(api_version: str, kind: str) -> bool:
    return api_version == VAP_API_VERSION and kind == BINDING_KIND


@dataclass
class _Expr:
    """A compiled expression, or the reason it did not compile (reported when it is needed)."""

    text: str
    program: Any = None
    error: str = ""

    def evaluate(self, activation) -> Any:
        if self.error:
            raise _Failed(f"compilation error: {self.error}")
        try:
            return self.program.evaluate(activation)
        except CelEvalError as error:
            raise _Failed(f"expression '{self.text}' resulted in error: {error}") from None


class _Failed(Exception):
    """An expression that could not be evaluated; the text is the Kubernetes validator's message."""


@dataclass
class _Validation:
    expr: _Expr
    message: str
    message_expr: Optional[_Expr]


@dataclass
class VapOutcome:
    status: str  # pass | fail | error | skip
    message: str
    properties: dict = field(default_factory=dict)  # `binding`: the binding that decided


class ValidatingAdmissionPolicy:
    """A compiled admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy with its bindings."""

    def __init__(self, obj: dict, env: CelEnvironment, file: str = "", line: int = 1):
        self.obj = obj
        self.info = policy_info(obj, file, line)
        self.kind = VAP_KIND
        self.name = str((obj.get("metadata") or {}).get("name", ""))
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            raise PolicyError(f"policy {self.name}: spec is missing", ("spec",))
        self.spec = spec
        constraints = spec.get("matchConstraints")
        self.constraints = constraints if isinstance(constraints, dict) else None
        self.failure_policy = spec.get("failurePolicy") or "Fail"
        param_kind = spec.get("paramKind")
        self.param_kind = param_kind if isinstance(param_kind, dict) else None
        self.env = _params_env(env) if self.param_kind else env
        self.bindings: list[dict] = []
        variables = [(str(v.get("name", "")), v.get("expression", "")) for v in spec.get("variables") or ()
                     if isinstance(v, dict)]
        self.match_conditions = [self._compile(c.get("expression"), variables, "bool")
                                 for c in spec.get("matchConditions") or () if isinstance(c, dict)]
        self.validations = []
        for validation in spec.get("validations") or ():
            if not isinstance(validation, dict):
                continue
            message_expr = None
            if validation.get("messageExpression"):
                message_expr = self._compile(validation["messageExpression"], variables, "string")
            self.validations.append(_Validation(self._compile(validation.get("expression"), variables, "bool"),
                                                str(validation.get("message") or ""), message_expr))

    def _compile(self, expression: Any, variables, expect: str) -> _Expr:
        if not isinstance(expression, str):
            return _Expr(str(expression or ""), error="expression is required")
        try:
            return _Expr(expression, self.env.compile(expression, variables=variables, expect=expect))
        except CelCompileError as error:
            return _Expr(expression, error=str(error))

    # -- indexing --------------------------------------------------------------------------------
    def resources(self) -> Optional[set[tuple[str, str]]]:
        """(group, resource) pairs this policy can match; None = any (bindings carry their own match)."""
        if self.bindings:
            return None
        return resources_named(self.constraints)

    # -- evaluation --------------------------------------------------------------------------------
    def evaluate_subject(self, engine, subject) -> list:
        from gpulint.engine.runner import make_result

        if subject.view is not None:  # Kyverno never evaluates a VAP on synthesised pod templates
            return []
        req = subject.request
        mapping = engine.kinds.mapping(subject.resource.api_version, req.kind)
        if not mapping.known:
            group = f"{req.group}/" if req.group else ""
            return [make_result(self.info, self.name, "error",
                                f"failed to map gvk to gvr {group}{req.version}, Kind={req.kind}", subject)]
        options = engine.options
        create = Request(req.group, req.version, req.kind, req.resource, req.namespace, req.name, "CREATE",
                         req.subresource, req.namespaced, req.labels)
        request = engine.request_object(create, subject.obj)
        params = getattr(engine, "vap_params", None)
        if params is None:
            lookup = getattr(engine, "lookup", None)
            params = self._params_from_lookup(lookup) if lookup is not None else []
        outcome = self.evaluate(create, subject.obj, request, options.namespace_labels, params)
        if outcome is None:
            return []
        return [make_result(self.info, self.name, outcome.status, outcome.message, subject, None,
                            outcome.properties, outcome.status != "skip")]

    def evaluate(self, req: Request, obj: dict, request: dict, namespace_labels, params: list) -> Optional[VapOutcome]:
        """The outcome for one request, or None when neither the policy nor a binding matches."""

        def labels_of(namespace: str) -> dict:
            # Kyverno builds the namespace from the values' label map, never a synthetic one.
            return namespace_labels(namespace) or {}

        namespace_object = self._namespace_object(req, labels_of)
        if not self.bindings:
            if not constraints_match(self.constraints, req, labels_of):
                return None
            return self._decide(obj, request, namespace_object, None)
        outcome = None
        for binding in self.bindings:
            spec = binding.get("spec") or {}
            match = spec.get("matchResources")
            if isinstance(match, dict) and not constraints_match(match, req, labels_of):
                continue
            bound = self._decide(obj, request, namespace_object, self._select_params(spec.get("paramRef"), params))
            bound.properties["binding"] = str((binding.get("metadata") or {}).get("name", ""))
            outcome = bound  # the last matching binding wins (Kyverno CLI)
        return outcome

    @staticmethod
    def _namespace_object(req: Request, labels_of) -> dict:
        metadata: dict[str, Any] = {"creationTimestamp": None}
        if req.namespaced and req.namespace and req.resource != "namespaces":
            metadata["name"] = req.namespace
            labels = labels_of(req.namespace)
            if labels:
                metadata["labels"] = dict(labels)
        return {"metadata": metadata, "spec": {}, "status": {}}

    def _decide(self, obj: dict, request: dict, namespace_object: dict, params) -> VapOutcome:
        values: dict[str, Any] = dict(object=obj, oldObject=None, request=request, namespaceObject=namespace_object)
        if self.param_kind is not None:
            values["params"] = params
        activation = self.env.activation(**values)
        errors = []
        for condition in self.match_conditions:
            try:
                if condition.evaluate(activation) is False:
                    return VapOutcome("skip", SKIP_MESSAGE)
            except _Failed as failure:
                errors.append(str(failure))
        if errors:
            if self.failure_policy == "Ignore":
                return VapOutcome("skip", SKIP_MESSAGE)
            return VapOutcome("error", errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
        for validation in self.validations:
            try:
                value = validation.expr.evaluate(activation)
            except _Failed as failure:
                # Kyverno reads the evaluation-error flag before the action: error even with Ignore.
                return VapOutcome("error", str(failure))
            if value is not True:
                return VapOutcome("fail", self._message(validation, activation))
        return VapOutcome("pass", "")

    @staticmethod
    def _message(validation: _Validation, activation) -> str:
        if validation.message_expr is not None:
            try:
                text = validation.message_expr.evaluate(activation)
            except _Failed:
                text = None
            if isinstance(text, str) and text.strip() and "\n" not in text.strip():
                return text.strip()
        if validation.message.strip():
            return validation.message.strip()
        return f"failed expression: {validation.expr.text.strip()}"

    # -- params ------------------------------------------------------------------------------------
    def _params_from_lookup(self, lookup) -> list[dict]:
        """Outside `gpulint test`, params are the run's objects of the paramKind."""
        if self.param_kind is None:
            return []
        api_version, kind = str(self.param_kind.get("apiVersion", "")), str(self.param_kind.get("kind", ""))
        return lookup.all_of(api_version, lookup.kinds.resource_for(api_version, kind))

    def _select_params(self, ref: Any, params: list) -> Any:
        """params for one binding: a list object for a selector, else the first object by name/namespace."""
        if self.param_kind is None or not isinstance(ref, dict):
            return None
        api_version, kind = self.param_kind.get("apiVersion"), self.param_kind.get("kind")
        candidates = [p for p in params if isinstance(p, dict)
                      and (not api_version or p.get("apiVersion") == api_version)
                      and (not kind or p.get("kind") == kind)]
        name, namespace = ref.get("name"), ref.get("namespace")
        if namespace:
            candidates = [p for p in candidates if _meta(p).get("namespace") == namespace]
        if name:
            for param in candidates:
                if _meta(param).get("name") == name:
                    return param
            return None
        selector = ref.get("selector")
        if isinstance(selector, dict):
            return {"items": [p for p in candidates if selector_matches(selector, _meta(p).get("labels") or {})]}
        return candidates[0] if candidates else None


def _meta(obj: dict) -> dict:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _params_env(env: CelEnvironment) -> CelEnvironment:
    try:
        return _PARAM_ENVS[env]
    except (KeyError, TypeError):
        pass
    made = CelEnvironment("k8s", params=True, context=getattr(env, "context", None))
    try:
        _PARAM_ENVS[env] = made
    except TypeError:  # an environment that cannot be weakly referenced is simply not cached
        pass
    return made


def attach_bindings(policies: list, resources: list) -> None:
    """Give each compiled VAP the bindings (among `resources`, load.Resource) that name it."""
    by_name: dict[str, list[dict]] = {}
    for resource in resources:
        if is_binding(resource.api_version, resource.kind):
            spec = resource.obj.get("spec") if isinstance(resource.obj.get("spec"), dict) else {}
            by_name.setdefault(str(spec.get("policyName", "")), []).append(resource.obj)
    for policy in policies:
        if isinstance(policy, ValidatingAdmissionPolicy):
            policy.bindings = by_name.get(policy.name, [])

