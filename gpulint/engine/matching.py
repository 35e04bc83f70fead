"""admissionregistration/v1 MatchResources, as Kyverno's CEL matcher applies them.

Shared by ValidatingPolicy and ValidatingAdmissionPolicy (kyverno-cel-semantics.md 1.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from gpulint.engine.labels import selector_matches


@dataclass
class Request:
    """The admission request an offline evaluation simulates."""

    group: str
    version: str
    kind: str
    resource: str  # plural, from the offline REST mapping
    namespace: str
    name: str
    operation: str = "CREATE"
    subresource: str = ""
    namespaced: bool = True
    labels: Optional[dict] = None
    old_labels: Optional[dict] = None


NamespaceLabels = Callable[[str], Optional[dict]]


def _match_field(values, actual: str) -> bool:
    return any(value == "*" or value == actual for value in values or ())


def rule_matches(rule: dict, req: Request) -> bool:
    if not _match_field(rule.get("operations"), req.operation):
        return False
    if not _match_field(rule.get("apiGroups"), req.group):
        return False
    if not _match_field(rule.get("apiVersions"), req.version):
        return False
    if not _resource_matches(rule.get("resources") or (), req):
        return False
    scope = rule.get("scope") or "*"
    if scope == "Namespaced" and (not req.namespace or req.resource == "namespaces"):
        return False
    if scope == "Cluster" and req.namespace and req.resource != "namespaces":
        return False
    names = rule.get("resourceNames") or []
    if names and req.name not in names:
        return False
    return True


def _resource_matches(resources, req: Request) -> bool:
    for entry in resources:
        if not isinstance(entry, str):
            continue
        resource, _, sub = entry.partition("/")
        if entry == "*/*":
            return True
        if sub:
            if (resource == "*" or resource == req.resource) and (sub == "*" or sub == req.subresource):
                return True
        elif (resource == "*" or resource == req.resource) and req.subresource == "":
            return True
    return False


def constraints_match(constraints: Optional[dict], req: Request, namespace_labels: NamespaceLabels) -> bool:
    """True when the request is matched (not excluded) by matchConstraints."""
    if constraints is None:
        return False
    ns_selector = constraints.get("namespaceSelector")
    if ns_selector and req.namespaced and req.resource != "namespaces":
        labels = namespace_labels(req.namespace)
        if labels is None:
            labels = {"kubernetes.io/metadata.name": req.namespace}
        if not selector_matches(ns_selector, labels):
            return False
    elif ns_selector and req.resource == "namespaces":
        if not selector_matches(ns_selector, req.labels or {}):
            return False
    obj_selector = constraints.get("objectSelector")
    if obj_selector:
        if not (selector_matches(obj_selector, req.labels or {})
                or (req.old_labels is not None and selector_matches(obj_selector, req.old_labels))):
            return False
    for rule in constraints.get("excludeResourceRules") or ():
        if isinstance(rule, dict) and rule_matches(rule, req):
            return False
    rules = constraints.get("resourceRules")
    if not rules:
        return True
    return any(isinstance(rule, dict) and rule_matches(rule, req) for rule in rules)


class ConstraintsMatcher:
    """``constraints_match`` for one matchConstraints, answering repeated requests from a cache when
    the answer depends only on the operation, GVR, subresource and whether there is a namespace
    (no namespace/object selector, no resourceNames)."""

    __slots__ = ("constraints", "_cache")

    def __init__(self, constraints: Optional[dict]):
        self.constraints = constraints
        cacheable = constraints is None or (
            isinstance(constraints, dict) and not constraints.get("namespaceSelector")
            and not constraints.get("objectSelector")
            and all(not (isinstance(rule, dict) and rule.get("resourceNames"))
                    for key in ("resourceRules", "excludeResourceRules")
                    for rule in (constraints.get(key) or ())))
        self._cache: Optional[dict] = {} if cacheable else None

    def __call__(self, req: Request, namespace_labels: NamespaceLabels) -> bool:
        if self._cache is None:
            return constraints_match(self.constraints, req, namespace_labels)
        key = (req.operation, req.group, req.version, req.resource, req.subresource, req.namespace == "")
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = constraints_match(self.constraints, req, namespace_labels)
        return found


def resources_named(constraints: Optional[dict]) -> Optional[set[tuple[str, str]]]:
    """(group, resource) pairs a policy can ever match, for indexing; None means 'any'."""
    if constraints is None:
        return set()
    rules = constraints.get("resourceRules")
    if not rules:
        return None
    named: set[tuple[str, str]] = set()
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        groups = rule.get("apiGroups") or []
        for resource in rule.get("resources") or []:
            if not isinstance(resource, str):
                continue
            base = resource.partition("/")[0]
            if base == "*" or "*" in groups:
                return None
            for group in groups:
                named.add((group, base))
    return named
