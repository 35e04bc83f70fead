"""The built-in rule pack against its fixtures, plus the conventions every policy follows.

For every policy in rules/: each fixtures/<policy>/bad-*.yaml must produce a `fail` of that policy
and each good-*.yaml must produce none (and no `error`), evaluated by the real engine through the
CLI exactly as a user runs it (`gpulint check --no-builtin -p rules/<policy>.yaml <fixture>`).
The meta-tests check the annotations, the fixture set and its kyverno-test.yaml, the shared
workload normaliser (rules/snippets/workload-roles.cel) and the settings context.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
FIXTURES = ROOT / "fixtures"
SNIPPET = RULES / "snippets" / "workload-roles.cel"
MODEL = RULES / "gpu-require-seccomp.yaml"

CATEGORIES = {"GPU Security", "Model and Data Governance", "Multi-Node Training Reliability",
              "Cost and Fair Share", "Multi-Cloud Consistency"}
SEVERITIES = {"critical", "high", "medium", "low", "info"}


def _load(path: Path):
    with open(path, encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if isinstance(doc, dict)]


POLICY_FILES = sorted(p for p in RULES.glob("*.yaml") if p.name != "settings.yaml")
POLICIES = {path: _load(path)[0] for path in POLICY_FILES}


def _name(path: Path) -> str:
    return POLICIES[path]["metadata"]["name"]


def _fixtures(path: Path) -> list[Path]:
    folder = FIXTURES / _name(path)
    return sorted(f for f in folder.glob("*.yaml") if f.name.startswith(("good-", "bad-")))


CASES = [(policy, fixture) for policy in POLICY_FILES for fixture in _fixtures(policy)]


def _check(policy: Path, fixture: Path, capsys, monkeypatch, tmp_path) -> dict:
    from gpulint.cli import main

    monkeypatch.chdir(tmp_path)  # no .gpulint.yaml of the checkout: settings are the defaults
    code = main(["check", "--no-builtin", "-p", str(policy), "-o", "json", "--include-pass",
                 "--fail-on", "never", str(fixture)])
    captured = capsys.readouterr()
    assert code in (0, 1), f"gpulint check exited {code}: {captured.err}"
    return json.loads(captured.out)


@pytest.mark.parametrize("policy,fixture", CASES,
                         ids=[f"{_name(p)}/{f.name}" for p, f in CASES])
def test_fixture_verdict(policy, fixture, capsys, monkeypatch, tmp_path):
    document = _check(policy, fixture, capsys, monkeypatch, tmp_path)
    assert not document["errors"], document["errors"]
    mine = [r for r in document["results"] if r["policy"] == _name(policy)]
    errors = [r["message"] for r in mine if r["result"] == "error"]
    assert not errors, errors
    fails = [r for r in mine if r["result"] == "fail"]
    if fixture.name.startswith("bad-"):
        assert fails, f"{fixture.name} should fail {_name(policy)}; got {[(r['result'], r['message']) for r in mine]}"
        for result in fails:
            assert result["message"] and "failed at index" not in result["message"], result
    else:
        assert not fails, [r["message"] for r in fails]


# ---------------------------------------------------------------------------- conventions

@pytest.mark.parametrize("policy", POLICY_FILES, ids=[p.stem for p in POLICY_FILES])
def test_policy_metadata(policy):
    obj = POLICIES[policy]
    assert obj["apiVersion"] == "policies.kyverno.io/v1"
    assert obj["kind"] == "ValidatingPolicy"
    assert policy.stem == obj["metadata"]["name"]
    notes = obj["metadata"].get("annotations") or {}
    for key in ("policies.kyverno.io/title", "policies.kyverno.io/subject", "gpulint.io/fix"):
        assert str(notes.get(key, "")).strip(), f"{key} missing"
    assert notes.get("policies.kyverno.io/category") in CATEGORIES
    assert notes.get("policies.kyverno.io/severity") in SEVERITIES
    description = notes.get("policies.kyverno.io/description", "")
    positions = [description.find(part) for part in ("What it does:", "Why it matters:", "How to fix:")]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), description
    assert "\n" not in notes["gpulint.io/fix"]
    spec = obj["spec"]
    assert spec.get("validations"), "no validations"
    keys = [a.get("key") for a in spec.get("auditAnnotations") or []]
    assert "field" in keys, "findings must point at the offending field (auditAnnotation `field`)"


@pytest.mark.parametrize("policy", POLICY_FILES, ids=[p.stem for p in POLICY_FILES])
def test_fixture_set(policy):
    name = _name(policy)
    folder = FIXTURES / name
    files = _fixtures(policy)
    good = [f for f in files if f.name.startswith("good-")]
    bad = [f for f in files if f.name.startswith("bad-")]
    assert len(good) >= 3 and len(bad) >= 3, f"{name}: {len(good)} good and {len(bad)} bad fixtures"
    test_file = folder / "kyverno-test.yaml"
    assert test_file.exists(), f"{test_file} is missing"
    test = _load(test_file)[0]
    assert test["apiVersion"] == "cli.kyverno.io/v1alpha1" and test["kind"] == "Test"
    assert test["policies"] == [f"../../rules/{policy.name}"]
    assert sorted(test["resources"]) == sorted(f.name for f in files)
    if "context" in test:
        assert (folder / test["context"]).exists()
    expected = {}
    for fixture in files:
        for doc in _load(fixture):
            meta = doc["metadata"]
            key = (doc["kind"], (meta["namespace"] + "/" if meta.get("namespace") else "") + meta["name"])
            assert key not in expected, f"{key} appears twice"
            expected[key] = "fail" if fixture.name.startswith("bad-") else "pass"
    listed = {}
    for row in test["results"]:
        assert row["policy"] == name
        for resource in row["resources"]:
            listed[(row["kind"], resource)] = row["result"]
    assert listed == expected


WORKLOAD_POLICIES = [p for p in POLICY_FILES
                     if any(v.get("name") == "roles" for v in POLICIES[p]["spec"].get("variables") or [])]


@pytest.mark.parametrize("policy", WORKLOAD_POLICIES, ids=[p.stem for p in WORKLOAD_POLICIES])
def test_workload_normaliser_is_the_snippet(policy):
    roles = next(v for v in POLICIES[policy]["spec"]["variables"] if v["name"] == "roles")
    assert roles["expression"].strip() == SNIPPET.read_text(encoding="utf-8").strip()


def test_gpu_workload_condition_is_shared():
    model = next(c for c in POLICIES[MODEL]["spec"]["matchConditions"] if c["name"] == "is-gpu-workload")
    for path, obj in POLICIES.items():
        for condition in obj["spec"].get("matchConditions") or []:
            if condition["name"] == "is-gpu-workload":
                assert condition["expression"] == model["expression"], path.name


def test_pod_rules_let_autogen_cover_controllers():
    """Pod-level policies match pods only (Kyverno autogen and gpulint's CRD templates do the rest)."""
    for path, obj in POLICIES.items():
        rules = obj["spec"]["matchConstraints"]["resourceRules"]
        if any("pods" in r.get("resources", []) for r in rules) and path not in WORKLOAD_POLICIES:
            assert len(rules) == 1 and rules[0]["resources"] == ["pods"], path.name
        for rule in rules:
            assert rule.get("operations"), f"{path.name}: a rule without operations never matches"


def test_settings_context_matches_defaults():
    settings = yaml.safe_load((RULES / "settings.yaml").read_text(encoding="utf-8"))
    context = _load(FIXTURES / "context.yaml")[0]
    configmap = context["spec"]["resources"][0]
    assert (configmap["metadata"]["namespace"], configmap["metadata"]["name"]) == ("kyverno", "gpulint-settings")
    data = configmap["data"]
    assert set(data) == set(settings)
    for key, entry in settings.items():
        default = entry["default"]
        value = data[key] if isinstance(default, str) else json.loads(data[key])
        assert value == default, key


def test_settings_read_by_policies_exist():
    settings = yaml.safe_load((RULES / "settings.yaml").read_text(encoding="utf-8"))
    for path in POLICY_FILES:
        text = path.read_text(encoding="utf-8")
        for key in re.findall(r"variables\.settings\.([A-Za-z]+)", text):
            assert key in settings, f"{path.name} reads unknown setting {key}"
            assert _name(path) in settings[key]["policies"], f"settings.yaml: {key} does not list {_name(path)}"


@pytest.mark.parametrize("policy", POLICY_FILES, ids=[p.stem for p in POLICY_FILES])
def test_kyverno_test_suite(policy, capsys, monkeypatch):
    """fixtures/<policy>/kyverno-test.yaml passes under `gpulint test`."""
    from gpulint.cli import main

    name = _name(policy)
    monkeypatch.chdir(ROOT)
    code = main(["test", "--fail-only", str(FIXTURES / name / "kyverno-test.yaml")])
    output = capsys.readouterr().out
    assert code == 0, output


def test_message_names_the_offending_container(capsys, monkeypatch, tmp_path):
    # Regression: cel-cpp's lazy cel.bind once returned a stale comprehension element here.
    policy = RULES / "gpu-no-premium-in-dev.yaml"
    fixture = FIXTURES / "gpu-no-premium-in-dev" / "bad-job-no-selector.yaml"
    document = _check(policy, fixture, capsys, monkeypatch, tmp_path)
    messages = [r["message"] for r in document["results"] if r["result"] == "fail"]
    assert messages and all("container tests requests GPUs" in m for m in messages), messages
