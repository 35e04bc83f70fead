"""Offline answers to `resource.Get` / `resource.List`: the objects loaded in this run."""

from __future__ import annotations

from typing import Iterable, Optional

from gpulint.engine.kinds import KindTable, split_api_version


class ResourceIndex:
    """Objects by (group, plural, namespace, name). API versions of one group are not told apart."""

    def __init__(self, kinds: KindTable, objects: Iterable[dict] = ()):
        self.kinds = kinds
        self._objects: dict[tuple[str, str], dict[tuple[str, str], dict]] = {}
        self._lists: dict[tuple[str, str, str], list[dict]] = {}  # (group, resource, namespace) -> sorted
        for obj in objects:
            self.add(obj)

    def add(self, obj: dict) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            return
        mapping = self.kinds.mapping(api_version, kind)
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        namespace = str(meta.get("namespace") or "")
        if mapping.namespaced and not namespace:
            namespace = "default"
        if not mapping.namespaced:
            namespace = ""
        bucket = self._objects.setdefault((mapping.group, mapping.resource), {})
        bucket[(namespace, str(meta.get("name") or ""))] = obj
        self._lists.clear()

    def get(self, api_version: str, resource: str, namespace: str, name: str) -> Optional[dict]:
        group = split_api_version(api_version)[0]
        return self._objects.get((group, resource), {}).get((namespace or "", name))

    def all_of(self, api_version: str, resource: str) -> list[dict]:
        """Every object of a resource type, all namespaces (ValidatingAdmissionPolicy params)."""
        group = split_api_version(api_version)[0]
        return [obj for _, obj in sorted(self._objects.get((group, resource), {}).items())]

    def list(self, api_version: str, resource: str, namespace: str) -> list[dict]:
        group = split_api_version(api_version)[0]
        key = (group, resource, namespace or "")
        found = self._lists.get(key)
        if found is None:
            if not self._lists:  # first list since the last add: index every bucket by namespace
                for (g, r), bucket in self._objects.items():
                    for (ns, _), obj in sorted(bucket.items()):
                        self._lists.setdefault((g, r, ns), []).append(obj)
            found = self._lists.get(key, [])
        return list(found)
