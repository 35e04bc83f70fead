"""Human output: findings grouped by file as plain styled lines, then a summary table.

Findings are written as pre-formatted lines rather than through rich: rich costs about 240 us per
printed finding (bench/README.md), which matters on monorepos with tens of thousands of findings.
rich is used for the summary table only.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import TextIO

from gpulint.engine.result import ERROR, FAIL, SEVERITIES, SKIP, WARN
from gpulint.report import CheckReport
from gpulint.report.common import located

_STYLES = {
    "critical": "1;31", "high": "31", "medium": "33", "low": "36", "info": "2",
    ERROR: "1;35", WARN: "33", SKIP: "2", "path": "1", "dim": "2", "policy": "1;34",
}


class _Paint:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text:
            return text
        return f"\x1b[{_STYLES.get(style, '0')}m{text}\x1b[0m"


def _label(result) -> tuple[str, str]:
    if result.result == FAIL:
        severity = result.severity or "info"
        return severity, severity
    return result.result, result.result


def render(report: CheckReport, out: TextIO, *, color: bool = False, quiet: bool = False,
           include_pass: bool = False, width: int = 100) -> None:
    paint = _Paint(color)
    current_file = None
    rows = located(report.findings(include_pass))
    for result, position in rows:
        resource = result.resource
        if resource.file != current_file:
            if current_file is not None:
                out.write("\n")
            current_file = resource.file
        word, style = _label(result)
        where = paint(f"{resource.file}:{position.line}:{position.column}:", "path")
        head = f"{where} {paint(word, style)} {paint(result.policy.name, 'policy')} {result.resource_display()}"
        if resource.template:
            head += paint(f" (template {resource.template})", "dim")
        out.write(head + "\n")
        for line in (result.message or "").splitlines() or [""]:
            out.write(f"    {line}\n")
        suppressed = result.suppression
        if suppressed is not None and suppressed.result:
            was = (suppressed.message or "").replace("\n", " ")
            out.write(paint(f"    was {suppressed.result}: {was}", "dim") + "\n")
        if result.result in (FAIL, WARN) and result.policy.fix:
            out.write(paint(f"    fix: {result.policy.fix}", "dim") + "\n")
    for error in report.errors:
        out.write(f"{paint(f'{error.file}:{error.line}:{error.column}:', 'path')} "
                  f"{paint('error', ERROR)} {error.message}\n")
    if quiet:
        return
    if rows or report.errors:
        out.write("\n")
    _summary(report, out, color, width)


def _summary(report: CheckReport, out: TextIO, color: bool, width: int) -> None:
    findings = [r for r in report.findings() if r.result in (FAIL, WARN, ERROR, SKIP)]
    if findings:
        from rich.console import Console
        from rich.table import Table

        per_policy: dict[str, Counter] = {}
        severity_of: dict[str, str] = {}
        for result in findings:
            per_policy.setdefault(result.policy.name, Counter())[result.result] += 1
            severity_of[result.policy.name] = result.severity or "-"
        table = Table(title=None, show_edge=False, pad_edge=False, box=None, header_style="bold")
        for column in ("policy", "severity", "fail", "warn", "error", "skip"):
            table.add_column(column, justify="left" if column in ("policy", "severity") else "right")
        order = {name: i for i, name in enumerate(SEVERITIES)}
        for name in sorted(per_policy, key=lambda n: (order.get(severity_of[n], 9), n)):
            counts = per_policy[name]
            table.add_row(name, severity_of[name], *(str(counts[w] or "") for w in (FAIL, WARN, ERROR, SKIP)))
        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=color, no_color=not color, width=width,
                          color_system="standard" if color else None)
        console.print(table)
        out.write(buffer.getvalue())
        out.write("\n")
    out.write(totals_line(report) + "\n")


def totals_line(report: CheckReport) -> str:
    failing = Counter(r.severity or "info" for r in report.results if r.result == FAIL)
    fails = sum(failing.values())
    parts = [f"{n} {s}" for s in SEVERITIES if (n := failing.get(s))]
    text = f"{fails} finding{'s' if fails != 1 else ''}"
    if parts:
        text += f" ({', '.join(parts)})"
    summary = report.summary()
    extras = [f"{summary[w]} {w}" for w in (WARN, ERROR) if summary[w]]
    suppressed = sum(1 for r in report.results if r.result == SKIP and r.applicable)
    if suppressed:
        extras.append(f"{suppressed} suppressed")
    if extras:
        text += ", " + ", ".join(extras)
    text += (f" in {report.resources} resource{'s' if report.resources != 1 else ''}"
             f" from {len(report.files)} file{'s' if len(report.files) != 1 else ''},"
             f" {len(report.policies)} polic{'ies' if len(report.policies) != 1 else 'y'}")
    if report.errors:
        text += f"; {len(report.errors)} input error{'s' if len(report.errors) != 1 else ''}"
    return text
