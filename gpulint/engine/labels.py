"""Kubernetes label selectors (metav1.LabelSelector) on plain label maps."""

from __future__ import annotations


def selector_matches(selector: dict, labels: dict) -> bool:
    """matchLabels AND matchExpressions; an empty selector matches everything."""
    if not isinstance(selector, dict):
        return False
    labels = labels if isinstance(labels, dict) else {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if key not in labels or str(labels[key]) != str(value):
            return False
    for expression in selector.get("matchExpressions") or ():
        if not isinstance(expression, dict):
            return False
        key = expression.get("key")
        operator = expression.get("operator")
        values = [str(v) for v in expression.get("values") or ()]
        present = key in labels
        if operator == "In":
            if not present or str(labels[key]) not in values:
                return False
        elif operator == "NotIn":
            if present and str(labels[key]) in values:
                return False
        elif operator == "Exists":
            if not present:
                return False
        elif operator == "DoesNotExist":
            if present:
                return False
        else:
            return False
    return True
