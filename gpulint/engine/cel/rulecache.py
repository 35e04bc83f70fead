"""Precomputed rewriting of the built-in rule pack: ``gpulint/engine/data/rulecache.json``.

Before cel-cpp compiles a policy expression, gpulint parses and rewrites it in Python (syntax.py,
rewrite.py, checks.py, variables.py: about 1 s for the ~700 expressions of the built-in pack) and
compiles it once to learn its type. The outcome depends only on the expression text, gpulint's CEL
layer and cel-expr-python, so it is computed when the rules change (``python scripts/build_rulecache.py``)
and shipped with the package. At run time an environment looks expressions up by their compile key:

* a hit gives the rewritten source and type: the CelProgram is compiled by cel-cpp only when it is
  first evaluated, so policies whose kinds do not occur in the input cost a dictionary lookup each;
* a miss (your own policies, a rule edited since the cache was built) takes the normal path, with
  the same result: the cache only saves time. The cache is ignored entirely when it was built from
  another version of gpulint's CEL layer or of cel-expr-python (``fingerprint``), and
  tests/engine/cel/test_rulecache.py fails when it is stale.

The cache holds the policy variables read through accessors (ids as the build numbered them; an
environment that uses the cache reserves those ids), the programs by compile key, the variable lists
known to compile, and the fused programs (CelEnvironment.fuse). gpulint never writes it at run time.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

FORMAT = 1
PATH = Path(__file__).resolve().parent.parent / "data" / "rulecache.json"
# cel-cpp's checked form of the programs every evaluation runs (fused programs, programs that read no
# variable such as matchConditions): deserializing one costs about a fifth of compiling its source.
CHECKED_PATH = PATH.with_suffix(".checked")
_CEL_DIR = Path(__file__).resolve().parent
MISSING = object()


def key_hash(key: Any) -> str:
    """A short stable digest of a compile key (expression, variables, expect, namespace, ...): tuples
    of strings, None and tuples, whose repr is the same on every CPython 3."""
    return hashlib.sha256(repr(key).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _cel_version() -> str:
    from cel_expr_python import cel

    site = Path(cel.__file__).resolve().parent.parent
    found = sorted(p.name for p in site.glob("cel_expr_python-*.dist-info"))
    return found[-1][len("cel_expr_python-"):-len(".dist-info")] if found else "unknown"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Digest of what the rewriting depends on: this package's sources and cel-expr-python's version."""
    digest = hashlib.sha256(f"format {FORMAT}\ncel-expr-python {_cel_version()}\n".encode())
    for path in sorted(_CEL_DIR.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


class RuleCache:
    def __init__(self, data: dict):
        self.documents: dict = data.get("documents", {})  # rules file name -> [sha256, [document, ...]]
        self.variables: list = data["variables"]        # [id, name, type, is_bool, source]
        self._programs: dict = data["programs"]        # key hash -> [source, return type]
        self._checked = frozenset(data["checked"])      # key hashes of variable lists that compile
        self._fused: dict = data["fused"]              # key hash -> source or None
        self._checked_forms: Optional[dict] = None      # source digest -> serialized checked program

    def checked_form(self, source: str) -> Optional[bytes]:
        """cel-cpp's serialized checked program for `source`, when the cache has it."""
        import zlib

        if self._checked_forms is None:
            self._checked_forms = read_checked_forms()
        found = self._checked_forms.get(source_digest(source))
        try:
            return zlib.decompress(found) if found is not None else None
        except zlib.error:
            return None

    def program(self, key) -> Optional[list]:
        return self._programs.get(key_hash(key))

    def checked(self, key) -> bool:
        return key_hash(key) in self._checked

    def fused(self, key):
        """The fused program's source, None (does not fuse) or MISSING."""
        return self._fused.get(key_hash(key), MISSING)


@lru_cache(maxsize=1)
def load() -> Optional[RuleCache]:
    """The shipped cache, or None when it is missing, unreadable or built by another version."""
    try:
        data = json.loads(PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("fingerprint") != fingerprint():
        return None
    return RuleCache(data)


def load_rules(directory: Path):
    """The built-in rules as load_paths([directory]) gives them, from the cache's parsed documents
    (reading YAML costs about 30 ms); None when a file is not in the cache as it is now."""
    cache = load()
    if cache is None or not cache.documents:
        return None
    from gpulint.load import LoadResult, Resource, SourceDocument

    names = sorted(p.name for p in directory.iterdir() if p.suffix in (".yaml", ".yml", ".json")
                   and not p.name.startswith(".") and p.is_file())
    if names != sorted(cache.documents):
        return None
    result = LoadResult()
    for name in names:
        path = str(directory / name)
        try:
            text = (directory / name).read_bytes()
        except OSError:
            return None
        digest, documents = cache.documents[name]
        if hashlib.sha256(text).hexdigest()[:32] != digest:
            return None
        text = text.decode("utf-8")
        result.files.append(path)
        for index, line, part, start, end, template, obj in documents:
            doc = SourceDocument(path, index, line, text[start:end], template=template, part=part)
            result.resources.append(Resource(obj, doc))
    return result


def _documents(loaded) -> dict:
    """{file name: [sha256 of its bytes, [[index, line, part, start, end, template, object], ...]]}."""
    by_file: dict = {}
    ends: dict = {}
    for path in loaded.files:
        data = Path(path).read_bytes()
        by_file[Path(path).name] = [hashlib.sha256(data).hexdigest()[:32], []]
    for resource in loaded.resources:
        doc = resource.source
        name = Path(doc.file).name
        text = Path(doc.file).read_text(encoding="utf-8")
        start = text.index(doc.text, ends.get(name, 0)) if doc.text else 0
        ends[name] = start + len(doc.text)
        by_file[name][1].append([doc.index, doc.line, doc.part, start, start + len(doc.text), doc.template,
                                 resource.obj])
    return by_file


def build() -> dict:
    """The cache for the built-in rules (in their directory), computed the normal way."""
    from gpulint.engine.builtin import builtin_rules_dir
    from gpulint.engine.cel import CelEnvironment
    from gpulint.engine.policyset import compile_policies
    from gpulint.load import load_paths

    loaded = load_paths([str(builtin_rules_dir())])
    env = CelEnvironment("vpol", rulecache=False)
    compiled = compile_policies(loaded.resources, env, legacy_env=CelEnvironment("k8s", rulecache=False))
    if compiled.errors or loaded.errors:
        raise RuntimeError(f"the built-in rules do not compile: {(compiled.errors + loaded.errors)[0]}")
    for policy in compiled.policies:
        for variant in getattr(policy, "variants", ()):
            variant.fused  # noqa: B018 - computes (and records) the fused program
    data = env.export_cache()
    data["documents"] = _documents(loaded)
    return data


def source_digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def read_checked_forms(path: Path = CHECKED_PATH) -> dict:
    """{source digest: zlib-compressed serialized checked program} from the binary file (empty when
    unreadable); CheckedForms decompresses one when it is needed."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    forms, i = {}, 0
    while i + 36 <= len(data):
        digest = data[i:i + 32].decode("ascii", "replace")
        size = int.from_bytes(data[i + 32:i + 36], "little")
        forms[digest] = data[i + 36:i + 36 + size]
        i += 36 + size
    return forms


_ACCESSOR_ID = re.compile(r"__gpulint_var_\w+?\((\d+)\)")


def checked_forms(data: dict) -> dict:
    """{source digest: compressed serialized checked program} for the programs of `data` that an
    evaluation runs first: fused programs, programs that read no variable (matchConditions), and the
    variables those read through accessors (see CHECKED_PATH)."""
    import zlib

    from gpulint.engine.cel import CelEnvironment

    env = CelEnvironment("vpol", rulecache=False)
    sources = [source for source in data["fused"].values() if source]
    sources += [source for source, _ in data["programs"].values() if "__gpulint_var_" not in source]
    variables = {vid: source for vid, _, _, _, source in data["variables"]}
    wanted = {int(vid) for source in sources for vid in _ACCESSOR_ID.findall(source)}
    while wanted:
        vid = wanted.pop()
        if vid in variables:
            source = variables.pop(vid)
            sources.append(source)
            wanted |= {int(v) for v in _ACCESSOR_ID.findall(source)}
    forms = {}
    for source in sorted(set(sources)):
        try:
            blob = env._env.compile(source).serialize()
            env._env.deserialize(blob)
        except RuntimeError:  # protobuf's nesting limit: such a program is compiled from source
            continue
        forms[source_digest(source)] = zlib.compress(blob, 9)
    return forms


def render_checked(forms: dict) -> bytes:
    out = bytearray()
    for digest in sorted(forms):
        blob = forms[digest]
        out += digest.encode("ascii") + len(blob).to_bytes(4, "little") + blob
    return bytes(out)


def render(data: dict) -> str:
    """Stable text: one entry per line, sorted, so a rule change gives a readable diff."""
    lines = ["{", f'"format": {FORMAT},', f'"fingerprint": {json.dumps(data["fingerprint"])},', '"variables": [']
    lines.append(",\n".join(json.dumps(v, ensure_ascii=False) for v in data["variables"]))
    lines.append('],\n"programs": {')
    lines.append(",\n".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                            for k, v in sorted(data["programs"].items())))
    lines.append('},\n"checked": [')
    lines.append(",\n".join(json.dumps(k) for k in sorted(data["checked"])))
    lines.append('],\n"fused": {')
    lines.append(",\n".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                            for k, v in sorted(data["fused"].items())))
    lines.append('},\n"documents": {')
    lines.append(",\n".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                            for k, v in sorted(data["documents"].items())))
    lines.append("}\n}\n")
    return "\n".join(lines)
