"""Kyverno ``image`` library: go-containerregistry ``name.ParseReference`` (weak validation).

Port of pkg/name (tag.go, digest.go, repository.go, registry.go, check.go):
* a registry is the first path component iff it contains '.' or ':'
  (``localhost/x`` is a Docker Hub repository), default ``index.docker.io``,
  ``docker.io`` is rewritten to it;
* Docker Hub single-component repositories get ``library/``;
* repository characters are ``[a-z0-9_-./]`` (uppercase -> error), 2..255 long;
* default tag ``latest``; for a digest reference ``tag()`` is ``""`` even if a
  tag was written (kyverno/sdk as pinned by the fact sheet; newer sdk
  versions return the written tag).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from cel_expr_python import cel

from .errors import LibraryError
from .opaque import TYPES, make
from .registry import Registry

T = cel.Type
IMG = TYPES["kyverno.image.Image"]

DEFAULT_REGISTRY = "index.docker.io"
_TAG_CHARS = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_REPO_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-./")
_HEX64 = re.compile(r"^[a-f0-9]{64}$")


class _Bad(Exception):
    pass


def _registry(name: str) -> str:
    try:
        parts = urlsplit("//" + name)
        ok = parts.netloc == name
        host, colon, port = name.rpartition(":")
        if colon and "]" not in port and not port.isdigit() and port != "":
            ok = False
    except ValueError:
        ok = False
    if not ok:
        raise _Bad(f"registries must be valid RFC 3986 URI authorities: {name}")
    if name == "":
        name = DEFAULT_REGISTRY
    if name == "docker.io":
        name = DEFAULT_REGISTRY
    return name


def _repository(name: str) -> tuple[str, str]:
    if not name:
        raise _Bad("a repository name must be specified")
    registry, repo = "", name
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first):
        registry, repo = first, rest
    if not 2 <= len(repo) <= 255:
        raise _Bad(f"repository must be between 2 and 255 characters in length: {repo}")
    if any(c not in _REPO_CHARS for c in repo):
        raise _Bad("repository can only contain the characters "
                   f"`abcdefghijklmnopqrstuvwxyz0123456789_-./`: {repo}")
    return _registry(registry), repo


def _repo_str(registry: str, repo: str) -> str:
    if "/" not in repo and registry == DEFAULT_REGISTRY:
        return "library/" + repo
    return repo


def _tag(s: str):
    base, tag = s, ""
    parts = s.split(":")
    if len(parts) > 1 and "/" not in parts[-1]:
        base, tag = ":".join(parts[:-1]), parts[-1]
    if tag and not _TAG_CHARS.match(tag):
        raise _Bad(f"tag can only contain the characters "
                   f"`abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.`: {tag}")
    registry, repo = _repository(base)
    return registry, repo, tag or "latest", ""


def _digest(s: str):
    parts = s.split("@")
    if len(parts) != 2:
        raise _Bad("a digest must contain exactly one '@' separator (e.g. registry/repository@digest) "
                   f"saw: {s}")
    base, dig = parts
    if not dig.startswith("sha256:"):
        raise _Bad(f"unsupported digest algorithm: {dig}")
    if not _HEX64.match(dig[len("sha256:"):]):
        raise _Bad("invalid checksum digest format")
    try:
        registry, repo, _, _ = _tag(base)
    except _Bad:
        registry, repo = _repository(base)
    return registry, repo, "", dig


@lru_cache(maxsize=4096)
def parse_reference(s: str):
    """(registry, repository-as-written, tag, digest) or LibraryError."""
    try:
        return _tag(s)
    except _Bad:
        pass
    try:
        return _digest(s)
    except _Bad:
        raise LibraryError(f"could not parse reference: {s}") from None


def image(s: str):
    parse_reference(s)
    return make("kyverno.image.Image", s)


def is_image(s: str) -> bool:
    try:
        parse_reference(s)
        return True
    except LibraryError:
        return False


def _p(msg):
    return parse_reference(msg.v)


def register(reg: Registry) -> None:
    reg.fn("image", [T.STRING], IMG, image)
    reg.fn("parseImageReference", [T.STRING], IMG, image)
    reg.fn("isImage", [T.STRING], T.BOOL, is_image)
    reg.fn("registry", [IMG], T.STRING, lambda m: _p(m)[0], member=True)
    reg.fn("repository", [IMG], T.STRING, lambda m: _repo_str(_p(m)[0], _p(m)[1]), member=True)
    reg.fn("identifier", [IMG], T.STRING, lambda m: _p(m)[3] or _p(m)[2], member=True)
    reg.fn("tag", [IMG], T.STRING, lambda m: _p(m)[2], member=True)
    reg.fn("digest", [IMG], T.STRING, lambda m: _p(m)[3], member=True)
    reg.fn("containsDigest", [IMG], T.BOOL, lambda m: bool(_p(m)[3]), member=True)
