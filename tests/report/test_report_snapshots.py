"""Snapshots of every output format on the fixed input in tests/report/data.

Timestamps and the gpulint version are normalised. To regenerate after an intended change:
`GPULINT_SNAPSHOT_UPDATE=1 python -m pytest tests/report/test_report_snapshots.py`, then review the diff.
"""

import json
import os
import re
from pathlib import Path

import pytest

from gpulint import __version__
from gpulint.cli import main

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SNAPSHOTS = HERE / "snapshots"
UPDATE = os.environ.get("GPULINT_SNAPSHOT_UPDATE") == "1"
CHECK = ["check", "--no-builtin", "-p", "policies/", "--exception", "exceptions/", "manifests/"]

CASES = {
    "text": ([], "check.txt"),
    "json": ([], "check.json"),
    "policy-report": ([], "policy-report.yaml"),
    "openreports": (["--report-api", "openreports"], "openreports.yaml"),
    "sarif": ([], "check.sarif"),
    "junit": ([], "junit.xml"),
    "github": ([], "github.txt"),
}


def normalise(text: str, name: str) -> str:
    if name == "sarif":  # written compact (speed); stored indented so that diffs are reviewable
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    text = text.replace(f'"{__version__}"', '"<version>"')
    text = re.sub(r"seconds: \d+", "seconds: 0", text)
    return re.sub(r"nanos: \d+", "nanos: 0", text)


def run_check(monkeypatch, capsys, *argv) -> tuple[int, str]:
    monkeypatch.chdir(DATA)
    code = main(CHECK + list(argv))
    return code, capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CASES))
def test_snapshot(monkeypatch, capsys, name):
    extra, snapshot = CASES[name]
    fmt = "policy-report" if name == "openreports" else name
    code, out = run_check(monkeypatch, capsys, "-o", fmt, *extra)
    assert code == 1  # high findings
    got = normalise(out, name)
    path = SNAPSHOTS / snapshot
    if UPDATE:
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with GPULINT_SNAPSHOT_UPDATE=1 to create it"
    assert got == path.read_text(encoding="utf-8"), f"{name} output changed; review, then regenerate (see module doc)"
