"""What a suite's policies need, and what offline evaluation cannot do.

A suite is `unsupported` (never `passed`) when its expectations depend on something gpulint does not
evaluate: mutation (the patched resource also feeds later validation), generation, image
verification, the other CEL policy types, authorization payloads, or live HTTP calls.
"""

from __future__ import annotations

import json
import re
from typing import Iterable

from gpulint.engine.vap import BINDING_KIND, VAP_KIND

LEGACY, LEGACY_CEL, VPOL, VAP = "legacy", "legacy-cel", "vpol", "vap"
CLASS_LEGACY, CLASS_CEL, CLASS_OTHER = "legacy", "cel", "other"

LEGACY_KINDS = ("ClusterPolicy", "Policy")
VPOL_KINDS = ("ValidatingPolicy", "NamespacedValidatingPolicy")
# Kinds whose results have no rule name: `rule:` in an expected result is ignored for them.
RULELESS_KINDS = frozenset({
    "ValidatingPolicy", "NamespacedValidatingPolicy", "ValidatingAdmissionPolicy", "MutatingPolicy",
    "NamespacedMutatingPolicy", "MutatingAdmissionPolicy", "ImageValidatingPolicy",
    "NamespacedImageValidatingPolicy", "GeneratingPolicy", "NamespacedGeneratingPolicy", "DeletingPolicy",
    "NamespacedDeletingPolicy",
})
UNSUPPORTED_KINDS = {
    "MutatingPolicy": "MutatingPolicy (mutation is not evaluated offline)",
    "NamespacedMutatingPolicy": "NamespacedMutatingPolicy (mutation is not evaluated offline)",
    "MutatingAdmissionPolicy": "MutatingAdmissionPolicy (mutation is not evaluated offline)",
    "GeneratingPolicy": "GeneratingPolicy (generation is not evaluated offline)",
    "NamespacedGeneratingPolicy": "NamespacedGeneratingPolicy (generation is not evaluated offline)",
    "ImageValidatingPolicy": "ImageValidatingPolicy (image verification needs registries)",
    "NamespacedImageValidatingPolicy": "NamespacedImageValidatingPolicy (image verification needs registries)",
    "DeletingPolicy": "DeletingPolicy (cleanup is not evaluated offline)",
    "NamespacedDeletingPolicy": "NamespacedDeletingPolicy (cleanup is not evaluated offline)",
}
_RESULT_FIELDS = {
    "patchedResources": "mutate expectation (patchedResources)",
    "patchedResource": "mutate expectation (patchedResource)",
    "generatedResource": "generate expectation (generatedResource)",
    "generatedResources": "generate expectation (generatedResources)",
    "cloneSourceResource": "generate expectation (cloneSourceResource)",
}
_TEST_FIELDS = {
    "httpPayloads": "HTTP authorization payloads",
    "envoyPayloads": "Envoy authorization payloads",
    "targetResources": "mutate-existing target resources",
}
_HTTP_CALL = re.compile(r"\bhttp\.(?:[Gg]et|[Pp]ost|[Cc]lient)\s*\(")


def policy_features(obj: dict) -> tuple[set[str], list[str]]:
    """(features, unsupported reasons) of one policy document."""
    kind = str(obj.get("kind", ""))
    name = str((obj.get("metadata") or {}).get("name", ""))
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if kind in UNSUPPORTED_KINDS:
        return set(), [f"policy {name}: {UNSUPPORTED_KINDS[kind]}"]
    if kind in (VAP_KIND, BINDING_KIND):
        return {VAP}, []
    if kind in VPOL_KINDS:
        mode = str((spec.get("evaluation") or {}).get("mode") or "Kubernetes")
        if mode not in ("Kubernetes", "JSON"):
            return set(), [f"policy {name}: evaluation.mode {mode} (authorization payloads) is not evaluated offline"]
        return {VPOL}, []
    if kind not in LEGACY_KINDS:
        return set(), []
    features, reasons = set(), []
    for rule in spec.get("rules") or ():
        if not isinstance(rule, dict):
            continue
        label = f"policy {name} rule {rule.get('name', '')}"
        if "mutate" in rule:
            reasons.append(f"{label}: mutate rules are not evaluated offline")
        if "generate" in rule:
            reasons.append(f"{label}: generate rules are not evaluated offline")
        if "verifyImages" in rule:
            reasons.append(f"{label}: verifyImages needs registries")
        validate = rule.get("validate")
        if isinstance(validate, dict):
            if "manifests" in validate:
                reasons.append(f"{label}: validate.manifests (signature verification) is not evaluated offline")
            features.add(LEGACY_CEL if "cel" in validate else LEGACY)
    return features, reasons


def test_reasons(test: dict) -> list[str]:
    """Unsupported reasons that come from the test file itself."""
    reasons = [text for key, text in _TEST_FIELDS.items() if test.get(key)]
    for result in test.get("results") or ():
        if isinstance(result, dict):
            for key, text in _RESULT_FIELDS.items():
                if result.get(key) and text not in reasons:
                    reasons.append(text)
    return reasons


def live_call_reasons(policies: Iterable[dict], test: dict) -> list[str]:
    """CEL policies calling http.* with no apiCallResponses mock would need the network."""
    if test.get("apiCallResponses"):
        return []
    reasons = []
    for obj in policies:
        if obj.get("kind") in VPOL_KINDS and _HTTP_CALL.search(json.dumps(obj.get("spec"))):
            name = (obj.get("metadata") or {}).get("name", "")
            reasons.append(f"policy {name}: http calls need the network (no apiCallResponses mock)")
    return reasons


def suite_class(features: Iterable[str], unsupported: bool) -> str:
    """legacy / cel / other, as the conformance README counts suites."""
    if unsupported:
        return CLASS_OTHER
    features = set(features)
    if features & {LEGACY_CEL, VPOL, VAP}:
        return CLASS_CEL
    return CLASS_LEGACY
