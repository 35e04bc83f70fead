"""`gpulint check`: lint manifests with the built-in GPU rule pack and your Kyverno policies."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

CHECK_HELP = """Check Kubernetes manifests against GPU policies.

PATHS are files, directories (searched recursively for .yaml, .yml and .json, skipping hidden and
vendored folders) or - for stdin. Multi-document YAML, JSON, `kind: List` and `helm template`
output are understood; findings from rendered charts name the chart template.

\b
Examples:
  gpulint check k8s/
  helm template charts/trainer | gpulint check -
  gpulint check -p my-policies/ --set approvedRegistries='[nvcr.io, ghcr.io/acme]' jobs/
  gpulint check --disable gpu-require-apparmor --fail-on critical -o json .
  gpulint check -o sarif=gpulint.sarif -o junit=gpulint.xml k8s/
  gpulint check --helm-chart charts/trainer --values charts/trainer/values-prod.yaml

Outputs (-o FORMAT[=PATH], repeatable): text (default), json, policy-report, sarif, junit, github,
auto (github in GitHub Actions, else text). Without =PATH a format goes to stdout; when every -o
names a file, text still goes to stdout. See docs/ci.md.

Configuration is read from .gpulint.yaml (or [tool.gpulint] in pyproject.toml) found from the
current directory upwards; command-line options win.
"""


def register(app: typer.Typer) -> None:
    app.command("check", help=CHECK_HELP, no_args_is_help=False)(check)


def check(  # the options: see check_run.OPTIONS, which must list the same
    paths: List[str] = typer.Argument(None, help="Files, directories or - for stdin.", show_default=False),
    policy: List[str] = typer.Option([], "--policy", "-p", help="Kyverno policy file or directory (repeatable)."),
    no_builtin: bool = typer.Option(False, "--no-builtin", help="Do not evaluate the built-in GPU rule pack."),
    output: List[str] = typer.Option([], "--format", "-o", metavar="FORMAT[=PATH]",
                                     help="Output format, to stdout or to PATH (repeatable): text, json, "
                                          "policy-report, sarif, junit, github or auto."),
    report_api: str = typer.Option("wgpolicyk8s", "--report-api",
                                   help="API of -o policy-report: wgpolicyk8s (PolicyReport) or openreports (Report)."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", show_default=False,
                                          help="Lowest severity that fails the run: critical, high (default), "
                                               "medium, low, info or never."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="Configuration file (default: search upward)."),
    set_values: List[str] = typer.Option([], "--set", help="Policy setting as key=value (YAML value; repeatable)."),
    disable: List[str] = typer.Option([], "--disable", help="Policy to skip (repeatable)."),
    enable: List[str] = typer.Option([], "--enable", help="Policy to run even if disabled or opt-in (repeatable)."),
    exclude: List[str] = typer.Option([], "--exclude", help="Glob of paths to skip (repeatable)."),
    exception: List[str] = typer.Option([], "--exception", help="Kyverno PolicyException file or directory "
                                                                 "(repeatable)."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Skip the findings recorded in this baseline."),
    write_baseline: Optional[str] = typer.Option(None, "--write-baseline",
                                                 help="Record every current finding in this baseline file."),
    helm_chart: List[str] = typer.Option([], "--helm-chart", help="Helm chart directory to render with helm "
                                                                   "template and check (repeatable)."),
    helm_values: List[str] = typer.Option([], "--values", help="Values file for --helm-chart (repeatable)."),
    helm_set: List[str] = typer.Option([], "--helm-set", help="Chart value for --helm-chart as key=value "
                                                               "(helm --set; repeatable)."),
    helm_release: str = typer.Option("release-name", "--helm-release", help="Release name for --helm-chart."),
    kustomize: List[str] = typer.Option([], "--kustomize", help="Kustomization directory to build and check "
                                                                 "(repeatable)."),
    include_pass: bool = typer.Option(False, "--include-pass", help="List passing results too."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, metavar="N",
                             help="Processes that load and evaluate the resources: 0 (default) uses every "
                                  "CPU for large inputs (more than 1 MB of files to load, more than 200 "
                                  "resources to evaluate), 1 does all the work in this process (its memory "
                                  "then grows by about 100 MB per 1,000 resources: worker processes are "
                                  "replaced as they grow)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only findings: no summary, no progress bar."),
) -> int:
    from gpulint.cli.check_run import run

    return run(paths=paths, policy=policy, no_builtin=no_builtin, output=output, report_api=report_api,
               fail_on=fail_on, config_file=config_file, set_values=set_values, disable=disable,
               enable=enable, exclude=exclude, exception=exception, baseline=baseline,
               write_baseline=write_baseline, helm_chart=helm_chart, helm_values=helm_values,
               helm_set=helm_set, helm_release=helm_release, kustomize=kustomize, include_pass=include_pass,
               jobs=jobs, quiet=quiet)
