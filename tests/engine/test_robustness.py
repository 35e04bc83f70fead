"""Arbitrary manifests never crash the engine, and results are deterministic."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpulint.cli import main
from gpulint.engine import build_engine
from gpulint.engine.builtin import builtin_rules_dir, resolve_settings
from gpulint.load import load_paths, load_text
from tests.conftest import shared_or_skip

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False),
                     st.text(max_size=12), st.sampled_from(["$NUM_NODES", "<your-image>", "8", "1Gi", "nvcr.io/x"]))
_KEYS = st.sampled_from(["spec", "containers", "resources", "limits", "requests", "nvidia.com/gpu", "image",
                         "template", "replicas", "metadata", "name", "namespace", "labels", "securityContext",
                         "env", "value", "pytorchReplicaSpecs", "Worker", "Master", "replicatedJobs",
                         "nodeSelector", "volumes", "x"])
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(_KEYS, inner, max_size=5)), max_leaves=30)
_KINDS = st.sampled_from([("v1", "Pod"), ("apps/v1", "Deployment"), ("batch/v1", "CronJob"),
                          ("kubeflow.org/v1", "PyTorchJob"), ("jobset.x-k8s.io/v1alpha2", "JobSet"),
                          ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"), ("ray.io/v1", "RayCluster"),
                          ("acme.io/v1", "Unknown")])

_SETUP = {}


def _engine():
    if "engine" not in _SETUP:
        policies = load_paths([str(builtin_rules_dir())]).resources
        _SETUP["engine"] = build_engine(policies, [], settings=resolve_settings({})).engine
    return _SETUP["engine"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=_KINDS, spec=_VALUES, metadata=st.dictionaries(_KEYS, _VALUES, max_size=3))
def test_arbitrary_manifests_never_crash_and_are_deterministic(kind, spec, metadata):
    obj = {"apiVersion": kind[0], "kind": kind[1], "metadata": metadata, "spec": spec}
    loaded = load_text(json.dumps(obj), "arbitrary.json")
    engine = _engine()
    first = [(r.policy.name, r.result, r.message, r.role) for r in engine.evaluate(loaded.resources)]
    second = [(r.policy.name, r.result, r.message, r.role) for r in engine.evaluate(loaded.resources)]
    assert first == second
    assert not [m for _, _, m, _ in first if m.startswith("internal error")]
    for result in engine.evaluate(loaded.resources):
        position = result.location()
        assert position.line >= 1 and position.column >= 1


def test_corpus_checks_without_crash_or_internal_error(capsys):
    corpus = shared_or_skip("corpus")
    code = main(["check", "-o", "json", "--fail-on", "never", str(corpus)])
    document = json.loads(capsys.readouterr().out)
    # The corpus holds exactly one published file that does not parse, and one rendered chart whose
    # license comment swallowed a ServiceAccount's apiVersion line: exactly those two clean errors.
    assert code == 2
    errors = [(e["file"].partition("/corpus/")[2] or e["file"], e["line"], e["column"], e["message"]) for e in document["errors"]]
    assert errors == [
        ("gpu-workloads/gke-kubernetes-engine-samples/vllm-llama4-scout-17b-16e.yaml", 96, 18,
         "a mapping key is a mapping, not a string (an unquoted {{...}} placeholder?)"),
        ("helm-rendered/llm-benchmark-chart-vllm.yaml", 23, 1,
         "document 1 has kind ServiceAccount but no apiVersion, so it is not a Kubernetes object"),
    ]
    internal = [r for r in document["results"] if "internal error" in r["message"]]
    assert internal == []
