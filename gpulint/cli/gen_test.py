"""`gpulint gen-test`: write a kyverno-test.yaml from the engine's current verdicts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from gpulint.cli import EXIT_OK, EXIT_USAGE

HELP = """Write a kyverno-test.yaml that expects what the policies answer today.

Runs the policies over RESOURCES the way `gpulint test` does and writes one expected result per
policy (and rule, for ClusterPolicies), kind and outcome: the quickest way to lock in behaviour
before a migration or a refactoring. Review it: it records what the engine says, right or wrong.
Paths in the test are relative to its own folder. When a policy reads the gpulint settings ConfigMap
and no --context is given, a context.yaml with the default settings is written beside the test.

\b
Examples:
  gpulint gen-test -p policies/require-gpu-limits.yaml examples/ --out policies/.kyverno-test/kyverno-test.yaml
  gpulint gen-test -p my-policies/ -p legacy/cluster-policy.yaml k8s/ --out tests/kyverno-test.yaml
  gpulint test tests/kyverno-test.yaml

Exit codes: 0 written (or already up to date), 2 usage error or unreadable input.
"""


def register(app: typer.Typer) -> None:
    app.command("gen-test", help=HELP, no_args_is_help=True)(gen_test)


def gen_test(
    resources: List[str] = typer.Argument(..., help="Resource files or directories.", show_default=False),
    policy: List[str] = typer.Option([], "--policy", "-p", help="Kyverno policy file or directory (repeatable)."),
    out: Path = typer.Option(Path("kyverno-test.yaml"), "--out", help="Test file to write."),
    name: Optional[str] = typer.Option(None, "--name", help="metadata.name of the test (default: the first "
                                                            "policy's name).", show_default=False),
    context: Optional[str] = typer.Option(None, "--context", help="Kyverno CLI Context file the test should use.",
                                          show_default=False),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files that differ."),
) -> int:
    from gpulint.chainsaw import GenError, write_files
    from gpulint.chainsaw.kyvernotest import generate_kyverno_test
    from gpulint.cli.gen_chainsaw import print_report

    if not policy:
        return _usage("no policies: give --policy PATH (repeatable)")
    if out.exists() and out.is_dir():
        return _usage(f"{out}: is a directory; --out names the test file to write")
    try:
        generated = generate_kyverno_test(policy, resources, str(out), name=name, context=context)
        for warning in generated.warnings:
            print(f"gpulint: warning: {warning}", file=sys.stderr)
        report = write_files(out.parent, generated.files, force)
    except GenError as error:
        return _usage(str(error))
    print_report(out.parent, report, f"test for {', '.join(generated.policies)}")
    return EXIT_OK


def _usage(message: str) -> int:
    print(f"gpulint: error: {message}", file=sys.stderr)
    return EXIT_USAGE
