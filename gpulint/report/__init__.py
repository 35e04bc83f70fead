"""The report stage: results -> formats. Reporters never evaluate anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from gpulint.engine.result import ERROR, FAIL, PASS, RESULT_WORDS, SKIP, WARN, RuleResult
from gpulint.load.model import LoadError


@dataclass
class CheckReport:
    """Everything one `gpulint check` run produced."""

    results: list[RuleResult] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)  # inputs and policies that could not be read
    files: list[str] = field(default_factory=list)
    resources: int = 0
    policies: list = field(default_factory=list)  # PolicyInfo of every policy evaluated
    started: float = 0.0  # epoch seconds the run started: the timestamp of policy-report results
    # Display file of a rendered input (Helm chart, kustomization) -> its origin, whose
    # file_for(template) names the repository file that code hosts should annotate.
    origins: dict = field(default_factory=dict)
    # (apiVersion, kind) -> namespaced?; None: whatever carries a namespace is namespaced.
    namespaced: Optional[Callable[[str, str], bool]] = None

    def summary(self) -> dict:
        counts = {word: 0 for word in RESULT_WORDS}
        for result in self.results:
            counts[result.result] += 1
        return counts

    def findings(self, include_pass: bool = False) -> list[RuleResult]:
        """Results worth listing: not pass (unless asked), never a mere 'does not apply' skip."""
        return [r for r in self.results
                if r.applicable and (include_pass or r.result != PASS)]


__all__ = ["CheckReport", "PASS", "FAIL", "WARN", "ERROR", "SKIP"]
