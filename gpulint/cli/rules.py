"""`gpulint rules`: list the built-in policies."""

from __future__ import annotations

import json
import sys

import typer

from gpulint.cli.common import usage

HELP = """List the built-in GPU policies with category, severity, the kinds they match and their settings.

\b
Examples:
  gpulint rules
  gpulint rules -o json | jq '.[] | select(.severity == "critical") | .name'
"""


def register(app: typer.Typer) -> None:
    app.command("rules", help=HELP)(rules)


def rules(output_format: str = typer.Option("text", "--format", "-o", help="text or json")) -> int:
    from gpulint.rulepack import load_registry

    registry = load_registry()
    if output_format == "json":
        rows = [{"name": r.name, "title": r.title, "category": r.category, "severity": r.severity,
                 "kinds": r.kinds, "settings": r.settings, "enabled": r.default_on, "fix": r.fix}
                for r in registry]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if output_format != "text":
        return usage(f"unknown format '{output_format}' (choose from text, json)")
    width = max(len(r.name) for r in registry) if registry else 10
    current = None
    for rule in sorted(registry, key=lambda r: (r.category, r.name)):
        if rule.category != current:
            current = rule.category
            sys.stdout.write(f"\n{current}\n")
        settings = f"  settings: {', '.join(rule.settings)}" if rule.settings else ""
        off = "  (off by default)" if not rule.default_on else ""
        sys.stdout.write(f"  {rule.name:<{width}}  {rule.severity:<8}  {rule.title}{off}\n")
        sys.stdout.write(f"  {'':<{width}}  {'':<8}  kinds: {', '.join(rule.kinds)}{settings}\n")
    sys.stdout.write(f"\n{len(registry)} policies; `gpulint explain NAME` for details\n")
    return 0
