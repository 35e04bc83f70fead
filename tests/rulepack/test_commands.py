"""`gpulint rules`, `explain`, `export` and the generated rule docs."""

import json

import yaml

from gpulint.cli import main
from gpulint.rulepack import SECTIONS, load_registry
from gpulint.rulepack.docs import DOCS_DIR, expected_pages


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_builtin_policy_documents_what_why_and_fix():
    for rule in load_registry():
        sections = rule.sections()
        assert all(sections.get(title) for title in SECTIONS), f"{rule.name}: missing {SECTIONS} in description"
        assert rule.fix and rule.title and rule.category and rule.severity, rule.name


def test_rules_json_lists_every_policy(capsys):
    code, out, _ = run(capsys, "rules", "-o", "json")
    rows = json.loads(out)
    assert code == 0
    assert [r["name"] for r in rows] == sorted(r.name for r in load_registry())
    topology = next(r for r in rows if r["name"] == "gpu-topology")
    assert topology["severity"] == "high" and "gpusPerNode" in topology["settings"]
    assert "pytorchjobs" in topology["kinds"]


def test_rules_text(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert "  gpu-require-seccomp" in out
    assert out.rstrip().endswith("`gpulint explain NAME` for details")


def test_explain_prints_sections_examples_and_settings(capsys):
    code, out, _ = run(capsys, "explain", "gpu-approved-registries")
    assert code == 0
    for heading in ("## What it does", "## Why it matters", "## How to fix", "## Settings",
                    "## Failing example", "## Passing example"):
        assert heading in out
    assert "`approvedRegistries`" in out
    assert "gpulint reports:" in out and "> (no finding)" not in out


def test_explain_unknown_policy_suggests(capsys):
    code, _, err = run(capsys, "explain", "gpu-topolgy")
    assert code == 2
    assert err == "gpulint: error: unknown policy 'gpu-topolgy' (did you mean gpu-topology?)\n"


def test_rule_docs_are_fresh():
    """docs/rules/ must be regenerated (python -m gpulint.rulepack.docs) when a policy changes."""
    for name, text in expected_pages().items():
        page = DOCS_DIR / name
        assert page.exists(), f"{page} missing: run python -m gpulint.rulepack.docs"
        assert page.read_text(encoding="utf-8") == text, f"{page} is stale: run python -m gpulint.rulepack.docs"
    pages = {p.name for p in DOCS_DIR.glob("*.md")}
    assert pages == set(expected_pages()), "docs/rules has pages of policies that no longer exist"


def test_export_writes_kustomization_settings_and_unchanged_policies(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "deploy"
    code, stdout, _ = run(capsys, "export", "--out", str(out), "--set", "approvedRegistries=[nvcr.io, ghcr.io/acme]")
    assert code == 0 and stdout.startswith(f"wrote ")
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert kustomization["resources"][:2] == ["gpulint-settings.yaml", "rbac.yaml"]
    for rule in load_registry():
        assert (out / f"{rule.name}.yaml").read_text() == rule.text
    configmap = yaml.safe_load((out / "gpulint-settings.yaml").read_text())
    assert configmap["metadata"] == {"name": "gpulint-settings", "namespace": "kyverno",
                                     "labels": {"app.kubernetes.io/managed-by": "gpulint"}}
    assert json.loads(configmap["data"]["approvedRegistries"]) == ["nvcr.io", "ghcr.io/acme"]
    # Existing files are never overwritten without --force.
    code, _, err = run(capsys, "export", "--out", str(out))
    assert code == 2 and "use --force" in err
    assert run(capsys, "export", "--out", str(out), "--force")[0] == 0


def test_export_action_edits_only_validation_actions(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "export", "--action", "Deny")
    assert code == 0
    policies = [d for d in yaml.safe_load_all(out) if d and d.get("kind") == "ValidatingPolicy"]
    assert len(policies) == len(load_registry())
    assert all(p["spec"]["validationActions"] == ["Deny"] for p in policies)
    original = {r.name: yaml.safe_load(r.text) for r in load_registry()}
    for policy in policies:
        expected = original[policy["metadata"]["name"]]
        expected["spec"]["validationActions"] = ["Deny"]
        assert policy == expected
    assert run(capsys, "export", "--action", "Block")[0] == 2


def test_export_never_creates_missing_parents(capsys, tmp_path):
    code, _, err = run(capsys, "export", "--out", str(tmp_path / "a" / "b"))
    assert code == 2 and "no such directory" in err
    assert not (tmp_path / "a").exists()
