"""Engine responses per (resource, policy), the way `kyverno test` computes them.

Legacy policies are evaluated one (resource, policy) at a time, because values files give each pair
its own variables and operation. CEL policies (ValidatingPolicy, ValidatingAdmissionPolicy) go
through one gpulint Engine in Kyverno CLI mode (integers as floats), which keeps gpulint's CRD
pod-template expansion; their responses follow Kyverno's "dropped vs kept" rule for policies that
did not match (kyverno-cel-semantics.md 7.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from gpulint.load import Resource

STATUS_WORDS = {"warning": "warn"}  # engine status -> report result word


@dataclass
class RuleResponse:
    rule: str
    status: str  # report result word: pass | fail | warn | error | skip
    message: str


@dataclass
class PolicyResponse:
    policy: str  # the policy's name, without namespace (what Kyverno compares)
    kind: str
    rules: list[RuleResponse] = field(default_factory=list)


@dataclass
class SuiteResource:
    key: str  # "apiVersion,kind,namespace,name", Kyverno's resource key
    resource: Resource  # with the namespace Kyverno's loader gives it
    api_version: str
    kind: str
    namespace: str
    name: str
    payload: bool = False  # a JSON payload (jsonPayloads): only JSON-mode policies see it

    @property
    def display(self) -> str:
        if self.payload:
            return self.name
        parts = [self.api_version, self.kind] + ([self.namespace] if self.namespace else []) + [self.name]
        return "/".join(parts)


def suite_resources(resources: list[Resource], kinds, warnings: list[str]) -> list[SuiteResource]:
    """Namespaced kinds without a namespace get `default`; duplicates are warned about and dropped."""
    out: list[SuiteResource] = []
    seen: set[str] = set()
    for resource in resources:
        obj = resource.obj
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        namespace = str(meta.get("namespace") or "")
        if not namespace and kinds.is_namespaced(resource.api_version, resource.kind):
            namespace = "default"
            obj = dict(obj, metadata=dict(meta, namespace=namespace))
            resource = Resource(obj, resource.source, resource.path_in_document)
        name = str(meta.get("name") or "")
        key = ",".join((resource.api_version, resource.kind, namespace, name))
        if key in seen:
            warnings.append(f"found duplicated resource {resource.kind} {name} {namespace}".rstrip())
            continue
        seen.add(key)
        out.append(SuiteResource(key, resource, resource.api_version, resource.kind, namespace, name))
    return out


def report_word(status: str, message: str, properties: Optional[dict], annotations: dict) -> tuple[str, str]:
    """Kyverno's report result for a rule response (kyverno-semantics.md 10.1)."""
    word = STATUS_WORDS.get(status, status)
    properties = properties or {}
    override = properties.get(f"{word}Message", properties.get("message"))
    if isinstance(override, str):
        message = override
    if word == "fail" and annotations.get("policies.kyverno.io/scored", "true") == "false":
        word = "warn"
    return word, message


@dataclass
class LegacyEntry:
    policy: Any  # gpulint.engine.legacy.LegacyPolicy
    annotations: dict


@dataclass
class SuiteInputs:
    """Everything the evaluation of one suite needs besides the resources."""

    values: Any  # inputs.Values
    user_info: Optional[dict] = None
    legacy_exceptions: list = field(default_factory=list)
    cluster_get: Optional[Callable] = None  # set only when the test has clusterResources
    cluster_list: Optional[Callable] = None
    global_context: dict = field(default_factory=dict)  # name -> data
    params: list = field(default_factory=list)


class Evaluator:
    def __init__(self, resources: list[SuiteResource], legacy: list[LegacyEntry], cel_engine, inputs: SuiteInputs):
        self.resources = resources
        self.legacy = legacy
        self.cel_engine = cel_engine
        self.inputs = inputs
        self._cache: dict[Optional[str], dict[str, list[PolicyResponse]]] = {}

    def responses(self, operation: Optional[str] = None) -> dict[str, list[PolicyResponse]]:
        """Responses by resource key; `operation` is a result-level override (an extra evaluation)."""
        operation = operation.upper() if isinstance(operation, str) and operation else None
        if operation not in self._cache:
            self._cache[operation] = {r.key: self._evaluate(r, operation) for r in self.resources}
        return self._cache[operation]

    def _evaluate(self, resource: SuiteResource, operation: Optional[str]) -> list[PolicyResponse]:
        from gpulint.engine.cel import ints_to_floats

        obj = ints_to_floats(resource.resource.obj)
        if resource.payload:
            return self._json_mode(obj)
        responses = [self._legacy(entry, resource, obj, operation) for entry in self.legacy]
        if self.cel_engine is not None:
            responses.extend(self._cel(resource, operation))
            # JSON-mode policies also see every Kubernetes resource as raw JSON.
            responses.extend(self._json_mode(obj))
        return responses

    def _json_mode(self, obj: dict) -> list[PolicyResponse]:
        """evaluation.mode JSON policies: `object` is the document, every other input is null."""
        if self.cel_engine is None:
            return []
        env = self.cel_engine.env
        activations: dict = {}

        def activation_for(allowed):
            key = None if allowed is None else repr(sorted(allowed.items()))
            if key not in activations:
                activations[key] = env.activation(object=obj, oldObject=None, request=None, namespaceObject=None,
                                                  exceptions=allowed or {"allowedImages": [], "allowedValues": []})
            return activations[key]

        responses = []
        for policy in self.cel_engine.policies:
            if not getattr(policy, "json_mode", False):
                continue
            answer = policy.evaluate_json(activation_for)
            word, message = report_word(answer.status, answer.message, answer.properties, policy.info.annotations)
            responses.append(PolicyResponse(policy.name, policy.kind, [RuleResponse(answer.rule, word, message)]))
        return responses

    def _legacy(self, entry: LegacyEntry, resource: SuiteResource, obj: dict,
                operation: Optional[str]) -> PolicyResponse:
        from gpulint.engine.legacy import LegacyContextData

        policy = entry.policy
        values = self.inputs.values
        variables = values.resource_values(policy.name, resource.name)
        if operation is None:
            # Only UPDATE and DELETE change the request; anything else is a CREATE (Kyverno's switch).
            requested = str(variables.get("request.operation") or "").upper()
            operation = requested if requested in ("UPDATE", "DELETE") else "CREATE"
        if str(variables.get("request.operation") or "").upper() in ("CREATE", "UPDATE", "DELETE"):
            # The operation is passed as such; as a plain variable it would also survive into the
            # re-validation of the old object, which Kyverno runs as a CREATE.
            variables = {k: v for k, v in variables.items() if k != "request.operation"}
        rule_values, foreach_values = values.rule_values(policy.name)
        namespace_object = None
        if resource.namespace and resource.kind != "Namespace":
            namespace_object = {"metadata": {"name": resource.namespace, "creationTimestamp": None},
                                "spec": {}, "status": {}}
        data = LegacyContextData(
            operation=operation, user_info=self.inputs.user_info, namespace_labels=values.namespace_labels,
            variables=variables, rule_variables=rule_values, foreach_variables=foreach_values,
            get_resource=self.inputs.cluster_get, list_resources=self.inputs.cluster_list,
            global_context=self.inputs.global_context,
            old_object=obj if operation in ("UPDATE", "DELETE") else None,
            exceptions=self.inputs.legacy_exceptions, namespace_object=namespace_object,
            cel_params=self.inputs.params)
        rules = []
        for response in policy.evaluate(obj, data):
            word, message = report_word(response.status, response.message, response.properties, entry.annotations)
            rules.append(RuleResponse(response.rule, word, message))
        return PolicyResponse(policy.name, policy.kind, rules)

    def _cel(self, resource: SuiteResource, operation: Optional[str]) -> list[PolicyResponse]:
        from gpulint.engine.runner import RunOptions

        engine = self.cel_engine
        values = self.inputs.values
        if operation is None:
            requested = str(values.global_values.get("request.operation") or "").upper()
            operation = requested if requested in ("UPDATE", "DELETE") else "CREATE"
        # Kyverno's CLI keeps null fields (`rules: null`) and turns integers into floats.
        engine.options = RunOptions(operation=operation, floats=True, expand_pod_templates=True, prune_nulls=False,
                                    namespace_labels=values.namespace_labels,
                                    namespace_object=values.namespace_object, user_info=self.inputs.user_info)
        direct: dict[int, list[RuleResponse]] = {}
        templates: dict[int, list[RuleResponse]] = {}
        for result in engine.evaluate_resource(resource.resource):
            word, message = report_word(result.result, result.message, result.properties,
                                        result.policy.annotations)
            if result.template_path is not None and result.role:
                message = f"{result.role}: {message}"
            by_policy = direct if result.template_path is None else templates
            by_policy.setdefault(id(result.policy), []).append(RuleResponse(result.rule, word, message))
        responses = []
        for policy in engine.policies:
            rules = direct.get(id(policy.info)) or _template_verdict(templates.get(id(policy.info), []))
            if rules or _kept_when_empty(policy):
                responses.append(PolicyResponse(policy.name, policy.kind, rules))
        return responses


# The worst outcome first: a workload fails when one of its pod templates fails.
_SEVERITY = {"fail": 0, "error": 1, "warn": 2, "pass": 3, "skip": 4}


def _template_verdict(rules: list[RuleResponse]) -> list[RuleResponse]:
    """gpulint's pod-template expansion of a CRD, as the one response Kyverno gives a resource.

    A policy that matches the CRD itself answers for it (Kyverno's view); otherwise the templates'
    answers are folded into one, the worst of them, so a CRD is judged like any other workload.
    """
    if not rules:
        return []
    return [min(rules, key=lambda rule: _SEVERITY.get(rule.status, len(_SEVERITY)))]


def _kept_when_empty(policy) -> bool:
    """Whether Kyverno keeps a response without rules (Excluded) rather than dropping it (Not found)."""
    variants = getattr(policy, "variants", None)
    if variants is None:  # ValidatingAdmissionPolicy: always one response
        return True
    if getattr(policy, "json_mode", False):
        return False
    return any(not _simple_constraints(variant.constraints) for variant in variants)


def _simple_constraints(constraints: Any) -> bool:
    """Kyverno's `hasSelector`: one resource rule, no names, no excludes, no selectors."""
    if not isinstance(constraints, dict):
        return False
    for key in ("namespaceSelector", "objectSelector"):
        selector = constraints.get(key)
        if isinstance(selector, dict) and (selector.get("matchLabels") or selector.get("matchExpressions")):
            return False
    if constraints.get("excludeResourceRules"):
        return False
    rules = constraints.get("resourceRules") or []
    return len(rules) == 1 and isinstance(rules[0], dict) and not rules[0].get("resourceNames")

