"""What the engine hands to reporters: one RuleResult per (policy, rule, resource[, pod template])."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from gpulint.load.model import Path, Position, Resource

PASS, FAIL, WARN, ERROR, SKIP = "pass", "fail", "warn", "error", "skip"
RESULT_WORDS = (PASS, FAIL, WARN, ERROR, SKIP)

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}  # info=0 .. critical=4


@dataclass
class PolicyInfo:
    """The policy fields reporters need, read once from the policy's metadata."""

    name: str  # report name: "name", or "namespace/name" for namespaced kinds
    kind: str  # ValidatingPolicy, ClusterPolicy, ...
    file: str = ""
    line: int = 1
    title: str = ""
    category: str = ""
    severity: str = ""  # "" when the policy does not say
    description: str = ""
    fix: str = ""  # one-line fix hint (annotation gpulint.io/fix)
    annotations: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Suppression:
    """Why a finding was turned into a `skip`, and what it was before."""

    kind: str  # "annotation" (gpulint.io/ignore), "exception" (Kyverno PolicyException) or "baseline"
    reason: str
    result: str = ""  # the result before suppression ("" for exceptions: Kyverno skips before evaluating)
    message: str = ""  # the message before suppression


@dataclass(slots=True)  # a large run keeps hundreds of thousands of them
class RuleResult:
    policy: PolicyInfo
    rule: str
    result: str  # one of RESULT_WORDS
    message: str
    resource: Resource
    # Pod templates inside CRDs: the role ("Worker") and the template's path in the resource.
    role: Optional[str] = None
    template_path: Optional[Path] = None
    # The offending field, relative to the resource (already prefixed with template_path).
    field_path: Optional[Path] = None
    properties: dict = field(default_factory=dict)
    # False for a `skip` that only says the policy does not apply (its match conditions are false):
    # counted in summaries, never listed as a finding.
    applicable: bool = True
    suppression: Optional[Suppression] = None
    # location(), when it was resolved already (by a worker process: engine/parallel.py)
    position: Optional[Position] = field(default=None, repr=False, compare=False)

    @property
    def severity(self) -> str:
        return self.policy.severity

    def location(self) -> Position:
        """Where the finding points: the field if known, else the pod template, else the resource."""
        if self.position is not None:
            return self.position
        if self.field_path is not None:
            return self.resource.locate(self.field_path)
        if self.template_path is not None:
            return self.resource.locate(self.template_path)
        return self.resource.locate(())

    def resource_display(self) -> str:
        text = self.resource.display()
        return f"{text} [{self.role}]" if self.role else text
