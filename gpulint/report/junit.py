"""`-o junit`: JUnit XML for CI test-report views (GitLab `artifacts:reports:junit`, Jenkins, ...).

One <testsuite> per policy and one <testcase> per resource that the policy applies to, passes
included, so the CI view counts what was checked and not only what failed. A case holds every
result of its policy on its resource (several rules, several pod-template roles): it is an <error>
when one could not be evaluated, else a <failure> when one failed, <skipped> when all were
suppressed or skipped; warnings pass and are written to <system-out>. Inputs that could not be
read form one more suite, `gpulint`, with an <error> case per input.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gpulint.engine.result import ERROR, FAIL, SKIP, WARN, RuleResult
from gpulint.report import CheckReport
from gpulint.report.common import located

# Characters XML 1.0 cannot carry, even escaped (terminal escapes in a message, say).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(report: CheckReport) -> str:
    cases: dict[str, dict[int, list]] = {}  # policy -> id(resource) -> [(result, position)]
    for result, position in located(report.findings(include_pass=True)):
        cases.setdefault(result.policy.name, {}).setdefault(id(result.resource), []).append((result, position))
    root = ET.Element("testsuites", name="gpulint")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for policy in sorted(cases):
        suite = ET.SubElement(root, "testsuite", name=policy)
        counts = dict.fromkeys(totals, 0)
        for rows in cases[policy].values():
            outcome = _case(suite, policy, rows)
            counts["tests"] += 1
            if outcome:
                counts[outcome] += 1
        _count(suite, counts, totals)
    if report.errors:
        suite = ET.SubElement(root, "testsuite", name="gpulint")
        for error in report.errors:
            case = ET.SubElement(suite, "testcase", classname="gpulint", name=_clean(error.file),
                                 file=_clean(error.file), line=str(error.line), time="0")
            ET.SubElement(case, "error", message=_clean(error.message), type="input").text = _clean(str(error))
        _count(suite, {"tests": len(report.errors), "failures": 0, "errors": len(report.errors), "skipped": 0},
               totals)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(suite: ET.Element, policy: str, rows: list) -> str:
    """Adds one <testcase>; returns the counter it adds to ("" for a pass)."""
    first, position = rows[0]
    resource = first.resource
    case = ET.SubElement(suite, "testcase", classname=policy, name=_clean(resource.display()),
                         file=_clean(resource.file), line=str(position.line), time="0")
    words = {result.result for result, _ in rows}
    if ERROR in words or FAIL in words:
        word = ERROR if ERROR in words else FAIL
        bad = [(r, p) for r, p in rows if r.result in (ERROR, FAIL)]
        tag, outcome = ("error", "errors") if word == ERROR else ("failure", "failures")
        element = ET.SubElement(case, tag, message=_clean(bad[0][0].message),
                                type=word if word == ERROR else (bad[0][0].severity or "fail"))
        element.text = _clean("\n".join(_describe(r, p) for r, p in bad))
        return outcome
    if words == {SKIP}:
        ET.SubElement(case, "skipped", message=_clean("; ".join(dict.fromkeys(r.message for r, _ in rows))))
        return "skipped"
    warnings = [_describe(r, p) for r, p in rows if r.result == WARN]
    if warnings:
        ET.SubElement(case, "system-out").text = _clean("\n".join(warnings))
    return ""


def _describe(result: RuleResult, position) -> str:
    resource = result.resource
    head = f"{resource.file}:{position.line}:{position.column}: {result.result} {result.policy.name}"
    if result.rule:
        head += f" rule {result.rule}"
    head += f" {result.resource_display()}"
    if resource.template:
        head += f" (template {resource.template})"
    lines = [head, f"    {result.message}"]
    if result.policy.fix and result.result == FAIL:
        lines.append(f"    fix: {result.policy.fix}")
    return "\n".join(lines)


def _count(suite: ET.Element, counts: dict, totals: dict) -> None:
    for key, value in counts.items():
        suite.set(key, str(value))
        totals[key] += value
    suite.set("time", "0")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text or "")
