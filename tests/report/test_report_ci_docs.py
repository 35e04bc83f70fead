"""Every `gpulint` command in docs/ci.md runs as written, so the recipes cannot rot.

The commands are parsed out of the page's code blocks and run through gpulint.cli.main, in order
(the baseline recipe writes the file its next command reads), in a directory holding `k8s/` (the
bundled examples) and `charts/trainer`; the GitHub Actions section runs with GITHUB_ACTIONS=true.
Each run must end in 0 or 1 (findings, no usage or input error) and each file it names must be
written and valid."""

import os
import re
import shlex
import shutil

from report_schemas import parse_github, validate_junit, validate_policy_reports, validate_sarif

from gpulint.cli import main
from tests.conftest import ROOT

DOC = ROOT / "docs" / "ci.md"
COMMAND = re.compile(r"^\s*(?:-\s+|run:\s+)?(gpulint\s.*?)\s*$")
VALIDATE = {"sarif": validate_sarif, "junit": validate_junit, "policy-report": validate_policy_reports,
            "github": parse_github, "json": lambda text: __import__("json").loads(text)}


def doc_commands() -> list[tuple[str, str]]:
    """(section, command) of every gpulint command in a code block of docs/ci.md, in order."""
    commands, section, in_block = [], "", False
    for line in DOC.read_text().splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif not in_block and line.startswith("## "):
            section = line[3:].strip()
        elif in_block and (match := COMMAND.match(line)):
            commands.append((section, match.group(1)))
    return commands


def make_chart(directory):
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text("apiVersion: v2\nname: trainer\nversion: 0.1.0\n")
    (directory / "values.yaml").write_text("image:\n  repository: nvcr.io/nvidia/pytorch\n  tag: 24.07-py3\n")
    (directory / "values-prod.yaml").write_text("image:\n  repository: docker.io/acme/pytorch\n")
    (directory / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: trainer, namespace: ml}\nspec:\n  containers:\n"
        "    - name: t\n      image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n"
        "      resources: {limits: {nvidia.com/gpu: 1}}\n")


def test_the_page_has_the_recipes():
    sections = {section for section, _ in doc_commands()}
    assert {"GitHub Actions", "GitLab CI", "Any other CI", "Baselines"} <= sections


def test_every_documented_command_runs(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "examples", tmp_path / "k8s")
    make_chart(tmp_path / "charts" / "trainer")
    (tmp_path / "exceptions").mkdir()
    monkeypatch.chdir(tmp_path)
    tools = ROOT / ".tools" / "bin"
    monkeypatch.setenv("PATH", os.pathsep.join([str(tools), os.environ.get("PATH", "")]))
    ran = 0
    for section, command in doc_commands():
        argv = shlex.split(command)
        assert not {"|", "&&", ";", ">", "||"} & set(argv), f"{command}: recipes must not need a shell"
        assert argv[0] == "gpulint"
        if "--helm-chart" in argv and shutil.which("helm") is None:
            continue  # tests/cli/test_check_inputs.py says whether helm is required here
        if section == "GitHub Actions":
            monkeypatch.setenv("GITHUB_ACTIONS", "true")
        else:
            monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
        code = main(argv[1:])
        out = capsys.readouterr()
        assert code in (0, 1), f"{command}: exit {code}\n{out.err}{out.out[-2000:]}"
        if section == "GitHub Actions" and "auto" in argv:
            parse_github(out.out)
        for index, arg in enumerate(argv):
            if arg in ("-o", "--format") and "=" in argv[index + 1]:
                fmt, _, path = argv[index + 1].partition("=")
                VALIDATE[fmt]((tmp_path / path).read_text())
            if arg == "--write-baseline":
                assert (tmp_path / argv[index + 1]).exists()
                assert code == 0
        ran += 1
    assert ran >= 6
