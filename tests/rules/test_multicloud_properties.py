"""Property tests of the pod-level node-selection policies, including the settings the fixtures
(which run at the defaults) cannot reach.

gpu-cloud-selectors and gpu-tolerate-gpu-taint depend on setting `cloud`; gpu-consistent-selection on
tables of instance types; gpu-no-cpu-workloads-on-gpu-nodes on the GPU / non-GPU split. Pods are
generated and evaluated by the real engine, also as Deployments (Kyverno autogen) and PyTorchJob
templates (gpulint's CRD pod templates).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpulint.engine import build_engine
from gpulint.engine.builtin import resolve_settings
from gpulint.load import load_paths, load_text

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_ENGINES: dict[tuple, object] = {}


def _engine(name: str, overrides: dict | None = None):
    key = (name, json.dumps(overrides or {}, sort_keys=True))
    if key not in _ENGINES:
        setup = build_engine(load_paths([str(RULES / f"{name}.yaml")]).resources, [],
                             settings=resolve_settings(overrides or {}))
        assert not setup.errors, setup.errors
        _ENGINES[key] = setup.engine
    return _ENGINES[key]


def _fails(name: str, obj: dict, overrides: dict | None = None) -> list[str]:
    loaded = load_text(json.dumps(obj), "generated.json")
    assert not loaded.errors, loaded.errors
    results = [r for r in _engine(name, overrides).evaluate(loaded.resources) if r.policy.name == name]
    errors = [r.message for r in results if r.result == "error"]
    assert not errors, errors
    return [r.message for r in results if r.result == "fail"]


def as_kind(spec: dict, kind: str) -> dict:
    """The same pod spec as a bare Pod, a Deployment (autogen) or a PyTorchJob Worker (CRD template)."""
    meta = {"name": "generated", "namespace": "research"}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    if kind == "Deployment":
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {
            "replicas": 1, "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": spec}}}
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta, "spec": {"pytorchReplicaSpecs": {
        "Worker": {"replicas": 2, "restartPolicy": "OnFailure", "template": {"spec": spec}}}}}


KIND = st.sampled_from(["Pod", "Deployment", "PyTorchJob"])


def pod(gpus=1, resource="nvidia.com/gpu", **extra) -> dict:
    container = {"name": "main", "image": "nvcr.io/nvidia/pytorch:24.07-py3"}
    if gpus:
        container["resources"] = {"limits": {resource: gpus}}
    return {"containers": [container], **extra}


def term(*pairs) -> dict:
    return {"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in pairs]}


def affinity(*terms) -> dict:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


# ------------------------------------------------------------------------------- gpu-cloud-selectors

CLOUD = "gpu-cloud-selectors"
LABELS = {
    "aws": [("karpenter.k8s.aws/instance-gpu-name", "h100"), ("node.kubernetes.io/instance-type", "p5.48xlarge"),
            ("eks.amazonaws.com/nodegroup", "gpu"), ("node.kubernetes.io/instance-type", "g6e.12xlarge")],
    "gcp": [("cloud.google.com/gke-accelerator", "nvidia-l4"), ("node.kubernetes.io/instance-type", "a3-highgpu-8g"),
            ("cloud.google.com/gke-nodepool", "gpu-pool")],
    "azure": [("kubernetes.azure.com/accelerator", "nvidia"), ("node.kubernetes.io/instance-type", "Standard_ND96isr_H100_v5"),
              ("kubernetes.azure.com/agentpool", "gpunp")],
    "oci": [("oci.oraclecloud.com/fault-domain", "FAULT-DOMAIN-1"), ("node.kubernetes.io/instance-type", "BM.GPU.H100.8")],
}
PORTABLE = [("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3"), ("nvidia.com/gpu.present", "true"),
            ("kubernetes.io/arch", "amd64")]


@SETTINGS
@given(cloud=st.sampled_from(sorted(LABELS)), data=st.data(), kind=KIND, in_affinity=st.booleans())
def test_own_cloud_and_portable_labels_pass_a_foreign_label_fails(cloud, data, kind, in_affinity):
    own = data.draw(st.lists(st.sampled_from(LABELS[cloud] + PORTABLE), min_size=1, max_size=3, unique_by=lambda p: p[0]))
    spec = pod(affinity=affinity(term(*own))) if in_affinity else pod(nodeSelector=dict(own))
    assert not _fails(CLOUD, as_kind(spec, kind), {"cloud": cloud})
    assert not _fails(CLOUD, as_kind(spec, kind))  # cloud: any, one cloud only
    other = data.draw(st.sampled_from(sorted(set(LABELS) - {cloud})))
    foreign = data.draw(st.sampled_from([p for p in LABELS[other] if p[0] not in dict(own)]))
    mixed = own + [foreign]
    spec = pod(affinity=affinity(term(*mixed))) if in_affinity else pod(nodeSelector=dict(mixed))
    assert _fails(CLOUD, as_kind(spec, kind), {"cloud": cloud})
    if any(p in LABELS[cloud] for p in own):
        assert _fails(CLOUD, as_kind(spec, kind))  # two clouds in one alternative
    assert _fails(CLOUD, as_kind(spec, kind), {"cloud": "dgx"})


@SETTINGS
@given(clouds=st.lists(st.sampled_from(sorted(LABELS)), min_size=2, max_size=3, unique=True), kind=KIND)
def test_alternative_terms_may_name_different_clouds(clouds, kind):
    spec = pod(affinity=affinity(*[term(LABELS[c][0]) for c in clouds]))
    assert not _fails(CLOUD, as_kind(spec, kind))
    # ... but a nodeSelector is ANDed with every term.
    spec["nodeSelector"] = dict([LABELS[clouds[0]][0]])
    assert _fails(CLOUD, as_kind(spec, kind))


@SETTINGS
@given(labels=st.lists(st.sampled_from(PORTABLE), min_size=0, max_size=3, unique=True),
       cloud=st.sampled_from(["any", "aws", "gcp", "azure", "oci", "dgx"]))
def test_gpu_feature_discovery_labels_are_portable(labels, cloud):
    assert not _fails(CLOUD, as_kind(pod(nodeSelector=dict(labels)), "Pod"), {"cloud": cloud})


# -------------------------------------------------------------------------- gpu-consistent-selection

CONSISTENT = "gpu-consistent-selection"
# instance type -> (GPU model product label, GPUs, EFA)
INSTANCES = {
    "p4d.24xlarge": ("NVIDIA-A100-SXM4-40GB", 8, 4), "p4de.24xlarge": ("NVIDIA-A100-SXM4-80GB", 8, 4),
    "p5.48xlarge": ("NVIDIA-H100-80GB-HBM3", 8, 32), "p5en.48xlarge": ("NVIDIA-H200", 8, 16),
    "p6-b200.48xlarge": ("NVIDIA-B200", 8, 8), "g5.xlarge": ("NVIDIA-A10G", 1, 0), "g5.12xlarge": ("NVIDIA-A10G", 4, 0),
    "g6.48xlarge": ("NVIDIA-L4", 8, 0), "g6e.2xlarge": ("NVIDIA-L40S", 1, 0), "a2-highgpu-4g": ("NVIDIA-A100-SXM4-40GB", 4, 0),
    "a3-megagpu-8g": ("NVIDIA-H100-80GB-HBM3", 8, 0), "a4-highgpu-8g": ("NVIDIA-B200", 8, 0),
    "g2-standard-24": ("NVIDIA-L4", 2, 0), "Standard_ND96isr_H100_v5": ("NVIDIA-H100-80GB-HBM3", 8, 0),
    "BM.GPU.H100.8": ("NVIDIA-H100-80GB-HBM3", 8, 0), "BM.GPU.A10.4": ("NVIDIA-A10", 4, 0),
}


def _model(product: str) -> str:
    return product.replace("NVIDIA-", "").replace("-SXM4", "").replace("-80GB-HBM3", "")


@SETTINGS
@given(instance=st.sampled_from(sorted(INSTANCES)), data=st.data(), kind=KIND)
def test_requests_within_the_instance_pass_and_beyond_fail(instance, data, kind):
    product, gpus, efa = INSTANCES[instance]
    asked = data.draw(st.integers(1, gpus))
    selector = {"node.kubernetes.io/instance-type": instance, "nvidia.com/gpu.product": product}
    spec = pod(asked, nodeSelector=selector)
    if efa:
        spec["containers"][0]["resources"]["limits"]["vpc.amazonaws.com/efa"] = data.draw(st.integers(1, efa))
    assert not _fails(CONSISTENT, as_kind(spec, kind))
    too_many = pod(gpus + data.draw(st.integers(1, 8)), nodeSelector=selector)
    assert _fails(CONSISTENT, as_kind(too_many, kind))
    if efa:
        spec["containers"][0]["resources"]["limits"]["vpc.amazonaws.com/efa"] = efa + data.draw(st.integers(1, 32))
        assert _fails(CONSISTENT, as_kind(spec, kind))


@SETTINGS
@given(a=st.sampled_from(sorted(INSTANCES)), b=st.sampled_from(sorted(INSTANCES)), kind=KIND)
def test_instance_type_and_product_must_name_the_same_gpu(a, b, kind):
    selector = {"node.kubernetes.io/instance-type": a, "nvidia.com/gpu.product": INSTANCES[b][0]}
    fails = _fails(CONSISTENT, as_kind(pod(1, nodeSelector=selector), kind))
    same = _model(INSTANCES[a][0]).startswith(_model(INSTANCES[b][0])) or \
        _model(INSTANCES[b][0]).startswith(_model(INSTANCES[a][0]))
    assert bool(fails) == (not same), (a, b, fails)


@SETTINGS
@given(value=st.sampled_from(["$INSTANCE_TYPE", "${GPU_TYPE}", "<your-instance>", "m5.large", "custom-node"]),
       gpus=st.sampled_from([1, 8, "$GPU_PER_NODE"]))
def test_unknown_values_and_placeholders_are_skipped(value, gpus):
    spec = pod(gpus, nodeSelector={"node.kubernetes.io/instance-type": value, "nvidia.com/gpu.product": value})
    assert not _fails(CONSISTENT, as_kind(spec, "Pod"))


# ---------------------------------------------------------------------------- gpu-tolerate-gpu-taint

TAINT = "gpu-tolerate-gpu-taint"
TOLERATIONS = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
               {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"},
               {"key": "nvidia.com/gpu", "operator": "Exists"}, {"operator": "Exists"},
               {"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
NOT_TOLERATIONS = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"},
                   {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
                   {"key": "CriticalAddonsOnly", "operator": "Exists"}]


@SETTINGS
@given(cloud=st.sampled_from(["any", "aws", "gcp", "azure", "oci", "dgx"]), kind=KIND,
       tolerations=st.lists(st.sampled_from(TOLERATIONS + NOT_TOLERATIONS), max_size=2),
       gke=st.booleans(), dra=st.booleans())
def test_toleration_model(cloud, kind, tolerations, gke, dra):
    spec = pod(0 if dra else 1, tolerations=tolerations)
    if dra:
        spec["resourceClaims"] = [{"name": "gpu", "resourceClaimTemplateName": "gpu"}]
    if gke:
        spec["nodeSelector"] = {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    tolerated = any(t in TOLERATIONS for t in tolerations)
    automatic = not dra and (cloud == "gcp" or (cloud == "any" and gke))
    assert bool(_fails(TAINT, as_kind(spec, kind), {"cloud": cloud})) == (not tolerated and not automatic)


# --------------------------------------------------------------------- gpu-no-cpu-workloads-on-gpu-nodes

NOCPU = "gpu-no-cpu-workloads-on-gpu-nodes"
GPU_SELECTORS = [("nvidia.com/gpu.present", "true"), ("nvidia.com/gpu.product", "NVIDIA-L4"),
                 ("cloud.google.com/gke-accelerator", "nvidia-l4"), ("karpenter.k8s.aws/instance-gpu-name", "a10g"),
                 ("node.kubernetes.io/instance-type", "p5.48xlarge"), ("node.kubernetes.io/instance-type", "g6.xlarge"),
                 ("node.kubernetes.io/instance-type", "a3-highgpu-8g"), ("node.kubernetes.io/instance-type", "Standard_NC24ads_A100_v4")]
CPU_SELECTORS = [("nvidia.com/gpu.present", "false"), ("node.kubernetes.io/instance-type", "m5.4xlarge"),
                 ("node.kubernetes.io/instance-type", "n2-standard-8"), ("kubernetes.io/arch", "amd64")]


@SETTINGS
@given(kind=KIND, selector=st.lists(st.sampled_from(GPU_SELECTORS + CPU_SELECTORS), max_size=2, unique_by=lambda p: p[0]),
       tolerations=st.lists(st.sampled_from(TOLERATIONS + NOT_TOLERATIONS), max_size=2),
       gpus=st.sampled_from([0, 1]), namespace=st.sampled_from(["research", "gpu-operator"]))
def test_cpu_pods_on_gpu_nodes_model(kind, selector, tolerations, gpus, namespace):
    obj = as_kind(pod(gpus, nodeSelector=dict(selector), tolerations=tolerations), kind)
    obj["metadata"]["namespace"] = namespace
    on_gpu_nodes = any(s in GPU_SELECTORS for s in selector) or any(t in TOLERATIONS for t in tolerations)
    expected = gpus == 0 and namespace != "gpu-operator" and on_gpu_nodes
    assert bool(_fails(NOCPU, obj)) == expected


@SETTINGS
@given(tolerations=st.lists(st.sampled_from(TOLERATIONS), min_size=1, max_size=2))
def test_daemonsets_may_tolerate_everything(tolerations):
    daemonset = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "logging"},
                 "spec": {"selector": {"matchLabels": {"app": "a"}},
                          "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod(0, tolerations=tolerations)}}}
    assert not _fails(NOCPU, daemonset)
    owned = as_kind(pod(0, tolerations=tolerations), "Pod")
    owned["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "1"}]
    assert not _fails(NOCPU, owned)
    assume(True)
