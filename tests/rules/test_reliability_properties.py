"""Property tests of the workload-level Multi-Node Training Reliability policies.

gpu-launcher-consistency, gpu-fabric-ready, gpu-pin-accelerator and gpu-mig-usage read whole workloads
through the shared normaliser (rules/snippets/workload-roles.cel). Jobs are generated in the shapes the
normaliser knows (PyTorchJob, JobSet, LeaderWorkerSet, MPIJob, Volcano Job, TrainJob, RayCluster,
Deployment, Pod), with launcher arguments in several spellings (argument lists, `--flag=value`,
`bash -c` scripts with line continuations, Hydra overrides), and evaluated by the real engine
(`build_engine` + `load_text`) the way `gpulint check` runs. Each property states the independent
model: a job whose arguments are derived from its spec never fails; changing one value always does.
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

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IMAGE = "nvcr.io/nvidia/pytorch:24.07-py3"

_POLICIES: dict[str, list] = {}
_ENGINES: dict[tuple, object] = {}


def _engine(name: str, overrides: dict | None = None):
    key = (name, json.dumps(overrides or {}, sort_keys=True))
    if key not in _ENGINES:
        if name not in _POLICIES:
            _POLICIES[name] = load_paths([str(RULES / f"{name}.yaml")]).resources
        setup = build_engine(_POLICIES[name], [], settings=resolve_settings(overrides or {}))
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


# ------------------------------------------------------------------------------------ builders

def _container(gpus, command=None, resources: dict | None = None, **extra) -> dict:
    container = {"name": "main", "image": IMAGE, **extra}
    limits = dict(resources or {})
    if gpus:
        limits["nvidia.com/gpu"] = gpus
    if limits:
        container["resources"] = {"limits": limits}
    if command is not None:
        container.update(command)
    return container


def _template(container: dict, **spec) -> dict:
    return {"spec": {"containers": [container], **spec}}


def pytorchjob(workers: int, container: dict, master: bool = True, **spec_extra) -> dict:
    specs = {"Worker": {"replicas": workers, "template": _template(container, **spec_extra)}}
    if master:
        specs["Master"] = {"replicas": 1, "template": _template(container, **spec_extra)}
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "job", "namespace": "ml"},
            "spec": {"pytorchReplicaSpecs": specs}}


def jobset(replicas: int, parallelism: int, container: dict, **spec_extra) -> dict:
    job = {"parallelism": parallelism, "completions": parallelism,
           "template": _template(container, restartPolicy="Never", **spec_extra)}
    return {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "metadata": {"name": "job", "namespace": "ml"},
            "spec": {"replicatedJobs": [{"name": "workers", "replicas": replicas, "template": {"spec": job}}]}}


def volcano(replicas: int, container: dict, **spec_extra) -> dict:
    return {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "metadata": {"name": "job", "namespace": "ml"},
            "spec": {"minAvailable": replicas, "schedulerName": "volcano",
                     "tasks": [{"name": "worker", "replicas": replicas, "template": _template(container, **spec_extra)}]}}


def lws(size: int, leader: dict | None, worker: dict, groups: int = 1, **spec_extra) -> dict:
    template = {"size": size, "workerTemplate": _template(worker, **spec_extra)}
    if leader is not None:
        template["leaderTemplate"] = _template(leader, **spec_extra)
    return {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet",
            "metadata": {"name": "serve", "namespace": "ml"}, "spec": {"replicas": groups, "leaderWorkerTemplate": template}}


def mpijob(workers: int, slots, launcher_command: dict, worker_gpus, **spec_extra) -> dict:
    spec = {"mpiReplicaSpecs": {
        "Launcher": {"replicas": 1, "template": _template({"name": "launcher", "image": IMAGE, **launcher_command})},
        "Worker": {"replicas": workers, "template": _template(_container(worker_gpus), **spec_extra)}}}
    if slots is not None:
        spec["slotsPerWorker"] = slots
    return {"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "metadata": {"name": "mpi", "namespace": "ml"},
            "spec": spec}


def trainjob(nodes: int, gpus: int, command: dict, **trainer_extra) -> dict:
    trainer = {"image": IMAGE, "numNodes": nodes, "resourcesPerNode": {"limits": {"nvidia.com/gpu": gpus}},
               **command, **trainer_extra}
    return {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": {"name": "tj", "namespace": "ml"},
            "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": trainer}}


def raycluster(workers: int, container: dict, **spec_extra) -> dict:
    head = {"name": "head", "image": IMAGE, "resources": {"limits": {"cpu": 4}}}
    return {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "ray", "namespace": "ml"},
            "spec": {"headGroupSpec": {"rayStartParams": {}, "template": {"spec": {"containers": [head]}}},
                     "workerGroupSpecs": [{"groupName": "gpu", "replicas": workers, "rayStartParams": {},
                                           "template": _template(container, **spec_extra)}]}}


def deployment(replicas: int, container: dict, **spec_extra) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "dep", "namespace": "ml"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "x"}},
                     "template": {"metadata": {"labels": {"app": "x"}}, **_template(container, **spec_extra)}}}


def pod(container: dict, **spec_extra) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ml"},
            "spec": {"containers": [container], **spec_extra}}


# Launcher command lines in the spellings found in real manifests.
def launcher(program: list[str], flags: list[tuple[str, object]], style: str) -> dict:
    if style == "list":
        return {"command": program + [x for f, v in flags for x in (f, str(v))] + ["/workspace/train.py"]}
    if style == "equals":
        return {"command": program, "args": [f"{f}={v}" for f, v in flags] + ["/workspace/train.py"]}
    script = " \\\n  ".join([" ".join(program)] + [f"{f} {v}" for f, v in flags] + ["/workspace/train.py"])
    return {"command": ["/bin/bash", "-c"], "args": [f"set -e\npip install -q -r requirements.txt\n{script}\n"]}


STYLES = st.sampled_from(["list", "equals", "script"])
GPUS = st.sampled_from([1, 2, 4, 8])
NPROC = st.sampled_from(["--nproc_per_node", "--nproc-per-node"])


# ------------------------------------------------------------------------- gpu-launcher-consistency

@SETTINGS
@given(workers=st.integers(1, 4), gpus=GPUS, style=STYLES, flag=NPROC, master=st.booleans(), data=st.data())
def test_pytorchjob_launcher_derived_from_spec_passes_and_one_change_fails(workers, gpus, style, flag, master, data):
    pods = workers + (1 if master else 0)
    good = launcher(["torchrun"], [("--nnodes", pods), (flag, gpus)], style)
    assert _fails("gpu-launcher-consistency", pytorchjob(workers, _container(gpus, good), master)) == []

    wrong = data.draw(st.integers(1, 16).filter(lambda n: n != gpus), label="nproc")
    bad = launcher(["torchrun"], [("--nnodes", pods), (flag, wrong)], style)
    messages = _fails("gpu-launcher-consistency", pytorchjob(workers, _container(gpus, bad), master))
    assert messages and all(f"{flag}={gpus}" in m for m in messages), messages

    nodes = data.draw(st.integers(1, 8).filter(lambda n: n != pods), label="nnodes")
    bad = launcher(["torchrun"], [("--nnodes", nodes), (flag, gpus)], style)
    messages = _fails("gpu-launcher-consistency", pytorchjob(workers, _container(gpus, bad), master))
    assert messages and f"--nnodes={pods}" in messages[0], messages


@SETTINGS
@given(replicas=st.integers(1, 3), parallelism=st.integers(1, 4), gpus=GPUS, style=STYLES, kind=st.sampled_from(["JobSet", "Volcano"]))
def test_jobset_and_volcano_nnodes_counts_the_pods_that_run_the_launcher(replicas, parallelism, gpus, style, kind):
    def build(nodes):
        container = _container(gpus, launcher(["python", "-m", "torch.distributed.run"],
                                              [("--nnodes", nodes), ("--nproc_per_node", gpus)], style))
        return jobset(replicas, parallelism, container) if kind == "JobSet" else volcano(replicas * parallelism, container)

    pods = replicas * parallelism
    assert _fails("gpu-launcher-consistency", build(pods)) == []
    assert _fails("gpu-launcher-consistency", build(pods + 1))


@SETTINGS
@given(nodes=st.integers(1, 4), gpus=GPUS, hydra=st.booleans(), delta=st.sampled_from([-1, 1, 4]))
def test_trainjob_num_proc_per_node_and_hydra_devices(nodes, gpus, hydra, delta):
    assume(gpus + delta > 0)
    command = ({"command": ["python", "train.py", f"++trainer.num_nodes={nodes}", f"++trainer.devices={gpus}"]}
               if hydra else {"command": ["torchrun", f"--nnodes={nodes}", f"--nproc_per_node={gpus}", "train.py"]})
    assert _fails("gpu-launcher-consistency", trainjob(nodes, gpus, command, numProcPerNode=gpus)) == []
    assert _fails("gpu-launcher-consistency", trainjob(nodes, gpus, command, numProcPerNode=gpus + delta))


@SETTINGS
@given(workers=st.integers(1, 8), slots=st.sampled_from([1, 2, 4, 8]), per_node_flag=st.sampled_from(["-N", "-npernode", "--map-by"]),
       explicit_slots=st.booleans(), data=st.data())
def test_mpijob_np_equals_workers_times_slots(workers, slots, per_node_flag, explicit_slots, data):
    assume(explicit_slots or slots == 1)
    per_node = [per_node_flag, f"ppr:{slots}:node" if per_node_flag == "--map-by" else str(slots)]

    def command(np):
        return {"command": ["/opt/openmpi/bin/mpirun", "--allow-run-as-root", "-np", str(np), *per_node,
                            "-x", "NCCL_DEBUG=WARN", "--mca", "pml", "^ucx",
                            "/opt/nccl-tests/build/all_reduce_perf", "-b", "8", "-g", "1", "-n", "100"]}

    def job(np):
        return mpijob(workers, slots if explicit_slots else None, command(np), slots)

    assert _fails("gpu-launcher-consistency", job(workers * slots)) == []
    wrong = data.draw(st.integers(1, 64).filter(lambda n: n != workers * slots), label="np")
    messages = _fails("gpu-launcher-consistency", job(wrong))
    assert messages and f"-np {workers * slots}" in messages[0], messages


@SETTINGS
@given(size=st.integers(1, 4), gpus=GPUS, leader=st.booleans(), style=st.sampled_from(["-", "_"]), data=st.data())
def test_lws_tensor_times_pipeline_equals_group_gpus(size, gpus, leader, style, data):
    def engine(tp, pp):
        flags = f"--tensor{style}parallel{style}size {tp} --pipeline{style}parallel{style}size {pp}"
        return {"command": ["sh", "-c", f"ray start --head; vllm serve meta-llama/Llama-3.1-405B {flags}"]}

    def build(tp, pp):
        worker = _container(gpus, {"command": ["sh", "-c", "ray start --block --address=$(LWS_LEADER_ADDRESS):6379"]})
        if leader:
            return lws(size, _container(gpus, engine(tp, pp)), worker)
        return lws(size, None, _container(gpus, engine(tp, pp)))

    assert _fails("gpu-launcher-consistency", build(gpus, size)) == []
    pp = data.draw(st.integers(1, 8).filter(lambda n: n != size), label="pp")
    assert _fails("gpu-launcher-consistency", build(gpus, pp))


@SETTINGS
@given(gpus=GPUS, kind=st.sampled_from(["Deployment", "Pod"]), data=st.data())
def test_single_pod_engine_uses_the_container_gpus(gpus, kind, data):
    def build(tp):
        container = _container(gpus, {"args": ["vllm", "serve", "model", f"--tensor-parallel-size={tp}"]})
        return deployment(2, container) if kind == "Deployment" else pod(container)

    assert _fails("gpu-launcher-consistency", build(gpus)) == []
    tp = data.draw(st.integers(1, 16).filter(lambda n: n != gpus), label="tp")
    assert _fails("gpu-launcher-consistency", build(tp))


@SETTINGS
@given(workers=st.integers(1, 4), gpus=GPUS,
       value=st.sampled_from(["$GPU_PER_NODE", "${NPROC}", "$(NPROC)", "auto", "gpu", "${NPROC:-8}"]), style=STYLES)
def test_placeholders_and_words_are_never_findings(workers, gpus, value, style):
    command = launcher(["torchrun"], [("--nnodes", "$NUM_NODES"), ("--nproc_per_node", value)], style)
    assert _fails("gpu-launcher-consistency", pytorchjob(workers, _container(gpus, command))) == []


# --------------------------------------------------------------------------------- gpu-fabric-ready

P_SHAPES = {"p4d.24xlarge": 4, "p5.48xlarge": 32, "p5en.48xlarge": 16, "p6-b200.48xlarge": 8}


def _on(instance: str) -> dict:
    return {"nodeSelector": {"node.kubernetes.io/instance-type": instance}}


@SETTINGS
@given(instance=st.sampled_from(sorted(P_SHAPES)), gpus=GPUS, pods=st.integers(2, 6),
       kind=st.sampled_from(["PyTorchJob", "JobSet", "MPIJob"]), data=st.data())
def test_efa_share_of_the_node(instance, gpus, pods, kind, data):
    want = max(P_SHAPES[instance] * gpus // 8, 1)

    def build(efa):
        resources = {"vpc.amazonaws.com/efa": efa} if efa else {}
        if kind == "PyTorchJob":
            return pytorchjob(pods, _container(gpus, resources=resources), master=False, **_on(instance))
        if kind == "JobSet":
            return jobset(1, pods, _container(gpus, resources=resources), **_on(instance))
        job = mpijob(pods, gpus, {"command": ["mpirun", "-np", str(pods * gpus), "prog"]}, gpus, **_on(instance))
        job["spec"]["mpiReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["resources"]["limits"].update(resources)
        return job

    assert _fails("gpu-fabric-ready", build(want + data.draw(st.integers(0, 2), label="extra"))) == []
    assert _fails("gpu-fabric-ready", build(0))
    if want > 1:
        assert _fails("gpu-fabric-ready", build(data.draw(st.integers(1, want - 1), label="fewer")))
    # The cloud setting limits the node types checked; a single pod is not a multi-node job.
    assert _fails("gpu-fabric-ready", build(0), {"cloud": "gcp"}) == []
    assert _fails("gpu-fabric-ready", deployment(pods, _container(gpus), **_on(instance))) == []


@SETTINGS
@given(pods=st.integers(2, 4), ipc_lock=st.booleans(), privileged=st.booleans(),
       device=st.sampled_from(["rdma/shared_ib", "rdma/rdma_shared_device_a", "nvidia.com/hostdev"]))
def test_rdma_device_needs_ipc_lock(pods, ipc_lock, privileged, device):
    security = {"capabilities": {"add": ["IPC_LOCK"]}} if ipc_lock else {}
    if privileged:
        security["privileged"] = True
    container = _container(8, resources={device: 1}, securityContext=security)
    messages = _fails("gpu-fabric-ready", pytorchjob(pods, container, master=False,
                                                     **_on("Standard_ND96isr_H100_v5")))
    assert bool(messages) == (not ipc_lock and not privileged), messages


# ------------------------------------------------------------------------------ gpu-pin-accelerator

PIN = {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}


@SETTINGS
@given(kind=st.sampled_from(["PyTorchJob", "JobSet", "Volcano", "RayCluster", "LWS"]), pods=st.integers(2, 5),
       gpus=GPUS, unpin_master=st.booleans())
def test_multi_pod_jobs_need_a_pin_in_every_gpu_role(kind, pods, gpus, unpin_master):
    def build(pinned: bool, master_pinned: bool = True):
        extra = {"nodeSelector": dict(PIN)} if pinned else {}
        if kind == "PyTorchJob":
            job = pytorchjob(pods - 1, _container(gpus), **extra)
            if not master_pinned:
                job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"].pop("nodeSelector", None)
            return job
        if kind == "JobSet":
            return jobset(1, pods, _container(gpus), **extra)
        if kind == "Volcano":
            return volcano(pods, _container(gpus), **extra)
        if kind == "RayCluster":
            return raycluster(pods, _container(gpus), **extra)
        return lws(pods, _container(gpus), _container(gpus), **extra)

    assert _fails("gpu-pin-accelerator", build(True)) == []
    assert _fails("gpu-pin-accelerator", build(False))
    if kind == "PyTorchJob" and unpin_master:
        assert _fails("gpu-pin-accelerator", build(True, master_pinned=False))


@SETTINGS
@given(replicas=st.integers(1, 8), kind=st.sampled_from(["Deployment", "Pod"]), gpus=GPUS)
def test_single_pod_workloads_need_a_pin_only_with_several_gpus(replicas, kind, gpus):
    container = _container(gpus)
    obj = deployment(replicas, container) if kind == "Deployment" else pod(container)
    assert bool(_fails("gpu-pin-accelerator", obj)) == (gpus > 1)


# ------------------------------------------------------------------------------------ gpu-mig-usage

MIG_MODELS = {
    "NVIDIA-A100-SXM4-40GB": ["1g.5gb", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"],
    "NVIDIA-A100-SXM4-80GB": ["1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"],
    "NVIDIA-H100-80GB-HBM3": ["1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"],
    "NVIDIA-H200": ["1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"],
    "NVIDIA-B200": ["1g.23gb", "1g.45gb", "2g.45gb", "3g.90gb", "4g.90gb", "7g.180gb"],
}
ALL_PROFILES = sorted({p for ps in MIG_MODELS.values() for p in ps})


def _mig(profile: str) -> dict:
    return _container(0, resources={f"nvidia.com/mig-{profile}": 1})


@SETTINGS
@given(product=st.sampled_from(sorted(MIG_MODELS)), kind=st.sampled_from(["Pod", "Deployment"]), data=st.data())
def test_mig_profile_must_exist_on_the_selected_gpu(product, kind, data):
    def build(profile):
        spec = {"nodeSelector": {"nvidia.com/gpu.product": product}}
        return pod(_mig(profile), **spec) if kind == "Pod" else deployment(3, _mig(profile), **spec)

    assert _fails("gpu-mig-usage", build(data.draw(st.sampled_from(MIG_MODELS[product]), label="own"))) == []
    others = [p for p in ALL_PROFILES if p not in MIG_MODELS[product]]
    assert _fails("gpu-mig-usage", build(data.draw(st.sampled_from(others), label="foreign")))
    # `+me` is never a resource name; the `.me` spelling of a valid profile is.
    base = data.draw(st.sampled_from(MIG_MODELS[product]), label="media")
    assert _fails("gpu-mig-usage", build(base + "+me"))
    assert _fails("gpu-mig-usage", build(base + ".me")) == []


@SETTINGS
@given(pods=st.integers(1, 4), profile=st.sampled_from(ALL_PROFILES), kind=st.sampled_from(["PyTorchJob", "JobSet"]))
def test_mig_slices_only_in_single_pod_jobs(pods, profile, kind):
    job = pytorchjob(pods, _mig(profile), master=False) if kind == "PyTorchJob" else jobset(1, pods, _mig(profile))
    assert bool(_fails("gpu-mig-usage", job)) == (pods > 1)


@SETTINGS
@given(profile=st.sampled_from(ALL_PROFILES), whole=st.integers(0, 2))
def test_mig_and_whole_gpus_do_not_mix_in_one_pod(profile, whole):
    spec = {"containers": [_mig(profile), {**_container(whole), "name": "sidecar"}]}
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ml"}, "spec": spec}
    assert bool(_fails("gpu-mig-usage", obj)) == (whole > 0)
