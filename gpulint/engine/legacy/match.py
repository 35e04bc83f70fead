"""match / exclude (kyverno: pkg/engine/utils/match.go, pkg/utils/match/*.go,
pkg/utils/kube/kind.go, pkg/engine/wildcards/wildcards.go)."""

from __future__ import annotations

import re
from functools import lru_cache

from gpulint.engine.legacy.goutil import contains_wildcard, wildcard_match

_VERSION = re.compile(r"^(v\d+((alpha|beta)\d+)?|\*)$")
_SA_PREFIX = "system:serviceaccount:"


@lru_cache(maxsize=4096)
def parse_kind_selector(text: str) -> tuple[str, str, str, str]:
    """(group, version, kind, subresource); missing parts are "*" (subresource "")."""
    parts = text.split("/")
    parts = parts[:-1] + parts[-1].split(".")
    n = len(parts)
    if n == 1:
        return "*", "*", parts[0], ""
    if n == 2:
        if parts[0] == "*" and parts[1] == "*":
            return "*", "*", "*", "*"
        if parts[0] == "*" and parts[1].lower() == parts[1]:
            return "*", "*", parts[0], parts[1]
        if _VERSION.match(parts[0]):
            return "*", parts[0], parts[1], ""
        return "*", "*", parts[0], parts[1]
    if n == 3:
        if _VERSION.match(parts[0]):
            return "*", parts[0], parts[1], parts[2]
        return parts[0], parts[1], parts[2], ""
    if n == 4:
        return parts[0], parts[1], parts[2], parts[3]
    return "", "", "", ""


def resource_gvk(resource: dict) -> tuple[str, str, str]:
    api_version = resource.get("apiVersion") or ""
    if not isinstance(api_version, str):
        api_version = ""
    group, _, version = api_version.rpartition("/")
    return group, version, str(resource.get("kind") or "")


def check_kind(kinds: list, gvk: tuple, subresource: str = "") -> bool:
    group, version, kind = gvk
    for entry in kinds:
        g, v, k, sub = parse_kind_selector(str(entry))
        if wildcard_match(g, group) and wildcard_match(v, version) and wildcard_match(k, kind):
            if sub == "" or wildcard_match(sub, subresource):
                return True
            if gvk == ("", "v1", "Pod") and subresource == "ephemeralcontainers":
                return True
    return False


def _metadata(resource: dict) -> dict:
    meta = resource.get("metadata")
    return meta if isinstance(meta, dict) else {}


def resource_name(resource: dict) -> str:
    meta = _metadata(resource)
    return str(meta.get("name") or meta.get("generateName") or "")


def resource_namespace(resource: dict) -> str:
    return str(_metadata(resource).get("namespace") or "")


def _string_map(v) -> dict:
    if not isinstance(v, dict):
        return {}
    return {str(k): x if isinstance(x, str) else str(x) for k, x in v.items()}


def check_selector(selector, labels: dict | None) -> bool:
    """A metav1.LabelSelector with Kyverno's wildcard expansion in matchLabels."""
    if selector is None:
        return True
    if not isinstance(selector, dict):
        return False
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        k, v = str(k), "" if v is None else str(v)
        if contains_wildcard(k) or contains_wildcard(v):
            found = next(((k1, v1) for k1, v1 in sorted(labels.items())
                          if wildcard_match(k, k1) and wildcard_match(v, str(v1))), None)
            if found is None:
                return False
            k, v = found
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            return False
        key, op = str(expr.get("key", "")), expr.get("operator")
        values = [str(x) for x in expr.get("values") or []]
        present = key in labels
        if op == "In":
            if not values or not present or labels[key] not in values:
                return False
        elif op == "NotIn":
            if not values:
                return False
            if present and labels[key] in values:
                return False
        elif op == "Exists":
            if not present or values:
                return False
        elif op == "DoesNotExist":
            if present or values:
                return False
        else:
            return False
    return True


def check_annotations(expected: dict, actual: dict) -> bool:
    for k, v in expected.items():
        if not any(wildcard_match(str(k), k1) and wildcard_match(str(v), v1)
                   for k1, v1 in actual.items()):
            return False
    return True


def check_subjects(subjects: list, user_info: dict) -> bool:
    username = str(user_info.get("username") or "")
    groups = [str(g) for g in user_info.get("groups") or []]
    for subject in subjects:
        if not isinstance(subject, dict):
            continue
        kind, name = subject.get("kind"), str(subject.get("name") or "")
        if kind == "ServiceAccount":
            if len(username) <= len(_SA_PREFIX):
                continue
            expected = f"{subject.get('namespace') or ''}:{name}"
            if username.startswith(_SA_PREFIX) and wildcard_match(expected, username[len(_SA_PREFIX):]):
                return True
        elif kind in ("User", "Group"):
            if any(wildcard_match(name, x) for x in groups + [username]):
                return True
    return False


class Request:
    """What a match filter is checked against."""

    __slots__ = ("resource", "operation", "user_info", "namespace_labels", "subresource")

    def __init__(self, resource: dict, operation: str, user_info: dict | None,
                 namespace_labels: dict | None, subresource: str = ""):
        self.resource = resource
        self.operation = operation
        self.user_info = user_info
        self.namespace_labels = namespace_labels or {}
        self.subresource = subresource


_USER_KEYS = ("roles", "clusterRoles", "subjects")


def _split_filter(flt: dict) -> tuple[dict, dict]:
    flt = flt or {}
    desc = flt.get("resources") or {}
    user = {k: flt[k] for k in _USER_KEYS if flt.get(k)}
    return desc, user


def filter_matches(desc: dict, user: dict, req: Request, check_operations: bool = True) -> bool:
    """AND across attributes, OR inside list attributes."""
    resource = req.resource
    kinds = desc.get("kinds") or []
    if kinds and not check_kind(kinds, resource_gvk(resource), req.subresource):
        return False
    name = resource_name(resource)
    if desc.get("name") and not wildcard_match(str(desc["name"]), name):
        return False
    names = desc.get("names") or []
    if names and not any(wildcard_match(str(n), name) for n in names):
        return False
    namespaces = desc.get("namespaces") or []
    if namespaces:
        ns = name if resource.get("kind") == "Namespace" else resource_namespace(resource)
        if not any(wildcard_match(str(n), ns) for n in namespaces):
            return False
    annotations = desc.get("annotations") or {}
    if annotations and not check_annotations(annotations,
                                             _string_map(_metadata(resource).get("annotations"))):
        return False
    if desc.get("selector") is not None and not check_selector(
            desc["selector"], _string_map(_metadata(resource).get("labels"))):
        return False
    if desc.get("namespaceSelector") is not None and resource.get("kind") not in ("Namespace", ""):
        if not check_selector(desc["namespaceSelector"], req.namespace_labels):
            return False
    operations = desc.get("operations") or []
    if check_operations and operations and req.operation not in operations:
        return False
    info = req.user_info or {}
    roles = user.get("roles") or []
    if roles and not set(map(str, roles)) & set(map(str, info.get("roles") or [])):
        return False
    cluster_roles = user.get("clusterRoles") or []
    if cluster_roles and not set(map(str, cluster_roles)) & set(
            map(str, info.get("clusterRoles") or [])):
        return False
    subjects = user.get("subjects") or []
    if subjects and not check_subjects(subjects, info.get("userInfo") or info):
        return False
    return True


def _is_empty(desc: dict, user: dict) -> bool:
    return not any(v not in (None, [], {}, "") for v in desc.values()) and not user


def _match_filter(flt: dict, req: Request, check_operations: bool) -> bool:
    desc, user = _split_filter(flt)
    if req.user_info is None:
        user = {}  # without admission user info, user attributes of match filters are dropped
    if _is_empty(desc, user):
        return False  # "match cannot be empty"
    return filter_matches(desc, user, req, check_operations)


def _exclude_filter(flt: dict, req: Request, check_operations: bool) -> bool:
    desc, user = _split_filter(flt)
    if _is_empty(desc, user):
        return False
    return filter_matches(desc, user, req, check_operations)


def matches(block: dict | None, req: Request, check_operations: bool = True) -> bool:
    """`match` semantics: any / all / legacy single filter."""
    block = block or {}
    if block.get("any"):
        return any(_match_filter(f, req, check_operations) for f in block["any"])
    if block.get("all"):
        return all(_match_filter(f, req, check_operations) for f in block["all"])
    return _match_filter(block, req, check_operations)


def excluded(block: dict | None, req: Request) -> bool:
    block = block or {}
    if block.get("any"):
        return any(_exclude_filter(f, req, True) for f in block["any"])
    if block.get("all"):
        return all(_exclude_filter(f, req, True) for f in block["all"])
    return _exclude_filter(block, req, True)


def rule_matches(rule: dict, req: Request, policy_namespace: str | None) -> bool:
    if policy_namespace and policy_namespace != resource_namespace(req.resource):
        return False
    if not matches(rule.get("match"), req):
        return False
    return not excluded(rule.get("exclude"), req)
