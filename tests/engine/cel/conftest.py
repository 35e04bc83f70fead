import pytest

from gpulint.engine.cel import CelEnvironment, OfflineContext


@pytest.fixture(scope="module")
def env():
    return CelEnvironment("vpol")


@pytest.fixture(scope="module")
def k8s_env():
    return CelEnvironment("k8s", params=True)


@pytest.fixture
def ev(env):
    """Evaluate an expression in the vpol environment against `obj` (as `object`)."""
    def run(expression, obj=None, *, variables=(), expect=None, environment=None, **act):
        e = environment or env
        program = e.compile(expression, variables=variables, expect=expect)
        return program.evaluate(e.activation(object=obj, **act))
    return run


@pytest.fixture
def make_env():
    def build(flavor="vpol", **context):
        return CelEnvironment(flavor, context=OfflineContext(**context))
    return build
