"""The built-in rule pack as data: each policy's metadata, settings and fixtures.

`gpulint rules`, `gpulint explain`, `gpulint export` and the generated pages in docs/rules/ all read
this registry, so the policy annotations are the single source of every rule's documentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

from gpulint.engine.builtin import builtin_rules_dir, settings_registry

SECTIONS = ("What it does", "Why it matters", "How to fix")
_SECTION_RE = re.compile(r"(What it does|Why it matters|How to fix):\s*")


@dataclass
class RuleDoc:
    name: str
    title: str
    category: str
    severity: str
    subject: str
    description: str
    fix: str
    file: Path
    text: str  # the policy file exactly as shipped
    kinds: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    default_on: bool = True

    def sections(self) -> dict[str, str]:
        """The description split into its ruff-style sections."""
        parts = _SECTION_RE.split(self.description)
        found: dict[str, str] = {}
        for index in range(1, len(parts) - 1, 2):
            found[parts[index]] = " ".join(parts[index + 1].split())
        return found


def fixtures_dir() -> Path:
    installed = Path(__file__).resolve().parent.parent / "_builtin_fixtures"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent.parent / "fixtures"


def _kinds(spec: dict) -> list[str]:
    kinds: list[str] = []
    rules = ((spec.get("matchConstraints") or {}).get("resourceRules")) or []
    for rule in rules:
        for resource in rule.get("resources") or []:
            if resource not in kinds:
                kinds.append(resource)
    if kinds == ["pods"]:
        kinds.append("(pod controllers and CRD pod templates)")
    return kinds


@lru_cache(maxsize=1)
def load_registry() -> tuple[RuleDoc, ...]:
    import yaml

    settings = settings_registry()
    docs = []
    for path in sorted(builtin_rules_dir().glob("*.yaml")):
        if path.name == "settings.yaml":
            continue
        text = path.read_text(encoding="utf-8")
        obj = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if not isinstance(obj, dict) or obj.get("kind") not in ("ValidatingPolicy", "ClusterPolicy"):
            continue
        meta = obj.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        name = meta.get("name", path.stem)
        docs.append(RuleDoc(
            name=name,
            title=annotations.get("policies.kyverno.io/title", ""),
            category=annotations.get("policies.kyverno.io/category", ""),
            severity=annotations.get("policies.kyverno.io/severity", ""),
            subject=annotations.get("policies.kyverno.io/subject", ""),
            description=" ".join(str(annotations.get("policies.kyverno.io/description", "")).split()),
            fix=annotations.get("gpulint.io/fix", ""),
            file=path,
            text=text,
            kinds=_kinds(obj.get("spec") or {}),
            settings=sorted(s for s, entry in settings.items() if name in (entry.get("policies") or [])),
            default_on=str(annotations.get("gpulint.io/default", "on")).lower() != "off",
        ))
    return tuple(sorted(docs, key=lambda d: d.name))


def find_rule(name: str) -> Optional[RuleDoc]:
    return next((doc for doc in load_registry() if doc.name == name), None)


def example_files(name: str) -> tuple[list[Path], list[Path]]:
    """(bad, good) fixture files of a built-in policy."""
    folder = fixtures_dir() / name
    if not folder.is_dir():
        return [], []
    files = sorted(folder.glob("*.yaml"))
    return ([f for f in files if f.name.startswith("bad-")], [f for f in files if f.name.startswith("good-")])
