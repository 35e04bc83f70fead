"""`gpulint test`: run Kyverno CLI test suites (kyverno-test.yaml) offline."""

from __future__ import annotations

import sys
from typing import List

import typer

from gpulint.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

FORMATS = ("text", "json")
TEST_HELP = """Run Kyverno CLI tests (kyverno-test.yaml) against gpulint's Kyverno engine.

PATHS are test files or directories searched recursively (hidden folders such as .kyverno-test
included) for kyverno-test.yaml; a file may hold several tests. Each test is run and compared as
`kyverno test` does, quirks included. Tests that need mutation, generation, image verification or
live cluster calls are reported as unsupported, never as passed.

\b
Examples:
  gpulint test policies/
  gpulint test --strict -o json policies/require-gpu-limits/.kyverno-test/kyverno-test.yaml

Exit codes: 0 every test passed, 1 a test failed, errored or is unsupported, 2 usage error.
"""


def register(app: typer.Typer) -> None:
    app.command("test", help=TEST_HELP, no_args_is_help=True)(test)


def test(
    paths: List[str] = typer.Argument(..., help="Test files or directories.", show_default=False),
    output_format: str = typer.Option("text", "--format", "-o", help="Output format: text or json."),
    strict: bool = typer.Option(False, "--strict", help="Also fail what Kyverno lets pass silently: expected "
                                "resources that do not exist, policies that did not apply, unknown test fields."),
    fail_only: bool = typer.Option(False, "--fail-only", help="Text output: only failing checks and tests."),
    file_name: str = typer.Option("kyverno-test.yaml", "--file-name", "-f", help="Name of the test files to look for."),
) -> int:
    from gpulint.testrunner import UsageError, render_json, render_text, run_paths

    if output_format not in FORMATS:
        return _usage(f"unknown format '{output_format}' (choose from {', '.join(FORMATS)})")
    try:
        report = run_paths(paths, strict=strict, file_name=file_name)
    except UsageError as error:
        return _usage(str(error))
    if not report.suites:
        print(f"gpulint: no {file_name} found under {', '.join(paths)}", file=sys.stderr)
        return EXIT_FINDINGS if strict else EXIT_OK
    if output_format == "json":
        sys.stdout.write(render_json(report))
    else:
        render_text(report, sys.stdout, fail_only=fail_only)
    return EXIT_OK if report.ok else EXIT_FINDINGS


def _usage(message: str) -> int:
    print(f"gpulint: error: {message}", file=sys.stderr)
    return EXIT_USAGE
