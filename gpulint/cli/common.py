"""Helpers shared by subcommands: configuration, settings and one-line usage errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

from gpulint.cli import EXIT_USAGE


class UsageError(Exception):
    """A problem with the command line or configuration; printed as one line, exit 2."""


def usage(message: str) -> int:
    print(f"gpulint: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def load_configuration(config_file: Optional[Path]):
    from gpulint.config import ConfigError, find_config, load_config

    try:
        return load_config(config_file if config_file else find_config())
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"{config_file}: cannot read configuration: {error.strerror or error}") from None


def resolve_cli_settings(config_settings: dict, set_values: List[str]) -> dict:
    """Built-in defaults < configuration file < `--set key=value`."""
    from gpulint.engine.builtin import SettingsError, parse_setting_value, resolve_settings

    overrides = dict(config_settings)
    for item in set_values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects key=value, got '{item}'")
        overrides[key.strip()] = parse_setting_value(value)
    try:
        return resolve_settings(overrides)
    except SettingsError as error:
        raise UsageError(str(error)) from None
