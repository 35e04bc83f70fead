"""Text and JSON output of `gpulint test`."""

from __future__ import annotations

import json
from typing import TextIO

from gpulint.testrunner.model import ERRORED, PASSED, ROW_FAIL, UNSUPPORTED, RunReport, SuiteReport

HEADER = ("ID", "POLICY", "RULE", "RESOURCE", "RESULT", "REASON")
MAX_REASON = 400  # text output shortens longer reasons (compile errors quote whole expressions); JSON keeps them


def _short(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."


def render_json(report: RunReport) -> str:
    suites = []
    for suite in report.suites:
        suites.append({
            "path": suite.path,
            "name": suite.name,
            "status": suite.status,
            "reason": suite.reason,
            "results": [{"policy": row.policy, "rule": row.rule, "kind": row.kind, "namespace": row.namespace,
                         "resource": row.resource, "expected": row.expected, "actual": row.actual,
                         "status": row.status, "reason": row.reason} for row in suite.rows],
        })
    return json.dumps({"summary": report.summary(), "suites": suites}, indent=2) + "\n"


def _table(suite: SuiteReport, fail_only: bool) -> list[str]:
    lines = [HEADER]
    for number, row in enumerate(suite.rows, 1):
        if fail_only and row.status != ROW_FAIL:
            continue
        lines.append((str(number), row.policy, row.rule, row.display or row.resource, row.status.capitalize(),
                      _short(row.reason)))
    if len(lines) == 1:
        return []
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = []
    for index, line in enumerate(lines):
        out.append("  " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if index == 0:
            out.append("  " + "-+-".join("-" * width for width in widths))
    return out


def render_text(report: RunReport, stream: TextIO, *, fail_only: bool = False) -> None:
    for suite in report.suites:
        if fail_only and suite.status in (PASSED, UNSUPPORTED):
            continue
        stream.write(f"Loading test {suite.name} ( {suite.path} ) ...\n")
        for warning in suite.warnings:
            stream.write(f"  warning: {_short(warning)}\n")
        if suite.status in (ERRORED, UNSUPPORTED):
            stream.write(f"  {suite.status}: {_short(suite.reason)}\n\n")
            continue
        for line in _table(suite, fail_only):
            stream.write(line + "\n")
        failed = sum(1 for row in suite.rows if row.status == ROW_FAIL)
        verdict = suite.status + (f": {_short(suite.reason)}" if suite.reason else "")
        stream.write(f"  {verdict} ({len(suite.rows) - failed} checks passed, {failed} failed)\n\n")
    summary = report.summary()
    checks = [row for suite in report.suites for row in suite.rows]
    failed_checks = sum(1 for row in checks if row.status == ROW_FAIL)
    stream.write(f"Test Summary: {summary['suites']} suites: {summary['passed']} passed, {summary['failed']} failed, "
                 f"{summary['errored']} errored, {summary['unsupported']} unsupported "
                 f"({len(checks) - failed_checks} checks passed, {failed_checks} failed) in {report.seconds:.1f}s\n")
