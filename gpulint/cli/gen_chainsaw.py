"""`gpulint gen-chainsaw`: Chainsaw tests that prove policies in a real cluster running Kyverno."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from gpulint.cli import EXIT_OK, EXIT_USAGE

HELP = """Generate Chainsaw tests that prove policies in a real cluster running Kyverno.

For each policy (ValidatingPolicy or legacy ClusterPolicy) writes OUT/<policy>/ in the layout of
Kyverno's policy library: the policy, and .chainsaw-test/ with chainsaw-test.yaml, the policy-ready
assertion, the namespaces and the good and bad resources. The test switches the policy to Deny
(Enforce), waits until it is ready, expects the good resources to be admitted and each bad one to be
denied by this policy, and removes the policy in `finally`. Custom resources (PyTorchJob, JobSet...)
go into a second test labelled gpulint.io/requires-crds=true, which stops at once when a CRD is missing.

Good and bad resources come from --fixtures (a folder per policy, or files named good-*/bad-*), else
from the kyverno-test.yaml beside the policy (built-in policies: their fixtures), else from RESOURCES,
sorted into pass and fail by the offline engine. Existing files are kept unless --force is given.

\b
Examples:
  gpulint gen-chainsaw --builtin --out chainsaw/
  gpulint gen-chainsaw -p policies/require-gpu-limits.yaml --fixtures tests/fixtures --out chainsaw/
  gpulint gen-chainsaw -p my-policy.yaml k8s/ --out chainsaw/
  chainsaw test --config chainsaw/.chainsaw.yaml --test-dir chainsaw/

Exit codes: 0 files written (or already up to date), 2 usage error or unreadable input.
See docs/chainsaw.md to run the tests against a kind cluster.
"""


def register(app: typer.Typer) -> None:
    app.command("gen-chainsaw", help=HELP, no_args_is_help=True)(gen_chainsaw)


def gen_chainsaw(
    resources: List[str] = typer.Argument(None, help="Resources to sort into good and bad when a policy has "
                                                     "no fixtures and no kyverno-test.yaml.", show_default=False),
    policy: List[str] = typer.Option([], "--policy", "-p", help="Policy file or directory (repeatable)."),
    builtin: bool = typer.Option(False, "--builtin", help="Generate for the built-in GPU policies."),
    fixtures: Optional[str] = typer.Option(None, "--fixtures", help="Folder of good-*/bad-* resources, or of one "
                                                                    "such folder per policy.", show_default=False),
    out: Optional[Path] = typer.Option(None, "--out", help="Directory to write the tests into.",
                                       show_default=False),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files that differ."),
) -> int:
    from gpulint.chainsaw import GenError, generate_chainsaw, write_files

    if out is None:
        return _usage("--out DIR is required")
    if not policy and not builtin:
        return _usage("no policies: give --policy PATH (repeatable) or --builtin")
    try:
        generated = generate_chainsaw(policy, builtin=builtin, fixtures=fixtures, resources=resources or [])
        for warning in generated.warnings:
            print(f"gpulint: warning: {warning}", file=sys.stderr)
        for error in generated.errors:
            print(f"gpulint: error: {error}", file=sys.stderr)
        if not generated.policies:
            return _usage("no test generated: no policy had good or bad resources") if not generated.errors \
                else EXIT_USAGE
        report = write_files(out, generated.files, force)
    except GenError as error:
        return _usage(str(error))
    print_report(out, report, f"{len(generated.policies)} policies")
    return EXIT_USAGE if generated.errors else EXIT_OK


def print_report(out: Path, report, what: str) -> None:
    for path in report.kept:
        print(f"kept {out / path}: it exists and differs (use --force to overwrite)")
    print(f"{out}: {len(report.written)} written, {len(report.unchanged)} unchanged, "
          f"{len(report.kept)} kept ({what})")


def _usage(message: str) -> int:
    print(f"gpulint: error: {message}", file=sys.stderr)
    return EXIT_USAGE
