"""PolicyException selection for legacy rules (kyverno: pkg/engine/utils/exceptions.go,
api/kyverno/v2/policy_exception_types.go)."""

from __future__ import annotations

from gpulint.engine.legacy.conditions import ConditionError, check_preconditions
from gpulint.engine.legacy.goutil import wildcard_match
from gpulint.engine.legacy.match import Request, matches, resource_namespace

_API_VERSIONS = ("kyverno.io/v2", "kyverno.io/v2beta1")


def exception_key(exc: dict) -> str:
    meta = exc.get("metadata") or {}
    ns, name = meta.get("namespace") or "", meta.get("name") or ""
    return f"{ns}/{name}" if ns else str(name)


def _covers(exc: dict, policy_key: str, rule_name: str) -> bool:
    for entry in (exc.get("spec") or {}).get("exceptions") or []:
        if not isinstance(entry, dict) or entry.get("policyName") != policy_key:
            continue
        if any(wildcard_match(str(r), rule_name) for r in entry.get("ruleNames") or []):
            return True
    return False


def select_exceptions(policy, rule: dict, data, ctx, resource: dict) -> list[tuple[str, dict]]:
    """[(key, exception)] of the exceptions that apply to this rule and resource."""
    name = str(rule.get("name", ""))
    out = []
    for exc in data.exceptions or []:
        if not isinstance(exc, dict) or exc.get("kind") != "PolicyException" \
                or exc.get("apiVersion") not in _API_VERSIONS:
            continue
        if not _covers(exc, policy.key, name):
            continue
        spec = exc.get("spec") or {}
        block = spec.get("match") or {}
        if not block.get("any") and not block.get("all"):
            continue
        namespace = resource_namespace(resource)
        req = Request(resource, data.operation, data.user_info,
                      data.namespace_labels(namespace) if namespace else None)
        if not matches(block, req, check_operations=False):
            continue
        if spec.get("conditions") is not None:
            try:
                ok, _ = check_preconditions(ctx, spec["conditions"], exception=True)
            except ConditionError:
                continue
            if not ok:
                continue
        out.append((exception_key(exc), exc))
    return out
