"""Autogen of Pod rules for pod controllers (kyverno: pkg/autogen/v1/autogen.go, rule.go,
internal/gvk.go). compute_rules(spec, annotations, kind) mirrors ComputeRules(policy, kind): for
a controller kind only the rules relevant to it are generated (`autogen-<rule>` for Deployment &
co, `autogen-cronjob-<rule>` for CronJob)."""

from __future__ import annotations

import copy
import json

ANNOTATION = "pod-policies.kyverno.io/autogen-controllers"
POD_CONTROLLERS = ("DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet",
                   "ReplicationController", "CronJob")
_GVK = {"DaemonSet": "apps/v1/DaemonSet", "Deployment": "apps/v1/Deployment",
        "Job": "batch/v1/Job", "StatefulSet": "apps/v1/StatefulSet",
        "ReplicaSet": "apps/v1/ReplicaSet", "ReplicationController": "v1/ReplicationController",
        "CronJob": "batch/v1/CronJob"}
_NON_CRON = ("DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet",
             "ReplicationController")


def _kind_name(entry: str) -> str:
    """kubeutils.GetKindFromGVK + SplitSubresource: the bare kind of a kinds entry."""
    from gpulint.engine.legacy.match import _VERSION

    parts = entry.split("/")
    if len(parts) == 1:
        kind = entry.replace(".", "/", 1)
    elif len(parts) == 2:
        if parts[0] == "*" and parts[1] == "*":
            kind = "*/*"
        elif _VERSION.match(parts[0]):
            kind = parts[1].replace(".", "/", 1)
        else:
            kind = entry
    elif len(parts) == 3:
        kind = parts[1] + "/" + parts[2] if _VERSION.match(parts[0]) else parts[2].replace(".", "/", 1)
    elif len(parts) == 4:
        kind = parts[2] + "/" + parts[3]
    else:
        kind = ""
    sub = kind.split("/")
    return sub[0] if len(sub) == 2 else kind


def contains_kind(kinds, kind: str) -> bool:
    return any(_kind_name(str(k)) == kind for k in kinds or [])


def _descriptions(block) -> list[dict]:
    block = block or {}
    out = [block.get("resources") or {}]
    for key in ("any", "all"):
        out.extend((f or {}).get("resources") or {} for f in block.get(key) or [])
    return out


def _block_kinds(block) -> list:
    kinds = []
    for desc in _descriptions(block):
        kinds.extend(desc.get("kinds") or [])
    return kinds


def can_autogen(spec: dict) -> bool:
    needed = False
    for rule in spec.get("rules") or []:
        if "generate" in rule:
            return False
        mutate = rule.get("mutate") or {}
        if mutate.get("patchesJson6902") or any(
                (f or {}).get("patchesJson6902") for f in mutate.get("foreach") or []):
            return False
        for block in (rule.get("match"), rule.get("exclude")):
            for desc in _descriptions(block):
                kinds = desc.get("kinds") or []
                if (desc.get("name") or desc.get("names") or desc.get("selector") is not None
                        or desc.get("annotations") is not None
                        or (len(kinds) > 1 and contains_kind(kinds, "Pod"))):
                    return False
                needed = needed or any(k in POD_CONTROLLERS or k == "Pod" for k in kinds)
    return needed


def compute_rules(spec: dict, annotations: dict, kind: str) -> list[dict]:
    rules = list(spec.get("rules") or [])
    apply = can_autogen(spec)
    if not apply:
        return rules
    requested = (annotations or {}).get(ANNOTATION)
    controllers = set(requested.split(",")) if isinstance(requested, str) else set(POD_CONTROLLERS)
    if kind not in controllers:
        return rules
    generated = _generate(rules, kind)
    if not generated:
        return rules
    return [r for r in rules if not str(r.get("name", "")).startswith("autogen-")] + generated


def _generate(rules: list[dict], controllers: str) -> list[dict]:
    out = []
    for rule in rules:
        non_cron = ",".join(c for c in sorted(controllers.split(",")) if c != "CronJob")
        pod_rule = _for_controllers(rule, non_cron)
        if pod_rule is not None:
            out.append(_convert(pod_rule, "Pod"))
        if "CronJob" in controllers or "all" in controllers:
            inner = _for_controllers(rule, controllers)
            cron = _generate_rule(_name("autogen-cronjob", rule), inner, "jobTemplate",
                                  ["CronJob"], cron=True)
            if cron is not None:
                out.append(_convert(cron, "Cronjob"))
    return out


def _name(prefix: str, rule: dict) -> str:
    return f"{prefix}-{rule.get('name', '')}"[:63]


def _for_controllers(rule: dict, controllers: str):
    name = str(rule.get("name", ""))
    if name.startswith("autogen-") or controllers == "":
        return None
    match_kinds = _block_kinds(rule.get("match"))
    exclude_kinds = _block_kinds(rule.get("exclude"))
    if not contains_kind(match_kinds, "Pod") or (exclude_kinds and not contains_kind(exclude_kinds, "Pod")):
        return None
    if controllers == "all":
        kinds = list(_NON_CRON)
    else:
        valid = [c for c in sorted(controllers.split(",")) if c in _NON_CRON]
        kinds = valid if valid else sorted(controllers.split(","))
    return _generate_rule(_name("autogen", rule), rule, "template", kinds, cron=False)


def _retarget(filters: list, kinds: list, cron: bool) -> list:
    out = copy.deepcopy(filters)
    for flt in out:
        desc = (flt or {}).get("resources")
        if desc is None:
            continue
        if cron or contains_kind(desc.get("kinds") or [], "Pod"):
            desc["kinds"] = [_GVK.get(k, k) for k in sorted(kinds)]
    return out


def _generate_rule(name: str, rule, tpl_key: str, kinds: list, cron: bool):
    if rule is None:
        return None
    rule = copy.deepcopy(rule)
    rule["name"] = name
    gvks = [_GVK.get(k, k) for k in sorted(kinds)]
    match = rule.setdefault("match", {})
    if match.get("any"):
        match["any"] = _retarget(match["any"], kinds, cron)
    elif match.get("all"):
        match["all"] = _retarget(match["all"], kinds, cron)
    else:
        match.setdefault("resources", {})["kinds"] = gvks
    exclude = rule.get("exclude")
    if exclude:
        if exclude.get("any"):
            exclude["any"] = _retarget(exclude["any"], kinds, cron)
        elif exclude.get("all"):
            exclude["all"] = _retarget(exclude["all"], kinds, cron)
        elif (exclude.get("resources") or {}).get("kinds"):
            exclude["resources"]["kinds"] = gvks
    validate = rule.get("validate")
    if isinstance(validate, dict):
        kept = {k: validate[k] for k in ("message", "failureAction", "failureActionOverrides",
                                         "allowExistingViolations") if k in validate}
        if validate.get("pattern") is not None:
            kept["pattern"] = {"spec": {tpl_key: validate["pattern"]}}
        elif validate.get("deny") is not None:
            kept["deny"] = validate["deny"]
        elif validate.get("podSecurity") is not None:
            kept["podSecurity"] = validate["podSecurity"]
        elif validate.get("anyPattern") is not None:
            patterns = validate["anyPattern"] if isinstance(validate["anyPattern"], list) else []
            kept["anyPattern"] = [{"spec": {tpl_key: p}} for p in patterns]
        elif validate.get("foreach"):
            kept["foreach"] = validate["foreach"]
        else:
            kept = validate
        rule["validate"] = kept
        return rule
    if rule.get("verifyImages") is not None:
        return rule
    return None


_REPLACEMENTS = {
    "Pod": [("request.object.spec", "request.object.spec.template.spec"),
            ("request.oldObject.spec", "request.oldObject.spec.template.spec"),
            ("request.object.metadata", "request.object.spec.template.metadata"),
            ("request.oldObject.metadata", "request.oldObject.spec.template.metadata")],
    "Cronjob": [("request.object.spec", "request.object.spec.jobTemplate.spec.template.spec"),
                ("request.oldObject.spec", "request.oldObject.spec.jobTemplate.spec.template.spec"),
                ("request.object.metadata",
                 "request.object.spec.jobTemplate.spec.template.metadata"),
                ("request.oldObject.metadata",
                 "request.oldObject.spec.jobTemplate.spec.template.metadata")],
}
_CEL_REPLACEMENTS = {
    kind: [(a.replace("request.", "", 1), b.replace("request.", "", 1)) for a, b in pairs]
    for kind, pairs in _REPLACEMENTS.items()
}


def _convert(rule: dict, kind: str) -> dict:
    """The JSON text replacement Kyverno applies to generated rules."""
    is_cel = isinstance(rule.get("validate"), dict) and rule["validate"].get("cel") is not None
    text = json.dumps(rule, ensure_ascii=False)
    for old, new in (_CEL_REPLACEMENTS if is_cel else _REPLACEMENTS)[kind]:
        text = text.replace(old, new)
    out = json.loads(text)
    out.pop("reportProperties", None)
    return out
