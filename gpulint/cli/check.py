"""`gpulint check`: lint manifests with the built-in GPU rule pack and your Kyverno policies."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from gpulint.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

FORMATS = ("text", "json")
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

Configuration is read from .gpulint.yaml (or [tool.gpulint] in pyproject.toml) found from the
current directory upwards; command-line options win.
"""


def register(app: typer.Typer) -> None:
    app.command("check", help=CHECK_HELP, no_args_is_help=False)(check)


def check(
    paths: List[str] = typer.Argument(None, help="Files, directories or - for stdin.", show_default=False),
    policy: List[str] = typer.Option([], "--policy", "-p", help="Kyverno policy file or directory (repeatable)."),
    no_builtin: bool = typer.Option(False, "--no-builtin", help="Do not evaluate the built-in GPU rule pack."),
    output_format: str = typer.Option("text", "--format", "-o", help="Output format: text or json."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", show_default=False,
                                          help="Lowest severity that fails the run: critical, high (default), "
                                               "medium, low, info or never."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="Configuration file (default: search upward)."),
    set_values: List[str] = typer.Option([], "--set", help="Policy setting as key=value (YAML value; repeatable)."),
    disable: List[str] = typer.Option([], "--disable", help="Policy to skip (repeatable)."),
    enable: List[str] = typer.Option([], "--enable", help="Policy to run even if disabled or opt-in (repeatable)."),
    exclude: List[str] = typer.Option([], "--exclude", help="Glob of paths to skip (repeatable)."),
    include_pass: bool = typer.Option(False, "--include-pass", help="List passing results too."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only findings: no summary, no progress bar."),
) -> int:
    from gpulint.config import FAIL_ON_LEVELS, ConfigError, find_config, load_config

    if output_format not in FORMATS:
        return _usage(f"unknown format '{output_format}' (choose from {', '.join(FORMATS)})")
    if fail_on is not None and fail_on not in FAIL_ON_LEVELS:
        return _usage(f"invalid --fail-on '{fail_on}' (choose from {', '.join(FAIL_ON_LEVELS)})")
    try:
        config = load_config(config_file if config_file else find_config())
    except ConfigError as error:
        return _usage(str(error))
    except OSError as error:
        return _usage(f"{config_file}: cannot read configuration: {error.strerror or error}")
    threshold = fail_on or config.fail_on or "high"
    try:
        settings = _settings(config.settings, set_values)
    except ValueError as error:
        return _usage(str(error))
    if not paths:
        return _usage("no PATHS given (use . for the current directory or - for stdin)")

    from gpulint.load import load_paths

    inputs = load_paths(paths, exclude=list(config.exclude) + list(exclude), stdin=sys.stdin)
    policy_paths = ([] if (no_builtin or not config.builtin) else [str(_builtin_dir())]) + config.policies + policy
    policy_docs = load_paths(policy_paths) if policy_paths else None
    errors = list(inputs.errors) + (list(policy_docs.errors) if policy_docs else [])
    policy_resources = policy_docs.resources if policy_docs else []
    disabled, unknown = _disabled(policy_resources, config.disable + list(disable), config.enable + list(enable))
    if unknown:
        return _usage(f"unknown policy '{unknown[0]}' in --disable/--enable")

    from gpulint.engine import build_engine
    from gpulint.engine.runner import RunOptions

    objects = [r.obj for r in inputs.resources]
    namespaces = {r.name: r.obj for r in inputs.resources if r.kind == "Namespace" and r.api_version == "v1"}
    options = RunOptions(
        namespace_labels=lambda ns: ((namespaces.get(ns) or {}).get("metadata") or {}).get("labels")
        if ns in namespaces else None,
        namespace_object=lambda ns: namespaces.get(ns))
    setup = build_engine(policy_resources, objects, settings=settings, disabled=disabled,
                         workloads=config.workloads, options=options)
    errors.extend(setup.errors)
    results = _evaluate(setup.engine, inputs.resources, show_progress=not quiet and output_format == "text")

    from gpulint.report import CheckReport

    report = CheckReport(results=results, errors=errors, files=inputs.files, resources=len(inputs.resources),
                         policies=[p.info for p in setup.policies])
    _render(report, output_format, quiet, include_pass)
    if errors:
        return EXIT_USAGE
    return EXIT_FINDINGS if _fails(report, threshold) else EXIT_OK


def _builtin_dir() -> Path:
    from gpulint.engine.builtin import builtin_rules_dir

    return builtin_rules_dir()


def _usage(message: str) -> int:
    print(f"gpulint: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _settings(config_settings: dict, set_values: List[str]) -> dict:
    from gpulint.engine.builtin import SettingsError, parse_setting_value, resolve_settings

    overrides = dict(config_settings)
    for item in set_values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value, got '{item}'")
        overrides[key.strip()] = parse_setting_value(value)
    try:
        return resolve_settings(overrides)
    except SettingsError as error:
        raise ValueError(str(error)) from None


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


def _render(report, output_format: str, quiet: bool, include_pass: bool) -> None:
    if output_format == "json":
        from gpulint.report.json_report import render

        sys.stdout.write(render(report, include_pass))
        return
    from gpulint.report.text import render

    render(report, sys.stdout, color=_use_color(sys.stdout), quiet=quiet, include_pass=include_pass)


def _fails(report, threshold: str) -> bool:
    if threshold == "never":
        return False
    from gpulint.report.common import severity_rank

    floor = severity_rank(threshold)
    return any(r.result in ("fail", "error") and r.applicable and severity_rank(r.severity) >= floor
               for r in report.results)
