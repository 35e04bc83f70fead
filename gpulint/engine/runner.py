"""Run compiled policies over loaded resources and produce RuleResults.

Policies are indexed by the resources they can match, so a policy that names no kind of the input
costs nothing; each resource gets one CEL activation, reused by every policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from gpulint.engine.kinds import KindTable
from gpulint.engine.matching import Request
from gpulint.engine.paths import parse_field_path
from gpulint.engine.podtemplates import PodView, WorkloadTable
from gpulint.engine.result import RuleResult
from gpulint.engine.vpol import POD_PREFIX, ValidatingPolicy
from gpulint.load.model import Resource


@dataclass
class RunOptions:
    operation: str = "CREATE"
    expand_pod_templates: bool = True  # gpulint's CRD pod-template evaluation (off for Kyverno-compat tests)
    floats: bool = False  # Kyverno CLI turns every integer into a float (on for `gpulint test`)
    # The API server drops null fields (`initContainers:` with nothing after it) before admission;
    # `gpulint check` does the same so policies see what Kyverno sees in a cluster.
    prune_nulls: bool = True
    namespace_labels: Callable[[str], Optional[dict]] = lambda ns: None
    namespace_object: Callable[[str], Optional[dict]] = lambda ns: None
    user_info: Optional[dict] = None


@dataclass
class _Subject:
    """What one evaluation is about: the resource itself or one pod template inside it."""

    resource: Resource
    obj: dict
    request: Request
    view: Optional[PodView] = None
    activations: dict = field(default_factory=dict)
    activation_for: Optional[Callable] = None  # allowed exceptions -> activation (Engine._activation)


class Engine:
    def __init__(self, policies: list, env, *, kinds: Optional[KindTable] = None,
                 workloads: Optional[WorkloadTable] = None, options: Optional[RunOptions] = None):
        self.policies = policies
        self.env = env
        self.kinds = kinds or KindTable()
        self.workloads = workloads or WorkloadTable()
        self.options = options or RunOptions()
        self._index: dict[tuple[str, str], list] = {}
        self._any: list = []
        for policy in policies:
            named = policy.resources()
            if named is None:
                self._any.append(policy)
            else:
                for key in named:
                    self._index.setdefault(key, []).append(policy)
        self._pod_policies = [p for p in policies if isinstance(p, ValidatingPolicy) and p.matches_pods()]
        self._order = {id(p): i for i, p in enumerate(policies)}
        self._candidates: dict[tuple[str, str], list] = {}
        self.pruned: dict = {}  # id(object given to build_engine) -> (that object, it without nulls)

    def candidates(self, group: str, resource: str) -> list:
        found = self._candidates.get((group, resource))
        if found is None:
            found = self._index.get((group, resource), []) + self._index.get(("*", resource), []) + self._any
            if len(found) > 1:
                unique = {id(p): p for p in found}
                found = sorted(unique.values(), key=lambda p: self._order[id(p)])
            self._candidates[(group, resource)] = found
        return found

    def warm(self, resources: Iterable[Resource]) -> None:
        """Compile what evaluating `resources` will need (see ValidatingPolicy.warm), once, here."""
        seen: set = set()
        pods = False
        for resource in resources:
            mapping = self.kinds.mapping(resource.api_version, resource.kind)
            key = (mapping.group, mapping.resource)
            if key not in seen:
                seen.add(key)
                for policy in self.candidates(*key):
                    if isinstance(policy, ValidatingPolicy):
                        _warm(policy)
            pods = pods or resource.kind != "Pod"
        if pods and self.options.expand_pod_templates:
            for policy in self._pod_policies:
                _warm(policy, policy.variants[:1])

    # -- requests and activations ------------------------------------------------------------------
    def request_for(self, obj: dict, api_version: str, kind: str) -> Request:
        mapping = self.kinds.mapping(api_version, kind)
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        namespace = str(meta.get("namespace") or "") if mapping.namespaced else ""
        if mapping.namespaced and not namespace:
            namespace = "default"
        labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
        return Request(mapping.group, mapping.version, kind, mapping.resource, namespace,
                       str(meta.get("name") or meta.get("generateName") or ""), self.options.operation,
                       namespaced=mapping.namespaced, labels=labels)

    def request_object(self, req: Request, obj: dict) -> dict:
        gvk = {"group": req.group, "version": req.version, "kind": req.kind}
        gvr = {"group": req.group, "version": req.version, "resource": req.resource}
        request: dict[str, Any] = {
            "uid": "", "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
            "name": req.name, "operation": req.operation, "userInfo": _user_info(self.options.user_info),
            "object": obj, "oldObject": obj if req.operation in ("UPDATE", "DELETE") else None, "dryRun": False,
        }
        if req.namespace:
            request["namespace"] = req.namespace
        if req.operation == "DELETE":
            request["object"] = None
        return request

    def _activation(self, subject: _Subject, allowed: Optional[dict]):
        key = None if allowed is None else repr(sorted(allowed.items()))
        found = subject.activations.get(key)
        if found is None:
            req = subject.request
            namespace_object = self.options.namespace_object(req.namespace) if req.namespace else None
            obj = None if req.operation == "DELETE" else subject.obj
            old = subject.obj if req.operation in ("UPDATE", "DELETE") else None
            found = subject.activations[key] = self.env.activation(
                object=obj, oldObject=old, request=self.request_object(req, subject.obj),
                namespaceObject=namespace_object,
                exceptions=allowed or {"allowedImages": [], "allowedValues": []})
        return found

    # -- evaluation ----------------------------------------------------------------------------------
    def evaluate(self, resources: Iterable[Resource]) -> list[RuleResult]:
        results: list[RuleResult] = []
        for resource in resources:
            results.extend(self.evaluate_resource(resource))
        return results

    def evaluate_resource(self, resource: Resource) -> list[RuleResult]:
        obj = resource.obj
        if self.options.prune_nulls:
            found = self.pruned.get(id(obj))
            obj = found[1] if found is not None and found[0] is obj else without_nulls(obj)
        if self.options.floats:
            from gpulint.engine.cel import ints_to_floats

            obj = ints_to_floats(obj)
        req = self.request_for(obj, resource.api_version, resource.kind)
        results: list[RuleResult] = []
        subject = _Subject(resource, obj, req)
        for policy in self.candidates(req.group, req.resource):
            results.extend(self._run(policy, subject))
        if self.options.expand_pod_templates and self._pod_policies and req.kind != "Pod":
            for view in self.workloads.expand(obj):
                pod_req = self.request_for(view.pod, "v1", "Pod")
                pod_subject = _Subject(resource, view.pod, pod_req, view)
                for policy in self._pod_policies:
                    results.extend(self._run(policy, pod_subject, only_original=True))
        return results

    def _run(self, policy, subject: _Subject, only_original: bool = False) -> list[RuleResult]:
        try:
            return self._run_unguarded(policy, subject, only_original)
        except RecursionError:
            return [make_result(policy.info, "", "error", "error: resource nested too deeply to evaluate", subject)]
        except Exception as error:  # one policy failing on one resource must not stop the run
            return [make_result(policy.info, "", "error",
                                f"internal error: {type(error).__name__}: {error}", subject)]

    def _run_unguarded(self, policy, subject: _Subject, only_original: bool) -> list[RuleResult]:
        if isinstance(policy, ValidatingPolicy):
            variants = policy.variants[:1] if only_original else None
            if subject.activation_for is None:
                subject.activation_for = lambda allowed: self._activation(subject, allowed)
            responses = policy.evaluate(subject.request, subject.activation_for, self.options.namespace_labels,
                                        variants)
            return [self._vpol_result(policy, subject, r) for r in responses]
        return policy.evaluate_subject(self, subject)

    def _vpol_result(self, policy: ValidatingPolicy, subject: _Subject, response) -> RuleResult:
        field_path = None
        raw_field = response.properties.get("field")
        if isinstance(raw_field, str) and response.status in ("fail", "warn", "error"):
            pod_path = parse_field_path(raw_field)
            if pod_path is not None:
                field_path = POD_PREFIX.get(response.variant, ()) + pod_path
                if subject.view is not None:
                    field_path = subject.view.map_path(field_path)
        status = response.status
        if status == "fail" and response.properties.get("cel.validationIndex") in policy.warn_validations:
            status = "warn"
        return make_result(policy.info, response.rule, status, response.message, subject, field_path,
                           response.properties, response.matched)


def _warm(policy, variants=None) -> None:
    try:
        policy.warm(variants)
    except Exception:  # noqa: BLE001 - only saves time; evaluation reports any problem itself
        pass


def make_result(info, rule: str, status: str, message: str, subject: _Subject, field_path=None,
                properties=None, matched: bool = True) -> RuleResult:
    view = subject.view
    result = RuleResult(info, rule, status, message, subject.resource,
                        role=view.role if view else None,
                        template_path=view.template_path if view else None,
                        field_path=field_path, properties=dict(properties or {}), applicable=matched)
    return result


def without_nulls(value: Any) -> Any:
    """`value` with null map entries removed; returns the same object when there is none."""
    if isinstance(value, dict):
        pruned = None
        for key, item in value.items():
            new = without_nulls(item) if isinstance(item, (dict, list)) else item
            if new is None or new is not item:
                if pruned is None:
                    pruned = dict(value)
                if new is None:
                    del pruned[key]
                else:
                    pruned[key] = new
        return value if pruned is None else pruned
    if isinstance(value, list):
        changed = None
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                new = without_nulls(item)
                if new is not item:
                    if changed is None:
                        changed = list(value)
                    changed[index] = new
        return value if changed is None else changed
    return value


def _user_info(user_info: Optional[dict]) -> dict:
    if not user_info:
        return {}
    return {k: v for k, v in user_info.items() if k in ("username", "uid", "groups", "extra") and v}
