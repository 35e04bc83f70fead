"""The files a test names besides policies and resources: values, user info, context, params, mocks.

Each loader reads paths relative to the test's directory and raises SuiteError (one line with
file:line:col) when a file cannot be used; the suite then reports as errored and the run goes on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Optional

from gpulint.load import LoadError, Resource, SourceDocument, load_paths, read_yaml_documents


class SuiteError(Exception):
    """A test that cannot be run as written; the message names the file and position."""


def full_path(test_dir: str, path: str) -> str:
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(test_dir, path))


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def load_objects(test_dir: str, paths: Any, what: str) -> list[Resource]:
    """Kubernetes objects from files or directories (resources, policies, params...)."""
    names = [full_path(test_dir, str(p)) for p in as_list(paths)]
    if not names:
        return []
    result = load_paths(names)
    if result.errors:
        raise SuiteError(f"failed to load {what}: {result.errors[0]}")
    return result.resources


def _first_document(test_dir: str, path: Any, what: str) -> tuple[dict, str, SourceDocument]:
    """The first document of a file (values, user info, context...): a mapping, with its origin."""
    name = full_path(test_dir, str(path))
    documents, errors = read_yaml_documents(name)
    if errors:
        raise SuiteError(f"failed to load {what}: {errors[0]}")
    if not documents or not isinstance(documents[0][1], dict):
        raise SuiteError(f"failed to load {what}: {LoadError(name, 1, 1, 'expected a YAML mapping')}")
    return documents[0][1], name, documents[0][0]


def _require_type_meta(data: dict, file: str, what: str) -> None:
    if not data.get("apiVersion") or not data.get("kind"):
        raise SuiteError(f"failed to load {what}: {LoadError(file, 1, 1, 'apiVersion and kind are required')}")


# -- values --------------------------------------------------------------------------------------
@dataclass
class Values:
    """A cli.kyverno.io Values document (kyverno-semantics.md 9.3)."""

    global_values: dict = field(default_factory=dict)
    policies: list = field(default_factory=list)
    namespace_selectors: dict = field(default_factory=dict)  # namespace -> labels
    namespaces: dict = field(default_factory=dict)  # namespace -> Namespace object

    @classmethod
    def from_data(cls, data: Optional[dict]) -> "Values":
        data = data or {}
        selectors = {str(e.get("name")): dict(e.get("labels") or {})
                     for e in as_list(data.get("namespaceSelector")) if isinstance(e, dict)}
        namespaces = {}
        for obj in as_list(data.get("namespaces")):
            if isinstance(obj, dict):
                namespaces[str((obj.get("metadata") or {}).get("name", ""))] = obj
        return cls(dict(data.get("globalValues") or {}), [p for p in as_list(data.get("policies"))
                                                          if isinstance(p, dict)], selectors, namespaces)

    def _policy_entries(self, policy: str) -> list[dict]:
        return [p for p in self.policies if p.get("name") == policy]

    def resource_values(self, policy: str, resource: str) -> dict:
        """globalValues, overridden by the values of this policy for this resource name."""
        values = dict(self.global_values)
        for entry in self._policy_entries(policy):
            for item in as_list(entry.get("resources")):
                if isinstance(item, dict) and item.get("name") == resource:
                    values.update(item.get("values") or {})
        return values

    def rule_values(self, policy: str) -> tuple[dict[str, dict], dict[str, dict]]:
        """Per rule name: its `values`, and its `foreachValues` (name -> list of values)."""
        values: dict[str, dict] = {}
        foreach: dict[str, dict] = {}
        for entry in self._policy_entries(policy):
            for rule in as_list(entry.get("rules")):
                if isinstance(rule, dict):
                    name = str(rule.get("name", ""))
                    values.setdefault(name, {}).update(rule.get("values") or {})
                    foreach.setdefault(name, {}).update(rule.get("foreachValues") or {})
        return values, foreach

    def namespace_labels(self, namespace: str) -> Optional[dict]:
        """Labels for namespaceSelector matching: a Namespace object's win over namespaceSelector."""
        if namespace in self.namespaces:
            labels = (self.namespaces[namespace].get("metadata") or {}).get("labels")
            return dict(labels) if isinstance(labels, dict) else {}
        labels = self.namespace_selectors.get(namespace)
        return dict(labels) if labels is not None else None

    def namespace_object(self, namespace: str) -> Optional[dict]:
        """namespaceObject for CEL policies: a listed Namespace, else one made from namespaceSelector."""
        if namespace in self.namespaces:
            return self.namespaces[namespace]
        if namespace in self.namespace_selectors:
            return {"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": namespace, "labels": dict(self.namespace_selectors[namespace])}}
        return None


def load_values(test: dict, test_dir: str) -> Values:
    if isinstance(test.get("values"), dict):  # inline values win over the `variables` file
        return Values.from_data(test["values"])
    if not test.get("variables"):
        return Values()
    data, name, _ = _first_document(test_dir, test["variables"], "values")
    _require_type_meta(data, name, "values")
    return Values.from_data(data)


# -- user info -----------------------------------------------------------------------------------
def load_user_info(test: dict, test_dir: str) -> Optional[dict]:
    """{username, uid, groups, extra, roles, clusterRoles} from the test's UserInfo file, or None."""
    if not test.get("userinfo"):
        return None
    data, name, _ = _first_document(test_dir, test["userinfo"], "user info")
    _require_type_meta(data, name, "user info")
    info = dict(data.get("userInfo") or {})
    info["roles"] = list(data.get("roles") or [])
    info["clusterRoles"] = list(data.get("clusterRoles") or [])
    return info


# -- context, params, cluster resources, mocks ------------------------------------------------------
@dataclass
class Context:
    resources: list = field(default_factory=list)  # objects for CEL resource.get/list
    images: dict = field(default_factory=dict)  # exact image reference -> image data


def load_context(test: dict, test_dir: str) -> Context:
    if not test.get("context"):
        return Context()
    data, _, _ = _first_document(test_dir, test["context"], "context")
    spec = data.get("spec") or {}
    images = {}
    for entry in as_list(spec.get("images")):
        if isinstance(entry, dict) and entry.get("image"):
            images[str(entry["image"])] = entry
    return Context([r for r in as_list(spec.get("resources")) if isinstance(r, dict)], images)


@dataclass
class Cluster:
    """clusterResources: a fake cluster (kyverno-cel-semantics.md 7.5)."""

    enabled: bool = False
    crds: list = field(default_factory=list)
    resources: list = field(default_factory=list)


def load_cluster(test: dict, test_dir: str) -> Cluster:
    paths = as_list(test.get("clusterResources"))
    if not paths:
        return Cluster()
    cluster = Cluster(enabled=True)
    for path in paths:
        data, _, _ = _first_document(test_dir, path, "cluster resources")
        spec = data.get("spec") or {}
        for crd in load_objects(test_dir, spec.get("crds"), "CRDs"):  # relative to the test, as in Kyverno
            cluster.crds.append(crd.obj)
        cluster.resources.extend(r for r in as_list(spec.get("resources")) if isinstance(r, dict))
    return cluster


def api_call_mocks(test: dict) -> dict:
    """apiCallResponses as `METHOD:url` and `url` keys -> the CEL layer's HttpResponse."""
    from gpulint.engine.cel import HttpResponse

    mocks: dict[str, Any] = {}
    for entry in as_list(test.get("apiCallResponses")):
        if not isinstance(entry, dict):
            continue
        url = entry.get("url") or entry.get("urlPath")
        if not url:
            continue
        response = entry.get("response") or {}
        value = HttpResponse(response.get("body"), int(response.get("statusCode") or 200))
        method = str(entry.get("method") or "GET").upper()
        mocks[f"{method}:{url}"] = value
        mocks.setdefault(str(url), value)
    return mocks


def global_context_entries(test: dict, test_dir: str) -> dict:
    """globalContextEntries by name: the data (after fieldPath), and its named projections."""
    import jmespath

    entries: dict[str, Any] = {}
    for entry in as_list(test.get("globalContextEntries")):
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        if "data" in entry:
            root = entry.get("data")
        elif entry.get("resources") is not None:
            root = list(as_list(entry.get("resources")))
        else:
            root = [r.obj for r in load_objects(test_dir, entry.get("resourceFiles"), "global context resources")]
        if entry.get("fieldPath"):
            root = jmespath.search(str(entry["fieldPath"]), root)
        projections = {str(p.get("name")): jmespath.search(str(p.get("path")), root)
                       for p in as_list(entry.get("projections")) if isinstance(p, dict)}
        entries[str(entry["name"])] = {"data": root, "projections": projections}
    return entries


def cel_global_context(entries: dict) -> dict:
    """globalContext.get(name[, projection]) answers: the root, with named projections as keys."""
    out = {}
    for name, entry in entries.items():
        root, projections = entry["data"], entry["projections"]
        out[name] = {**(root if isinstance(root, dict) else {}), **projections} if projections else root
    return out


def load_payloads(test: dict, test_dir: str) -> list:
    """jsonPayloads (and the deprecated jsonPayload) as resources keyed by the file name given."""
    from gpulint.testrunner.evaluate import SuiteResource

    payloads = []
    for path in as_list(test.get("jsonPayloads")) + as_list(test.get("jsonPayload")):
        data, _, source = _first_document(test_dir, path, "JSON payload")
        key = os.path.normpath(str(path))
        payloads.append(SuiteResource(key, Resource(data, source), "", "", "", key, payload=True))
    return payloads
