"""The work of `gpulint check`, without typer: the command line parsed by typer (check.py) or, for the
common case, by `parse_args` here, so that a pre-commit run does not pay for importing typer."""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

from gpulint.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from gpulint.cli.common import UsageError, load_configuration, resolve_cli_settings
from gpulint.cli.common import usage as _usage


def run(paths, policy, no_builtin, output, report_api, fail_on, config_file, set_values, disable, enable, exclude, exception, baseline, write_baseline, helm_chart, helm_values, helm_set, helm_release, kustomize, include_pass, jobs, quiet) -> int:
    """`gpulint check` with its options parsed (by typer, or by parse_args for the common case)."""
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
                                  helm_set, helm_release, kustomize, jobs)
    except (baselines.BaselineError, RenderError, ValueError) as error:
        return _usage(str(error))
    # The loaded manifests live until the process exits: keep the collector from re-walking them
    # (each full collection over 10,000 resources costs about 0.2 s).
    gc.freeze()
    policy_paths = ([] if (no_builtin or not config.builtin) else [str(_builtin_dir())]) + config.policies + policy
    policy_docs = None
    if policy_paths[:1] == [str(_builtin_dir())]:  # the built-in rules are parsed already (rulecache.py)
        from gpulint.engine.cel.rulecache import load_rules

        policy_docs = load_rules(_builtin_dir())
        if policy_docs is not None and policy_paths[1:]:
            policy_docs = load_paths(policy_paths[1:], already=policy_docs)
    if policy_docs is None and policy_paths:
        policy_docs = load_paths(policy_paths)
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
    results = _evaluate(setup.engine, inputs.resources, show_progress=not quiet and stdout_text, jobs=jobs,
                        locate_all=include_pass)
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
            kustomizations: List[str], jobs: int = 0):
    """Files, directories and stdin, then rendered charts and kustomizations: (LoadResult, origins).
    Large inputs are loaded by `jobs` processes (0: one per CPU), as they are evaluated."""
    from gpulint.inputs import find_helm, find_kustomize, render_helm, render_kustomize
    from gpulint.load import LoadResult, load_paths

    helm = find_helm() if charts else None  # before any work: a missing tool is a usage error
    kustomize_command = find_kustomize() if kustomizations else None
    inputs = load_paths(paths, exclude=exclude, stdin=sys.stdin, jobs=jobs) if paths else LoadResult()
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


def _evaluate(engine, resources, show_progress: bool, jobs: int = 0, locate_all: bool = False):
    """Results in input order; large inputs are evaluated by several processes (engine/parallel.py)."""
    from gpulint.engine import parallel

    workers = jobs if jobs > 0 else parallel.auto_jobs(len(resources))
    if not (show_progress and len(resources) > 500 and sys.stderr.isatty()):
        return parallel.evaluate(engine, resources, workers, locate_all=locate_all)
    from rich.progress import Progress

    with Progress(transient=True, console=_stderr_console()) as progress:
        task = progress.add_task("checking", total=len(resources))
        return parallel.evaluate(engine, resources, workers, locate_all=locate_all,
                                 progress=lambda count: progress.advance(task, count))


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


# -- the command line without typer ------------------------------------------------------------------
# option -> (parameter, kind); kinds: list (repeatable), str, path, int (>= 0), flag. Must match the
# typer signature in check.py (tests/cli/test_check_fastpath.py compares them).
OPTIONS = {
    "--policy": ("policy", "list"), "-p": ("policy", "list"),
    "--no-builtin": ("no_builtin", "flag"),
    "--format": ("output", "list"), "-o": ("output", "list"),
    "--report-api": ("report_api", "str"),
    "--fail-on": ("fail_on", "str"),
    "--config": ("config_file", "path"),
    "--set": ("set_values", "list"),
    "--disable": ("disable", "list"),
    "--enable": ("enable", "list"),
    "--exclude": ("exclude", "list"),
    "--exception": ("exception", "list"),
    "--baseline": ("baseline", "str"),
    "--write-baseline": ("write_baseline", "str"),
    "--helm-chart": ("helm_chart", "list"),
    "--values": ("helm_values", "list"),
    "--helm-set": ("helm_set", "list"),
    "--helm-release": ("helm_release", "str"),
    "--kustomize": ("kustomize", "list"),
    "--include-pass": ("include_pass", "flag"),
    "--jobs": ("jobs", "int"), "-j": ("jobs", "int"),
    "--quiet": ("quiet", "flag"), "-q": ("quiet", "flag"),
}
DEFAULTS = {"paths": None, "policy": [], "no_builtin": False, "output": [], "report_api": "wgpolicyk8s",
            "fail_on": None, "config_file": None, "set_values": [], "disable": [], "enable": [], "exclude": [],
            "exception": [], "baseline": None, "write_baseline": None, "helm_chart": [], "helm_values": [],
            "helm_set": [], "helm_release": "release-name", "kustomize": [], "include_pass": False, "jobs": 0,
            "quiet": False}


def parse_args(argv: List[str]) -> Optional[dict]:
    """The parameters of `run` for a plain `check` command line, or None for anything else (help,
    unknown or malformed options, `--`, glued short options ...): typer then handles it, with its
    own messages."""
    values = {name: (list(value) if isinstance(value, list) else value) for name, value in DEFAULTS.items()}
    paths: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "-" or not arg.startswith("-"):
            paths.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        spec = OPTIONS.get(name if name.startswith("--") else arg)
        if spec is None or (eq and not name.startswith("--")):
            return None
        param, kind = spec
        if kind == "flag":
            if eq:
                return None
            values[param] = True
            continue
        if eq:
            value = inline
        elif i < len(argv) and not argv[i].startswith("-"):
            value = argv[i]
            i += 1
        else:
            return None  # missing value, or one that looks like an option: let click decide
        if kind == "list":
            values[param].append(value)
        elif kind == "path":
            values[param] = Path(value)
        elif kind == "int":
            if not value.isdigit() or not value.isascii():
                return None
            values[param] = int(value)
        else:
            values[param] = value
    values["paths"] = paths or None
    return values
