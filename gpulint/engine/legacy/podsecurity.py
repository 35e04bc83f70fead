"""validate.podSecurity (kyverno: pkg/engine/handlers/validation/validate_pss.go, pkg/pss/
evaluate.go, pkg/pss/utils/mapping.go; checks from kyverno/pod-security-admission policy/check_*.go).

Each check returns its forbidden reason, detail and field errors (path, container, bad value);
exclusions remove matching field errors and a control with no error left disappears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gpulint.engine.legacy.goutil import wildcard_match
from gpulint.engine.legacy.pss_checks import CHECKS, FieldError, latest_version, run_check
from gpulint.engine.legacy.validate import ERROR, FAIL, PASS, SKIP, LegacyRuleResponse

CONTROLS = {
    "Capabilities": ("capabilities_baseline", "capabilities_restricted"),
    "Seccomp": ("seccompProfile_baseline", "seccompProfile_restricted"),
    "Privileged Containers": ("privileged",),
    "Host Ports": ("hostPorts",),
    "/proc Mount Type": ("procMount",),
    "HostProcess": ("windowsHostProcess",),
    "SELinux": ("seLinuxOptions",),
    "Host Namespaces": ("hostNamespaces",),
    "HostPath Volumes": ("hostPathVolumes",),
    "Sysctls": ("sysctls",),
    "AppArmor": ("appArmorProfile",),
    "Privilege Escalation": ("allowPrivilegeEscalation",),
    "Running as Non-root": ("runAsNonRoot",),
    "Running as Non-root user": ("runAsUser",),
    "Volume Types": ("restrictedVolumes",),
}
_TEMPLATE_KINDS = ("DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet",
                   "ReplicationController")


@dataclass
class CheckOutcome:
    id: str
    reason: str
    detail: str
    errors: list = field(default_factory=list)


def pod_spec_of(resource: dict):
    """(metadata, spec) of the pod a resource describes, or None for other kinds."""
    kind = resource.get("kind")
    spec = resource.get("spec") if isinstance(resource.get("spec"), dict) else {}
    if kind == "Pod":
        return resource.get("metadata") or {}, spec
    if kind in _TEMPLATE_KINDS:
        tpl = spec.get("template") or {}
        return tpl.get("metadata") or {}, tpl.get("spec") or {}
    if kind == "CronJob":
        job = spec.get("jobTemplate") or {}
        tpl = (job.get("spec") or {}).get("template") or {}
        return job.get("metadata") or {}, tpl.get("spec") or {}
    return None


def parse_version(version) -> tuple[int, int] | None:
    if version in (None, "", "latest"):
        return latest_version()
    m = re.fullmatch(r"v(\d+)\.(\d+)", str(version))
    if not m:
        return None
    return int(m.group(1)), int(m.group(2))


def evaluate_pod(level: str, version: tuple[int, int], metadata: dict, spec: dict) -> list:
    out = []
    for check in CHECKS:
        if level == "baseline" and check.level != "baseline":
            continue
        result = run_check(check, version, metadata, spec)
        if result is not None:
            out.append(CheckOutcome(check.id, result[0], result[1], list(result[2])))
    return out


def _pattern_path(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


def _removable(err: FieldError, excl: dict) -> bool:
    restricted = excl.get("restrictedField")
    if restricted and _pattern_path(err.path) != restricted:
        return False
    values = excl.get("values") or []
    if values:
        bad = err.value if isinstance(err.value, list) else [err.value]
        return all(any(wildcard_match(str(v), str(b)) for v in values) for b in bad)
    return True


def apply_exclusions(level, version, outcomes: list, excludes: list, metadata: dict,
                     spec: dict) -> list:
    for excl in excludes or []:
        if not isinstance(excl, dict):
            continue
        ids = CONTROLS.get(str(excl.get("controlName", "")), ())
        images = excl.get("images") or []
        if images:
            matching = {c.get("name") for key in ("initContainers", "containers",
                                                  "ephemeralContainers")
                        for c in spec.get(key) or [] if isinstance(c, dict)
                        and any(wildcard_match(str(i), str(c.get("image", ""))) for i in images)}
            covered = None
        else:
            fake = dict(spec)
            fake["containers"] = [{"name": "fake"}]
            fake.pop("initContainers", None)
            fake.pop("ephemeralContainers", None)
            covered = {(o.id, e.path) for o in evaluate_pod(level, version, metadata, fake)
                       for e in o.errors}
            matching = set()
        kept = []
        for outcome in outcomes:
            if outcome.id in ids:
                if covered is not None:
                    remaining = [e for e in outcome.errors
                                 if not ((outcome.id, e.path) in covered and _removable(e, excl))]
                else:
                    remaining = [e for e in outcome.errors
                                 if not (e.container is not None and e.container in matching
                                         and _removable(e, excl))]
                if not remaining:
                    continue
                outcome = CheckOutcome(outcome.id, outcome.reason, outcome.detail, remaining)
            kept.append(outcome)
        outcomes = kept
    return outcomes


def _controller_path(path: str, kind: str) -> str:
    if kind in _TEMPLATE_KINDS:
        path = path.replace("spec", "spec.template.spec")
    elif kind == "CronJob":
        path = path.replace("spec", "spec.jobTemplate.spec.template.spec")
    return path.replace("metadata", "spec.template.metadata")


def format_checks(outcomes: list, kind: str) -> str:
    text = ""
    for o in outcomes:
        errs = " ".join(f"{_controller_path(e.path, kind)}: {e.kind}" for e in o.errors)
        text += f"(Forbidden reason: {o.reason}, field error list: [{errs}])"
    return text


def validate_pod_security(rule: dict, resource: dict, exceptions: list) -> LegacyRuleResponse:
    name = str(rule.get("name", ""))
    pss = (rule.get("validate") or {}).get("podSecurity") or {}
    plain = [(key, exc) for key, exc in exceptions
             if not (exc.get("spec") or {}).get("podSecurity")]
    if plain:
        return LegacyRuleResponse(name, SKIP, "rule is skipped due to policy exceptions"
                                  + ", ".join(k for k, _ in plain),
                                  properties={"exceptions": ",".join(
                                      (e.get("metadata") or {}).get("name", "") for _, e in plain)})
    pod = pod_spec_of(resource)
    if pod is None:
        return LegacyRuleResponse(name, ERROR, "Error while getting new resource: could not find "
                                  "correct resource type")
    metadata, spec = pod
    level = str(pss.get("level") or "")
    version = parse_version(pss.get("version"))
    if version is None:
        return LegacyRuleResponse(name, ERROR, "failed to parse pod security api version: "
                                  f"invalid version {pss.get('version')}")
    outcomes = evaluate_pod(level, version, metadata, spec)
    outcomes = apply_exclusions(level, version, outcomes, pss.get("exclude"), metadata, spec)
    kind = str(resource.get("kind", ""))
    props = {"standard": level, "version": str(pss.get("version") or "latest")}
    if not outcomes:
        return LegacyRuleResponse(name, PASS, f"Validation rule '{name}' passed.", properties=props)
    if exceptions:
        remaining = outcomes
        for _, exc in exceptions:
            remaining = apply_exclusions(level, version, remaining,
                                         (exc.get("spec") or {}).get("podSecurity"), metadata, spec)
        if not remaining:
            keys = ", ".join(k for k, _ in exceptions)
            return LegacyRuleResponse(name, SKIP, "rule is skipped due to policy exceptions" + keys,
                                      properties={"exceptions": ",".join(
                                          (e.get("metadata") or {}).get("name", "")
                                          for _, e in exceptions)})
        outcomes = remaining
    props["controls"] = ",".join(sorted({o.id for o in outcomes}))
    msg = (f"Validation rule '{name}' failed. It violates PodSecurity "
           f"\"{level}:{pss.get('version') or ''}\": {format_checks(outcomes, kind)}")
    return LegacyRuleResponse(name, FAIL, msg, properties=props)
