"""`-o json`: the stable machine-readable format documented in docs/json-output.md."""

from __future__ import annotations

import json

from gpulint import __version__
from gpulint.report import CheckReport
from gpulint.report.common import located


def render(report: CheckReport, include_pass: bool = False) -> str:
    results = []
    for result, position in located(report.findings(include_pass)):
        resource = result.resource
        entry = {
            "policy": result.policy.name,
            "rule": result.rule,
            "result": result.result,
            "severity": result.severity or None,
            "category": result.policy.category or None,
            "message": result.message,
            "resource": {"apiVersion": resource.api_version, "kind": resource.kind,
                         "namespace": resource.namespace or None, "name": resource.name},
            "file": resource.file,
            "line": position.line,
            "column": position.column,
            "template": resource.template,
            "role": result.role,
        }
        if result.suppression is not None:  # only on suppressed results: existing readers see no change
            suppressed = result.suppression
            entry["suppression"] = {"kind": suppressed.kind, "reason": suppressed.reason,
                                    "result": suppressed.result or None, "message": suppressed.message or None}
        results.append(entry)
    errors = [{"file": e.file, "line": e.line, "column": e.column, "message": e.message} for e in report.errors]
    document = {"gpulint": __version__, "summary": report.summary(), "results": results, "errors": errors}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
