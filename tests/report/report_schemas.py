"""Validation of emitted reports against their official schemas (copies in tests/data/schemas).

The CRD schemas are structural OpenAPI schemas: the API server prunes fields they do not declare
instead of rejecting them. Validation here is stricter, so that a misspelt field fails a test
instead of silently vanishing in a cluster: every object schema that lists its properties gets
`additionalProperties: false`.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "schemas"
CRD_FILES = {
    ("wgpolicyk8s.io/v1alpha2", "PolicyReport"): "wgpolicyk8s.io_policyreports.yaml",
    ("wgpolicyk8s.io/v1alpha2", "ClusterPolicyReport"): "wgpolicyk8s.io_clusterpolicyreports.yaml",
    ("openreports.io/v1alpha1", "Report"): "openreports.io_reports.yaml",
    ("openreports.io/v1alpha1", "ClusterReport"): "openreports.io_clusterreports.yaml",
}


def _strict(schema):
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@lru_cache(maxsize=None)
def crd_validator(api_version: str, kind: str):
    crd = yaml.safe_load((SCHEMAS / CRD_FILES[(api_version, kind)]).read_text())
    version = api_version.split("/")[1]
    (entry,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    assert crd["spec"]["names"]["kind"] == kind
    return jsonschema.Draft7Validator(_strict(entry["schema"]["openAPIV3Schema"])), crd["spec"]["scope"]


def validate_policy_reports(text: str) -> list[dict]:
    documents = [d for d in yaml.safe_load_all(text) if d is not None]
    assert documents, "no report document"
    for document in documents:
        validator, scope = crd_validator(document["apiVersion"], document["kind"])
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
        assert ("namespace" in document["metadata"]) == (scope == "Namespaced"), document["metadata"]
    return documents


@lru_cache(maxsize=None)
def sarif_validator():
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def validate_sarif(text: str) -> dict:
    document = json.loads(text)
    errors = sorted(sarif_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    return document


def validate_junit(text: str) -> ET.Element:
    """JUnit XML has no official schema; this checks the structure that GitLab, Jenkins and the
    common junit-10.xsd (Jenkins' xunit plugin) read: counts that add up, one outcome per case."""
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name")
        cases = list(suite)
        assert all(case.tag == "testcase" and case.get("name") and case.get("classname") for case in cases)
        counts = {"tests": len(cases),
                  "failures": sum(1 for c in cases if c.find("failure") is not None),
                  "errors": sum(1 for c in cases if c.find("error") is not None),
                  "skipped": sum(1 for c in cases if c.find("skipped") is not None)}
        for case in cases:
            outcomes = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
            assert len(outcomes) <= 1, outcomes
            assert all(child.tag in ("failure", "error", "skipped", "system-out", "system-err") for child in case)
            for child in case:
                if child.tag in ("failure", "error"):
                    assert child.get("message") is not None and child.get("type")
        for key, value in counts.items():
            assert int(suite.get(key)) == value, (suite.get("name"), key)
            totals[key] += value
    for key, value in totals.items():
        assert int(root.get(key)) == value, key
    return root


_GITHUB_COMMAND = re.compile(
    r"^::(error|warning|notice) file=([^,:\r\n]+),line=(\d+),col=(\d+),title=([^,:\r\n]*)::([^\r\n]*)$")


def parse_github(text: str) -> list[tuple]:
    """The workflow commands of `-o github` output; every line must be a command except the last
    (the totals line), and no property or message may carry an unescaped separator or newline."""
    lines = text.splitlines()
    commands = []
    for line in lines[:-1]:
        match = _GITHUB_COMMAND.match(line)
        assert match, line
        commands.append(match.groups())
    assert not lines[-1].startswith("::")
    return commands
