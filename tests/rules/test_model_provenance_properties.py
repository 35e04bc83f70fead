"""Properties of gpu-require-model-provenance, evaluated by the real engine.

Serving CRDs (NIMCache, InferenceService, LLMInferenceService) are generated with model sources of
every kind, and GPU workloads of several kinds (Pod, Deployment, PyTorchJob, MPIJob, JobSet,
LeaderWorkerSet, RayCluster) with and without the model-source annotation: a workload passes exactly
when every source it names starts with an approved prefix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "rules" / "gpu-require-model-provenance.yaml"
NAME = "gpu-require-model-provenance"
KEY = "gpulint.io/model-source"
APPROVED = ("ngc://", "nvcr.io/")

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def engine():
    from gpulint.engine import build_engine
    from gpulint.engine.builtin import resolve_settings
    from gpulint.load import load_text

    policy = load_text(POLICY.read_text(encoding="utf-8"), str(POLICY)).resources
    setup = build_engine(policy, [], settings=resolve_settings({}))
    assert not setup.errors, setup.errors
    return setup.engine


def _verdict(engine, doc: dict) -> str:
    from gpulint.load import load_text

    loaded = load_text(yaml.safe_dump(doc, sort_keys=False), "generated.yaml")
    assert not loaded.errors and len(loaded.resources) == 1, loaded.errors
    mine = [r for r in engine.evaluate(loaded.resources) if r.policy.name == NAME and r.role is None]
    assert len(mine) == 1, [(r.result, r.message) for r in mine]
    assert mine[0].result != "error", mine[0].message
    if mine[0].result == "fail":
        assert mine[0].message and doc["metadata"]["name"] in mine[0].message
    return mine[0].result


path_part = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,12}(/[a-z0-9][a-z0-9._-]{0,12}){0,2}", fullmatch=True)
remote_schemes = st.sampled_from(["hf://", "s3://", "gs://", "https://models.example.com/", "oci://ghcr.io/acme/",
                                  "ngc://", "nvcr.io/", "NGC://", "ftp://"])
opaque_schemes = st.sampled_from(["pvc://", "file:///", "/"])


def _approved(source: str) -> bool:
    return any(source.lower().startswith(p) for p in APPROVED)


def _meta(name: str, annotation: str | None) -> dict:
    meta = {"name": name, "namespace": "ml"}
    if annotation is not None:
        meta["annotations"] = {KEY: annotation}
    return meta


@SETTINGS
@given(scheme=remote_schemes, rest=path_part, annotation=st.one_of(st.none(), st.builds(str.__add__, remote_schemes, path_part)))
def test_inferenceservice_remote_storage_uri(engine, scheme, rest, annotation):
    uri = scheme + rest
    isvc = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": _meta("isvc", annotation),
            "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"}, "storageUri": uri,
                                             "resources": {"limits": {"nvidia.com/gpu": "1"}}}}}}
    # A remote source is judged whether or not the annotation is there; the annotation is judged too.
    ok = _approved(uri) and (annotation is None or _approved(annotation))
    assert _verdict(engine, isvc) == ("pass" if ok else "fail")


@SETTINGS
@given(scheme=opaque_schemes, rest=path_part, annotation=st.one_of(st.none(), st.builds(str.__add__, remote_schemes, path_part)))
def test_local_model_copies_need_the_annotation(engine, scheme, rest, annotation):
    llm = {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "LLMInferenceService", "metadata": _meta("llm", annotation),
           "spec": {"model": {"uri": scheme + rest}, "template": {"containers": [
               {"name": "main", "image": "vllm/vllm-openai:v0.8.5", "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}}
    # A pvc://, file:// or path source says nothing about origin: only the annotation decides.
    ok = annotation is not None and _approved(annotation)
    assert _verdict(engine, llm) == ("pass" if ok else "fail")


@SETTINGS
@given(source=st.sampled_from(["ngc", "hf", "dataStore"]), model=path_part)
def test_nimcache_passes_only_from_ngc(engine, source, model):
    spec = {"ngc": {"modelPuller": f"nvcr.io/nim/meta/{model}:1.0.0", "authSecret": "ngc-api-secret"},
            "hf": {"endpoint": "https://huggingface.co", "namespace": "meta-llama", "modelName": model},
            "dataStore": {"endpoint": "http://nemo-datastore.nemo.svc:8000", "namespace": "default", "modelName": model}}
    cache = {"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMCache", "metadata": _meta("cache", None),
             "spec": {"source": {source: spec[source]}, "storage": {"pvc": {"create": True, "size": "50Gi"}}}}
    assert _verdict(engine, cache) == ("pass" if source == "ngc" else "fail")


def _gpu_workload(kind: str, annotation: str | None, gpu: bool) -> dict:
    resources = {"limits": {"nvidia.com/gpu": 8}} if gpu else {"limits": {"cpu": "4", "memory": "8Gi"}}
    template = {"spec": {"containers": [{"name": "main", "image": "nvcr.io/nvidia/nemo:24.07", "resources": resources}]}}
    meta = _meta(kind.lower(), annotation)
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]}
    if kind == "Deployment":
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "x"}},
                         "template": {"metadata": {"labels": {"app": "x"}}, **template}}}
    if kind == "PyTorchJob":
        return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta,
                "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": template},
                                                 "Worker": {"replicas": 3, "template": template}}}}
    if kind == "MPIJob":
        launcher = {"spec": {"containers": [{"name": "launcher", "image": "nvcr.io/nvidia/nemo:24.07"}]}}
        return {"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "metadata": meta,
                "spec": {"slotsPerWorker": 8, "mpiReplicaSpecs": {"Launcher": {"replicas": 1, "template": launcher},
                                                                  "Worker": {"replicas": 2, "template": template}}}}
    if kind == "JobSet":
        return {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "metadata": meta,
                "spec": {"replicatedJobs": [{"name": "workers", "replicas": 2,
                                             "template": {"spec": {"parallelism": 1, "template": template}}}]}}
    if kind == "LeaderWorkerSet":
        return {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": meta,
                "spec": {"replicas": 1, "leaderWorkerTemplate": {"size": 2, "workerTemplate": template}}}
    head = {"spec": {"containers": [{"name": "head", "image": "rayproject/ray:2.9.0"}]}}
    return {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": meta,
            "spec": {"headGroupSpec": {"template": head},
                     "workerGroupSpecs": [{"groupName": "gpu", "replicas": 2, "template": template}]}}


WORKLOAD_KINDS = st.sampled_from(["Pod", "Deployment", "PyTorchJob", "MPIJob", "JobSet", "LeaderWorkerSet", "RayCluster"])


@SETTINGS
@given(kind=WORKLOAD_KINDS, scheme=remote_schemes, rest=path_part)
def test_annotated_gpu_workloads_pass_exactly_with_an_approved_source(engine, kind, scheme, rest):
    source = scheme + rest
    assert _verdict(engine, _gpu_workload(kind, source, gpu=True)) == ("pass" if _approved(source) else "fail")


@SETTINGS
@given(kind=WORKLOAD_KINDS, annotation=st.one_of(st.none(), st.builds(str.__add__, remote_schemes, path_part)),
       gpu=st.booleans())
def test_workloads_that_did_not_opt_in_are_not_judged(engine, kind, annotation, gpu):
    """Without the annotation a generic workload is out of scope; a CPU workload is out of scope anyway."""
    if annotation is not None and gpu:
        return
    assert _verdict(engine, _gpu_workload(kind, annotation, gpu=gpu)) == "pass"


@SETTINGS
@given(annotation=st.one_of(st.none(), st.builds(str.__add__, remote_schemes, path_part)))
def test_nemocustomizer_needs_an_approved_declaration(engine, annotation):
    customizer = {"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NemoCustomizer", "metadata": _meta("customizer", annotation),
                  "spec": {"modelConfig": {"name": "nemo-model-config"}}}
    ok = annotation is not None and _approved(annotation)
    assert _verdict(engine, customizer) == ("pass" if ok else "fail")
