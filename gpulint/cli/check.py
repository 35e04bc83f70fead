"""`gpulint check`: lint manifests with the built-in GPU rule pack and your Kyverno policies."""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from gpulint.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from gpulint.cli.common import UsageError, load_configuration, resolve_cli_settings
from gpulint.cli.common import usage as _usage

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


def check(
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
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only findings: no summary, no progress bar."),
) -> int:
    from gpulint.cli.outputs import REPORT_APIS, check_writable, parse_outputs
    from gpulint.config import FAIL_ON_LEVELS

    started = time.time()
    try:
        outputs = parse_outputs(output, os.environ)
        if write_baseline is not None:
            check_writable(write_baseline, "--write-baseline")
    except ValueError as error:
        return _usage(str(error))
    if report_api not in REPORT_APIS:
        return _usage(f"invalid --report-api '{report_api}' (choose from {', '.join(REPORT_APIS)})")
    if fail_on is not None and fail_on not in FAIL_ON_LEVELS:
        return _usage(f"invalid --fail-on '{fail_on}' (choose from {', '.join(FAIL_ON_LEVELS)})")
    try:
        config = load_configuration(config_file)
        settings = resolve_cli_settings(config.settings, set_values)
    except UsageError as error:
        return _usage(str(error))
    threshold = fail_on or config.fail_on or "high"
    if not paths and not helm_chart and not kustomize:
        return _usage("no PATHS given (use . for the current directory or - for stdin)")
    if (helm_values or helm_set) and not helm_chart:
        return _usage("--values and --helm-set need --helm-chart")

    from gpulint.inputs import RenderError
    from gpulint.load import load_paths
    from gpulint.report import baseline as baselines

    try:
        accepted = baselines.load(baseline) if baseline else None
        exceptions = _exceptions(exception)
        inputs, origins = _inputs(paths or [], list(config.exclude) + list(exclude), helm_chart, helm_values,
                                  helm_set, helm_release, kustomize)
    except (baselines.BaselineError, RenderError, ValueError) as error:
        return _usage(str(error))
    # The loaded manifests live until the process exits: keep the collector from re-walking them
    # (each full collection over 10,000 resources costs about 0.2 s).
    gc.freeze()
    policy_paths = ([] if (no_builtin or not config.builtin) else [str(_builtin_dir())]) + config.policies + policy
    policy_docs = load_paths(policy_paths) if policy_paths else None
    errors = list(inputs.errors) + (list(policy_docs.errors) if policy_docs else [])
    policy_resources = policy_docs.resources if policy_docs else []
    disabled, unknown = _disabled(policy_resources, config.disable + list(disable), config.enable + list(enable))
    if unknown:
        return _usage(f"unknown policy '{unknown[0]}' in --disable/--enable")

    from gpulint.engine import build_engine
    from gpulint.engine.runner import RunOptions
    from gpulint.engine.suppress import SUPPRESSION_POLICY, apply_suppressions

    objects = [r.obj for r in inputs.resources]
    namespaces = {r.name: r.obj for r in inputs.resources if r.kind == "Namespace" and r.api_version == "v1"}
    options = RunOptions(
        namespace_labels=lambda ns: ((namespaces.get(ns) or {}).get("metadata") or {}).get("labels")
        if ns in namespaces else None,
        namespace_object=lambda ns: namespaces.get(ns))
    setup = build_engine(policy_resources, objects, settings=settings, exceptions=exceptions, disabled=disabled,
                         workloads=config.workloads, options=options)
    errors.extend(setup.errors)
    stdout_text = any(o.path is None and o.format == "text" for o in outputs)
    results = _evaluate(setup.engine, inputs.resources, show_progress=not quiet and stdout_text)
    results = apply_suppressions(results, inputs.resources)
    if accepted is not None:
        results = baselines.apply(results, accepted)

    from gpulint.cli.outputs import write, write_file
    from gpulint.report import CheckReport

    policies = [p.info for p in setup.policies]
    if any(r.policy is SUPPRESSION_POLICY for r in results):
        policies.append(SUPPRESSION_POLICY)
    report = CheckReport(results=results, errors=errors, files=inputs.files, resources=len(inputs.resources),
                         policies=policies, started=started, origins=origins,
                         namespaced=setup.engine.kinds.is_namespaced)
    problems = write(outputs, report, quiet=quiet, include_pass=include_pass, report_api=report_api,
                     color=_use_color(sys.stdout))
    if write_baseline is not None:
        problem = write_file(write_baseline, baselines.render(results), f"--write-baseline {write_baseline}")
        problems += [problem] if problem else []
    for problem in problems:
        print(f"gpulint: error: {problem}", file=sys.stderr)
    if errors or problems:
        return EXIT_USAGE
    if write_baseline is not None:
        return EXIT_OK  # the findings were just accepted
    return EXIT_FINDINGS if _fails(report, threshold) else EXIT_OK


def _inputs(paths: List[str], exclude: list, charts: List[str], values: List[str], sets: List[str], release: str,
            kustomizations: List[str]):
    """Files, directories and stdin, then rendered charts and kustomizations: (LoadResult, origins)."""
    from gpulint.inputs import find_helm, find_kustomize, render_helm, render_kustomize
    from gpulint.load import LoadResult, load_paths

    helm = find_helm() if charts else None  # before any work: a missing tool is a usage error
    kustomize_command = find_kustomize() if kustomizations else None
    inputs = load_paths(paths, exclude=exclude, stdin=sys.stdin) if paths else LoadResult()
    origins = {}
    rendered = [render_helm(chart, values, sets, release, helm) for chart in charts]
    rendered += [render_kustomize(directory, kustomize_command) for directory in kustomizations]
    for result, origin in rendered:
        inputs.resources.extend(result.resources)
        inputs.errors.extend(result.errors)
        inputs.files.extend(result.files)
        origins[origin.display] = origin
    return inputs, origins


def _exceptions(paths: List[str]) -> list[dict]:
    """Kyverno PolicyExceptions of both API groups; anything else in those files is a usage error,
    as in `kyverno apply --exception`."""
    if not paths:
        return []
    from gpulint.load import load_paths

    loaded = load_paths(paths)
    if loaded.errors:
        raise ValueError(str(loaded.errors[0]))
    exceptions = []
    for resource in loaded.resources:
        if resource.kind != "PolicyException" or not (resource.api_version in ("kyverno.io/v2", "kyverno.io/v2beta1")
                                                      or resource.api_version.startswith("policies.kyverno.io/")):
            position = resource.locate(())
            raise ValueError(f"{resource.file}:{position.line}:{position.column}: {resource.api_version} "
                             f"{resource.kind} is not a PolicyException")
        exceptions.append(resource.obj)
    return exceptions


def _builtin_dir() -> Path:
    from gpulint.engine.builtin import builtin_rules_dir

    return builtin_rules_dir()


def _disabled(policy_resources, disable: list, enable: list) -> tuple[set, list]:
    names = {str(r.metadata.get("name", "")): r for r in policy_resources}
    unknown = [n for n in list(disable) + list(enable) if n not in names]
    disabled = set(disable)
    for name, resource in names.items():
        annotations = resource.metadata.get("annotations") or {}
        if str(annotations.get("gpulint.io/default", "on")).lower() == "off":
            disabled.add(name)
    return disabled - set(enable), unknown


def _evaluate(engine, resources, show_progress: bool):
    if not (show_progress and len(resources) > 500 and sys.stderr.isatty()):
        return engine.evaluate(resources)
    from rich.progress import Progress

    results = []
    with Progress(transient=True, console=_stderr_console()) as progress:
        task = progress.add_task("checking", total=len(resources))
        for resource in resources:
            results.extend(engine.evaluate_resource(resource))
            progress.advance(task)
    return results


def _stderr_console():
    from rich.console import Console

    return Console(file=sys.stderr)


def _use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _fails(report, threshold: str) -> bool:
    if threshold == "never":
        return False
    from gpulint.report.common import severity_rank

    floor = severity_rank(threshold)
    return any(r.result in ("fail", "error") and r.applicable and severity_rank(r.severity) >= floor
               for r in report.results)
