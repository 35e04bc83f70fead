"""Kyverno policy-library conformance: the suites in ../shared with the results real Kyverno computes.

Targets per class (suites classified by what their policies need, as the conformance README does):
legacy validate >= 97% passed, CEL (validate.cel, ValidatingPolicy, VAP) >= 95% passed, and every
suite needing mutation, generation or image verification reported `unsupported` (never passed).
"""

import time
from collections import defaultdict
from pathlib import Path

import pytest

from gpulint.testrunner import run_paths
from gpulint.testrunner.classify import CLASS_CEL, CLASS_LEGACY, CLASS_OTHER, suite_class

SHARED = Path(__file__).parents[2].parent / "shared"
SUITES = SHARED / "conformance" / "kyverno-policies"
TARGETS = {CLASS_LEGACY: 0.97, CLASS_CEL: 0.95}


@pytest.fixture(scope="module")
def conformance():
    if not SUITES.is_dir():
        pytest.skip(f"{SUITES} is absent (the read-only ../shared material is not beside this checkout)")
    started = time.perf_counter()
    report = run_paths([str(SUITES)])
    return report, time.perf_counter() - started


def by_class(report):
    classes = defaultdict(list)
    for suite in report.suites:
        classes[suite_class(suite.features, suite.status == "unsupported")].append(suite)
    return classes


def describe(suites):
    lines = []
    for suite in suites:
        failing = [row for row in suite.rows if row.status == "fail"][:3]
        detail = suite.reason or "; ".join(f"{r.policy}/{r.rule} {r.display}: {r.reason}" for r in failing)
        lines.append(f"  {suite.status}: {suite.path}: {detail}")
    return "\n".join(lines)


@pytest.mark.parametrize("klass", [CLASS_LEGACY, CLASS_CEL])
def test_pass_rate_per_class(conformance, klass):
    report, _ = conformance
    suites = by_class(report)[klass]
    assert suites, f"no {klass} suites found"
    passed = sum(1 for suite in suites if suite.status == "passed")
    rate = passed / len(suites)
    failing = [suite for suite in suites if suite.status != "passed"]
    assert rate >= TARGETS[klass], (f"{klass}: {passed}/{len(suites)} passed ({rate:.1%} < {TARGETS[klass]:.0%})\n"
                                    + describe(failing))


def test_other_suites_are_unsupported_never_passed_nor_crashed(conformance):
    report, _ = conformance
    others = by_class(report)[CLASS_OTHER]
    assert others
    wrong = [suite for suite in others if suite.status != "unsupported"]
    assert not wrong, describe(wrong)
    assert not [s for s in report.suites if "internal error" in s.reason], describe(
        [s for s in report.suites if "internal error" in s.reason])


def test_whole_set_runs_in_under_a_minute(conformance):
    report, seconds = conformance
    assert len(report.suites) >= 243
    assert seconds < 60, f"{len(report.suites)} suites took {seconds:.1f}s"
