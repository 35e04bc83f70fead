"""Helpers shared by reporters: ordering and locating findings."""

from __future__ import annotations

from gpulint.engine.result import SEVERITY_RANK, RuleResult
from gpulint.load.model import Position


def located(results: list[RuleResult]) -> list[tuple[RuleResult, Position]]:
    """Findings with their positions, in input order of files, then line, column, policy."""
    file_order: dict[str, int] = {}
    rows = []
    for result in results:
        file_order.setdefault(result.resource.file, len(file_order))
        rows.append((result, result.location()))
    rows.sort(key=lambda row: (file_order[row[0].resource.file], row[1].line, row[1].column,
                               row[0].policy.name, row[0].rule, row[0].role or ""))
    return rows


def severity_rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, SEVERITY_RANK["info"])
