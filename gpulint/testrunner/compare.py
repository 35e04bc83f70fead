"""Expected results against engine responses, the way `kyverno test` compares them.

Kyverno's quirks are kept on purpose (kyverno-semantics.md 9.5, kyverno-cel-semantics.md 7):
`kind` is not used to pick resources; names in `resources` that match nothing are dropped, and when
none match every resource is checked; a policy response without a matching rule response is a pass
("Excluded") whatever was expected; a resource without a response of the policy is "Not found";
`rule` also matches the `autogen-`/`autogen-cronjob-` variants and is ignored for rule-less kinds.
`strict` turns what Kyverno lets pass silently into failures.
"""

from __future__ import annotations

from typing import Callable, Optional

from gpulint.testrunner.classify import RULELESS_KINDS
from gpulint.testrunner.evaluate import PolicyResponse, SuiteResource
from gpulint.testrunner.model import (
    EXCLUDED, INVALID_POLICY, NOT_FOUND, OK, ROW_FAIL, ROW_PASS, ROW_SKIP, Row)

Responses = Callable[[Optional[str]], dict[str, list[PolicyResponse]]]


def select_resources(result: dict, resources: list[SuiteResource]) -> tuple[list[SuiteResource], list[str]]:
    """The resources an expected result is checked against, and the names in it that match nothing."""
    selected: list[SuiteResource] = []
    missing: list[str] = []
    names = result.get("resources")
    if names is not None:  # `resourceSpecs` are only read next to a `resources` list (Kyverno)
        for name in names if isinstance(names, list) else [names]:
            name = str(name)
            parts = name.split("/")
            matched = [r for r in resources
                       if (len(parts) == 1 and r.name == name)
                       or (len(parts) == 2 and r.namespace == parts[0] and r.name == parts[1])]
            if not matched:
                missing.append(name)
            selected.extend(matched)
        for spec in result.get("resourceSpecs") or ():
            if not isinstance(spec, dict):
                continue
            group, version = str(spec.get("group") or ""), str(spec.get("version") or "")
            api_version = f"{group}/{version}" if group else version
            namespace, name = str(spec.get("namespace") or ""), str(spec.get("name") or "")
            selected.extend(r for r in resources
                            if r.api_version == api_version and r.namespace == namespace and r.name == name)
    if not selected:
        selected = list(resources)
    return selected, missing


def _matching_rules(response: PolicyResponse, rule: str):
    if not rule or response.kind in RULELESS_KINDS:
        return response.rules
    names = (rule, "autogen-" + rule, "autogen-cronjob-" + rule)
    return [r for r in response.rules if r.rule in names]


def compare(results: list, resources: list[SuiteResource], responses: Responses,
            invalid: dict[str, str], strict: bool = False) -> list[Row]:
    rows: list[Row] = []
    for result in results:
        if not isinstance(result, dict):
            continue
        rows.extend(_compare_one(result, resources, responses, invalid, strict))
    return rows


def _compare_one(result: dict, resources: list[SuiteResource], responses: Responses,
                 invalid: dict[str, str], strict: bool) -> list[Row]:
    expected = str(result.get("result", ""))
    policy_ref = str(result.get("policy", ""))
    policy = policy_ref.split("/")[-1]
    rule = str(result.get("rule") or "")
    kind = str(result.get("kind") or "")
    if policy in invalid:
        names = result.get("resources") or []
        return [Row(policy_ref, rule, kind, "", ",".join(str(n) for n in names), "", expected, None, ROW_SKIP,
                    INVALID_POLICY, invalid[policy])]
    by_key = responses(result.get("operation"))
    selected, missing = select_resources(result, resources)
    rows: list[Row] = []
    for resource in selected:
        here: list[Row] = []
        for response in by_key.get(resource.key, ()):
            if response.policy != policy:
                continue
            for rule_response in _matching_rules(response, rule):
                actual = rule_response.status
                ok = actual == expected
                here.append(_row(policy_ref, rule, resource, expected, actual, ROW_PASS if ok else ROW_FAIL,
                                 OK if ok else f"Want {expected}, got {actual}", rule_response.message))
            if not here:
                # The policy applies to the kind but no rule answered: Kyverno passes it.
                status = ROW_FAIL if strict and expected != "skip" else ROW_PASS
                reason = EXCLUDED + (" (strict: the policy did not apply)" if status == ROW_FAIL else "")
                here.append(_row(policy_ref, rule, resource, expected, "excluded", status, reason, EXCLUDED))
        if not here:
            here.append(_row(policy_ref, rule, resource, expected, None, ROW_FAIL, NOT_FOUND, NOT_FOUND))
        rows.extend(here)
    if strict:
        for name in missing:
            rows.append(Row(policy_ref, rule, kind, "", name, name, expected, None, ROW_FAIL,
                            f"{NOT_FOUND} (strict: no resource named {name})"))
    return rows


def _row(policy: str, rule: str, resource: SuiteResource, expected: str, actual: Optional[str], status: str,
         reason: str, message: str) -> Row:
    return Row(policy, rule, resource.kind, resource.namespace, resource.name, resource.display, expected, actual,
               status, reason, message)
