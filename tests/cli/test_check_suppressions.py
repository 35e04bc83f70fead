"""Suppressions through `gpulint check`: gpulint.io/ignore, Kyverno PolicyExceptions, baselines.
Suppressed findings are `skip` results with their reason, never dropped."""

import json
import shutil
import textwrap

import pytest

from gpulint.cli import main
from tests.conftest import ROOT

DATA = ROOT / "tests" / "report" / "data"
BASE = ["--no-builtin", "-p", str(DATA / "policies")]


def run(capsys, *argv):
    code = main(["check", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def results(out):
    return {(r["policy"], r["resource"]["name"], r.get("role") or ""): r for r in json.loads(out)["results"]}


def test_annotation_suppresses_named_policies_with_its_reason(capsys):
    code, out, _ = run(capsys, *BASE, str(DATA / "manifests" / "pods.yaml"), "-o", "json")
    found = results(out)
    for policy in ("test-gpu-registry", "test-gpu-priority"):
        entry = found[(policy, "legacy-app", "")]
        assert entry["result"] == "skip"
        assert entry["message"] == "suppressed by gpulint.io/ignore: mirrored to nvcr.io in Q3 (TICKET-42)"
        assert entry["suppression"]["kind"] == "annotation" and entry["suppression"]["result"] == "fail"
    assert "suppression" not in found[("test-gpu-registry", "trainer", "")]


def test_annotation_without_reason_is_a_finding_and_suppresses_nothing(capsys):
    code, out, _ = run(capsys, *BASE, str(DATA / "manifests" / "pods.yaml"), "-o", "json")
    found = results(out)
    synthetic = found[("gpulint-suppression", "no-reason", "")]
    assert (synthetic["result"], synthetic["severity"], synthetic["line"]) == ("fail", "medium", 73)
    assert "gives no reason" in synthetic["message"]
    assert found[("test-gpu-registry", "no-reason", "")]["result"] == "fail"


def test_suppression_alone_does_not_fail_the_run(capsys, tmp_path):
    pod = (DATA / "manifests" / "pods.yaml").read_text().split("---\n")[4]  # legacy-app, fully suppressed
    (tmp_path / "pod.yaml").write_text(pod)
    code, out, _ = run(capsys, *BASE, str(tmp_path / "pod.yaml"))
    assert code == 0
    assert "was fail: container app uses image legacy/app:7" in out
    assert out.splitlines()[-1].startswith("0 findings, 2 suppressed")


def test_exceptions_of_both_api_groups(capsys):
    code, out, _ = run(capsys, *BASE, "--exception", str(DATA / "exceptions"), str(DATA / "manifests"), "-o", "json")
    found = results(out)
    legacy = found[("test-namespace-team", "sandbox", "")]
    assert legacy["result"] == "skip" and legacy["suppression"]["kind"] == "exception"
    cel = found[("test-gpu-registry", "vendor-agent", "")]
    assert cel["result"] == "skip" and "ml/vendor-agent-registry" in cel["message"]
    assert found[("test-namespace-team", "scratch", "")]["result"] == "fail"


def test_without_exceptions_the_findings_stay(capsys):
    code, out, _ = run(capsys, *BASE, str(DATA / "manifests"), "-o", "json")
    found = results(out)
    assert found[("test-namespace-team", "sandbox", "")]["result"] == "fail"
    assert found[("test-gpu-registry", "vendor-agent", "")]["result"] == "fail"


def test_v2beta1_exceptions_are_honoured(capsys, tmp_path):
    text = (DATA / "exceptions" / "sandbox.yaml").read_text().replace("kyverno.io/v2\n", "kyverno.io/v2beta1\n")
    (tmp_path / "exc.yaml").write_text(text)
    code, out, _ = run(capsys, *BASE, "--exception", str(tmp_path / "exc.yaml"),
                       str(DATA / "manifests" / "namespaces.yaml"), "-o", "json")
    assert results(out)[("test-namespace-team", "sandbox", "")]["result"] == "skip"


def test_a_non_exception_in_an_exception_file_is_a_usage_error(capsys):
    code, out, err = run(capsys, *BASE, "--exception", str(DATA / "manifests" / "namespaces.yaml"),
                         str(DATA / "manifests"))
    assert code == 2 and out == ""
    assert err == f"gpulint: error: {DATA / 'manifests' / 'namespaces.yaml'}:1:1: v1 Namespace is not a PolicyException\n"


def test_baseline_accepts_old_findings_and_new_ones_still_fail(capsys, tmp_path):
    manifests = tmp_path / "k8s"
    shutil.copytree(DATA / "manifests", manifests)
    baseline = tmp_path / "baseline.json"
    code, out, err = run(capsys, *BASE, str(manifests), "--write-baseline", str(baseline))
    assert code == 0  # writing a baseline accepts what it records
    written = json.loads(baseline.read_text())
    assert len(written["findings"]) == 10 and all("line" not in f for f in written["findings"])

    # Edits elsewhere in the files move every line: the baseline still matches.
    for path in manifests.iterdir():
        path.write_text("# edited\n\n" + path.read_text())
    code, out, _ = run(capsys, *BASE, str(manifests), "--baseline", str(baseline), "-o", "json")
    document = json.loads(out)
    assert code == 0
    assert document["summary"]["fail"] == 0
    skipped = [r for r in document["results"] if r.get("suppression", {}).get("kind") == "baseline"]
    assert len(skipped) == 10 and all(r["message"] == "in baseline" for r in skipped)

    # A new finding fails the run; the old ones stay skipped.
    pods = manifests / "pods.yaml"
    pods.write_text(pods.read_text() + textwrap.dedent("""\
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: newcomer, namespace: ml}
        spec:
          priorityClassName: x
          containers: [{name: c, image: quay.io/x/y:1, resources: {limits: {nvidia.com/gpu: 1}}}]
        """))
    code, out, _ = run(capsys, *BASE, str(manifests), "--baseline", str(baseline))
    assert code == 1
    findings = [line for line in out.splitlines() if line.startswith(str(manifests))]
    assert [line for line in findings if " high " in line] == \
        [line for line in findings if "newcomer" in line and " high " in line]


def test_baseline_skips_show_in_every_format(capsys, tmp_path):
    baseline = tmp_path / "baseline.json"
    run(capsys, *BASE, str(DATA / "manifests" / "namespaces.yaml"), "--write-baseline", str(baseline))
    outputs = {fmt: tmp_path / f"out.{fmt}" for fmt in ("json", "sarif", "junit", "policy-report")}
    run(capsys, *BASE, str(DATA / "manifests" / "namespaces.yaml"), "--baseline", str(baseline),
        *[f"-o{fmt}={path}" for fmt, path in outputs.items()])
    sarif = json.loads(outputs["sarif"].read_text())["runs"][0]["results"]
    assert [r["suppressions"][0]["justification"] for r in sarif] == ["in baseline"] * 2  # sandbox, scratch
    assert '<skipped message="in baseline"' in outputs["junit"].read_text()
    assert 'suppression: baseline' in outputs["policy-report"].read_text()
    assert json.loads(outputs["json"].read_text())["results"][0]["suppression"]["kind"] == "baseline"


@pytest.mark.parametrize("content", ["not json", '{"findings": []}'])
def test_bad_baseline_is_a_usage_error(capsys, tmp_path, content):
    path = tmp_path / "b.json"
    path.write_text(content)
    code, out, err = run(capsys, *BASE, str(DATA / "manifests"), "--baseline", str(path))
    assert code == 2 and out == "" and err.startswith(f"gpulint: error: {path}: not a gpulint baseline")


def test_missing_baseline_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, *BASE, str(DATA / "manifests"), "--baseline", str(tmp_path / "nope.json"))
    assert code == 2 and "cannot read baseline" in err
