"""Properties of gpu-restrict-inference-exposure, evaluated by the real engine.

A Service is judged against the GPU workloads resource.List finds in its namespace (offline: the
objects of the run), and the GPU workload (not a bare Pod) against the Services of its namespace. Generated here:
GPU and CPU workloads of several kinds (Pod, Deployment, StatefulSet, DaemonSet, LeaderWorkerSet)
with random labels, and Services of every type whose selector does or does not match them.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "rules" / "gpu-restrict-inference-exposure.yaml"
FIXTURES = ROOT / "fixtures" / "gpu-restrict-inference-exposure"
NAME = "gpu-restrict-inference-exposure"
_COUNTER = itertools.count()

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _engine(overrides: dict | None = None):
    from gpulint.engine import build_engine
    from gpulint.engine.builtin import resolve_settings
    from gpulint.load import load_text

    policy = load_text(POLICY.read_text(encoding="utf-8"), str(POLICY)).resources
    setup = build_engine(policy, [], settings=resolve_settings(overrides or {}))
    assert not setup.errors, setup.errors
    return setup.engine


@pytest.fixture(scope="module")
def engine():
    return _engine()


@pytest.fixture(scope="module")
def permissive_engine():
    return _engine({"allowPublicInference": True})


def _run(engine, docs: list[dict]) -> dict[tuple[str, str], str]:
    """Evaluate `docs` as one run (each in a fresh namespace): {(kind, name): verdict} of this policy."""
    from gpulint.load import load_text

    loaded = load_text(yaml.safe_dump_all(docs, sort_keys=False), "generated.yaml")
    assert not loaded.errors, loaded.errors
    for resource in loaded.resources:  # what resource.List answers offline: the objects of the run
        engine.lookup.add(resource.obj)
    verdicts: dict[tuple[str, str], str] = {}
    for result in engine.evaluate(loaded.resources):
        if result.policy.name != NAME or result.role is not None:
            continue
        assert result.result != "error", result.message
        key = (result.resource.kind, result.resource.name)
        verdicts[key] = "fail" if result.result == "fail" or verdicts.get(key) == "fail" else result.result
    return verdicts


label_keys = st.sampled_from(["app", "app.kubernetes.io/name", "component", "model", "tier"])
label_values = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
label_sets = st.dictionaries(label_keys, label_values, min_size=1, max_size=4)
KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "LeaderWorkerSet"]
GPU_RESOURCES = st.sampled_from([{"nvidia.com/gpu": 1}, {"nvidia.com/gpu": 8}, {"nvidia.com/mig-3g.40gb": 1},
                                 {"nvidia.com/gpu.shared": 1}])


def _workload(kind: str, name: str, namespace: str, labels: dict, resources: dict) -> dict:
    container = {"name": "server", "image": "nvcr.io/nvidia/tritonserver:24.08-py3",
                 "resources": {"limits": dict(resources)}}
    template = {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}}
    meta = {"name": name, "namespace": namespace}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {**meta, "labels": dict(labels)},
                "spec": template["spec"]}
    if kind == "LeaderWorkerSet":
        return {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": meta,
                "spec": {"replicas": 1, "leaderWorkerTemplate": {"size": 2, "workerTemplate": template}}}
    spec = {"selector": {"matchLabels": dict(labels)}, "template": template}
    if kind != "DaemonSet":
        spec["replicas"] = 1
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}


def _service(name: str, namespace: str, selector: dict, type_: str, annotations=None, extra=None) -> dict:
    spec = {"type": type_, "selector": dict(selector), "ports": [{"port": 8000}]}
    spec.update(extra or {})
    meta = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def _namespace() -> str:
    return f"ns-{next(_COUNTER)}"


def _subset(draw, labels: dict) -> dict:
    keys = draw(st.lists(st.sampled_from(sorted(labels)), min_size=1, unique=True))
    return {k: labels[k] for k in keys}


@st.composite
def exposed(draw):
    kind = draw(st.sampled_from(KINDS))
    labels = draw(label_sets)
    return kind, labels, _subset(draw, labels), draw(GPU_RESOURCES)


@SETTINGS
@given(case=exposed(), type_=st.sampled_from(["LoadBalancer", "NodePort"]))
def test_public_service_selecting_gpu_pods_fails(engine, case, type_):
    kind, labels, selector, resources = case
    ns = _namespace()
    if kind == "LeaderWorkerSet":  # LWS pods also carry the set's name, which Services select on
        selector = {**selector, "leaderworkerset.sigs.k8s.io/name": "server"}
    verdicts = _run(engine, [_workload(kind, "server", ns, labels, resources), _service("server-svc", ns, selector, type_)])
    # Bare Pods are judged through the Service only (the policy does not match Pods).
    assert verdicts.get((kind, "server")) == (None if kind == "Pod" else "fail")
    # resource.List on the Service side reads core kinds only (a CRD list errors in clusters without it);
    # pods of a LeaderWorkerSet are judged on the LWS offline and on the pods in a cluster.
    assert verdicts[("Service", "server-svc")] == ("pass" if kind == "LeaderWorkerSet" else "fail")


@SETTINGS
@given(case=exposed(), extra=st.sampled_from(["clusterip", "headless", "internal-lb", "source-ranges"]))
def test_private_service_never_fails(engine, case, extra):
    kind, labels, selector, resources = case
    ns = _namespace()
    service = {
        "clusterip": _service("server-svc", ns, selector, "ClusterIP"),
        "headless": _service("server-svc", ns, selector, "ClusterIP", extra={"clusterIP": "None"}),
        "internal-lb": _service("server-svc", ns, selector, "LoadBalancer",
                                annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}),
        "source-ranges": _service("server-svc", ns, selector, "LoadBalancer",
                                  extra={"loadBalancerSourceRanges": ["10.0.0.0/8", "192.168.0.0/16"]}),
    }[extra]
    verdicts = _run(engine, [_workload(kind, "server", ns, labels, resources), service])
    assert set(verdicts.values()) == {"pass"}, verdicts


@SETTINGS
@given(case=exposed(), type_=st.sampled_from(["LoadBalancer", "NodePort"]))
def test_public_service_not_selecting_gpu_pods_passes(engine, case, type_):
    kind, labels, selector, resources = case
    ns = _namespace()
    cpu = _workload(kind, "cpu", ns, labels, {"cpu": "2", "memory": "4Gi"})
    other = {**labels, **{k: v + "-other" for k, v in selector.items()}}  # same keys, other values
    gpu = _workload(kind, "gpu", ns, other, resources)
    verdicts = _run(engine, [cpu, gpu, _service("server-svc", ns, selector, type_)])
    assert set(verdicts.values()) == {"pass"}, verdicts


@SETTINGS
@given(case=exposed(), type_=st.sampled_from(["LoadBalancer", "NodePort"]))
def test_services_of_other_namespaces_do_not_count(engine, case, type_):
    kind, labels, selector, resources = case
    verdicts = _run(engine, [_workload(kind, "server", _namespace(), labels, resources),
                             _service("server-svc", _namespace(), selector, type_)])
    assert set(verdicts.values()) == {"pass"}, verdicts


@SETTINGS
@given(case=exposed(), type_=st.sampled_from(["LoadBalancer", "NodePort"]))
def test_allow_public_inference_turns_the_policy_off(permissive_engine, case, type_):
    kind, labels, selector, resources = case
    ns = _namespace()
    verdicts = _run(permissive_engine, [_workload(kind, "server", ns, labels, resources),
                                        _service("server-svc", ns, selector, type_)])
    assert set(verdicts.values()) == {"pass"}, verdicts


@SETTINGS
@given(type_=st.sampled_from(["ClusterIP", "LoadBalancer", "NodePort", None]),
       annotated=st.booleans())
def test_nimservice_fails_exactly_for_public_types(engine, type_, annotated):
    ns = _namespace()
    service: dict = {"port": 8000}
    if type_ is not None:
        service["type"] = type_
    if annotated:
        service["annotations"] = {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}
    nim = {"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMService", "metadata": {"name": "nim", "namespace": ns},
           "spec": {"image": {"repository": "nvcr.io/nim/meta/llama-3.1-8b-instruct", "tag": "1.3.3"},
                    "resources": {"limits": {"nvidia.com/gpu": 1}}, "expose": {"service": service}}}
    public = type_ == "NodePort" or (type_ == "LoadBalancer" and not annotated)
    assert _run(engine, [nim])[("NIMService", "nim")] == ("fail" if public else "pass")


def test_cluster_resources_stay_in_sync_with_the_fixtures():
    """cluster.yaml (the suite's fake cluster) = the settings ConfigMap + every Pod/apps workload of the fixtures."""
    cluster = yaml.safe_load((FIXTURES / "cluster.yaml").read_text(encoding="utf-8"))
    context = yaml.safe_load((ROOT / "fixtures" / "context.yaml").read_text(encoding="utf-8"))
    expected = [context["spec"]["resources"][0]]
    for path in sorted(FIXTURES.glob("*.yaml")):
        if path.name.startswith(("bad-", "good-")):
            expected += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8"))
                         if isinstance(d, dict) and d["kind"] in ("Pod", "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet")]
    assert cluster["spec"]["resources"] == expected
