"""kyverno-cel-semantics.md §9 "Subtle behaviours", the parts decided by the CEL layer."""

import pytest

from gpulint.engine.cel import CelCompileError, CelEvalError, ints_to_floats

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"gpu": "true", "n": 1}},
       "spec": {"replicas": 3, "hostNetwork": True,
                "containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 1}}}]}}


# 1. Floats offline ------------------------------------------------------------------------------
def test_1_cli_floats_break_int_arithmetic(ev):
    obj = ints_to_floats(POD)
    with pytest.raises(CelEvalError, match="no such overload"):
        ev("object.spec.replicas + 1 > 2", obj)
    with pytest.raises(CelEvalError, match="no such overload"):
        ev("object.spec.replicas * 2 > 4", obj)
    assert ev("object.spec.replicas * 2 > 4", POD) is True          # in-cluster (ints)


def test_1_cli_floats_format_d_errors(ev):
    obj = ints_to_floats(POD)
    with pytest.raises(CelEvalError, match="decimal clause can only be used on integers, was given double"):
        ev("'%d'.format([object.spec.replicas])", obj)
    assert ev("'%d'.format([object.spec.replicas])", POD) == "3"


def test_1_cli_floats_type_is_not_int(ev):
    assert ev("type(object.spec.replicas) == int", ints_to_floats(POD)) is False
    assert ev("type(object.spec.replicas) == int", POD) is True


@pytest.mark.parametrize("expr", ["object.spec.replicas == 3", "object.spec.replicas > 2",
                                  "object.spec.replicas in [1, 2, 3]", "int(object.spec.replicas) == 3"])
def test_1_comparisons_work_with_floats_and_ints(ev, expr):
    assert ev(expr, ints_to_floats(POD)) is True
    assert ev(expr, POD) is True


def test_ints_to_floats_is_a_copy():
    src = {"a": [1, {"b": 2}], "c": True, "d": "1"}
    out = ints_to_floats(src)
    assert out == {"a": [1.0, {"b": 2.0}], "c": True, "d": "1"}
    assert type(out["a"][0]) is float and out["c"] is True
    assert src["a"][0] == 1 and type(src["a"][0]) is int


# 2. GPU quantities ------------------------------------------------------------------------------
def test_2_gpu_limit_raw_number_vs_string(ev):
    expr = "object.spec.containers.all(c, c.resources.limits['nvidia.com/gpu'] > 0)"
    assert ev(expr, ints_to_floats(POD)) is True                    # raw manifest: 1 -> 1.0
    in_cluster = {"spec": {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}
    with pytest.raises(CelEvalError, match="no such overload"):
        ev(expr, in_cluster)
    robust = "object.spec.containers.all(c, int(c.resources.limits['nvidia.com/gpu']) > 0)"
    assert ev(robust, ints_to_floats(POD)) is True
    assert ev(robust, in_cluster) is True


# 3. Quantity strings -----------------------------------------------------------------------------
def test_3_quantity_strings(ev):
    assert ev("quantity('1') == quantity('1000m')") is True
    assert ev("quantity('1Gi').compareTo(quantity('1G'))") == 1
    with pytest.raises(CelEvalError, match="unable to parse quantity's suffix"):
        ev("quantity('200K')")
    assert ev("isQuantity('1.5')") is True
    with pytest.raises(CelEvalError, match="cannot convert value to integer"):
        ev("quantity('0.5').asInteger()")


# 4. dyn is not bool -------------------------------------------------------------------------------
def test_4_dyn_output_is_a_compile_error(env):
    with pytest.raises(CelCompileError, match="output is expected to be of type bool"):
        env.compile("object.spec.hostNetwork", expect="bool")
    assert env.compile("object.spec.hostNetwork == true", expect="bool").return_type == "bool"


# 5. Missing fields ----------------------------------------------------------------------------------
def test_5_missing_field_is_an_error_not_false(ev):
    with pytest.raises(CelEvalError) as e:
        ev("object.spec.x == 1", POD)
    assert str(e.value) == "no such key: x"
    assert ev("has(object.spec.x)", POD) is False
    assert ev("object.spec.?x.orValue(1) == 1", POD) is True


def test_5_error_absorption(ev):
    assert ev("object.spec.x || true", POD) is True
    assert ev("object.spec.x && false", POD) is False
    assert ev("true || object.spec.x", POD) is True
    with pytest.raises(CelEvalError, match="no such key: x"):
        ev("object.spec.x || false", POD)
    assert ev("[1, 2].exists(i, i == 2 || object.spec.x)", POD) is True


# 6. orValue compat -----------------------------------------------------------------------------------
def test_6_or_value_on_present_non_optional_returns_it(ev):
    assert ev("object.spec.replicas.orValue(7)", POD) == 3
    assert ev("object.?spec.?nope.orValue(7)", POD) == 7
    assert ev("optional.none().orValue(7)") == 7


def test_6_or_value_on_missing_field_errors(ev):
    with pytest.raises(CelEvalError, match="no such key: nope"):
        ev("object.spec.nope.orValue(1)", POD)


def test_6_or_value_result_is_dyn(env):
    with pytest.raises(CelCompileError, match="type bool"):
        env.compile("object.?spec.?hostNetwork.orValue(false)", expect="bool")
    env.compile("object.?spec.?hostNetwork.orValue(false) == true", expect="bool")


# 7. Label values are strings ---------------------------------------------------------------------------
def test_7_label_compared_to_bool_is_false(ev):
    assert ev("object.metadata.labels.gpu == true", POD) is False
    assert ev("object.metadata.labels.gpu == 'true'", POD) is True
    assert ev("object.metadata.labels.n == 1", POD) is True           # unquoted in raw YAML only


# 8. has() on an index --------------------------------------------------------------------------------
def test_8_has_on_index_is_a_compile_error(env, ev):
    with pytest.raises(CelCompileError, match="field selection"):
        env.compile("has(object.metadata.labels['a/b'])")
    assert ev("'a/b' in object.metadata.labels", POD) is False


# 9/10. matchConditions and validations need errors distinguishable from false -----------------------
def test_9_10_errors_are_exceptions_not_false(ev):
    with pytest.raises(CelEvalError):
        ev("object.nope == 'x'", POD)
    assert ev("object.metadata.name == 'x'", POD) is False


# 12. Lazy variables and ordering ---------------------------------------------------------------------------
def test_12_unused_erroring_variable_is_harmless(ev):
    variables = [("bad", "object.nope.deeper"), ("ok", "object.spec.replicas")]
    assert ev("variables.ok == 3", POD, variables=variables) is True
    assert ev("false && variables.bad == 1", POD, variables=variables) is False
    with pytest.raises(CelEvalError, match="no such key: nope"):
        ev("variables.bad == 1", POD, variables=variables)


def test_12_variable_referencing_later_variable_is_a_compile_error(env):
    variables = [("a", "variables.b + 1"), ("b", "1")]
    with pytest.raises(CelCompileError, match="undefined field 'b'"):
        env.compile("variables.a == 2", variables=variables)
    errors = env.check_variables(variables)
    assert [i for i, _ in errors] == [0]


# 17/18. request and namespaceObject shapes --------------------------------------------------------------
def test_17_missing_username_without_userinfo_errors(ev):
    with pytest.raises(CelEvalError, match="no such key: username"):
        ev("request.userInfo.username == 'x'", POD, request={"userInfo": {}})
    assert ev("has(request.namespace)", POD, request={"operation": "CREATE"}) is False


def test_18_null_namespace_object_errors(ev):
    with pytest.raises(CelEvalError):
        ev("namespaceObject.metadata.labels.team == 'a'", POD, namespaceObject=None)


# 20. Exceptions lists are visible to expressions --------------------------------------------------------
def test_20_exceptions_allowed_images(ev):
    expr = "object.spec.containers.all(c, c.image in exceptions.allowedImages)"
    obj = {"spec": {"containers": [{"image": "nvcr.io/a:1"}]}}
    assert ev(expr, obj) is False
    assert ev(expr, obj, exceptions={"allowedImages": ["nvcr.io/a:1"], "allowedValues": []}) is True


# 21. Image references ---------------------------------------------------------------------------------------
def test_21_image_defaults(ev):
    assert ev("image('nginx').registry()") == "index.docker.io"
    assert ev("image('nginx').repository()") == "library/nginx"
    assert ev("image('nginx').tag()") == "latest"
    digest = "sha256:" + "a" * 64
    assert ev(f"image('nvcr.io/nvidia/cuda:12.2@{digest}').tag()") == ""
    assert ev(f"image('nvcr.io/nvidia/cuda:12.2@{digest}').digest()") == digest
    with pytest.raises(CelEvalError, match="could not parse reference"):
        ev("image('nvcr.io/NVIDIA/cuda:12.2').registry()")


# 22. image.GetMetadata needs the exact string ----------------------------------------------------------------
def test_22_image_metadata_exact_key(make_env):
    env = make_env(images={"nginx:1.25": {"config": {"user": "root"}}})
    act = env.activation()
    assert env.compile("image.GetMetadata('nginx:1.25').config.user").evaluate(act) == "root"
    with pytest.raises(CelEvalError, match="image data for docker.io/nginx:1.25 not found in the context"):
        env.compile("image.GetMetadata('docker.io/nginx:1.25')").evaluate(act)


# 23. Heterogeneous literals ------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", ["['a', 1]", "[1, 2.0]", "{'a': 1, 'b': 'x'}", "{1: 'a', 'b': 'c'}",
                                  "['a', object.metadata.name]"])
def test_23_heterogeneous_literals_do_not_compile(env, expr):
    with pytest.raises(CelCompileError, match="expected type"):
        env.compile(expr)


def test_23_format_arguments_may_be_heterogeneous(ev):
    assert ev("'%s: %d'.format(['a', 1])") == "a: 1"
    assert ev("[dyn('a'), dyn(1)].size()") == 2


# 24. YAML parsing follows Go -------------------------------------------------------------------------------------
def test_24_yaml_parse_go_semantics(ev):
    out = ev("yaml.parse(\"a: 1e3\\nb: 12:30\\nc: 2024-01-01\\nd: yes\\ne: off\\nf: 7\")")
    assert out == {"a": 1000.0, "b": "12:30", "c": "2024-01-01", "d": True, "e": False, "f": 7.0}
