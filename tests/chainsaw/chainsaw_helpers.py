"""Shared by the chainsaw tests: running the CLI, reading generated trees, the Chainsaw schema."""

import json
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from gpulint.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "data" / "chainsaw" / "test-chainsaw-v1alpha1.json"
SCHEMA_COMMENT = ("# yaml-language-server: $schema=https://raw.githubusercontent.com/kyverno/chainsaw/main/"
                  ".schemas/json/test-chainsaw-v1alpha1.json\n")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@lru_cache(maxsize=1)
def validator():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)


def schema_errors(text: str) -> list[str]:
    errors = []
    for document in yaml.safe_load_all(text):
        errors += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(document)]
    return errors


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (hidden ones included), by POSIX path relative to root."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def documents_in(path: Path) -> list[dict]:
    return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def step(test: dict, name: str) -> dict:
    return next(s for s in test["spec"]["steps"] if s["name"] == name)


def applied(step_: dict) -> list[str]:
    return [op["apply"]["file"] for op in step_["try"] if "apply" in op]
