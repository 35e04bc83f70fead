"""Fused programs too deep for one cel.bind per variable bind list-valued variables by dependency
level (variables.hoist(levels=True)) instead of handing them over from Python, with the same results
as evaluating the policy program by program."""

from __future__ import annotations

import pytest

from gpulint.engine.cel import CelEnvironment
from gpulint.engine.matching import Request
from gpulint.engine.vpol import ValidatingPolicy

WIDTH = 20  # one nested bind per variable would be 40 levels deep: more than cel-cpp's 32


def policy(env, message_variable="a0"):
    variables = [{"name": f"a{k}", "expression": f"object.spec.containers.map(c, c.name + '{k}')"}
                 for k in range(WIDTH)]
    variables.append({"name": "bad", "expression": "object.spec.missing.map(x, x)"})
    total = " + ".join(f"size(variables.a{k})" for k in range(WIDTH))
    return ValidatingPolicy({
        "apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy", "metadata": {"name": "wide"},
        "spec": {
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                    "resources": ["pods"], "operations": ["CREATE"]}]},
            "variables": variables,
            "validations": [{"expression": f"{total} == {WIDTH} * size(object.spec.containers) && "
                                           "!variables.a3.exists(n, n.startsWith('bad'))",
                             "messageExpression": f"'first: ' + variables.{message_variable}[0]"}],
            "auditAnnotations": [{"key": "field", "valueExpression": "'spec.containers[0]'"}],
        }}, env)


def pod(*names):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": n} for n in names]}}


def evaluate(p, obj, *, fused: bool):
    env = p.env
    variant = p.variants[0]
    if not fused:
        variant._fused = None  # program by program: Kyverno's order, every error exact
    request = Request("", "v1", "Pod", "pods", "default", "p", "CREATE", namespaced=True, labels={})
    act = env.activation(object=obj)
    [response] = p.evaluate(request, lambda allowed: act, lambda ns: None, [variant])
    return response.status, response.message, response.properties


@pytest.fixture
def env():
    return CelEnvironment("vpol", rulecache=False)


def test_wide_policy_is_fused_by_levels_without_python_handover(env):
    source = policy(env).variants[0].fused.source
    assert "__gpl_l0" in source
    assert "__gpulint_var_list" not in source


@pytest.mark.parametrize("names", [("a", "b"), ("bad", "b"), ("a",)])
def test_fused_by_levels_gives_the_program_by_program_result(env, names):
    assert evaluate(policy(env), pod(*names), fused=True) == evaluate(policy(env), pod(*names), fused=False)


def test_an_error_in_an_unused_variable_of_a_level_does_not_change_the_result(env):
    # `bad` errors on every pod and sits in the same level as a0..a19: the fused program fails and
    # the policy is evaluated program by program, where `bad` is never read.
    status, message, _ = evaluate(policy(env), pod("bad-name"), fused=True)
    assert (status, message) == ("fail", "first: bad-name0")
    assert evaluate(policy(env), pod("ok"), fused=True)[0] == "pass"


def test_a_read_of_the_erroring_variable_is_the_error_it_was(env):
    wide = policy(env, message_variable="bad")
    assert evaluate(wide, pod("bad-x"), fused=True) == evaluate(policy(env, "bad"), pod("bad-x"), fused=False)


# -- balanced operator chains ------------------------------------------------------------------------

from gpulint.engine.cel import variables as V  # noqa: E402
from gpulint.engine.cel.syntax import emit, parse  # noqa: E402


def _evaluate_source(env, source, obj):
    program = env._env.compile(source)
    return program.eval(env.activation(object=obj).act).plain_value()


def test_long_string_concatenation_is_balanced_and_gives_the_same_string(env):
    parts = [f"'p{k}-' + object.spec.containers[0].name" for k in range(40)]
    tree = parse(" + ".join(parts))
    with pytest.raises(RuntimeError, match="recursion"):
        env._env.compile(emit(tree))  # 80 operands nested left to right: too deep for cel-cpp
    balanced = V.rebalance(tree)
    expected = "".join(f"p{k}-x" for k in range(40))
    assert _evaluate_source(env, emit(balanced), pod("x")) == expected


def test_list_concatenation_is_balanced(env):
    tree = parse(" + ".join(f"[{k}]" for k in range(40)))
    assert _evaluate_source(env, emit(V.rebalance(tree)), pod("x")) == list(range(40))


@pytest.mark.parametrize("op", ["&&", "||"])
@pytest.mark.parametrize("pattern", [0, 1, 2**39, 2**40 - 1, 0x5555555555, 0xAAAAAAAAAA])
def test_logical_chains_keep_their_value(env, op, pattern):
    bits = [bool(pattern >> k & 1) for k in range(40)]
    tree = parse(f" {op} ".join("true" if b else "false" for b in bits))
    expected = all(bits) if op == "&&" else any(bits)
    assert _evaluate_source(env, emit(V.rebalance(tree)), pod("x")) is expected


def test_logical_chains_still_absorb_errors(env):
    # false && <error> is false whatever the order: CEL's logical operators are commutative
    operands = ["object.spec.missing == 1"] * 20 + ["false"] + ["object.spec.missing == 2"] * 20
    tree = parse(" && ".join(operands))
    assert _evaluate_source(env, emit(V.rebalance(tree)), pod("x")) is False


def test_integer_sums_are_left_as_written(env):
    # int + int may overflow in one order and not in another: never regrouped
    tree = parse(" + ".join(["9223372036854775807", "1", "-1"] * 2))
    assert emit(V.rebalance(tree)) == emit(tree)


def test_builtin_fused_programs_hand_no_list_or_map_over_from_python():
    """Each fused program of the built-in pack binds its variables in CEL: a list or map read through
    an accessor costs a conversion from Python per program and resource (about 100 µs each)."""
    import json
    import re

    from gpulint.engine.cel import rulecache

    fused = [source for source in json.loads(rulecache.PATH.read_text(encoding="utf-8"))["fused"].values() if source]
    assert fused
    offenders = [re.findall(r"__gpulint_var_(?:list|map)\w*\(\d+\)", source) for source in fused]
    assert not [o for o in offenders if o]
