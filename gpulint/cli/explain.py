"""`gpulint explain POLICY`: what a built-in policy checks, why, examples and settings."""

from __future__ import annotations

import difflib
import sys

import typer

from gpulint.cli.common import usage


def register(app: typer.Typer) -> None:
    app.command("explain", help="Explain a built-in policy: what it checks, why it matters, a failing and "
                                "a passing example, and its settings.\n\n\b\nExample:\n  gpulint explain "
                                "gpu-worker-homogeneity")(explain)


def explain(policy: str = typer.Argument(..., help="Policy name, e.g. gpu-require-shm.")) -> int:
    from gpulint.rulepack import find_rule, load_registry
    from gpulint.rulepack.docs import render_page

    rule = find_rule(policy)
    if rule is None:
        names = [r.name for r in load_registry()]
        close = difflib.get_close_matches(policy, names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else " (gpulint rules lists them)"
        return usage(f"unknown policy '{policy}'{hint}")
    page = render_page(rule)
    page = page[:page.rfind("<!--")].rstrip() + "\n"
    sys.stdout.write(page)
    return 0
