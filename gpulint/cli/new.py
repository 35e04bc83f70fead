"""`gpulint new`: scaffold a GPU policy with its fixtures, kyverno-test.yaml and Chainsaw test."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from gpulint.cli import EXIT_OK, EXIT_USAGE

HELP = """Scaffold a new ValidatingPolicy for your own GPU rule, ready to edit and test.

Creates DIR/POLICY_NAME/ with the policy (the annotations gpulint reads, the is-gpu-workload
condition of the built-in rules, the `field` auditAnnotation), good and bad fixtures and a
kyverno-test.yaml in .kyverno-test/, and a Chainsaw test in .chainsaw-test/. The example rule
(GPU containers set a memory limit) is a working starting point: `gpulint test` passes on the
scaffold as created. POLICY_NAME must be a DNS-1123 label (lowercase letters, digits and '-').

\b
Examples:
  gpulint new gpu-require-memory-limit
  gpulint new team-gpu-quota --dir policies/
  gpulint test policies/team-gpu-quota/ && gpulint check -p policies/team-gpu-quota/ k8s/

Exit codes: 0 created (or already up to date), 2 invalid name or unwritable folder.
"""


def register(app: typer.Typer) -> None:
    app.command("new", help=HELP, no_args_is_help=True)(new)


def new(
    name: str = typer.Argument(..., metavar="POLICY_NAME", help="Name of the policy (a DNS-1123 label).",
                               show_default=False),
    directory: Path = typer.Option(Path("."), "--dir", help="Folder to create POLICY_NAME/ in."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files that differ."),
) -> int:
    from gpulint.chainsaw import GenError, write_files
    from gpulint.chainsaw.scaffold import next_steps, scaffold
    from gpulint.cli.gen_chainsaw import print_report

    try:
        generated = scaffold(name)
        for warning in generated.warnings:
            print(f"gpulint: warning: {warning}", file=sys.stderr)
        report = write_files(directory, generated.files, force)
    except GenError as error:
        print(f"gpulint: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print_report(directory, report, f"policy {name}")
    print("next:")
    for line in next_steps(name, str(directory)):
        print(f"  {line}")
    return EXIT_OK
