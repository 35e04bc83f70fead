"""`gpulint export`: the rule pack ready for `kubectl apply -k` on a cluster running Kyverno."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from gpulint.cli import EXIT_OK
from gpulint.cli.common import UsageError, load_configuration, resolve_cli_settings, usage

HELP = """Export the built-in policies, the settings ConfigMap (built from your configuration) and the
RBAC Kyverno needs, plus a kustomization, for a cluster running Kyverno 1.17+.

\b
Examples:
  gpulint export --out deploy/gpulint && kubectl apply -k deploy/gpulint
  gpulint export --action Deny --set approvedRegistries='[nvcr.io, ghcr.io/acme]' --out deploy/gpulint
  gpulint export | kubectl apply -f -
"""


def register(app: typer.Typer) -> None:
    app.command("export", help=HELP)(export)


def export(
    out: Optional[Path] = typer.Option(None, "--out", help="Directory to write (must exist or be creatable "
                                                           "inside an existing directory); stdout if omitted."),
    action: Optional[str] = typer.Option(None, "--action", help="Set validationActions: Audit, Warn or Deny "
                                                                "(default: as shipped, Audit)."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="Configuration file."),
    set_values: List[str] = typer.Option([], "--set", help="Setting as key=value (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
) -> int:
    from gpulint.rulepack import load_registry
    from gpulint.rulepack.export import ACTIONS, as_stream, build_files

    if action is not None and action not in ACTIONS:
        return usage(f"invalid --action '{action}' (choose from {', '.join(ACTIONS)})")
    try:
        config = load_configuration(config_file)
        settings = resolve_cli_settings(config.settings, set_values)
    except UsageError as error:
        return usage(str(error))
    disabled = set(config.disable) - set(config.enable)
    rules = [r for r in load_registry()
             if r.name not in disabled and (r.default_on or r.name in config.enable)]
    files = build_files(rules, settings, action)
    if out is None:
        sys.stdout.write(as_stream(files))
        return EXIT_OK
    if out.exists() and not out.is_dir():
        return usage(f"{out}: not a directory")
    if not out.parent.is_dir():
        return usage(f"{out.parent}: no such directory")
    existing = [name for name in files if (out / name).exists()]
    if existing and not force:
        return usage(f"{out}: {len(existing)} file(s) already exist (e.g. {existing[0]}); use --force to overwrite")
    out.mkdir(exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files to {out} ({len(rules)} policies); apply with: kubectl apply -k {out}")
    return EXIT_OK
