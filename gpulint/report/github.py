"""`-o github`: GitHub Actions workflow commands, shown as annotations on the pull request.

`::error file=F,line=L,col=C,title=T::message`; fails of critical/high policies are errors, medium
warnings, low/info notices (see docs/ci.md). Escaping follows GitHub's toolkit (actions/toolkit
packages/core/src/command.ts): `%`, CR and LF in the message; also `:` and `,` in properties.
Suppressed results are left out: an annotation asks for a change, and those need none.
"""

from __future__ import annotations

import os

from gpulint.engine.result import ERROR, FAIL, WARN
from gpulint.report import CheckReport
from gpulint.report.common import code_location, level, located, repo_path

_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def render(report: CheckReport) -> str:
    from gpulint.report.text import totals_line

    cwd = os.getcwd()
    lines = []
    for result, position in located(report.findings()):
        if result.result not in (FAIL, WARN, ERROR):
            continue
        file, line, column = code_location(result, position, report.origins)
        if result.result == ERROR:
            title = f"{result.policy.name}: policy could not be evaluated"
        else:
            title = f"{result.policy.name} ({result.severity or 'no severity'})"
        message = f"{result.resource_display()}: {result.message}"
        if result.resource.template:
            message += f" (template {result.resource.template})"
        if result.policy.fix and result.result == FAIL:
            message += f"\nfix: {result.policy.fix}"
        lines.append(_command(_COMMANDS[level(result)], repo_path(file, cwd)[0], line, column, title, message))
    for error in report.errors:
        lines.append(_command("error", repo_path(error.file, cwd)[0], error.line, error.column,
                              "gpulint: input error", error.message))
    lines.append(totals_line(report))
    return "\n".join(lines) + "\n"


def _command(name: str, file: str, line: int, column: int, title: str, message: str) -> str:
    return (f"::{name} file={escape_property(file)},line={line},col={column},"
            f"title={escape_property(title)}::{escape_data(message)}")


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
