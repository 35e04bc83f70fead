"""Suppressions: findings turned into `skip` results that still say what they were and why.

Two sources: the `gpulint.io/ignore` annotation on a resource, and Kyverno PolicyExceptions, which
the policies already answer with a `skip` carrying the `exceptions` property; those are only
marked here so that every reporter can show them as suppressed (SARIF `suppressions`, JUnit
skipped, ...). Baselines are applied later, by the report stage, because they match on the
finding identity that the reporters define.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from gpulint.engine.result import ERROR, FAIL, SKIP, WARN, PolicyInfo, RuleResult, Suppression

IGNORE_ANNOTATION = "gpulint.io/ignore"
IGNORE_PATH = ("metadata", "annotations", IGNORE_ANNOTATION)
SUPPRESSIBLE = (FAIL, WARN, ERROR)

SUPPRESSION_POLICY = PolicyInfo(
    name="gpulint-suppression",
    kind="gpulint",
    title="Suppressions must give a reason",
    category="gpulint",
    severity="medium",
    description=(f"A {IGNORE_ANNOTATION} annotation must name the policies it silences and say why, as "
                 f'"POLICY[,POLICY...]: reason". One without a reason suppresses nothing.'),
    fix=f'write the annotation as {IGNORE_ANNOTATION}: "gpu-require-seccomp: vendor image needs Unconfined, '
        'see TICKET-123"',
)


def parse_ignore(value) -> tuple[list[str], str, Optional[str]]:
    """(policies, reason, problem) of one annotation value; `problem` is None when it is usable."""
    if not isinstance(value, str):
        return [], "", "must be a string"
    names, colon, reason = value.partition(":")
    policies = [name.strip() for name in names.split(",") if name.strip()]
    if not policies:
        return [], "", "names no policy"
    if not colon or not reason.strip():
        return policies, "", "gives no reason"
    return policies, reason.strip(), None


def apply_suppressions(results: list[RuleResult], resources: list) -> list[RuleResult]:
    """`results` with annotation suppressions applied and exception skips marked, plus one
    `gpulint-suppression` finding per unusable annotation."""
    ignores: dict[int, tuple[list[str], str]] = {}
    out: list[RuleResult] = []
    for resource in resources:
        annotations = resource.metadata.get("annotations")
        if not isinstance(annotations, dict) or IGNORE_ANNOTATION not in annotations:
            continue
        value = annotations[IGNORE_ANNOTATION]
        policies, reason, problem = parse_ignore(value)
        if problem is None:
            ignores[id(resource)] = (policies, reason)
            continue
        # Unusable annotations suppress nothing: silencing a finding must always leave a reason.
        message = (f'{IGNORE_ANNOTATION} {problem} (got {value!r}): write "POLICY[,POLICY...]: reason"; '
                   "nothing is suppressed until it does")
        out.append(RuleResult(SUPPRESSION_POLICY, "", FAIL, message, resource, field_path=IGNORE_PATH))
    for result in results:
        if result.result == SKIP and result.suppression is None and result.properties.get("exceptions"):
            result = replace(result, suppression=Suppression("exception", result.message))
        elif result.result in SUPPRESSIBLE and id(result.resource) in ignores:
            policies, reason = ignores[id(result.resource)]
            if _names(policies, result.policy.name):
                result = replace(result, result=SKIP, message=f"suppressed by {IGNORE_ANNOTATION}: {reason}",
                                 suppression=Suppression("annotation", reason, result.result, result.message))
        out.append(result)
    return out


def _names(policies: list[str], name: str) -> bool:
    # A namespaced policy reports as "namespace/name"; the annotation may give either form.
    return name in policies or name.rpartition("/")[2] in policies
