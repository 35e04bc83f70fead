"""The built-in rule pack: where its files are, its settings and their defaults.

Policies read their settings from one ConfigMap (`kyverno/gpulint-settings`), so the policy text is
the same offline and in a cluster: offline gpulint synthesises that ConfigMap from the defaults in
`rules/settings.yaml` and the user's configuration; `gpulint export` writes the same ConfigMap.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SETTINGS_NAMESPACE = "kyverno"
SETTINGS_NAME = "gpulint-settings"


class SettingsError(Exception):
    pass


def builtin_rules_dir() -> Path:
    installed = Path(__file__).resolve().parent.parent / "_builtin_rules"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent.parent / "rules"


@lru_cache(maxsize=1)
def settings_registry() -> dict:
    import yaml

    path = builtin_rules_dir() / "settings.yaml"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def parse_setting_value(text: str) -> Any:
    """`--set key=value` values are YAML: `[nvcr.io, ghcr.io]`, `8`, `true`, `aws`."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def resolve_settings(overrides: dict) -> dict:
    """Defaults overlaid with the user's values, type-checked against the defaults."""
    registry = settings_registry()
    values = {name: entry.get("default") for name, entry in registry.items()}
    for name, value in overrides.items():
        if name not in registry:
            known = ", ".join(sorted(registry)) or "none"
            raise SettingsError(f"unknown setting '{name}' (known settings: {known})")
        default = registry[name].get("default")
        if not _same_type(default, value):
            raise SettingsError(f"setting '{name}' expects {_type_name(default)}, got {_type_name(value)}: {value!r}")
        values[name] = value
    return values


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)


def settings_configmap(values: dict) -> dict:
    """The ConfigMap the built-in policies read. Strings stay raw; everything else is JSON."""
    data = {name: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            for name, value in sorted(values.items())}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": SETTINGS_NAME, "namespace": SETTINGS_NAMESPACE,
                     "labels": {"app.kubernetes.io/managed-by": "gpulint"}},
        "data": data,
    }
