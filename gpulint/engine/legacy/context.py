"""The JSON evaluation context and rule `context` entries (kyverno: pkg/engine/context/context.go,
deferred.go, pkg/engine/context/loaders/*.go, pkg/engine/apicall, cmd/cli/kubectl-kyverno/store/
contextloader.go).

Entries are loaded lazily, on the first query that mentions their name (Kyverno's deferred
loading); a loader failure leaves the entry undefined. Offline, configMap/apiCall entries load only
when the caller supplies cluster data, imageRegistry only with injected registry data; otherwise
they are skipped (values-file variables fill the gap) and a lookup of the missing name explains
what access it would have needed.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from gpulint.engine.legacy.jmespath_ext import JMESPathError, NotFoundError, search
from gpulint.engine.legacy.match import check_selector
from gpulint.engine.legacy.variables import SubstitutionError, substitute_all

_RESERVED = ("images", "request", "serviceAccountName", "serviceAccountNamespace", "element",
             "elementIndex")


class ContextError(Exception):
    pass


def merge(dest, src):
    """Kyverno's context merge: maps merge recursively, anything else replaces. Returns a new
    structure; unchanged subtrees are shared, so snapshots stay cheap."""
    if not isinstance(dest, dict) or not isinstance(src, dict):
        return src
    out = dict(dest)
    for key, value in src.items():
        out[key] = merge(dest.get(key), value) if isinstance(value, dict) else value
    return out


def split_variable_key(key: str) -> list[str]:
    """Keys of values files are dotted paths, split CSV-style ('"a.b".c' → ['a.b', 'c'])."""
    parts, buf, quoted, i = [], [], False, 0
    while i < len(key):
        c = key[i]
        if c == '"':
            if quoted and i + 1 < len(key) and key[i + 1] == '"':
                buf.append('"')
                i += 1
            else:
                quoted = not quoted
        elif c == "." and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    parts.append("".join(buf))
    return parts


def nest(path: list[str], value):
    for key in reversed(path):
        value = {key: value}
    return value


class _Loader:
    __slots__ = ("name", "matcher", "load", "loaded", "matched")

    def __init__(self, name: str, load):
        self.name = name
        self.matcher = re.compile(r"(?:\A|\Z|\s|[^.0-9A-Za-z])" + re.escape(name) + r"\b")
        self.load = load
        self.loaded = False
        self.matched = False

    def copy(self) -> "_Loader":
        other = _Loader.__new__(_Loader)
        other.name, other.matcher, other.load = self.name, self.matcher, self.load
        other.loaded, other.matched = self.loaded, False
        return other


class Context:
    """The document variables are resolved against, with lazily loaded context entries."""

    def __init__(self, data: dict, is_delete: bool = False):
        self.data = data
        self.is_delete = is_delete
        self._loaders: list[_Loader] = []
        self._limit: int | None = None
        self.skipped: dict[str, str] = {}

    def child(self) -> "Context":
        """A copy for a rule or a foreach element: additions do not leak back."""
        c = Context(self.data, self.is_delete)
        c._loaders = [loader.copy() for loader in self._loaders]
        c.skipped = dict(self.skipped)
        return c

    def add(self, path: list[str], value) -> None:
        self.data = merge(self.data, nest(path, value))

    def add_variable(self, key: str, value) -> None:
        self.add(split_variable_key(key), value)

    def replace_entry(self, name: str, value) -> None:
        data = dict(self.data)
        data[name] = value
        self.data = data

    def add_loader(self, name: str, load) -> None:
        self._loaders.append(_Loader(name, load))

    def query(self, expression: str):
        expression = expression.strip()
        if not expression:
            raise JMESPathError("invalid query (nil)")
        self._load_matching(expression)
        try:
            return search(expression, self.data)
        except NotFoundError as exc:
            reason = self.skipped.get(exc.key)
            if reason:
                raise JMESPathError(f"{exc}: context entry '{exc.key}' {reason}") from None
            raise

    def _load_matching(self, expression: str) -> None:
        limit = len(self._loaders) if self._limit is None else self._limit
        i = 0
        while i < min(limit, len(self._loaders)):
            loader = self._loaders[i]
            if not loader.loaded and not loader.matched and loader.matcher.search(expression):
                loader.matched = True
                saved = self._limit
                self._limit = i
                try:
                    loader.load(self)
                    loader.loaded = True
                except (ContextError, SubstitutionError, JMESPathError):
                    pass  # Kyverno ignores deferred loader failures; the name stays undefined
                finally:
                    self._limit = saved
                i = 0
                continue
            i += 1

    def load_all(self) -> None:
        """Eager loading, for entries whose names a query cannot mention (e.g. via `@`)."""
        for loader in self._loaders:
            if not loader.loaded:
                self._load_matching(loader.name)


def build_context(resource: dict | None, old_object: dict | None, operation: str,
                  user_info: dict | None, images: dict | None) -> Context:
    request: dict = {"operation": operation}
    subject = resource if resource else old_object or {}
    if operation != "DELETE" and resource is not None:
        request["object"] = resource
    if old_object is not None:
        request["oldObject"] = old_object
    meta = subject.get("metadata") if isinstance(subject, dict) else None
    namespace = meta.get("namespace", "") if isinstance(meta, dict) else ""
    request["namespace"] = namespace if isinstance(namespace, str) else ""
    data: dict = {"request": request}
    if images:
        data["images"] = images
    if user_info is not None:
        info = user_info.get("userInfo")
        if info is None:
            info = {k: user_info[k] for k in ("username", "uid", "groups", "extra")
                    if user_info.get(k)}
        request["userInfo"] = info
        request["roles"] = list(user_info.get("roles") or [])
        request["clusterRoles"] = list(user_info.get("clusterRoles") or [])
        username = str(info.get("username") or "")
        sa_name = sa_ns = ""
        if username.startswith("system:serviceaccount:"):
            parts = username[len("system:serviceaccount:"):].split(":")
            if len(parts) == 2:
                sa_ns, sa_name = parts
        data["serviceAccountName"] = sa_name
        data["serviceAccountNamespace"] = sa_ns
    return Context(data, is_delete=operation == "DELETE")


# ---------------------------------------------------------------------------------------------
# context entries


class Sources:
    """What offline evaluation can know about the outside world (see engine.LegacyContextData)."""

    def __init__(self, get_resource=None, list_resources=None, global_context=None,
                 image_data=None, policy_namespace: str | None = None):
        self.get_resource = get_resource
        self.list_resources = list_resources
        self.global_context = global_context
        self.image_data = image_data
        self.policy_namespace = policy_namespace

    @property
    def has_cluster(self) -> bool:
        return self.get_resource is not None or self.list_resources is not None


def add_entries(ctx: Context, entries: list, sources: Sources) -> None:
    """Register the rule's (or foreach entry's) context entries as deferred loaders."""
    for entry in entries or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ContextError("invalid context entry: a name is required")
        name = str(entry["name"])
        if "variable" in entry:
            ctx.add_loader(name, lambda c, e=entry: _load_variable(c, e))
        elif "configMap" in entry:
            if not sources.has_cluster:
                ctx.skipped[name] = ("is a configMap lookup, which needs cluster access "
                                     "(no cluster resources were supplied)")
                continue
            ctx.add_loader(name, lambda c, e=entry: _load_configmap(c, e, sources))
        elif "apiCall" in entry:
            call = entry.get("apiCall") or {}
            if call.get("service"):
                ctx.skipped[name] = ("is an apiCall to an external service, which requires "
                                     "network access")
                continue
            if not sources.has_cluster:
                ctx.skipped[name] = ("is an apiCall, which needs cluster access (no cluster "
                                     "resources were supplied)")
                continue
            ctx.add_loader(name, lambda c, e=entry: _load_api_call(c, e, sources))
        elif "imageRegistry" in entry:
            if sources.image_data is None:
                ctx.skipped[name] = "is an imageRegistry lookup, which needs registry access"
                continue
            ctx.add_loader(name, lambda c, e=entry: _load_image(c, e, sources))
        elif "globalReference" in entry:
            ctx.add_loader(name, lambda c, e=entry: _load_global(c, e, sources))
        else:
            raise ContextError(f"missing ConfigMap|APICall|ImageRegistry|Variable in context "
                               f"entry {name}")


def _subst(ctx: Context, value, what: str, name: str):
    try:
        return substitute_all(ctx, value)
    except SubstitutionError as exc:
        raise ContextError(f"failed to substitute variables in context entry {name} {what}: "
                           f"{exc}") from None


def _load_variable(ctx: Context, entry: dict) -> None:
    name, spec = entry["name"], entry.get("variable") or {}
    path = _subst(ctx, spec["jmesPath"], "jmesPath", name) if spec.get("jmesPath") else ""
    default = _subst(ctx, spec["default"], "default", name) if "default" in spec else None
    output = default
    if spec.get("value") is not None:
        value = _subst(ctx, spec["value"], "value", name)
        if path:
            try:
                result = search(str(path), value)
                if result is not None:
                    output = result
            except JMESPathError as exc:
                if default is None:
                    raise ContextError(f"failed to apply jmespath {path} to variable: {exc}") from None
        else:
            output = value
    elif path:
        try:
            result = ctx.query(str(path))
            if result is not None:
                output = result
        except JMESPathError as exc:
            if default is None:
                raise ContextError(f"failed to apply jmespath {path} to variable: {exc}") from None
    if output is None:
        raise ContextError(f"failed to add context entry for variable {name} since it evaluated "
                           "to nil")
    ctx.replace_entry(name, output)


def _apply_jmespath(ctx: Context, entry_name: str, jmespath, data, default):
    if not jmespath:
        return data
    path = _subst(ctx, jmespath, "JMESPath", entry_name)
    try:
        return search(str(path), data)
    except JMESPathError as exc:
        if default is not None:
            return default
        raise ContextError(f"failed to apply JMESPath {path} to context entry {entry_name}: "
                           f"{exc}") from None


def _load_configmap(ctx: Context, entry: dict, sources: Sources) -> None:
    name, spec = entry["name"], entry.get("configMap") or {}
    cm_name = _subst(ctx, spec.get("name", ""), "name", name)
    namespace = _subst(ctx, spec.get("namespace", ""), "namespace", name) or (
        sources.policy_namespace or "default")
    obj = sources.get_resource("v1", "configmaps", str(namespace), str(cm_name)) \
        if sources.get_resource else None
    if obj is None:
        raise ContextError(f"failed to retrieve config map for context entry {name}: configmaps "
                           f'"{cm_name}" not found')
    ctx.replace_entry(name, {"data": obj.get("data") or {}, "metadata": obj.get("metadata") or {}})


def _load_api_call(ctx: Context, entry: dict, sources: Sources) -> None:
    name = entry["name"]
    call = _subst(ctx, entry.get("apiCall") or {}, "apiCall", name)
    default = call.get("default")
    try:
        data = api_get(str(call.get("urlPath") or ""), sources)
    except ContextError:
        if default is None:
            raise
        data = default
    ctx.replace_entry(name, _apply_jmespath(ctx, name, call.get("jmesPath"), data, default))


_API_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?/?$")


def api_get(url_path: str, sources: Sources):
    """Answer a Kubernetes API GET from the caller's resources (lists and single objects)."""
    parts = urlsplit(url_path)
    m = _API_PATH.match(parts.path)
    if not m:
        raise ContextError(f"failed to GET resource with raw url {url_path}: unsupported path")
    api_version = "v1" if m.group("core") else f"{m.group('group')}/{m.group('version')}"
    plural, ns, name = m.group("plural"), m.group("ns") or "", m.group("name")
    if m.group("core") and plural == "namespaces" and m.group("ns") and not m.group("name"):
        plural, ns, name = "namespaces", "", m.group("ns")
    if name:
        obj = sources.get_resource(api_version, plural, ns, name) if sources.get_resource else None
        if obj is None:
            raise ContextError(f"failed to GET resource with raw url {url_path}: {plural} "
                               f'"{name}" not found')
        return obj
    items = list(sources.list_resources(api_version, plural, ns)) if sources.list_resources else []
    selector = parse_qs(parts.query).get("labelSelector")
    if selector:
        items = [i for i in items if _label_selector_matches(selector[0], i)]
    return {"apiVersion": api_version, "kind": "List", "items": items,
            "metadata": {"resourceVersion": ""}}


def _label_selector_matches(text: str, obj: dict) -> bool:
    labels = ((obj.get("metadata") or {}).get("labels")) or {}
    match_labels, exprs = {}, []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        if "!=" in part:
            k, v = part.split("!=", 1)
            exprs.append({"key": k.strip(), "operator": "NotIn", "values": [v.strip()]})
        elif "=" in part:
            k, v = part.split("=", 1)
            match_labels[k.strip()] = v.strip().lstrip("=")
        elif part.startswith("!"):
            exprs.append({"key": part[1:], "operator": "DoesNotExist"})
        else:
            exprs.append({"key": part, "operator": "Exists"})
    return check_selector({"matchLabels": match_labels, "matchExpressions": exprs}, labels)


def _load_global(ctx: Context, entry: dict, sources: Sources) -> None:
    name, spec = entry["name"], entry.get("globalReference") or {}
    ref = _subst(ctx, spec.get("name", ""), "name", name)
    store = sources.global_context or {}
    if ref not in store:
        raise ContextError(f"global context entry {ref} not found")
    ctx.replace_entry(name, _apply_jmespath(ctx, name, spec.get("jmesPath"), store[ref], None))


def _load_image(ctx: Context, entry: dict, sources: Sources) -> None:
    name, spec = entry["name"], entry.get("imageRegistry") or {}
    ref = _subst(ctx, spec.get("reference", ""), "reference", name)
    data = sources.image_data(str(ref)) if callable(sources.image_data) else (
        sources.image_data or {}).get(str(ref))
    if data is None:
        raise ContextError(f"failed to fetch image reference {ref}: needs registry access")
    ctx.replace_entry(name, _apply_jmespath(ctx, name, spec.get("jmesPath"), data, None))


def validate_entry_name(name: str) -> str | None:
    for reserved in _RESERVED:
        if name == reserved or name.startswith(reserved + "."):
            return f"entry name {name} is invalid as it conflicts with a pre-defined variable {reserved}"
    return None
