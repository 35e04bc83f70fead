"""`-o sarif`: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One rule per policy. Results are the findings (fail, warn, error) and the suppressed ones, the
latter with SARIF `suppressions` so viewers show them as dismissed instead of losing them.
`partialFingerprints` hash the finding identity (policy, rule, resource, role, field), never a line
number, so code scanning keeps tracking an alert when lines above it move.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from gpulint import __version__
from gpulint.engine.result import SKIP, PolicyInfo, RuleResult
from gpulint.report import CheckReport
from gpulint.report.common import code_location, fingerprint, level, located, repo_path, severity_level

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "gpulintFinding/v1"
# GitHub code scanning ranks rules tagged "security" by this score (9.0+ critical, 7.0+ high, ...).
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
_PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "note": "recommendation"}
_SUPPRESSION_KINDS = {"annotation": "inSource"}  # exceptions and baselines live outside the source


def build(report: CheckReport) -> dict:
    rules: list[dict] = []
    rule_index: dict[str, int] = {}

    def add_rule(policy: PolicyInfo) -> int:
        if policy.name not in rule_index:
            rule_index[policy.name] = len(rules)
            rules.append(_rule(policy))
        return rule_index[policy.name]

    for policy in report.policies:
        add_rule(policy)
    cwd = os.getcwd()
    seen: dict[str, int] = {}
    results = []
    for result, position in located(report.findings()):
        if result.result == SKIP and result.suppression is None:
            continue  # a skip that suppresses nothing (preconditions not met) is not a finding
        results.append(_result(result, position, add_rule(result.policy), report.origins, cwd, seen))
    notifications = [{"level": "error", "message": {"text": error.message},
                      "locations": [_location(error.file, error.line, error.column, cwd)]}
                     for error in report.errors]
    run = {
        "tool": {"driver": {"name": "gpulint", "version": __version__, "semanticVersion": __version__,
                            "rules": rules}},
        "invocations": [{"executionSuccessful": not report.errors, "toolExecutionNotifications": notifications}],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: CheckReport) -> str:
    # Compact on purpose: json's C encoder only runs without indent (30,000 results: 1 s, not 4 s).
    return json.dumps(build(report), ensure_ascii=False, separators=(",", ":")) + "\n"


def _rule(policy: PolicyInfo) -> dict:
    default_level = severity_level(policy.severity)
    short = policy.title or policy.name
    full = policy.description or short
    help_text, help_markdown = full, full
    if policy.fix:
        help_text += f"\n\nFix: {policy.fix}"
        help_markdown += f"\n\n**Fix:** {policy.fix}"
    properties: dict = {"problem.severity": _PROBLEM_SEVERITY[default_level]}
    tags = [tag for tag in ("kubernetes", "gpu", policy.category) if tag]
    if "security" in policy.category.lower() and policy.severity in _SECURITY_SEVERITY:
        tags.append("security")
        properties["security-severity"] = _SECURITY_SEVERITY[policy.severity]
    properties["tags"] = tags
    if policy.severity:
        properties["severity"] = policy.severity
    return {"id": policy.name, "name": policy.name, "shortDescription": {"text": short},
            "fullDescription": {"text": full}, "help": {"text": help_text, "markdown": help_markdown},
            "defaultConfiguration": {"level": default_level}, "properties": properties}


def _result(result: RuleResult, position, index: int, origins: dict, cwd: str, seen: dict) -> dict:
    resource = result.resource
    suppression = result.suppression
    message = suppression.message if suppression is not None and suppression.message else result.message
    file, line, column = code_location(result, position, origins)
    key = fingerprint(result)
    occurrence = seen.get(key, 0)
    seen[key] = occurrence + 1
    if occurrence:
        key = f"{key}:{occurrence}"  # identical identities (no field named) stay distinct alerts
    location = _location(file, line, column, cwd)
    location["logicalLocations"] = [{"name": resource.name, "kind": "resource",
                                     "fullyQualifiedName": _qualified(result)}]
    entry = {"ruleId": result.policy.name, "ruleIndex": index, "level": level(result),
             "message": {"text": f"{result.resource_display()}: {message}"},
             "locations": [location], "partialFingerprints": {FINGERPRINT_KEY: key}}
    properties = {"result": suppression.result if suppression and suppression.result else result.result}
    if result.rule:
        properties["rule"] = result.rule
    if result.role:
        properties["role"] = result.role
    if resource.template:
        properties["template"] = resource.template
    if (file, line, column) != (resource.file, position.line, position.column):
        properties["renderedLocation"] = f"{resource.file}:{position.line}:{position.column}"
    if result.policy.fix:
        properties["fix"] = result.policy.fix
    entry["properties"] = properties
    if suppression is not None:
        entry["suppressions"] = [{"kind": _SUPPRESSION_KINDS.get(suppression.kind, "external"),
                                  "status": "accepted", "justification": suppression.reason}]
    return entry


def _qualified(result: RuleResult) -> str:
    resource = result.resource
    parts = [resource.api_version, resource.kind] + ([resource.namespace] if resource.namespace else [])
    text = "/".join(parts + [resource.name])
    return f"{text}[{result.role}]" if result.role else text


def _location(file: str, line: int, column: int, cwd: str) -> dict:
    return {"physicalLocation": {"artifactLocation": _artifact(file, cwd),
                                 "region": {"startLine": max(line, 1), "startColumn": max(column, 1)}}}


def _artifact(file: str, cwd: str) -> dict:
    path, relative = repo_path(file, cwd)
    if not relative:
        return {"uri": "file://" + quote(path.replace(os.sep, "/"))}
    return {"uri": quote(path), "uriBaseId": "%SRCROOT%"}
