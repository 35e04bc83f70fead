"""`gpulint test`: run Kyverno CLI test files (kyverno-test.yaml) the way `kyverno test` does.

Public surface:
- run_paths(paths, *, strict=False) -> RunReport (raises UsageError for a bad path or unreadable file)
- render_text(report, stream), render_json(report) -> str
"""

from __future__ import annotations

import time
from typing import Sequence

from gpulint.testrunner.discover import TEST_FILE_NAME, UsageError, find_test_files, read_tests
from gpulint.testrunner.model import RunReport, SuiteReport
from gpulint.testrunner.render import render_json, render_text

__all__ = ["TEST_FILE_NAME", "RunReport", "SuiteReport", "UsageError", "render_json", "render_text", "run_paths"]


def run_paths(paths: Sequence[str], *, strict: bool = False, file_name: str = TEST_FILE_NAME) -> RunReport:
    from gpulint.testrunner.suite import run_suite

    started = time.perf_counter()
    tests = read_tests(find_test_files(paths, file_name))
    report = RunReport([run_suite(test, strict) for test in tests])
    report.seconds = time.perf_counter() - started
    return report
