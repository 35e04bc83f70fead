"""The typer application: one module per subcommand registers itself here."""

from __future__ import annotations

import typer

from gpulint import __version__

HELP = """gpulint: Kyverno policies for Kubernetes GPU workloads, offline.

Checks manifests and `helm template` output against a built-in GPU rule pack (real Kyverno
ValidatingPolicies) and your own Kyverno policies, without a cluster.

\b
Examples:
  gpulint check manifests/                 lint a tree of manifests
  helm template ./chart | gpulint check -  lint rendered Helm output
  gpulint check -p policies/ --no-builtin k8s/   only your own Kyverno policies
  gpulint check -o json --fail-on critical .

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.
"""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gpulint {__version__}")
        raise typer.Exit(0)


def build_app() -> typer.Typer:
    app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})

    @app.callback()
    def root(version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                          help="Print the version and exit.")) -> None:
        """gpulint command line."""

    from gpulint.cli import check, explain, export, rules, test
    from gpulint.cli import gen_chainsaw, gen_test, new

    check.register(app)
    test.register(app)
    rules.register(app)
    explain.register(app)
    export.register(app)
    for module in (gen_chainsaw, gen_test, new):
        module.register(app)
    return app


def click_exceptions():
    """(Exit, Abort, ClickException) for the click that typer runs on: a dependency of older typer
    releases, vendored as typer._click by newer ones."""
    try:
        from click.exceptions import ClickException
    except ImportError:
        from typer._click.exceptions import ClickException
    return typer.Exit, typer.Abort, ClickException


def build_command():
    return typer.main.get_command(build_app())
