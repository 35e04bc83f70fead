"""Reporters handle 30,000 findings quickly: no per-finding rich call, no quadratic step."""

import time

import pytest

from gpulint.engine.result import FAIL, SKIP, PolicyInfo, RuleResult, Suppression
from gpulint.load import load_text
from gpulint.report import CheckReport

POD = """\
---
apiVersion: v1
kind: Pod
metadata:
  name: pod-{i}
  namespace: ns-{n}
spec:
  containers:
    - name: main
      image: docker.io/library/app:{i}
      resources:
        limits:
          nvidia.com/gpu: 1
"""
FINDINGS = 30_000
# Seconds per reporter, about ten times what a laptop needs: a regression to per-finding rich
# rendering or to a quadratic step (tens of seconds) still fails.
BUDGET = 20.0


@pytest.fixture(scope="module")
def big_report():
    loaded = load_text("".join(POD.format(i=i, n=i % 50) for i in range(FINDINGS // 3)), "big.yaml")
    policies = [PolicyInfo(name=f"policy-{k}", kind="ValidatingPolicy", severity=s, category="GPU Security",
                           title=f"Policy {k}", description="d", fix="f")
                for k, s in enumerate(("high", "medium", "low"))]
    results = []
    for resource in loaded.resources:
        for k, policy in enumerate(policies):
            result = RuleResult(policy, "", FAIL, f"container main breaks policy {k}", resource,
                                field_path=("spec", "containers", 0, "image"))
            if k == 2:
                result.result = SKIP
                result.suppression = Suppression("baseline", "in baseline", FAIL, result.message)
            results.append(result)
    for resource in loaded.resources:  # positions are resolved lazily; time the reporters, not the parser
        resource.locate(("spec", "containers", 0, "image"))
    return CheckReport(results=results, files=["big.yaml"], resources=len(loaded.resources), policies=policies)


@pytest.mark.parametrize("fmt", ["text", "json", "policy-report", "sarif", "junit", "github"])
def test_reporter_handles_30000_findings(big_report, fmt):
    from gpulint.cli.outputs import Output, render

    started = time.perf_counter()
    text = render(big_report, Output(fmt), quiet=False, include_pass=True, report_api="wgpolicyk8s", color=False)
    elapsed = time.perf_counter() - started
    assert len(big_report.results) == FINDINGS
    assert "pod-9999" in text
    assert elapsed < BUDGET, f"{fmt}: {elapsed:.1f}s for {FINDINGS} findings"
    print(f"{fmt}: {elapsed:.2f}s")
