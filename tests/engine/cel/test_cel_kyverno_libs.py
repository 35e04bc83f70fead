"""Kyverno libraries of the vpol flavour, answered from OfflineContext."""

import datetime as dt
import gzip

import pytest

from gpulint.engine.cel import CelCompileError, CelEnvironment, CelEvalError, HttpResponse, OfflineContext

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gpu-settings", "namespace": "ml"},
      "data": {"max": "8"}}
STORE = {("v1", "configmaps", "ml", "gpu-settings"): CM}


def _get(api_version, resource, namespace, name):
    return STORE.get((api_version, resource, namespace, name))


def _list(api_version, resource, namespace):
    if resource == "boom":
        raise RuntimeError("index unavailable")
    if resource != "configmaps":
        return None
    return [o for (a, r, ns, _), o in STORE.items() if r == resource and ns == namespace]


@pytest.fixture(scope="module")
def kenv():
    ctx = OfflineContext(get_resource=_get, list_resources=_list,
                         images={"nvcr.io/nvidia/cuda:12.2": {"config": {"User": "1000"}, "digest": "sha256:x"}},
                         http_responses={"GET:https://api.example.com/gpus": {"count": 4},
                                         "https://api.example.com/any": HttpResponse(body="ok", status=201)},
                         global_context={"quota": {"gpus": 16}, "flat": 3},
                         now=dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc))
    return CelEnvironment("vpol", context=ctx)


def run(env, expr, obj=None, **kw):
    return env.compile(expr, **kw).evaluate(env.activation(object=obj))


# ------------------------------------------------------------------------------------------ resource
def test_resource_get(kenv):
    assert run(kenv, "resource.Get('v1', 'configmaps', 'ml', 'gpu-settings').data.max") == "8"
    assert run(kenv, "resource.get('v1', 'configmaps', 'ml', 'gpu-settings').data.max") == "8"
    assert run(kenv, "resource.get('v1', 'configmaps', 'ml', 'missing') == null") is True


def test_resource_list(kenv):
    assert run(kenv, "resource.List('v1', 'configmaps', 'ml').items.size()") == 1
    assert run(kenv, "resource.list('v1', 'configmaps', 'other')") == {"items": []}
    assert run(kenv, "resource.list('v1', 'configmaps', 'ml', {'a': 'b'}).items.size()") == 1   # labels ignored
    with pytest.raises(CelEvalError, match="failed to list resource: widgets.example.io resource not found"):
        run(kenv, "resource.list('example.io/v1', 'widgets', 'ml')")
    with pytest.raises(CelEvalError, match="failed to list resource: index unavailable"):
        run(kenv, "resource.list('v1', 'boom', 'ml')")


def test_namespaced_policy_short_forms(kenv):
    assert run(kenv, "resource.get('v1', 'configmaps', 'gpu-settings').data.max", namespace="ml") == "8"
    assert run(kenv, "resource.list('v1', 'configmaps').items.size()", namespace="ml") == 1
    assert run(kenv, "resource.list('v1', 'configmaps', {'x': 'y'}).items.size()", namespace="ml") == 1


def test_resource_post_requires_cluster(kenv):
    with pytest.raises(CelEvalError, match="requires a cluster"):
        run(kenv, "resource.post('v1', 'configmaps', 'ml', {'a': dyn(1)}) == {}")


# ---------------------------------------------------------------------------------------------- http
def test_http_mocks(kenv):
    assert run(kenv, "http.Get('https://api.example.com/gpus')") == {"body": {"count": 4}, "statusCode": 200}
    assert run(kenv, "http.get('https://api.example.com/gpus').body.count") == 4
    assert run(kenv, "http.post('https://api.example.com/any', {'a': 1})") == {"body": "ok", "statusCode": 201}
    assert run(kenv, "http.client('').get('https://api.example.com/gpus').statusCode") == 200


def test_http_without_mock_needs_network(kenv):
    with pytest.raises(CelEvalError, match=r"http calls require network access \(not available offline\)"):
        run(kenv, "http.Get('https://unmocked.example.com')")


# ------------------------------------------------------------------------------- image data / context
def test_image_get_metadata(kenv):
    assert run(kenv, "image.GetMetadata('nvcr.io/nvidia/cuda:12.2').config.User") == "1000"
    assert run(kenv, "image.getMetadata('nvcr.io/nvidia/cuda:12.2').digest") == "sha256:x"
    # variable-like library handle and image() function side by side
    assert run(kenv, "image('nvcr.io/nvidia/cuda:12.2').registry() == 'nvcr.io' && "
                     "image.GetMetadata('nvcr.io/nvidia/cuda:12.2').config.User == '1000'") is True


def test_global_context(kenv):
    assert run(kenv, "globalContext.Get('quota', 'gpus')") == 16
    assert run(kenv, "globalContext.get('quota')") == {"gpus": 16}
    assert run(kenv, "globalContext.Get('unknown') == null") is True
    assert run(kenv, "globalContext.Get('flat', 'x')") == 3
    with pytest.raises(CelEvalError, match='projection "nope" not found in global context entry "quota"'):
        run(kenv, "globalContext.Get('quota', 'nope')")


# --------------------------------------------------------------------------------------- pure helpers
def test_json(ev):
    assert ev("json.unmarshal('{\"a\": [1, 2.5, true, null]}')") == {"a": [1.0, 2.5, True, None]}
    assert ev("json.unmarshal('[1]')[0] == 1.0") is True
    assert ev("json.marshal({'b': dyn(1), 'a': dyn([dyn('x'), dyn(1.5), dyn(true), dyn(null)])})") == \
        '{"a":["x",1.5,true,null],"b":1}'
    assert ev("json.marshal('<&>')") == '"\\u003c\\u0026\\u003e"'
    with pytest.raises(CelEvalError):
        ev("json.unmarshal('{')")


def test_yaml_alias_bomb_is_bounded(ev):
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\\n"
        for p, c in zip("abcdefg", "bcdefgh"))
    with pytest.raises(CelEvalError, match="excessive aliasing"):
        ev(f'yaml.parse("{bomb}")')


def test_time(kenv):
    assert run(kenv, "time.now() == timestamp('2024-05-06T07:08:09Z')") is True
    assert run(kenv, "time.truncate(timestamp('2024-05-06T07:08:09Z'), duration('1h')) == "
                     "timestamp('2024-05-06T07:00:00Z')") is True
    assert run(kenv, "time.toCron(timestamp('2024-05-06T07:08:09Z'))") == "8 7 6 5 1"


def test_hashes_and_encoders(ev):
    assert ev("sha256('abc')") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert ev("hash.sha1('abc')") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert ev("md5('abc') == hash.md5('abc')") is True
    assert ev("base64.encode(b'hi')") == "aGk="
    assert gzip.decompress(ev("gzip.compress('hello')")) == b"hello"
    assert ev("gzip.decompress(gzip.compress('héllo'))") == "héllo"


def test_list_obj_to_map(ev):
    expr = ("listObjToMap([{'name': 'a'}, {'name': 'b'}], [{'v': 1}, {'v': 2}], 'name', 'v')")
    assert ev(expr) == {"a": 1, "b": 2}
    assert ev("transform." + expr) == {"a": 1, "b": 2}
    with pytest.raises(CelEvalError, match="equal length"):
        ev("listObjToMap([{'name': 'a'}], [], 'name', 'v')")


def test_math_round(ev):
    assert ev("math.round(1.2345, 2)") == 1.23
    assert ev("math.round(2.5, 0)") == 3.0
    assert ev("math.round(-2.5, 0)") == -3.0
    assert ev("math.round(2.5)") == 3.0                               # cel-go ext math, one argument


def test_parse_service_account(ev):
    assert ev("parseServiceAccount('system:serviceaccount:ml:trainer').Namespace") == "ml"
    assert ev("user.parseServiceAccount('system:serviceaccount:ml:trainer').Name") == "trainer"
    assert ev("parseServiceAccount('alice').Name") == ""


def test_kyverno_libraries_absent_from_k8s_flavour(k8s_env):
    for expr in ("image('nginx').tag() == 'x'", "json.marshal(1) == ''", "math.greatest(1, 2) == 2"):
        with pytest.raises(CelCompileError):
            k8s_env.compile(expr)


def test_context_can_be_replaced_between_runs():
    env = CelEnvironment("vpol")
    prog = env.compile("globalContext.Get('k')")
    assert prog.evaluate(env.activation()) is None
    env.context = OfflineContext(global_context={"k": "v"})
    assert prog.evaluate(env.activation()) == "v"
