"""`gpulint check -o FORMAT[=PATH]`: which reports one run writes, and where.

Every output is checked before anything runs (an unknown format, a second format for stdout or a
file in a directory that does not exist is a usage error), and files are written only at the
paths given: no directory is created, no temporary file is left beside them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

FORMATS = ("text", "json", "policy-report", "sarif", "junit", "github")
REPORT_APIS = ("wgpolicyk8s", "openreports")


@dataclass(frozen=True)
class Output:
    format: str
    path: Optional[str] = None  # None: stdout


def parse_outputs(specs: Sequence[str], environ: Mapping[str, str]) -> list[Output]:
    """The outputs `-o` asked for; ValueError with a one-line message when they cannot be written.

    Without a format for stdout, text goes there: the CI log still shows the findings."""
    outputs: list[Output] = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        name = name.strip()
        if name == "auto":
            name = "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"
        if name not in FORMATS:
            raise ValueError(f"unknown format '{name}' in -o {spec} (choose from {', '.join(FORMATS)} or auto)")
        if sep:
            check_writable(path, f"-o {spec}")
            if any(o.path and os.path.abspath(o.path) == os.path.abspath(path) for o in outputs):
                raise ValueError(f"-o {spec}: {path} is already the file of another output")
        outputs.append(Output(name, path if sep else None))
    to_stdout = [o.format for o in outputs if o.path is None]
    if len(to_stdout) > 1:
        raise ValueError(f"only one format can go to stdout, got {' and '.join(to_stdout)}: "
                         "write the others to files with -o FORMAT=PATH")
    if not to_stdout:
        outputs.insert(0, Output("text"))
    return outputs


def check_writable(path: str, option: str) -> None:
    if not path:
        raise ValueError(f"{option}: missing file name after '='" if option.startswith("-o") else f"{option}: empty path")
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise ValueError(f"{option}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise ValueError(f"{option}: {path} is a directory")


def render(report, output: Output, *, quiet: bool, include_pass: bool, report_api: str, color: bool) -> str:
    if output.format == "text":
        import io

        from gpulint.report.text import render as render_text

        buffer = io.StringIO()
        render_text(report, buffer, color=color and output.path is None, quiet=quiet, include_pass=include_pass)
        return buffer.getvalue()
    if output.format == "json":
        from gpulint.report.json_report import render as render_json

        return render_json(report, include_pass)
    if output.format == "policy-report":
        from gpulint.report.policy_report import render as render_policy_report

        return render_policy_report(report, report_api)
    if output.format == "sarif":
        from gpulint.report.sarif import render as render_sarif

        return render_sarif(report)
    if output.format == "junit":
        from gpulint.report.junit import render as render_junit

        return render_junit(report)
    from gpulint.report.github import render as render_github

    return render_github(report)


def write(outputs: list[Output], report, **options) -> list[str]:
    """Writes every output; returns one-line errors for the files that could not be written."""
    problems = []
    for output in outputs:
        text = render(report, output, **options)
        if output.path is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            continue
        problem = write_file(output.path, text, f"-o {output.format}={output.path}")
        if problem:
            problems.append(problem)
    return problems


def write_file(path: str, text: str, option: str) -> Optional[str]:
    """Writes `text` to `path` (only there: no directory, no temporary file); a one-line error or None."""
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        return f"{option}: cannot write: {error.strerror or error}"
    return None
