"""Pattern anchors (kyverno: pkg/engine/anchor/anchor.go, handlers.go, anchormap.go).

Syntax `^([+<=X^])?\\((.+)\\)$` on the trimmed key: `(k)` conditional, `<(k)` global,
`=(k)` equality, `X(k)` negation, `^(k)` existence, `+(k)` add-if-not-present (mutate only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_ANCHOR = re.compile(r"^([+<=X^])?\((.+)\)$", re.DOTALL)

CONDITION, GLOBAL, NEGATION, ADD, EQUALITY, EXISTENCE = "", "<", "X", "+", "=", "^"

# Error kinds: anchors signal skips (conditional, global) and negation failures by type.
COND_ERR, GLOBAL_ERR, NEG_ERR = "conditional", "global", "negation"


@dataclass(frozen=True)
class Anchor:
    modifier: str
    key: str

    def __str__(self) -> str:
        return f"{self.modifier}({self.key})"


@lru_cache(maxsize=8192)
def parse_anchor(text) -> Anchor | None:
    if not isinstance(text, str):
        return None
    m = _ANCHOR.match(text.strip())
    if not m or not m.group(2):
        return None
    return Anchor(m.group(1) or "", m.group(2))


def is_validate_anchor(a: Anchor | None) -> bool:
    """Anchors evaluated in phase 1 of a map (conditional, existence, equality, negation)."""
    return a is not None and a.modifier in (CONDITION, EXISTENCE, EQUALITY, NEGATION)


def is_any_validate_anchor(a: Anchor | None) -> bool:
    return a is not None and a.modifier in (CONDITION, EXISTENCE, EQUALITY, NEGATION, GLOBAL)


def remove_anchor(key: str) -> tuple[str, str]:
    """(key without anchor, modifier) — modifier is None for plain keys."""
    a = parse_anchor(key)
    return (a.key, a.modifier) if a else (key, None)


def has_nested_anchors(pattern) -> bool:
    if isinstance(pattern, dict):
        if any(is_any_validate_anchor(parse_anchor(k)) for k in pattern):
            return True
        return any(has_nested_anchors(v) for v in pattern.values())
    if isinstance(pattern, list):
        return any(has_nested_anchors(v) for v in pattern)
    return False


class AnchorMap:
    """Tracks, for each conditional/existence/negation anchor key of the pattern, whether the
    resource ever had that key; a plain mismatch with a key never seen is an error, not a fail."""

    __slots__ = ("seen",)

    def __init__(self):
        self.seen: dict[str, bool] = {}

    def check(self, pattern: dict, resource) -> None:
        for key in pattern:
            a = parse_anchor(key)
            if a is None or a.modifier not in (CONDITION, EXISTENCE, NEGATION):
                continue
            if self.seen.get(key):
                continue
            self.seen[key] = _has_key(resource, a.key)

    def keys_are_missing(self) -> bool:
        return any(not v for v in self.seen.values())


def _has_key(resource, key: str) -> bool:
    if isinstance(resource, dict):
        return key in resource
    if isinstance(resource, list):
        return any(_has_key(v, key) for v in resource)
    return False
