"""`gpulint check` parses its common command lines without typer (check_run.parse_args): the same
parameters as typer would pass, and typer's own handling for everything else."""

import pytest

import gpulint.cli.check_run as check_run
from gpulint.cli import main


def _typer_options():
    from gpulint.cli.app import build_command

    command = build_command().commands["check"]
    options = {}
    for param in command.params:
        if param.param_type_name == "argument":
            continue
        for opt in param.opts + param.secondary_opts:
            options[opt] = param
    return command, options


def test_options_match_the_typer_signature():
    command, options = _typer_options()
    assert set(options) - {"--help", "-h"} == set(check_run.OPTIONS)
    for opt, (name, kind) in check_run.OPTIONS.items():
        param = options[opt]
        assert param.name == name, opt
        assert (kind == "flag") == bool(getattr(param, "is_flag", False)), opt
        assert (kind == "list") == bool(getattr(param, "multiple", False)), opt
    names = {p.name for p in command.params if p.name != "help"}
    assert names == set(check_run.DEFAULTS)


@pytest.mark.parametrize("argv", [
    ["x.yaml"],
    [],
    ["-q", "-o", "json", "--jobs=2", "a", "-", "--config", "c.yaml", "--include-pass"],
    ["--policy", "p/", "-p", "q.yaml", "--no-builtin", "--set", "a=[1, 2]", "--disable", "x", "--enable", "y",
     "--exclude", "*.tmp", "--exception", "e.yaml", "--baseline", "b.json", "--write-baseline", "w.json",
     "--fail-on", "critical", "--report-api", "openreports", "--helm-chart", "c", "--values", "v.yaml",
     "--helm-set", "k=v", "--helm-release", "r", "--kustomize", "k", "-j", "0", "dir/"],
    ["--format=sarif=out.sarif", "one", "two"],
])
def test_same_parameters_as_typer(monkeypatch, argv):
    captured = {}
    monkeypatch.setattr(check_run, "run", lambda **kw: captured.update(kw) or 0)
    from gpulint.cli import check as typer_check  # noqa: F401 - the typer wrapper imports run at call time

    from gpulint.cli.app import build_command

    build_command().main(args=["check", *argv], prog_name="gpulint", standalone_mode=False)
    assert check_run.parse_args(argv) == captured


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--jobs", "-1", "x"], ["--jobs", "two", "x"],
                                  ["--nope", "x"], ["-qo", "json", "x"], ["--", "x"], ["-o"], ["--quiet=1"],
                                  ["-o", "--quiet"]])
def test_anything_else_goes_to_typer(argv):
    assert check_run.parse_args(argv) is None


def test_typer_still_reports_bad_options(capsys):
    assert main(["check", "--jobs", "-1", "x"]) == 2
    assert "--jobs" in capsys.readouterr().err
