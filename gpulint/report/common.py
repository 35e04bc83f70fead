"""Helpers shared by reporters: ordering, locating and identifying findings."""

from __future__ import annotations

import hashlib
import os

from gpulint.engine.paths import format_field_path
from gpulint.engine.result import ERROR, SEVERITY_RANK, WARN, RuleResult
from gpulint.load.model import Position

# critical/high fail a CI run by default, medium asks for attention, low/info are notes.
_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def located(results: list[RuleResult]) -> list[tuple[RuleResult, Position]]:
    """Findings with their positions, in input order of files, then line, column, policy."""
    file_order: dict[str, int] = {}
    rows = []
    for result in results:
        file_order.setdefault(result.resource.file, len(file_order))
        rows.append((result, result.location()))
    rows.sort(key=lambda row: (file_order[row[0].resource.file], row[1].line, row[1].column,
                               row[0].policy.name, row[0].rule, row[0].role or ""))
    return rows


def severity_rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, SEVERITY_RANK["info"])


def level(result: RuleResult) -> str:
    """"error", "warning" or "note" for a finding (SARIF's words; GitHub says "notice" for note)."""
    word = result.suppression.result if result.suppression and result.suppression.result else result.result
    if word == ERROR:
        return "error"
    if word == WARN:
        return "warning"
    return severity_level(result.severity)  # a fail, or an exception skip: what the policy would say


def severity_level(severity: str) -> str:
    return _LEVELS.get(severity, "note")


def field_text(result: RuleResult) -> str:
    return format_field_path(tuple(result.field_path)) if result.field_path else ""


def identity(result: RuleResult) -> dict:
    """What a finding is about, independent of where in which file it sits today: the policy and
    rule, the resource, the pod-template role and the offending field. Line numbers are left out
    on purpose so that edits elsewhere in a file keep baselines and code-scanning alerts matched."""
    resource = result.resource
    return {"policy": result.policy.name, "rule": result.rule,
            "resource": {"apiVersion": resource.api_version, "kind": resource.kind,
                         "namespace": resource.namespace, "name": resource.name},
            "role": result.role or "", "field": field_text(result)}


def identity_key(ident: dict) -> tuple:
    resource = ident.get("resource") or {}
    return (ident.get("policy", ""), ident.get("rule", ""), resource.get("apiVersion", ""),
            resource.get("kind", ""), resource.get("namespace", ""), resource.get("name", ""),
            ident.get("role", ""), ident.get("field", ""))


def fingerprint(result: RuleResult) -> str:
    return hashlib.sha256("\x1f".join(identity_key(identity(result))).encode()).hexdigest()[:32]


def code_location(result: RuleResult, position: Position, origins: dict) -> tuple[str, int, int]:
    """Where a code host should pin a finding: a file of the repository. Rendered inputs (Helm,
    kustomize) have no such line, so their findings point at the template or kustomization file."""
    origin = origins.get(result.resource.file)
    if origin is None:
        return result.resource.file, position.line, position.column
    return origin.file_for(result.resource.template), 1, 1


def repo_path(file: str, cwd: str) -> tuple[str, bool]:
    """(path, relative?): `file` relative to `cwd` (the repository root in CI) when it lies inside."""
    if os.path.isabs(file):
        relative = os.path.relpath(file, cwd)
        if relative == ".." or relative.startswith(".." + os.sep):
            return file, False
        file = relative
    return file.replace(os.sep, "/"), True
