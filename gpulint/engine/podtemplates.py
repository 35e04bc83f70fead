"""Pod templates inside training and serving CRDs, seen as Pods.

Kyverno's autogen covers the built-in controllers; it knows nothing of PyTorchJob or JobSet, yet
the pods those operators create are what a Pod policy guards in a cluster. gpulint therefore
synthesises, for each pod template of a workload CRD, the Pod the operator would create and runs
Pod-level policies on it, reporting against the CRD with the template's role and position.
The table of kinds and template paths is data (data/workloads.yaml), extensible from config.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Any, Iterator, Optional

_POD_FIELDS_FROM_PARENT = (
    "nodeSelector", "tolerations", "affinity", "volumes", "securityContext", "priorityClassName",
    "serviceAccountName", "activeDeadlineSeconds", "hostNetwork", "hostPID", "hostIPC",
    "schedulerName", "runtimeClassName", "imagePullSecrets", "initContainers", "resourceClaims",
)


@dataclass
class PodView:
    """A synthesised Pod for one pod template, and how its paths map back into the resource."""

    pod: dict
    role: Optional[str]
    template_path: tuple
    spec_path: Optional[tuple]  # where the Pod's `spec` lives in the resource (None: no 1:1 mapping)
    metadata_path: Optional[tuple]
    container_path: Optional[tuple] = None  # `container` form: the single container's path

    def map_path(self, pod_path: tuple) -> Optional[tuple]:
        """Translate a path in the synthesised Pod to a path in the resource, when it exists."""
        if not pod_path:
            return self.template_path
        head, rest = pod_path[0], tuple(pod_path[1:])
        if self.container_path is not None:
            if rest[:2] == ("containers", 0):
                return self.container_path + rest[2:]
            return self.template_path
        if head == "spec" and self.spec_path is not None:
            return self.spec_path + rest
        if head == "metadata" and self.metadata_path is not None:
            return self.metadata_path + rest
        return None


def _data_file() -> FsPath:
    return FsPath(__file__).with_name("data") / "workloads.yaml"


@lru_cache(maxsize=1)
def builtin_workloads() -> dict:
    import yaml

    with open(_data_file(), encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


class WorkloadTable:
    """Kinds whose pod templates are evaluated as Pods: built-in table plus user additions."""

    def __init__(self, extra: Optional[dict] = None) -> None:
        self._by_kind: dict[str, list[tuple[str, dict]]] = {}
        for table in (builtin_workloads(), extra or {}):
            for kind, entry in table.items():
                group = entry.get("group", "")
                self._by_kind.setdefault(kind, [])
                self._by_kind[kind] = [e for e in self._by_kind[kind] if e[0] != group]
                self._by_kind[kind].append((group, entry))

    def kinds(self) -> set[str]:
        return set(self._by_kind)

    def templates_for(self, api_version: str, kind: str) -> list[dict]:
        group = api_version.partition("/")[0] if "/" in api_version else ""
        for entry_group, entry in self._by_kind.get(kind, ()):
            if entry_group == group:
                return entry.get("templates", [])
        return []

    def expand(self, obj: dict) -> list[PodView]:
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            return []
        views: list[PodView] = []
        for template in self.templates_for(api_version, kind):
            for path, role, node in _walk(obj, template["path"].split("."), (), None, template):
                view = _build_view(obj, template, path, role or template.get("role"), node)
                if view is not None:
                    views.append(view)
        return views


def _walk(node: Any, segments: list[str], path: tuple, role: Optional[str],
          template: dict) -> Iterator[tuple[tuple, Optional[str], Any]]:
    if not segments:
        if node is not None:
            yield path, role, node
        return
    head, rest = segments[0], segments[1:]
    if head == "{}":
        if isinstance(node, dict):
            for key in node:
                yield from _walk(node[key], rest, path + (key,), str(key), template)
    elif head == "[]":
        if isinstance(node, list):
            role_key = template.get("role_key")
            for index, item in enumerate(node):
                item_role = item.get(role_key) if isinstance(item, dict) and role_key else None
                yield from _walk(item, rest, path + (index,), str(item_role or index), template)
    elif isinstance(node, dict) and head in node:
        yield from _walk(node[head], rest, path + (head,), role, template)


def _pod(obj: dict, role: Optional[str], metadata: Any, spec: dict) -> dict:
    parent_meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    meta = dict(metadata) if isinstance(metadata, dict) else {}
    name = parent_meta.get("name") or parent_meta.get("generateName") or ""
    if isinstance(name, str) and name:
        meta.setdefault("name", f"{name}-{role.lower()}" if role else name)
    if parent_meta.get("namespace"):
        meta["namespace"] = parent_meta["namespace"]
    # Pods an operator creates are owned by it; policies that judge workloads at the owner level
    # skip owned pods, exactly as they would in a cluster.
    meta["ownerReferences"] = [{"apiVersion": obj.get("apiVersion", ""), "kind": obj.get("kind", ""),
                                "name": str(name), "controller": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _build_view(obj: dict, template: dict, path: tuple, role: Optional[str], node: Any) -> Optional[PodView]:
    form = template.get("form", "template")
    if not isinstance(node, (dict, list)):
        return None
    if form == "template" and isinstance(node, dict):
        spec = node.get("spec") if isinstance(node.get("spec"), dict) else {}
        return PodView(_pod(obj, role, node.get("metadata"), spec), role, path, path + ("spec",),
                       path + ("metadata",))
    if form == "podspec" and isinstance(node, dict):
        spec = dict(node)
        extra = [node[key] for key in template.get("extra_containers", ()) if isinstance(node.get(key), dict)]
        if extra:
            containers = list(spec.get("containers") or [])
            for container in extra:
                containers.append({"name": "kserve-container", **container})
            spec["containers"] = containers
        return PodView(_pod(obj, role, node.get("metadata"), spec), role, path, path, None)
    if form in ("container", "containers"):
        return _argo_view(obj, form, path, role, node)
    if form == "nim" and isinstance(node, dict):
        return _nim_view(obj, path, role, node)
    return None


def _argo_view(obj: dict, form: str, path: tuple, role: Optional[str], node: Any) -> Optional[PodView]:
    # Argo: the container sits in spec.templates[i]; scheduling fields come from the template,
    # falling back to the workflow-level spec.
    template_path = path[:-1] if form == "container" else path[:-2]
    parent = _get(obj, template_path)
    workflow_spec = _get(obj, template_path[:-2]) or {}
    spec: dict = {}
    for source in (workflow_spec, parent or {}):
        if isinstance(source, dict):
            spec.update({k: source[k] for k in _POD_FIELDS_FROM_PARENT if k in source})
    if form == "container" and isinstance(node, dict):
        spec["containers"] = [{"name": "main", **node}]
        view_container = path
    elif isinstance(node, list):
        spec["containers"] = node
        view_container = None
    else:
        return None
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    view = PodView(_pod(obj, role, metadata, spec), role, template_path, None, None, view_container)
    return view


def _nim_view(obj: dict, path: tuple, role: Optional[str], spec_node: dict) -> PodView:
    image = spec_node.get("image")
    if isinstance(image, dict):
        repo, tag = image.get("repository", ""), image.get("tag")
        image_ref = f"{repo}:{tag}" if tag else str(repo)
    else:
        image_ref = image if isinstance(image, str) else ""
    container = {"name": "nim", "image": image_ref}
    for key in ("env", "resources", "command", "args", "securityContext"):
        if key in spec_node:
            container[key] = spec_node[key]
    spec = {k: spec_node[k] for k in _POD_FIELDS_FROM_PARENT if k in spec_node}
    # The NIM operator renders the pod security context from userID/groupID.
    security = {key: spec_node[field] for field, keys in (("userID", ("runAsUser",)),
                                                         ("groupID", ("runAsGroup", "fsGroup")))
                if field in spec_node for key in keys}
    if security:
        spec["securityContext"] = {**security, **(spec.get("securityContext") or {})}
    spec["containers"] = [container]
    metadata = {key: spec_node[key] for key in ("labels", "annotations") if isinstance(spec_node.get(key), dict)}
    return PodView(_pod(obj, role, metadata, spec), role, path, None, None)


def _get(obj: Any, path: tuple) -> Any:
    for key in path:
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and isinstance(key, int) and 0 <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj
