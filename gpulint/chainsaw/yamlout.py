"""YAML text for generated files: stable bytes for the same data, readable by people and Go YAML."""

from __future__ import annotations

import re
from typing import Any, Iterable

TEST_SCHEMA_URL = "https://raw.githubusercontent.com/kyverno/chainsaw/main/.schemas/json/test-chainsaw-v1alpha1.json"
CONFIG_SCHEMA_URL = ("https://raw.githubusercontent.com/kyverno/chainsaw/main/.schemas/json/"
                     "configuration-chainsaw-v1alpha1.json")


def _dumper():
    import yaml

    class Dumper(yaml.SafeDumper):
        # Lists indented under their key, as kubectl and the Kyverno policy library write them.
        def increase_indent(self, flow: bool = False, indentless: bool = False):
            return super().increase_indent(flow, False)

    def _str(dumper, value: str):
        style = "|" if "\n" in value.strip("\n") else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, _str)
    return Dumper


_DUMPER = None


def dump(obj: Any) -> str:
    global _DUMPER
    import yaml

    if _DUMPER is None:
        _DUMPER = _dumper()
    return yaml.dump(obj, Dumper=_DUMPER, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=100)


def dump_all(objs: Iterable[Any], header: str = "") -> str:
    parts = [dump(obj) for obj in objs]
    return header + "---\n".join(parts)


def comment(lines: Iterable[str]) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def slug(text: str, limit: int = 60) -> str:
    """A file-name-safe, lowercase form of a Kubernetes kind or name."""
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return value[:limit].rstrip("-") or "resource"


def dns_label(text: str) -> str:
    """The closest valid DNS-1123 label: object names of synthesised resources must be accepted."""
    return slug(text, 63)
