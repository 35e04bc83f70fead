"""Container image references as Kyverno parses them (kyverno: pkg/utils/image/infos.go,
pkg/utils/api/image.go) for the `images` context variable and `image_normalize()`."""

from __future__ import annotations

import re
from functools import lru_cache

DEFAULT_REGISTRY = "docker.io"

_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]*)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_REFERENCE = re.compile(
    rf"^(?:({_DOMAIN})/)?({_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::({_TAG}))?(?:@({_DIGEST}))?$")


class ImageError(ValueError):
    pass


def _add_default_registry(name: str) -> str:
    i = name.find("/")
    if i == -1:
        return f"{DEFAULT_REGISTRY}/{name}"
    first = name[:i]
    if not any(c in first for c in ".:") and first != "localhost" and first.lower() == first:
        return f"{DEFAULT_REGISTRY}/{name}"
    return name


@lru_cache(maxsize=4096)
def parse_image(image: str) -> dict:
    """{registry, path, name, tag, digest, reference, referenceWithTag}; empty fields omitted."""
    full = _add_default_registry(image)
    m = _REFERENCE.match(full)
    if not m or len((m.group(1) or "") + "/" + m.group(2)) > 255:
        raise ImageError(f"bad image: {full}, defaultRegistry: {DEFAULT_REGISTRY}, "
                         f"enableDefaultRegistryMutation: true: invalid reference format")
    registry, path, tag, digest = m.group(1) or "", m.group(2), m.group(3) or "", m.group(4) or ""
    name = path.rsplit("/", 1)[-1]
    if not tag and not digest:
        tag = "latest"
    base = f"{registry}/{path}" if registry else path
    reference = f"{base}@{digest}" if digest else f"{base}:{tag}"
    info = {"registry": registry, "path": path, "name": name, "tag": tag, "digest": digest,
            "reference": reference, "referenceWithTag": f"{base}:{tag}"}
    return {k: v for k, v in info.items() if v}


def normalize(image: str) -> str:
    return parse_image(image)["reference"]


_POD_PATHS = {
    "Pod": ("spec",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_TEMPLATE_KINDS = ("DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet",
                   "ReplicationController")


_LAST: list = [None, None]


def extract_images(resource: dict, extractors: dict | None = None) -> dict:
    """The `images` context variable: {containers|initContainers|ephemeralContainers: {name: info}}.

    Images that fail to parse are left out, as Kyverno logs and skips them. The last result is
    kept because callers evaluate many policies against one resource in a row.
    """
    if not extractors and _LAST[0] is resource:
        return _LAST[1]
    out = _extract(resource, extractors)
    if not extractors:
        _LAST[0], _LAST[1] = resource, out
    return out


def _extract(resource: dict, extractors: dict | None) -> dict:
    kind = resource.get("kind")
    if extractors and kind in extractors:
        return _custom_images(resource, extractors[kind])
    if kind in _POD_PATHS:
        base = _POD_PATHS[kind]
    elif kind in _TEMPLATE_KINDS:
        base = ("spec", "template", "spec")
    else:
        return {}
    spec = resource
    for key in base:
        spec = spec.get(key) if isinstance(spec, dict) else None
    if not isinstance(spec, dict):
        return {}
    out: dict = {}
    for field in ("initContainers", "containers", "ephemeralContainers"):
        items = spec.get(field)
        if not isinstance(items, list):
            continue
        for i, container in enumerate(items):
            if not isinstance(container, dict) or not isinstance(container.get("image"), str):
                continue
            try:
                info = dict(parse_image(container["image"]))
            except ImageError:
                continue
            info["jsonPointer"] = "/" + "/".join(list(base) + [field, str(i), "image"])
            out.setdefault(field, {})[str(container.get("name", ""))] = info
    return out


def _custom_images(resource: dict, extractors: list) -> dict:
    out: dict = {}
    for extractor in extractors or []:
        if not isinstance(extractor, dict):
            continue
        path = [p for p in str(extractor.get("path", "")).split("/") if p]
        name = extractor.get("name") or "custom"
        key_field = extractor.get("key")
        value_field = extractor.get("value")
        for pointer, node in _walk_path(resource, path, ()):
            image = node.get(value_field) if value_field and isinstance(node, dict) else node
            if not isinstance(image, str):
                continue
            try:
                info = dict(parse_image(image))
            except ImageError:
                continue
            ptr = "/" + "/".join(pointer + ((value_field,) if value_field else ()))
            info["jsonPointer"] = ptr
            key = node.get(key_field) if key_field and isinstance(node, dict) else image
            out.setdefault(name, {})[str(key)] = info
    return out


def _walk_path(node, path: list, done: tuple):
    if not path:
        yield done, node
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(node, list):
            for i, item in enumerate(node):
                yield from _walk_path(item, rest, done + (str(i),))
        elif isinstance(node, dict):
            for k, item in node.items():
                yield from _walk_path(item, rest, done + (k,))
        return
    if isinstance(node, dict) and head in node:
        yield from _walk_path(node[head], rest, done + (head,))
