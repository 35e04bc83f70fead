"""`-o policy-report`: Kyverno-compatible policy reports, as YAML documents separated by `---`.

`wgpolicyk8s.io/v1alpha2` PolicyReport per namespace and ClusterPolicyReport for cluster-scoped
resources (or, with `--report-api openreports`, `openreports.io/v1alpha1` Report and ClusterReport).
Results are filled as Kyverno fills them (kyverno: pkg/utils/report/results.go): passes included,
policies that do not apply to a resource left out, a `fail` of an unscored policy reported as
`warn`. Findings in the pod templates of CRDs are reported against the CRD, with the role kept in
`properties`; so are the chart template, the file position and any suppression.
"""

from __future__ import annotations

import json
import re
from typing import Optional

from gpulint.engine.policyinfo import scored
from gpulint.engine.result import FAIL, RESULT_WORDS, SEVERITIES, WARN, RuleResult
from gpulint.report import CheckReport
from gpulint.report.common import located

APIS = {
    "wgpolicyk8s": ("wgpolicyk8s.io/v1alpha2", "PolicyReport", "ClusterPolicyReport"),
    "openreports": ("openreports.io/v1alpha1", "Report", "ClusterReport"),
}
SOURCE = "gpulint"
REPORT_NAME = "gpulint"


def build(report: CheckReport, api: str = "wgpolicyk8s") -> list[dict]:
    """The report documents: one per namespace (sorted), then the cluster-scoped one."""
    api_version, kind, cluster_kind = APIS[api]
    timestamp = {"seconds": int(report.started), "nanos": int((report.started % 1) * 1e9)}
    groups: dict[str, list[dict]] = {}
    for result, position in located(report.findings(include_pass=True)):
        namespace = _namespace(result, report.namespaced)
        groups.setdefault(namespace, []).append(_result(result, position, namespace, timestamp))
    if not groups:
        groups[""] = []  # an empty cluster report still says that the run found nothing
    documents = []
    for namespace in sorted(groups, key=lambda ns: (ns == "", ns)):
        results = groups[namespace]
        metadata = {"name": REPORT_NAME, **({"namespace": namespace} if namespace else {}),
                    "labels": {"app.kubernetes.io/managed-by": SOURCE}}
        document = {"apiVersion": api_version, "kind": kind if namespace else cluster_kind, "metadata": metadata}
        if api == "openreports":
            document["source"] = SOURCE
        document["summary"] = _summary(results)
        document["results"] = results
        documents.append(document)
    return documents


def render(report: CheckReport, api: str = "wgpolicyk8s") -> str:
    out: list[str] = []
    for document in build(report, api):
        out.append("---\n")
        _emit_mapping(document, "", out)
    return "".join(out)


# A YAML writer for the plain data of reports (dicts, lists, str, int, bool): PyYAML's representer
# takes about 8 s for 30,000 results, this well under one. Strings are plain only when they cannot
# read back as anything but that string, else double-quoted (JSON escapes are YAML escapes).
_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")
_PLAIN_VALUE = re.compile(r"[A-Za-z_/](?:[A-Za-z0-9_./ -]*[A-Za-z0-9_./-])?")  # never a number, never "a: b"
_YAML_11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
# Characters JSON leaves alone but YAML reads as line breaks or may not carry unescaped.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    value = str(value)
    if _PLAIN_VALUE.fullmatch(value) and value.lower() not in _YAML_11_WORDS:
        return value
    text = json.dumps(value, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) and key.lower() not in _YAML_11_WORDS else _scalar(key)


def _emit_mapping(mapping: dict, indent: str, out: list[str], first_prefix: Optional[str] = None) -> None:
    prefix = indent if first_prefix is None else first_prefix
    if not mapping:
        out.append(f"{prefix}{{}}\n")
        return
    for key, value in mapping.items():
        head = f"{prefix}{_key(key)}:"
        prefix = indent
        if isinstance(value, dict) and value:
            out.append(head + "\n")
            _emit_mapping(value, indent + "  ", out)
        elif isinstance(value, list) and value:
            out.append(head + "\n")
            _emit_sequence(value, indent, out)
        elif isinstance(value, (dict, list)):
            out.append(f"{head} {'{}' if isinstance(value, dict) else '[]'}\n")
        else:
            out.append(f"{head} {_scalar(value)}\n")


def _emit_sequence(items: list, indent: str, out: list[str]) -> None:
    for item in items:
        if isinstance(item, dict):
            _emit_mapping(item, indent + "  ", out, first_prefix=indent + "- ")
        else:
            out.append(f"{indent}- {_scalar(item)}\n")


def _namespace(result: RuleResult, namespaced) -> str:
    resource = result.resource
    if resource.namespace:
        return resource.namespace
    if namespaced is not None and namespaced(resource.api_version, resource.kind):
        return "default"  # where the API server would put it
    return ""


def _result(result: RuleResult, position, namespace: str, timestamp: dict) -> dict:
    resource = result.resource
    policy = result.policy
    is_scored = scored(policy)
    word = WARN if result.result == FAIL and not is_scored else result.result
    entry: dict = {"policy": policy.name}
    if result.rule:
        entry["rule"] = result.rule
    entry["result"] = word
    entry["scored"] = is_scored
    if policy.severity in SEVERITIES:
        entry["severity"] = policy.severity
    if policy.category:
        entry["category"] = policy.category
    if result.message:
        entry["message"] = result.message
    entry["source"] = SOURCE
    entry["timestamp"] = dict(timestamp)  # a shared dict would be dumped as a YAML alias
    reference = {"apiVersion": resource.api_version, "kind": resource.kind, "name": resource.name}
    if namespace:
        reference["namespace"] = namespace
    uid = resource.metadata.get("uid")
    if isinstance(uid, str) and uid:
        reference["uid"] = uid
    entry["resources"] = [reference]
    properties = {str(k): v if isinstance(v, str) else str(v) for k, v in result.properties.items()}
    if result.role:
        properties["role"] = result.role
    if resource.template:
        properties["template"] = resource.template
    properties["location"] = f"{resource.file}:{position.line}:{position.column}"
    if result.suppression is not None:
        properties["suppression"] = result.suppression.kind
        if result.suppression.result:
            properties["suppressedResult"] = result.suppression.result
            properties["suppressedMessage"] = result.suppression.message
    entry["properties"] = properties
    return entry


def _summary(results: list[dict]) -> dict:
    counts = {word: 0 for word in RESULT_WORDS}
    for entry in results:
        counts[entry["result"]] += 1
    return counts
