"""Run-constant lookups: resource.Get of literal arguments is answered once per run, with the same
values and errors as the call itself (rewrite.constant_lookup, CelEnvironment._constants)."""

from collections import Counter

import pytest

from gpulint.engine.cel import CelEnvironment, CelEvalError, OfflineContext

POD = {"kind": "Pod", "metadata": {"name": "p", "namespace": "team"}, "spec": {"containers": [{"name": "a"}]}}
SETTINGS = "resource.Get('v1', 'configmaps', 'kyverno', 'settings')"


class Store:
    def __init__(self, objects):
        self.objects = objects
        self.calls = Counter()

    def get(self, api_version, resource, namespace, name):
        self.calls[(namespace, name)] += 1
        if name == "broken":
            raise RuntimeError("lookup backend down")
        return self.objects.get((namespace, name))


def settings(value):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "kyverno"},
            "data": {"limit": value, "registries": '["nvcr.io", "ghcr.io"]'}}


@pytest.fixture
def store():
    return Store({("kyverno", "settings"): settings("8")})


@pytest.fixture
def env(store):
    return CelEnvironment("vpol", context=OfflineContext(get_resource=store.get), rulecache=False)


def test_literal_lookup_is_fetched_once_for_every_program_and_resource(env, store):
    programs = [env.compile(f"{SETTINGS}.data.limit == '8'", expect="bool"),
                env.compile(f"json.unmarshal({SETTINGS}.data.registries)[1]"),
                env.compile("size(variables.s.data) == 2", variables=[("s", SETTINGS)], expect="bool")]
    for _ in range(5):
        activation = env.activation(object=POD)
        assert [p.evaluate(activation) for p in programs] == [True, "ghcr.io", True]
    assert store.calls == Counter({("kyverno", "settings"): 1})


def test_lookup_with_computed_arguments_is_still_called_per_evaluation(env, store):
    program = env.compile("resource.Get('v1', 'configmaps', 'kyver' + 'no', 'settings').data.limit")
    for _ in range(3):
        assert program.evaluate(env.activation(object=POD)) == "8"
    assert store.calls == Counter({("kyverno", "settings"): 3})


def test_missing_object_is_null_as_with_the_call(env):
    program = env.compile("resource.Get('v1', 'configmaps', 'kyverno', 'absent') == null", expect="bool")
    assert program.evaluate(env.activation(object=POD)) is True


def test_failing_lookup_gives_the_calls_own_error(env, store):
    literal = env.compile("resource.Get('v1', 'configmaps', 'kyverno', 'broken').data")
    computed = env.compile("resource.Get('v1', 'configmaps', 'kyverno', 'bro' + 'ken').data")
    errors = []
    for program in (literal, computed):
        with pytest.raises(CelEvalError) as caught:
            program.evaluate(env.activation(object=POD))
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
    assert "failed to get resource: lookup backend down" in errors[0]


def test_values_follow_a_replaced_context(env, store):
    program = env.compile(f"{SETTINGS}.data.limit")
    assert program.evaluate(env.activation(object=POD)) == "8"
    other = Store({("kyverno", "settings"): settings("2")})
    env.context = OfflineContext(get_resource=other.get)
    assert program.evaluate(env.activation(object=POD)) == "2"


def test_rewritten_source_keeps_the_call_as_fallback(env):
    program = env.compile(f"{SETTINGS}.data.limit")
    assert "__gpl_consts" in program.source and "resource.Get('v1', 'configmaps', 'kyverno', 'settings')" in program.source


def test_namespaced_policy_short_form_is_constant_too(store):
    env = CelEnvironment("vpol", context=OfflineContext(get_resource=store.get), rulecache=False)
    program = env.compile("resource.Get('v1', 'configmaps', 'settings').data.limit", namespace="kyverno")
    for _ in range(3):
        assert program.evaluate(env.activation(object=POD)) == "8"
    assert store.calls == Counter({("kyverno", "settings"): 1})


def test_keys_with_quotes_and_escapes_round_trip(store):
    store.objects[("kyverno", 'we"ird\\name')] = {"data": {"ok": "yes"}}
    env = CelEnvironment("vpol", context=OfflineContext(get_resource=store.get), rulecache=False)
    program = env.compile("resource.Get('v1', 'configmaps', 'kyverno', 'we\"ird\\\\name').data.ok")
    for _ in range(2):
        assert program.evaluate(env.activation(object=POD)) == "yes"
    assert store.calls[("kyverno", 'we"ird\\name')] == 1


def test_prepare_plans_without_evaluating_and_changes_no_result(env, store):
    """CelEnvironment.prepare runs a program once on an activation without data (cel-cpp plans a
    program on its first evaluation): nothing is looked up and later results are the same."""
    programs = [env.compile(f"{SETTINGS}.data.limit == '8'", expect="bool"),
                env.compile("size(variables.s.data) == 2", variables=[("s", SETTINGS)], expect="bool"),
                env.compile("object.spec.containers.map(c, c.name)")]
    for program in programs:
        env.prepare(program)
    assert store.calls == Counter()
    activation = env.activation(object=POD)
    assert [p.evaluate(activation) for p in programs] == [True, True, ["a"]]
