"""Findings of the built-in pack point at the offending field, not at the top of the resource."""

import json
from pathlib import Path

from gpulint.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_every_bad_fixture_finding_points_inside_the_resource(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    bad = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fixtures").glob("*/bad-*.yaml"))
    main(["check", "-o", "json", "--fail-on", "never", *bad])
    document = json.loads(capsys.readouterr().out)
    own = [r for r in document["results"]
           if r["result"] == "fail" and Path(r["file"]).parent.name == r["policy"]]
    assert len(own) >= 3 * 33
    for result in own:
        lines = (ROOT / result["file"]).read_text(encoding="utf-8").splitlines()
        text = lines[result["line"] - 1].strip()
        assert not text.startswith(("apiVersion:", "kind:", "---")), (result["policy"], result["file"], text)
        assert 1 <= result["column"] <= len(lines[result["line"] - 1]) + 1
