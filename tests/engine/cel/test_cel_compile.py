"""Compilation: caching, variables, expected types, rewrites, Kubernetes compile-time validators."""

import pytest

from gpulint.engine.cel import CelCompileError, CelEnvironment, CelEvalError
from gpulint.engine.cel.syntax import emit, parse


def test_programs_are_cached(env):
    a = env.compile("object.a == 1", expect="bool")
    assert env.compile("object.a == 1", expect="bool") is a
    assert env.compile("object.a == 1") is not a                    # expect is part of the key
    assert env.compile("object.a == 1", variables=[("x", "1")], expect="bool") is not a


def test_compile_errors_are_cached_too(env):
    with pytest.raises(CelCompileError) as first:
        env.compile("object.a ==")
    with pytest.raises(CelCompileError) as second:
        env.compile("object.a ==")
    assert first.value is second.value
    assert "Syntax error" in str(first.value)
    assert "\n" not in str(first.value)


@pytest.mark.parametrize("expr,expect,ok", [
    ("object.a == 1", "bool", True),
    ("object.a", "bool", False),
    ("1", "bool", False),
    ("'m'", "string", True),
    ("'m: ' + string(object.a)", "string", True),
    ("object.name", "string", False),
    ("null", "string_or_null", True),
    ("'x'", "string_or_null", True),
    ("1", "string_or_null", False),
    ("object", None, True),
])
def test_expected_output_types(env, expr, expect, ok):
    if ok:
        env.compile(expr, expect=expect)
    else:
        with pytest.raises(CelCompileError, match="output is expected to be of type"):
            env.compile(expr, expect=expect)


def test_variables_are_typed_by_their_expression(env):
    variables = [("n", "size(object.spec.containers)"), ("big", "variables.n > 2"), ("any", "object.spec")]
    assert env.compile("variables.big", variables=variables, expect="bool").return_type == "bool"
    with pytest.raises(CelCompileError, match="type bool"):
        env.compile("variables.any", variables=variables, expect="bool")


def test_variables_are_not_replaced_inside_strings(ev):
    variables = [("x", "1")]
    assert ev("'variables.x' + string(variables.x)", variables=variables) == "variables.x1"


def test_variables_in_nested_comprehensions(ev):
    variables = [("names", "object.items.map(i, i.name)")]
    obj = {"items": [{"name": "a"}, {"name": "b"}]}
    assert ev("object.items.all(i, i.name in variables.names)", obj, variables=variables) is True
    assert ev("variables['names'].size()", obj, variables=variables) == 2


def test_comprehension_variable_named_like_a_library(ev):
    obj = {"images": ["nginx", "cuda"]}
    assert ev("object.images.exists(image, image == 'cuda')", obj) is True
    assert ev("object.images.map(json, json + '!')", obj) == ["nginx!", "cuda!"]


def test_undeclared_names(env):
    with pytest.raises(CelCompileError, match="undeclared reference"):
        env.compile("foo == 1")
    with pytest.raises(CelCompileError, match="undeclared reference"):
        env.compile("params.x == 1")                                # vpols have no params
    with pytest.raises(CelCompileError, match="undeclared reference"):
        env.compile("authorizer.group('x') == null")                # nor an authorizer


def test_literal_validators(env):
    for expr in ("duration('5x')", "timestamp('bad')", "'a'.matches('[')", "matches('a', '(')"):
        with pytest.raises(CelCompileError):
            env.compile(expr)
    env.compile("duration('5m') > duration('1s')")
    env.compile("'x'.matches(object.d)")                             # only literal patterns are checked


def test_format_validator(env):
    with pytest.raises(CelCompileError, match="too many arguments supplied to string.format"):
        env.compile("'%s'.format(['a', 'b'])")
    with pytest.raises(CelCompileError, match="decimal clause can only be used on integers"):
        env.compile("'%d'.format(['a'])")
    with pytest.raises(CelCompileError, match="index 1 out of range"):
        env.compile("'%s %s'.format(['a'])")
    env.compile("'%d'.format([object.n])")                           # dyn: checked at runtime


def test_nested_heterogeneous_lists(env):
    with pytest.raises(CelCompileError, match="expected type 'list\\(int\\)' but found 'list\\(string\\)'"):
        env.compile("[[1], ['a']]")
    env.compile("[[1], [2]]")
    env.compile("object.l.map(x, [x, 'a'])")                         # depends on a comprehension variable


def test_cross_type_numeric_comparisons(ev, env):
    assert ev("1 < 1.5") is True
    assert ev("2u >= 1") is True
    with pytest.raises(CelCompileError):
        env.compile("1 == 1.0")                                       # equality stays strict


def test_rewritten_source_is_exposed(env):
    prog = env.compile("[1, 2].indexOf(2) == 1")
    assert "__gpl_indexOf" in prog.source and prog.expression == "[1, 2].indexOf(2) == 1"
    plain = env.compile("object.a   ==  1")
    assert plain.source == "object.a   ==  1"                        # untouched text compiles as written


def test_optional_results_become_values(ev):
    assert ev("object.?a", {"a": 1}) == 1
    assert ev("object.?b", {"a": 1}) is None


def test_transform_map(ev):
    assert ev("{'a': 1, 'b': 2}.transformMap(k, v, v * 10)") == {"a": 10, "b": 20}
    assert ev("{'a': 1, 'b': 2}.transformMap(k, v, v > 1, v * 10)") == {"b": 20}
    assert ev("[1, 2].transformMap(i, v, v + i)") == {0: 1, 1: 3}
    assert ev("{'a': 1}.transformMapEntry(k, v, {k + k: v})") == {"aa": 1}


def test_namespace_is_part_of_the_cache_key(env):
    a = env.compile("resource.get('v1', 'configmaps', 'x') == null", namespace="ns1")
    b = env.compile("resource.get('v1', 'configmaps', 'x') == null", namespace="ns2")
    assert a is not b and "'ns1'" not in b.source and '"ns2"' in b.source


@pytest.mark.parametrize("src", [
    "a.b.c[0]['x'] + 1 * -2 - !true",
    "x ? y : z ? 1 : 2",
    "[1, ?a.?b, 3]",
    "{'a': 1, ?'b': c}",
    "a in [1, 2] && b || !c",
    "r'\\d+' + b'\\x00' + '''multi\nline''' + \"q\"",
    "0x1F + 1u + 1.5e3 + .5",
    "a.all(x, x > 0).exists(y, y)",
    "Foo{bar: 1}",
    ".a.b",
    "-(-1)",
    "[?a, b][?0]",
])
def test_parser_round_trips(env, src):
    tree = parse(src)
    assert emit(parse(emit(tree))) == emit(tree)


def test_parser_fallback_to_cel_cpp(env):
    # Whatever our small parser rejects is still judged by cel-cpp.
    with pytest.raises(CelCompileError, match="Syntax error"):
        env.compile("1 +")


def test_k8s_flavour(k8s_env):
    act = k8s_env.activation(object={"a": 1}, params={"max": 2})
    assert k8s_env.compile("object.a <= params.max").evaluate(act) is True
    assert k8s_env.compile("object.a.orValue(5)").evaluate(act) == 1          # orValue compat too
    assert k8s_env.compile("quantity('1') == quantity('1000m')").evaluate(act) is True
    with pytest.raises(CelEvalError, match="authorizer requires a cluster"):
        k8s_env.compile("authorizer.group('apps').resource('deployments').check('get').allowed()").evaluate(act)
    with pytest.raises(CelCompileError):
        k8s_env.compile("exceptions.allowedImages.size() == 0")
    with pytest.raises(CelCompileError):
        k8s_env.compile("cel.bind(x, 1, x) == 1")                          # not in the Kubernetes base env
    no_params = CelEnvironment("k8s")
    with pytest.raises(CelCompileError):
        no_params.compile("params.max == 1")


def _corpus_expressions():
    import glob
    from pathlib import Path

    import yaml
    root = Path(__file__).resolve().parents[4] / "shared" / "conformance" / "kyverno-policies"
    if not root.exists():
        pytest.skip("../shared/conformance is absent")
    for f in sorted(glob.glob(str(root / "**" / "*.yaml"), recursive=True)):
        if ".kyverno-test" in f or ".chainsaw-test" in f:
            continue
        try:
            docs = list(yaml.safe_load_all(open(f, encoding="utf-8")))
        except yaml.YAMLError:
            continue
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            spec = doc.get("spec") or {}
            kind = doc.get("kind")
            if kind in ("ValidatingPolicy", "NamespacedValidatingPolicy", "ValidatingAdmissionPolicy"):
                flavor = "k8s" if kind == "ValidatingAdmissionPolicy" else "vpol"
                variables = [(v["name"], v["expression"]) for v in spec.get("variables") or []]
                for m in spec.get("matchConditions") or []:
                    yield flavor, m["expression"], variables, "bool"
                for v in spec.get("validations") or []:
                    yield flavor, v["expression"], variables, "bool"
                    if "messageExpression" in v:
                        yield flavor, v["messageExpression"], variables, "string"
            elif kind in ("ClusterPolicy", "Policy"):
                for rule in spec.get("rules") or []:
                    cel = (rule.get("validate") or {}).get("cel") or {}
                    variables = [(v["name"], v["expression"]) for v in cel.get("variables") or []]
                    for v in cel.get("expressions") or []:
                        yield "k8s", v["expression"], variables, "bool"


def test_policy_library_expressions_parse_and_compile():
    envs = {"vpol": CelEnvironment("vpol"), "k8s": CelEnvironment("k8s", params=True)}
    count = 0
    for flavor, expr, variables, expect in _corpus_expressions():
        parse(expr)                                   # no silent fallback to un-rewritten text
        envs[flavor].compile(expr, variables=variables, expect=expect)
        count += 1
    assert count > 100
