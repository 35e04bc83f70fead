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

    @property
    def display(self) -> str:
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
        responses = [self._legacy(entry, resource, obj, operation) for entry in self.legacy]
        if self.cel_engine is not None:
            responses.extend(self._cel(resource, operation))
        return responses

    def _legacy(self, entry: LegacyEntry, resource: SuiteResource, obj: dict, operation: Optional[str]) -> PolicyResponse:
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
        engine.options = RunOptions(operation=operation, floats=True, expand_pod_templates=True,
                                    namespace_labels=values.namespace_labels,
                                    namespace_object=values.namespace_object, user_info=self.inputs.user_info)
        by_policy: dict[int, list[RuleResponse]] = {}
        for result in engine.evaluate_resource(resource.resource):
            word, message = report_word(result.result, result.message, result.properties,
                                        result.policy.annotations)
            by_policy.setdefault(id(result.policy), []).append(RuleResponse(result.rule, word, message))
        responses = []
        for policy in engine.policies:
            rules = by_policy.get(id(policy.info), [])
            if rules or _kept_when_empty(policy):
                responses.append(PolicyResponse(policy.name, policy.kind, rules))
        return responses


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

