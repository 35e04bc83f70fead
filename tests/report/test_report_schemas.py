"""Every emitted report validates against its official schema: policy reports against the
wgpolicyk8s.io and openreports.io CRDs, SARIF against the OASIS 2.1.0 schema; JUnit and GitHub
commands (no official schema) against the structure their readers expect."""

import filecmp

import pytest
import yaml
from report_schemas import (SCHEMAS, crd_validator, parse_github, validate_junit, validate_policy_reports,
                            validate_sarif)

from gpulint.cli import main
from tests.conftest import ROOT, shared_or_skip

DATA = ROOT / "tests" / "report" / "data"
FIXED = ["--no-builtin", "-p", "policies/", "--exception", "exceptions/", "manifests/"]
BUILTIN = [str(ROOT / "examples")]  # the real rule pack on the bundled examples


def emit(monkeypatch, capsys, args, *fmt) -> str:
    if args is BUILTIN:
        return builtin_output(tuple(fmt))
    monkeypatch.chdir(DATA)
    main(["check", *args, *fmt])
    return capsys.readouterr().out


_BUILTIN_RUNS: dict = {}


def builtin_output(fmt: tuple) -> str:
    """The rule pack on the examples is the slow case: one run per report API writes every format."""
    fmt = list(fmt)
    api = fmt[fmt.index("--report-api") + 1] if "--report-api" in fmt else "wgpolicyk8s"
    if api not in _BUILTIN_RUNS:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as directory:
            names = ("sarif", "junit", "github", "policy-report")
            outputs = [f"-o{name}={Path(directory) / name}" for name in names]
            main(["check", *BUILTIN, "--report-api", api, *outputs])
            _BUILTIN_RUNS[api] = {name: (Path(directory) / name).read_text() for name in names}
    return _BUILTIN_RUNS[api][fmt[1]]


@pytest.mark.parametrize("args", [FIXED, BUILTIN], ids=["fixed-input", "builtin-examples"])
@pytest.mark.parametrize("api,kinds", [("wgpolicyk8s", {"PolicyReport", "ClusterPolicyReport"}),
                                       ("openreports", {"Report", "ClusterReport"})])
def test_policy_reports_validate_against_the_crds(monkeypatch, capsys, args, api, kinds):
    documents = validate_policy_reports(emit(monkeypatch, capsys, args, "-o", "policy-report", "--report-api", api))
    assert {d["kind"] for d in documents} <= kinds
    for document in documents:
        assert document["summary"] == {w: sum(1 for r in document["results"] if r["result"] == w)
                                       for w in ("pass", "fail", "warn", "error", "skip")}
        namespace = document["metadata"].get("namespace")
        for result in document["results"]:
            assert result["source"] == "gpulint"
            (resource,) = result["resources"]
            assert resource.get("namespace") == namespace


def test_policy_report_fields_are_filled_as_kyverno_fills_them(monkeypatch, capsys):
    documents = validate_policy_reports(emit(monkeypatch, capsys, FIXED, "-o", "policy-report"))
    by_kind = {}
    for document in documents:
        by_kind.setdefault(document["kind"], []).append(document)
    (cluster,) = by_kind["ClusterPolicyReport"]
    assert {r["resources"][0]["name"] for r in cluster["results"]} == {"ml", "sandbox", "scratch"}
    scratch = next(r for r in cluster["results"] if r["resources"][0]["name"] == "scratch")
    assert scratch["resources"][0]["uid"] == "6b1f7c1e-0000-4000-8000-000000000001"
    assert (scratch["policy"], scratch["rule"], scratch["result"], scratch["severity"], scratch["category"]) == \
        ("test-namespace-team", "require-team", "fail", "low", "GPU Cost")
    sandbox = next(r for r in cluster["results"] if r["resources"][0]["name"] == "sandbox")
    assert sandbox["result"] == "skip" and sandbox["properties"]["exceptions"] == "sandbox-has-no-team"
    research = next(d for d in by_kind["PolicyReport"] if d["metadata"]["namespace"] == "research")
    worker = [r for r in research["results"] if r["properties"].get("role") == "Worker"]
    assert {r["policy"] for r in worker} == {"test-gpu-registry", "test-gpu-priority"}
    assert all(r["resources"][0]["kind"] == "PyTorchJob" and r["resources"][0]["uid"].startswith("0f3c2a5e")
               for r in worker)
    ml = next(d for d in by_kind["PolicyReport"] if d["metadata"]["namespace"] == "ml")
    suppressed = [r for r in ml["results"] if r["properties"].get("suppression") == "annotation"]
    assert {(r["policy"], r["result"], r["properties"]["suppressedResult"]) for r in suppressed} == \
        {("test-gpu-registry", "skip", "fail"), ("test-gpu-priority", "skip", "fail")}
    assert all("TICKET-42" in r["message"] for r in suppressed)
    assert not any(r["resources"][0]["name"] == "cpu-only" for r in ml["results"])  # does not apply


def test_unscored_policy_fails_are_reported_as_warn(monkeypatch, capsys, tmp_path):
    policy = (DATA / "policies" / "test-namespace-team.yaml").read_text().replace(
        "policies.kyverno.io/severity: low", 'policies.kyverno.io/severity: low\n    policies.kyverno.io/scored: "false"')
    (tmp_path / "unscored.yaml").write_text(policy)
    documents = validate_policy_reports(emit(monkeypatch, capsys, ["--no-builtin", "-p", str(tmp_path / "unscored.yaml"),
                                                                   "manifests/namespaces.yaml"], "-o", "policy-report"))
    scratch = next(r for r in documents[0]["results"] if r["resources"][0]["name"] == "scratch")
    assert (scratch["result"], scratch["scored"]) == ("warn", False)


@pytest.mark.parametrize("args", [FIXED, BUILTIN], ids=["fixed-input", "builtin-examples"])
def test_sarif_validates_against_the_oasis_schema(monkeypatch, capsys, args):
    document = validate_sarif(emit(monkeypatch, capsys, args, "-o", "sarif"))
    run = document["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    fingerprints = [r["partialFingerprints"]["gpulintFinding/v1"] for r in run["results"]]
    assert len(fingerprints) == len(set(fingerprints))


def test_sarif_rules_carry_policy_docs_and_levels(monkeypatch, capsys):
    run = validate_sarif(emit(monkeypatch, capsys, FIXED, "-o", "sarif"))["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    registry = rules["test-gpu-registry"]
    assert registry["shortDescription"]["text"] == "GPU images come from nvcr.io"
    assert registry["fullDescription"]["text"].startswith("Every container of a GPU pod")
    assert "Fix: pull the image from nvcr.io" in registry["help"]["text"]
    assert registry["defaultConfiguration"]["level"] == "error"
    assert rules["test-gpu-priority"]["defaultConfiguration"]["level"] == "warning"
    assert rules["test-namespace-team"]["defaultConfiguration"]["level"] == "note"
    assert rules["gpulint-suppression"]["defaultConfiguration"]["level"] == "warning"
    suppressed = {(r["ruleId"], r["suppressions"][0]["kind"]) for r in run["results"] if "suppressions" in r}
    assert suppressed == {("test-gpu-registry", "inSource"), ("test-gpu-priority", "inSource"),
                          ("test-gpu-registry", "external"), ("test-namespace-team", "external")}


@pytest.mark.parametrize("args", [FIXED, BUILTIN], ids=["fixed-input", "builtin-examples"])
def test_junit_structure(monkeypatch, capsys, args):
    root = validate_junit(emit(monkeypatch, capsys, args, "-o", "junit"))
    assert int(root.get("tests")) > int(root.get("failures")) > 0  # passes are included


def test_junit_suites_cases_and_outcomes(monkeypatch, capsys):
    root = validate_junit(emit(monkeypatch, capsys, FIXED, "-o", "junit"))
    suites = {suite.get("name"): suite for suite in root}
    assert set(suites) == {"test-gpu-registry", "test-gpu-priority", "test-namespace-team", "gpulint-suppression"}
    cases = {case.get("name"): case for case in suites["test-gpu-registry"]}
    assert cases["Pod ml/good"].find("*") is None
    assert cases["Pod ml/legacy-app"].find("skipped").get("message").endswith("(TICKET-42)")
    assert cases["Pod ml/vendor-agent"].find("skipped") is not None
    failure = cases["Pod ml/trainer"].find("failure")
    assert failure.get("type") == "high" and "manifests/pods.yaml:9:7" in failure.text
    assert "Pod ml/cpu-only" not in cases  # the policy does not apply to it


@pytest.mark.parametrize("args", [FIXED, BUILTIN], ids=["fixed-input", "builtin-examples"])
def test_github_commands_are_well_formed(monkeypatch, capsys, args):
    commands = parse_github(emit(monkeypatch, capsys, args, "-o", "github"))
    assert commands and all(int(line) >= 1 and int(col) >= 1 for _, _, line, col, _, _ in commands)


def test_strict_crd_validation_rejects_unknown_fields():
    validator, _ = crd_validator("wgpolicyk8s.io/v1alpha2", "PolicyReport")
    good = {"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "metadata": {"name": "x"},
            "results": [{"policy": "p", "result": "fail"}]}
    assert not list(validator.iter_errors(good))
    bad = yaml.safe_load(yaml.safe_dump(good).replace("result: fail", "result: fail\n  sevrity: high"))
    assert list(validator.iter_errors(bad))
    bad = dict(good, results=[{"policy": "p", "result": "failed"}])
    assert list(validator.iter_errors(bad))


@pytest.mark.parametrize("name", sorted(p.name for p in SCHEMAS.iterdir() if p.suffix in (".yaml", ".json")))
def test_schema_copies_match_shared(name):
    folder = {"wgpolicyk8s": "policyreport", "openreports": "openreports", "sarif-schema-2": "sarif"}
    shared = shared_or_skip("schemas", next(v for k, v in folder.items() if name.startswith(k)), name)
    assert filecmp.cmp(shared, SCHEMAS / name, shallow=False)
