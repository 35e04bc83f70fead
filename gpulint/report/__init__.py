"""The report stage: results -> formats. Reporters never evaluate anything."""

from __future__ import annotations

from dataclasses import dataclass, field

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
