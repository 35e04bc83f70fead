"""Validation of test files against the cli.kyverno.io Test CRD schema shipped with gpulint.

The CRD's openAPIV3Schema is turned into a JSON schema once. Kubernetes CRD schemas do not forbid
unknown fields (the API server prunes them), but Kyverno parses test files strictly, so a strict copy
adds `additionalProperties: false` wherever the schema lists properties: violations of it are
"unknown field" findings, every other violation is a schema error.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("schemas") / "cli.kyverno.io_tests.yaml"


@dataclass
class SchemaFinding:
    path: tuple
    message: str
    unknown_field: bool  # True: a field the schema does not know (only fatal with --strict)


def _to_json_schema(node: Any) -> Any:
    """OpenAPI v3 (CRD flavour) -> JSON schema: nullable, int-or-string, strict objects."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value) for key, value in node.items()
           if not (isinstance(key, str) and key.startswith("x-kubernetes-")) and key != "nullable"}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if ("properties" in node and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@lru_cache(maxsize=1)
def _validator():
    import jsonschema
    import yaml

    with open(SCHEMA_FILE, encoding="utf-8") as handle:
        crd = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    versions = crd["spec"]["versions"]
    version = next((v for v in versions if v.get("storage")), versions[0])
    return jsonschema.Draft7Validator(_to_json_schema(version["schema"]["openAPIV3Schema"]))


def validate_test(data: Any) -> list[SchemaFinding]:
    """Schema findings for one test document, in document order."""
    findings: list[SchemaFinding] = []
    for error in _validator().iter_errors(data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set((error.schema or {}).get("properties") or ())
            for key in error.instance:
                if key not in known:
                    findings.append(SchemaFinding(path + (key,), f"unknown field \"{_dotted(path + (key,))}\"", True))
            continue
        where = _dotted(path) or "<root>"
        findings.append(SchemaFinding(path, f"{where}: {_short(error)}", False))
    findings.sort(key=lambda f: (f.unknown_field, [str(p) for p in f.path]))
    return findings


def _dotted(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(error) -> str:
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return f"unsupported value {error.instance!r} (allowed: {allowed})"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, got {type(error.instance).__name__}"
    if error.validator == "required":
        return error.message.replace("'", '"')
    return error.message
