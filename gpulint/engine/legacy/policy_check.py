"""Policy validation the Kyverno CLI performs before evaluating (kyverno: pkg/validation/policy/
validate.go, background.go, api/kyverno/v1 *_types.go Validate). An invalid policy is skipped by
`kyverno test` ("Invalid Policy")."""

from __future__ import annotations

import json
import re

from gpulint.engine.legacy.conditions import KNOWN_OPERATORS
from gpulint.engine.legacy.context import validate_entry_name
from gpulint.engine.legacy.variables import VARIABLE, strip_braces

API_VERSIONS = ("kyverno.io/v1", "kyverno.io/v2beta1")
KINDS = ("ClusterPolicy", "Policy")
_VALIDATE_TYPES = ("pattern", "anyPattern", "deny", "foreach", "podSecurity", "cel", "manifests",
                   "assert")
_RULE_TYPES = ("validate", "mutate", "generate", "verifyImages")
_FORBIDDEN_BACKGROUND = [re.compile(r"[^.](" + re.escape(v) + r")\b") for v in (
    "serviceAccountName", "serviceAccountNamespace", "request.userInfo", "request.roles",
    "request.clusterRoles")]
_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "Node", "PersistentVolume",
                   "StorageClass", "CustomResourceDefinition", "PriorityClass", "RuntimeClass",
                   "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
                   "ClusterPolicy", "IngressClass", "CSIDriver", "CSINode", "VolumeAttachment"}


class LegacyPolicyError(ValueError):
    """An invalid policy; `path` points at the offending field (tuple of keys / indexes)."""

    def __init__(self, message: str, path: tuple = ()):
        super().__init__(message)
        self.message = message
        self.path = path


def check_policy(obj: dict) -> None:
    if not isinstance(obj, dict):
        raise LegacyPolicyError("policy must be a mapping")
    if obj.get("apiVersion") not in API_VERSIONS or obj.get("kind") not in KINDS:
        raise LegacyPolicyError(f"unsupported policy kind {obj.get('apiVersion')}/{obj.get('kind')}",
                                ("kind",))
    meta = obj.get("metadata") or {}
    if not meta.get("name"):
        raise LegacyPolicyError("metadata.name: Required value", ("metadata",))
    namespaced = obj["kind"] == "Policy"
    if not namespaced and meta.get("namespace"):
        raise LegacyPolicyError("a ClusterPolicy cannot have a namespace: metadata.namespace is "
                                "not allowed", ("metadata", "namespace"))
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise LegacyPolicyError("spec: Required value", ("spec",))
    rules = spec.get("rules")
    if not isinstance(rules, list) or not rules:
        raise LegacyPolicyError("spec.rules: a policy must have at least one rule",
                                ("spec", "rules"))
    names = set()
    for i, rule in enumerate(rules):
        path = ("spec", "rules", i)
        if not isinstance(rule, dict):
            raise LegacyPolicyError("rule must be a mapping", path)
        _check_rule(rule, path, namespaced)
        if rule["name"] in names:
            raise LegacyPolicyError(f"duplicate rule name: '{rule['name']}'", path + ("name",))
        names.add(rule["name"])
    if spec.get("background", True) is not False:
        _check_background(obj)


def _check_rule(rule: dict, path: tuple, namespaced: bool) -> None:
    name = rule.get("name")
    if not isinstance(name, str) or not name:
        raise LegacyPolicyError("rule name: Required value", path + ("name",))
    if len(name) > 63:
        raise LegacyPolicyError(f"spec.rules[{path[-1]}].name: Too long: may not be more than 63 "
                                "bytes", path + ("name",))
    types = [t for t in _RULE_TYPES if rule.get(t) is not None]
    if len(types) != 1:
        raise LegacyPolicyError(
            f"rule {name}: exactly one of validate, mutate, generate or verifyImages is required",
            path)
    match = rule.get("match")
    if not isinstance(match, dict) or not match:
        raise LegacyPolicyError(f"rule {name}: match resources not specified", path + ("match",))
    for block_name in ("match", "exclude"):
        block = rule.get(block_name)
        if isinstance(block, dict):
            _check_block(block, path + (block_name,), namespaced)
    for i, entry in enumerate(rule.get("context") or []):
        err = validate_entry_name(str((entry or {}).get("name", "")))
        if err:
            raise LegacyPolicyError(err, path + ("context", i, "name"))
        variable = (entry or {}).get("variable")
        if isinstance(variable, dict) and "default" in variable and not variable.get("jmesPath"):
            raise LegacyPolicyError("a variable with a default value requires a jmesPath",
                                    path + ("context", i, "variable"))
    _check_conditions(rule.get("preconditions"), path + ("preconditions",))
    validate = rule.get("validate")
    if isinstance(validate, dict):
        present = [t for t in _VALIDATE_TYPES if validate.get(t) is not None]
        if len(present) != 1:
            raise LegacyPolicyError(
                f"rule {name}: validate must have exactly one of pattern, anyPattern, deny, "
                "foreach, podSecurity, cel, manifests, assert", path + ("validate",))
        deny = validate.get("deny")
        if isinstance(deny, dict):
            _check_conditions(deny.get("conditions"), path + ("validate", "deny", "conditions"))
        for i, entry in enumerate(validate.get("foreach") or []):
            _check_foreach(entry, path + ("validate", "foreach", i))
        _check_element_vars({k: v for k, v in rule.items() if k != "validate"}, path)
        _check_element_vars({k: v for k, v in validate.items() if k != "foreach"},
                            path + ("validate",))


def _check_block(block: dict, path: tuple, namespaced: bool) -> None:
    if block.get("any") and block.get("all"):
        raise LegacyPolicyError("can't specify any and all together", path)
    filters = list(block.get("any") or []) + list(block.get("all") or []) + [block]
    for flt in filters:
        desc = (flt or {}).get("resources") or {}
        if namespaced and desc.get("namespaces"):
            raise LegacyPolicyError("wildcard policy does not support namespaces; a namespaced "
                                    "Policy cannot match namespaces", path)
        if namespaced:
            for kind in desc.get("kinds") or []:
                if str(kind).split("/")[-1] in _CLUSTER_SCOPED:
                    raise LegacyPolicyError(f"a namespaced Policy cannot match cluster-scoped "
                                            f"kind {kind}", path)


def _check_conditions(conditions, path: tuple) -> None:
    if conditions is None:
        return
    items = conditions if isinstance(conditions, list) else (
        list(conditions.get("any") or []) + list(conditions.get("all") or [])
        if isinstance(conditions, dict) else None)
    if items is None:
        raise LegacyPolicyError("invalid conditions", path)
    if isinstance(conditions, dict) and not set(conditions) <= {"any", "all"}:
        raise LegacyPolicyError("conditions support only any and all", path)
    for cond in items:
        op = (cond or {}).get("operator")
        if not isinstance(op, str) or op.lower() not in KNOWN_OPERATORS:
            raise LegacyPolicyError(f"entered value of `operator` is invalid: {op}", path)


def _check_foreach(entry, path: tuple) -> None:
    if not isinstance(entry, dict):
        raise LegacyPolicyError("foreach entries must be mappings", path)
    _check_conditions(entry.get("preconditions"), path + ("preconditions",))
    deny = entry.get("deny")
    if isinstance(deny, dict):
        _check_conditions(deny.get("conditions"), path + ("deny", "conditions"))
    for i, nested in enumerate(entry.get("foreach") or []):
        _check_foreach(nested, path + ("foreach", i))


def _variables(doc) -> list[str]:
    text = json.dumps(doc, ensure_ascii=False)
    return [m.group(2) for m in VARIABLE.finditer(text)]


def _check_element_vars(doc, path: tuple) -> None:
    for var in _variables(doc):
        name = strip_braces(var).lstrip("-").strip()
        if name.startswith("element") and re.match(r"^element(Index)?\d*\b", name):
            raise LegacyPolicyError(f"variable '{name}' present outside of foreach", path)


def _check_background(obj: dict) -> None:
    for i, rule in enumerate((obj.get("spec") or {}).get("rules") or []):
        for block_name in ("match", "exclude"):
            block = rule.get(block_name) or {}
            filters = list(block.get("any") or []) + list(block.get("all") or []) + [block]
            for flt in filters:
                for key in ("roles", "clusterRoles", "subjects"):
                    if (flt or {}).get(key):
                        raise LegacyPolicyError(
                            f"invalid variable used at path: spec/rules[{i}]/{block_name}/{key}",
                            ("spec", "rules", i, block_name))
    for var in _variables(obj.get("spec") or {}):
        for banned in _FORBIDDEN_BACKGROUND:
            if banned.search(var):
                raise LegacyPolicyError(f"variable {var} is not allowed", ("spec",))
