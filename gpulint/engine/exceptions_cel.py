"""policies.kyverno.io PolicyException for CEL policies (kyverno-cel-semantics.md section 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from gpulint.engine.cel import CelCompileError, CelEvalError
from gpulint.engine.policyinfo import PolicyError


@dataclass
class ExceptionOutcome:
    full: bool = False
    status: str = "skip"
    message: str = ""
    names: str = ""
    allowed: Optional[dict] = None  # {"allowedImages": [...], "allowedValues": [...]} from partial matches
    error: str = ""


@dataclass
class _CompiledException:
    key: str  # "namespace/name"
    conditions: list
    images: list
    values: list
    report_pass: bool
    priority: int


@dataclass
class CelExceptionSet:
    """The CEL exceptions that name one policy, compiled in that policy's environment."""

    items: list = field(default_factory=list)

    @classmethod
    def compile(cls, exceptions: list[dict], policy, variables) -> Optional["CelExceptionSet"]:
        selected = []
        for exc in exceptions:
            spec = exc.get("spec") or {}
            refs = spec.get("policyRefs") or []
            if not any(isinstance(r, dict) and r.get("name") == policy.name and r.get("kind") == policy.kind
                       for r in refs):
                continue
            meta = exc.get("metadata") or {}
            key = f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
            conditions = []
            for index, condition in enumerate(spec.get("matchConditions") or ()):
                try:
                    conditions.append(policy.env.compile(condition.get("expression", ""), variables=variables,
                                                         expect="bool"))
                except CelCompileError as error:
                    raise PolicyError(f"failed to compile policy {policy.name} (exception {key} "
                                      f"spec.matchConditions[{index}].expression: {error})") from None
            labels = meta.get("labels") or {}
            try:
                priority = int(labels.get("polex.kyverno.io/priority", 0))
            except (TypeError, ValueError):
                priority = 0
            selected.append(_CompiledException(key, conditions, list(spec.get("images") or []),
                                               list(spec.get("allowedValues") or []),
                                               spec.get("reportResult") == "pass", priority))
        return cls(selected) if selected else None

    def evaluate(self, activation, failure_policy: str) -> ExceptionOutcome:
        matched: list[_CompiledException] = []
        full: list[_CompiledException] = []
        error = ""
        for exc in self.items:
            ok = True
            for program in exc.conditions:
                try:
                    if program.evaluate(activation) is not True:
                        ok = False
                        break
                except CelEvalError as exc_error:
                    if failure_policy != "Ignore" and not error:
                        error = str(exc_error)
                    ok = False
                    break
            if ok:
                matched.append(exc)
                if not exc.images and not exc.values:
                    full.append(exc)
        if full:
            chosen = max(full, key=lambda e: e.priority)  # first wins on ties (max keeps the first)
            names = ", ".join(e.key for e in matched)
            if chosen.report_pass:
                return ExceptionOutcome(True, "pass", f"rule is passed due to policy exception: {names}",
                                        ",".join(e.key for e in matched))
            return ExceptionOutcome(True, "skip", f"rule is skipped due to policy exception: {names}",
                                    ",".join(e.key for e in matched))
        if error:
            return ExceptionOutcome(error=error)
        if matched:
            images = [i for e in matched for i in e.images]
            values = [v for e in matched for v in e.values]
            return ExceptionOutcome(allowed={"allowedImages": images, "allowedValues": values})
        return ExceptionOutcome()
