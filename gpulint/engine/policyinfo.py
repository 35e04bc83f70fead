"""Policy metadata that reporters need, and the error a policy that cannot be used raises."""

from __future__ import annotations

from typing import Optional

from gpulint.engine.result import PolicyInfo

NAMESPACED_POLICY_KINDS = ("Policy", "NamespacedValidatingPolicy")


class PolicyError(Exception):
    """A policy that cannot be loaded or compiled; `path` points into the policy document."""

    def __init__(self, message: str, path: tuple = ()):
        super().__init__(message)
        self.path = path


def policy_info(obj: dict, file: str = "", line: int = 1) -> PolicyInfo:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    name = str(meta.get("name", ""))
    kind = str(obj.get("kind", ""))
    if kind in NAMESPACED_POLICY_KINDS and meta.get("namespace"):
        report_name = f"{meta['namespace']}/{name}"
    else:
        report_name = name
    severity = str(annotations.get("policies.kyverno.io/severity", "")).strip().lower()
    return PolicyInfo(
        name=report_name,
        kind=kind,
        file=file,
        line=line,
        title=str(annotations.get("policies.kyverno.io/title", "")),
        category=str(annotations.get("policies.kyverno.io/category", "")),
        severity=severity,
        description=str(annotations.get("policies.kyverno.io/description", "")).strip(),
        fix=str(annotations.get("gpulint.io/fix", "")).strip(),
        annotations={str(k): str(v) for k, v in annotations.items()},
    )


def scored(info: PolicyInfo) -> bool:
    return info.annotations.get("policies.kyverno.io/scored", "true") != "false"


def optional_str(value) -> Optional[str]:
    return value if isinstance(value, str) else None
