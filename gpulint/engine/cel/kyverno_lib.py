"""Kyverno CEL libraries for ValidatingPolicies, answered offline (kyverno/sdk extensions/cel/libs).

Kyverno exposes them as member functions of context variables (``resource``,
``http``, ``image``, ``globalContext``, ``json``, ``yaml``). cel-cpp resolves
``resource.get(...)`` to a function named ``resource.get`` when no variable
``resource`` is declared, so they are declared as qualified functions; this
also lets ``image('nginx')`` (function) and ``image.GetMetadata(..)`` coexist.
Lookups go through the environment's OfflineContext (see env.py); nothing
here touches the network or a cluster.
"""

from __future__ import annotations

import datetime as _dt
import gzip as _gzip
import hashlib
import json as _json
import math
import random as _random
import string as _string
from typing import Callable

import yaml as _yaml
from cel_expr_python import cel

from .errors import LibraryError
from .opaque import TYPES, MSG, make
from .registry import ANY, Registry
from .values import go_float, rfc3339

T = cel.Type
MAPD = T.Map(T.STRING, T.DYN)
CLIENT = TYPES["kyverno.http.Client"]
SA = TYPES["user.ServiceAccount"]

OFFLINE_HTTP = "http calls require network access (not available offline)"
ALIAS_LIMIT = 1_000_000


def _group_resource(api_version: str, resource: str) -> str:
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return f"{resource}.{group}" if group else resource


# ----------------------------------------------------------------------------- json

def _json_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise LibraryError(f"json: unsupported value: {go_float(f)}")
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        s = repr(f)
        if "e" not in s:
            s = f"{f:e}"
        mant, _, exp = s.partition("e")
        exp_i = int(exp)
        return f"{mant}e{'-' if exp_i < 0 else '+'}{abs(exp_i)}"
    return go_float(f) if "e" not in go_float(f) else format(f, "f").rstrip("0").rstrip(".")


def _to_json(v, out: list) -> None:
    t = type(v)
    if v is None:
        out.append("null")
    elif t is bool:
        out.append("true" if v else "false")
    elif t is int:
        out.append(str(v))
    elif t is float:
        out.append(_json_float(v))
    elif t is str:
        s = _json.dumps(v, ensure_ascii=False)
        # Go's encoding/json escapes HTML-significant characters and line separators.
        s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        out.append(s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    elif t in (bytes, bytearray):
        import base64
        out.append('"' + base64.b64encode(bytes(v)).decode() + '"')
    elif t is list:
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _to_json(x, out)
        out.append("]")
    elif t is dict:
        out.append("{")
        for i, k in enumerate(sorted(v, key=str)):
            if i:
                out.append(",")
            _to_json(str(k), out)
            out.append(":")
            _to_json(v[k], out)
        out.append("}")
    elif isinstance(v, _dt.datetime):
        _to_json(rfc3339(v), out)
    elif isinstance(v, _dt.timedelta):
        out.append(str(int(v.total_seconds() * 1_000_000) * 1000))
    else:
        raise LibraryError(f"json: unsupported type: {type(v).__name__}")


def json_marshal(v) -> str:
    out: list[str] = []
    _to_json(v, out)
    return "".join(out)


def _floats(v, budget: list):
    budget[0] -= 1
    if budget[0] < 0:
        raise LibraryError("yaml: document contains excessive aliasing")
    t = type(v)
    if t is dict:
        return {_key(k): _floats(x, budget) for k, x in v.items()}
    if t is list:
        return [_floats(x, budget) for x in v]
    if t is int:
        return float(v)
    return v


def _key(k) -> str:
    if isinstance(k, str):
        return k
    if k is None:
        return "null"
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, (int, float)):
        return go_float(float(k))
    return str(k)


_unmarshalled: dict = {}


def json_unmarshal(s: str):
    # Policies unmarshal the same settings strings for every resource: parsed once. The value is
    # only handed to CEL (which copies it), so sharing it is safe.
    found = _unmarshalled.get(s)
    if found is not None:
        return found
    try:
        # Go decodes every JSON number into a float64.
        value = _floats(_json.loads(s), [ALIAS_LIMIT])
    except ValueError as e:
        raise LibraryError(str(e)) from None
    if len(s) <= 4096:
        if len(_unmarshalled) >= 1024:
            _unmarshalled.clear()
        _unmarshalled[s] = value
    return value


# ----------------------------------------------------------------------------- yaml

class _GoYamlLoader(_yaml.SafeLoader):
    """Scalar resolution of go-yaml v2 as used by sigs.k8s.io/yaml: 1e3 is a number,
    dates and 12:30 stay strings, yes/no/on/off are booleans."""


_GoYamlLoader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool",
     r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
     list("yYnNtTfFoO")),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?0b[0-1_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?[0-9][0-9_]*)$",
     list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+0123456789.")),
]:
    _GoYamlLoader.add_implicit_resolver(_tag, __import__("re").compile(_regexp), _first)


def _bool(loader, node):
    return loader.construct_scalar(node) in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
                                             "on", "On", "ON")


def _int(loader, node):
    v = loader.construct_scalar(node).replace("_", "")
    sign = -1 if v.startswith("-") else 1
    v = v.lstrip("+-")
    if v.startswith("0b"):
        return sign * int(v[2:], 2)
    if v.startswith("0x"):
        return sign * int(v[2:], 16)
    if len(v) > 1 and v.startswith("0") and all(c in "01234567" for c in v):
        return sign * int(v, 8)
    return sign * int(v)


def _float(loader, node):
    v = loader.construct_scalar(node).lower()
    if v.endswith("inf"):
        return -math.inf if v.startswith("-") else math.inf
    if v.endswith("nan"):
        return math.nan
    return float(v)


_GoYamlLoader.add_constructor("tag:yaml.org,2002:bool", _bool)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:int", _int)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:float", _float)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _GoYamlLoader.construct_yaml_str)


def yaml_parse(s: str):
    try:
        data = _yaml.load(s, Loader=_GoYamlLoader)   # noqa: S506 - safe loader subclass
    except _yaml.YAMLError as e:
        raise LibraryError(f"error converting YAML to JSON: {str(e).splitlines()[0]}") from None
    return _floats(data, [ALIAS_LIMIT])


# ----------------------------------------------------------------------------- misc

_ZERO_TIME = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)


def time_truncate(ts: _dt.datetime, d: _dt.timedelta) -> _dt.datetime:
    step = d // _dt.timedelta(microseconds=1)
    if step <= 0:
        return ts
    since = (ts - _ZERO_TIME) // _dt.timedelta(microseconds=1)
    return _ZERO_TIME + _dt.timedelta(microseconds=since - since % step)


def time_to_cron(ts: _dt.datetime) -> str:
    return f"{ts.minute} {ts.hour} {ts.day} {ts.month} {(ts.weekday() + 1) % 7}"


def math_round(v: float, prec: int) -> float:
    shift = 10.0 ** prec
    x = v * shift
    r = math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1) if math.isfinite(x) else x
    return r / shift


def list_obj_to_map(l1, l2, key: str, value: str):
    if len(l1) != len(l2):
        raise LibraryError(f"listObjToMap must take lists of equal length. list1: {len(l1)}, list2: {len(l2)}")
    out = {}
    for a, b in zip(l1, l2):
        if not isinstance(a, dict):
            raise LibraryError(f"object cannot be handled as a map, {type(a).__name__}")
        k = a.get(key)
        if not isinstance(k, str):
            raise LibraryError("the passed key name cannot be handled as a string in the key object list")
        if not isinstance(b, dict):
            raise LibraryError("object cannot be handled as a map string to any in the value object list")
        out[k] = b.get(value)
    return out


def parse_service_account(user: str):
    sa = MSG["user.ServiceAccount"]()
    prefix = "system:serviceaccount:"
    if user.startswith(prefix):
        ns, sep, name = user[len(prefix):].partition(":")
        if sep:
            sa.Namespace, sa.Name = ns, name
    return sa


def gzip_compress(s: str) -> bytearray:
    # bytearray: cel-expr-python 0.1.3 truncates `bytes` at the first NUL when converting.
    return bytearray(_gzip.compress(s.encode(), mtime=0))


def gzip_decompress(b) -> str:
    try:
        return _gzip.decompress(bytes(b)).decode("utf-8", errors="replace")
    except (OSError, EOFError) as e:
        raise LibraryError(f"gzip: {e}") from None


def random_default() -> str:
    rng = _random.SystemRandom()
    return "".join(rng.choice(_string.digits + _string.ascii_lowercase) for _ in range(8))


# ------------------------------------------------------------------ context-backed

class KyvernoLib:
    """Context-backed functions; ``ctx()`` returns the current OfflineContext."""

    def __init__(self, ctx: Callable):
        self.ctx = ctx

    def get(self, api_version, resource, namespace, name):
        try:
            obj = self.ctx().get_resource(api_version, resource, namespace, name)
        except LibraryError:
            raise
        except Exception as e:       # noqa: BLE001 - caller-supplied lookup
            raise LibraryError(f"failed to get resource: {e}") from None
        return obj                     # not found -> null (kyverno/sdk not_found_doesnt_error)

    def list(self, api_version, resource, namespace, labels=None):
        try:
            items = self.ctx().list_resources(api_version, resource, namespace)
        except LibraryError:
            raise
        except Exception as e:       # noqa: BLE001
            raise LibraryError(f"failed to list resource: {e}") from None
        if items is None:
            gr = _group_resource(api_version, resource)
            raise LibraryError(f"failed to list resource: {gr} resource not found")
        return {"items": list(items)}    # label selector ignored, as Kyverno's fake context

    def post(self, *args):
        raise LibraryError("failed to create resource: resource.post requires a cluster (not available offline)")

    def to_gvr(self, *args):
        raise LibraryError("failed to map kind to resource: resource.toGVR requires a cluster "
                           "(not available offline)")

    def http(self, method: str):
        def call(*args):
            if args and hasattr(args[0], "DESCRIPTOR"):
                args = args[1:]                      # member form on http.client(...)
            url = args[0]
            responses = self.ctx().http_responses
            for key in (f"{method}:{url}", url):
                if key in responses:
                    resp = responses[key]
                    body, status = (resp.body, resp.status) if hasattr(resp, "status") else (resp, 200)
                    return {"body": body, "statusCode": status}
            raise LibraryError(f"request failed: {OFFLINE_HTTP}: {method} {url}")
        return call

    def image_metadata(self, ref):
        images = self.ctx().images
        if ref not in images:
            raise LibraryError(f"failed to get image data: image data for {ref} not found in the context")
        return images[ref]

    def global_context(self, name, projection=""):
        data = self.ctx().global_context
        if name not in data:
            return None
        v = data[name]
        if projection and isinstance(v, dict):
            if projection not in v:
                raise LibraryError(f"failed to get global reference: projection {projection!r} not found in "
                                   f"global context entry {name!r}".replace("'", '"'))
            return v[projection]
        return v

    def now(self):
        now = self.ctx().now
        if now is None:
            return _dt.datetime.now(_dt.timezone.utc)
        return now if now.tzinfo else now.replace(tzinfo=_dt.timezone.utc)

    def register(self, reg: Registry) -> None:
        S = T.STRING
        labels = T.Map(S, S)
        for get, lst, post, gvr in (("resource.Get", "resource.List", "resource.Post", "resource.ToGVR"),
                                    ("resource.get", "resource.list", "resource.post", "resource.toGVR")):
            # dyn, not map: a missing object is null and policies compare it with null
            reg.fn(get, [S, S, S, S], T.DYN, self.get)
            reg.fn(lst, [S, S, S], MAPD, self.list)
            reg.fn(lst, [S, S, S, labels], MAPD, self.list)
            reg.fn(post, [S, S, S, MAPD], MAPD, self.post)
            reg.fn(post, [S, S, MAPD], MAPD, self.post)
            reg.fn(gvr, [S, S], MAPD, self.to_gvr)
        for verb, method in (("Get", "GET"), ("get", "GET"), ("Post", "POST"), ("post", "POST"),
                             ("Put", "PUT"), ("put", "PUT")):
            impl = self.http(method)
            extra = [] if method == "GET" else [ANY]
            reg.fn(f"http.{verb}", [S] + extra, T.DYN, impl)
            reg.fn(f"http.{verb}", [S] + extra + [labels], T.DYN, impl)
            reg.fn(verb, [CLIENT, S] + extra, T.DYN, impl, member=True, oid=f"gpl_httpclient_{verb}")
            reg.fn(verb, [CLIENT, S] + extra + [labels], T.DYN, impl, member=True, oid=f"gpl_httpclient_{verb}_h")
        for name in ("http.Client", "http.client"):
            reg.fn(name, [S], CLIENT, lambda ca: make("kyverno.http.Client", ca))
        for name in ("image.GetMetadata", "image.getMetadata"):
            reg.fn(name, [S], T.DYN, self.image_metadata)
        for name in ("globalContext.Get", "globalContext.get"):
            reg.fn(name, [S], T.DYN, self.global_context)
            reg.fn(name, [S, S], T.DYN, self.global_context)
        reg.fn("time.now", [], T.TIMESTAMP, self.now)
        reg.fn("time.truncate", [T.TIMESTAMP, T.DURATION], T.TIMESTAMP, time_truncate)
        reg.fn("time.toCron", [T.TIMESTAMP], S, time_to_cron)
        reg.fn("json.unmarshal", [S], T.DYN, json_unmarshal)
        reg.fn("json.marshal", [ANY], S, json_marshal)
        reg.fn("yaml.parse", [S], T.DYN, yaml_parse)
        for prefix in ("", "hash."):
            reg.fn(prefix + "sha1", [S], S, lambda s: hashlib.sha1(s.encode()).hexdigest())  # noqa: S324
            reg.fn(prefix + "sha256", [S], S, lambda s: hashlib.sha256(s.encode()).hexdigest())
            reg.fn(prefix + "md5", [S], S, lambda s: hashlib.md5(s.encode()).hexdigest())  # noqa: S324
        for name in ("listObjToMap", "transform.listObjToMap"):
            reg.fn(name, [T.List(T.DYN), T.List(T.DYN), S, S], T.Map(S, T.DYN), list_obj_to_map)
        for name in ("parseServiceAccount", "user.parseServiceAccount"):
            reg.fn(name, [S], SA, parse_service_account)
        reg.fn("__gpl_math_round", [T.DOUBLE, T.INT], T.DOUBLE, math_round)
        reg.fn("gzip.compress", [S], T.BYTES, gzip_compress)
        reg.fn("gzip.decompress", [T.BYTES], S, gzip_decompress)
        reg.fn("random", [], S, random_default)
