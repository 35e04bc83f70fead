"""What `gpulint test` produces: one SuiteReport per test (a document of a kyverno-test.yaml file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

PASSED, FAILED, ERRORED, UNSUPPORTED = "passed", "failed", "errored", "unsupported"
SUITE_STATUSES = (PASSED, FAILED, ERRORED, UNSUPPORTED)

# Row outcomes, as Kyverno's RESULT column: the expectation held (pass), did not (fail), or the
# policy was invalid and its expectations were skipped (skip).
ROW_PASS, ROW_FAIL, ROW_SKIP = "pass", "fail", "skip"

# Reasons Kyverno prints beside "Want X, got Y" / "Ok".
OK, EXCLUDED, NOT_FOUND, INVALID_POLICY = "Ok", "Excluded", "Not found", "Invalid Policy"


@dataclass
class Row:
    """One line of a suite's table: an expected result checked against one actual rule response."""

    policy: str
    rule: str
    kind: str  # the resource's kind (the expected result's kind when no resource was found)
    namespace: str
    resource: str  # the resource name ("" when the row is not about one resource)
    display: str  # RESOURCE column: apiVersion/Kind/namespace/name
    expected: str
    actual: Optional[str]  # result word; "excluded" / None (not found) otherwise
    status: str  # ROW_PASS | ROW_FAIL | ROW_SKIP
    reason: str
    message: str = ""


@dataclass
class SuiteReport:
    path: str  # the kyverno-test.yaml file
    name: str  # metadata.name of the test
    status: str = PASSED
    reason: str = ""  # why the suite errored, is unsupported, or (strict) failed beyond its rows
    rows: list[Row] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    index: int = 0  # document index inside the file
    features: frozenset = frozenset()  # what its policies need (see classify.py)

    def finish(self) -> "SuiteReport":
        """Set the status from the rows, unless the suite already errored or is unsupported."""
        if self.status == PASSED and any(row.status == ROW_FAIL for row in self.rows):
            self.status = FAILED
        return self


@dataclass
class RunReport:
    suites: list[SuiteReport] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for suite in self.suites if suite.status == status)

    @property
    def ok(self) -> bool:
        return all(suite.status == PASSED for suite in self.suites)

    def summary(self) -> dict:
        return {"suites": len(self.suites), "passed": self.count(PASSED), "failed": self.count(FAILED),
                "errored": self.count(ERRORED), "unsupported": self.count(UNSUPPORTED)}
