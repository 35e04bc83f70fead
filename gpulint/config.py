"""Configuration: `.gpulint.yaml` or `[tool.gpulint]` in pyproject.toml, found upward from the cwd.

The search stops at the repository root (a directory holding `.git`), like yamllint. Every key is
validated against a JSON schema; an unknown key is an error naming the file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

CONFIG_NAMES = (".gpulint.yaml", ".gpulint.yml")
FAIL_ON_LEVELS = ("critical", "high", "medium", "low", "info", "never")

SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "fail-on": {"enum": list(FAIL_ON_LEVELS)},
        "settings": {"type": "object"},
        "disable": {"type": "array", "items": {"type": "string"}},
        "enable": {"type": "array", "items": {"type": "string"}},
        "policies": {"type": "array", "items": {"type": "string"}},
        "exclude": {"type": "array", "items": {"type": "string"}},
        "builtin": {"type": "boolean"},
        "workloads": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["group", "templates"],
                "additionalProperties": False,
                "properties": {
                    "group": {"type": "string"},
                    "templates": {"type": "array", "items": {
                        "type": "object", "required": ["path"], "additionalProperties": False,
                        "properties": {"path": {"type": "string"}, "form": {"enum": ["template", "podspec",
                                                                                        "container", "containers"]},
                                       "role": {"type": "string"}, "role_key": {"type": "string"},
                                       "extra_containers": {"type": "array", "items": {"type": "string"}}}}},
                },
            },
        },
    },
}


class ConfigError(Exception):
    """A configuration problem, already formatted as `file:line:col: message`."""


@dataclass
class Config:
    path: Optional[str] = None  # file the configuration came from (None: defaults)
    fail_on: Optional[str] = None
    settings: dict = field(default_factory=dict)
    disable: list = field(default_factory=list)
    enable: list = field(default_factory=list)
    policies: list = field(default_factory=list)
    exclude: list = field(default_factory=list)
    builtin: bool = True
    workloads: dict = field(default_factory=dict)


def find_config(start: Optional[Path] = None) -> Optional[Path]:
    """Nearest config file from `start` (default cwd) upward, stopping at the repository root."""
    directory = (start or Path.cwd()).resolve()
    while True:
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_tool_section(pyproject):
            return pyproject
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent


def _has_tool_section(pyproject: Path) -> bool:
    try:
        return "[tool.gpulint" in pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def load_config(path: Optional[Path]) -> Config:
    if path is None:
        return Config()
    if path.name == "pyproject.toml":
        data, locate = _read_pyproject(path)
    else:
        data, locate = _read_yaml(path)
    if data is None:
        return Config(path=str(path))
    _validate(data, path, locate)
    base = path.parent
    return Config(
        path=str(path),
        fail_on=data.get("fail-on"),
        settings=dict(data.get("settings") or {}),
        disable=list(data.get("disable") or []),
        enable=list(data.get("enable") or []),
        policies=[str(base / p) if not os.path.isabs(p) else p for p in data.get("policies") or []],
        exclude=list(data.get("exclude") or []),
        builtin=bool(data.get("builtin", True)),
        workloads=dict(data.get("workloads") or {}),
    )


def _read_yaml(path: Path):
    from gpulint.load import read_yaml_documents

    documents, errors = read_yaml_documents(str(path))
    if errors:
        raise ConfigError(str(errors[0]))
    if not documents:
        return None, None
    source, data = documents[0]
    if data is None:
        return None, None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:{source.line}:1: configuration must be a mapping")
    return data, lambda keys: source.locate(keys)


def _read_pyproject(path: Path):
    import tomllib

    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text).get("tool", {}).get("gpulint")
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}:1:1: {error}") from None
    lines = text.splitlines()

    def locate(keys):
        from gpulint.load.model import Position

        key = str(keys[-1]) if keys else "[tool.gpulint"
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if stripped.startswith(key) or stripped.startswith(f'"{key}"'):
                return Position(number, line.index(stripped[0]) + 1)
        return Position(1, 1)

    return data, locate


def _validate(data: dict, path: Path, locate) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    error = errors[0]
    keys = list(error.absolute_path)
    if error.validator == "additionalProperties":
        extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
        keys = keys + extra[:1]
        message = f"unknown key '{extra[0]}'" if extra else error.message
    else:
        where = ".".join(str(k) for k in keys) or "configuration"
        message = f"{where}: {error.message}"
    position = locate(tuple(keys)) if locate else None
    line, column = (position.line, position.column) if position else (1, 1)
    raise ConfigError(f"{path}:{line}:{column}: {message}")
