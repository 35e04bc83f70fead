"""Properties of the pod-level GPU Security policies, evaluated by the real engine.

Each generated pod spec is wrapped into several kinds (Pod, Deployment through Kyverno autogen, CronJob,
PyTorchJob and JobSet through gpulint's CRD pod templates), and the verdict must not depend on the kind.
Policies covered: gpu-block-device-env-override, gpu-disallow-interactive, gpu-restrict-host-paths,
gpu-restrict-capabilities, gpu-disallow-privileged, gpu-require-non-root.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ("Pod", "Deployment", "CronJob", "PyTorchJob", "JobSet")


@lru_cache(maxsize=None)
def _engine(policy: str, overrides: tuple = ()):
    from gpulint.engine import build_engine
    from gpulint.engine.builtin import resolve_settings
    from gpulint.load import load_text

    path = RULES / f"{policy}.yaml"
    resources = load_text(path.read_text(encoding="utf-8"), str(path)).resources
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in overrides}  # tuples: hashable for the cache
    setup = build_engine(resources, [], settings=resolve_settings(values))
    assert not setup.errors, setup.errors
    return setup.engine


def _wrap(kind: str, spec: dict, namespace: str = "ml-team") -> dict:
    spec = copy.deepcopy(spec)
    meta = {"name": "w", "namespace": namespace}
    template = {"metadata": {"labels": {"app": "w"}}, "spec": spec}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    if kind == "Deployment":
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "w"}}, "template": template}}
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}}
    if kind == "PyTorchJob":
        return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta,
                "spec": {"pytorchReplicaSpecs": {"Worker": {"replicas": 2, "template": template}}}}
    return {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "metadata": meta,
            "spec": {"replicatedJobs": [{"name": "workers", "replicas": 1,
                                         "template": {"spec": {"template": template}}}]}}


def _results(policy: str, spec: dict, overrides: tuple = (), namespace: str = "ml-team") -> dict[str, list]:
    """{kind: [results of the policy]} for `spec` wrapped in every kind."""
    from gpulint.load import load_text

    engine = _engine(policy, overrides)
    out = {}
    for kind in KINDS:
        loaded = load_text(yaml.safe_dump(_wrap(kind, spec, namespace), sort_keys=False), "generated.yaml")
        results = [r for r in engine.evaluate(loaded.resources) if r.policy.name == policy]
        assert not [r for r in results if r.result == "error"], [r.message for r in results]
        out[kind] = results
    return out


def _verdict(policy: str, spec: dict, overrides: tuple = (), namespace: str = "ml-team") -> str:
    """'fail:<validation index>' or 'pass', the same for every kind."""
    verdicts = set()
    for kind, results in _results(policy, spec, overrides, namespace).items():
        fails = [r for r in results if r.result in ("fail", "warn")]
        verdicts.add(f"fail:{fails[0].properties.get('cel.validationIndex')}" if fails else "pass")
        for result in fails:
            assert result.message and "failed at index" not in result.message
            assert result.field_path is not None, (kind, result.message)
    assert len(verdicts) == 1, verdicts
    return verdicts.pop()


GPU = {"limits": {"nvidia.com/gpu": 1}}
CPU = {"limits": {"cpu": "1", "memory": "1Gi"}}


def _container(name: str, resources: dict, **extra) -> dict:
    return {"name": name, "image": "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04", "resources": resources, **extra}


# ---------------------------------------------------------------------------- device env override

visible_values = st.sampled_from(["all", "0", "0,1", "GPU-8f6c3a6e-0d1b", "ALL"])
hidden_values = st.sampled_from(["none", "void", "", "NONE"])


@SETTINGS
@given(value=visible_values, with_gpu_sibling=st.booleans(), init=st.booleans())
def test_non_gpu_container_exposing_gpus_always_fails(value, with_gpu_sibling, init):
    offender = _container("sidecar", CPU, env=[{"name": "NVIDIA_VISIBLE_DEVICES", "value": value}])
    spec = {"containers": [_container("main", GPU if with_gpu_sibling else CPU)]}
    spec["initContainers" if init else "containers"] = spec.get("initContainers" if init else "containers", []) + [offender]
    assert _verdict("gpu-block-device-env-override", spec) == "fail:0"


@SETTINGS
@given(value=hidden_values, with_gpu=st.booleans())
def test_hiding_gpus_never_fails(value, with_gpu):
    spec = {"containers": [_container("main", GPU if with_gpu else CPU,
                                      env=[{"name": "NVIDIA_VISIBLE_DEVICES", "value": value}])]}
    assert _verdict("gpu-block-device-env-override", spec) == "pass"


@SETTINGS
@given(var=st.sampled_from(["NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES"]), value=st.sampled_from(["all", "All"]),
       resources=st.sampled_from([GPU, {"limits": {"nvidia.com/mig-1g.10gb": 1}}, {"requests": {"nvidia.com/gpu.shared": 1}}]))
def test_gpu_container_override_is_only_advisory(var, value, resources):
    spec = {"containers": [_container("main", resources, env=[{"name": var, "value": value}])]}
    assert _verdict("gpu-block-device-env-override", spec) == "fail:1"


@SETTINGS
@given(library=st.sampled_from(["/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4", "libjemalloc.so", "/tmp/x.so"]),
       in_gpu_container=st.booleans())
def test_ld_preload_in_a_gpu_pod_fails_and_elsewhere_passes(library, in_gpu_container):
    preload = [{"name": "LD_PRELOAD", "value": library}]
    gpu_pod = {"containers": [_container("main", GPU, env=preload if in_gpu_container else []),
                              _container("sidecar", CPU, env=[] if in_gpu_container else preload)]}
    assert _verdict("gpu-block-device-env-override", gpu_pod) == "fail:0"
    cpu_pod = {"containers": [_container("main", CPU, env=preload)]}
    assert _verdict("gpu-block-device-env-override", cpu_pod) == "pass"


def test_infra_namespaces_are_exempt():
    spec = {"containers": [_container("plugin", CPU, env=[{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}])]}
    assert _verdict("gpu-block-device-env-override", spec, namespace="gpu-operator") == "pass"


# ---------------------------------------------------------------------------- interactive / idle

idle_scripts = st.sampled_from([
    "sleep infinity", "exec sleep infinity", "sleep inf", "sleep 7d", "sleep 86400", "sleep 100000s", "sleep 1440m",
    "tail -f /dev/null", "exec tail -F /dev/null", "while true; do sleep 30; done", "while :; do sleep 3600; done",
    "while true\ndo\n  sleep 60\ndone", "while [ 1 ]; do date; nvidia-smi -L || echo waiting; sleep 30; done",
    "trap : TERM INT; sleep infinity & wait",
])
setups = st.sampled_from(["", "pip install -r /app/requirements.txt; ", "nvidia-smi && ", "echo ready\n"])
shells = st.sampled_from([["/bin/sh", "-c"], ["bash", "-c"], ["/bin/bash", "-ec"], ["sh", "-xc"]])


@SETTINGS
@given(script=idle_scripts, setup=setups, shell=shells, as_args=st.booleans())
def test_gpu_container_ending_idle_fails(script, setup, shell, as_args):
    command = dict(command=shell, args=[setup + script]) if as_args else dict(command=shell + [setup + script])
    spec = {"containers": [_container("main", GPU, **command)]}
    assert _verdict("gpu-disallow-interactive", spec) == "fail:0"


@SETTINGS
@given(script=idle_scripts, shell=shells)
def test_idle_after_background_work_or_in_non_gpu_container_passes(script, shell):
    background = {"containers": [_container("main", GPU, command=shell + ["python -m server --port 8000 &\n" + script])]}
    assert _verdict("gpu-disallow-interactive", background) == "pass"
    sidecar = {"containers": [_container("main", GPU, command=["python", "train.py"]),
                              _container("sidecar", CPU, command=shell + [script])]}
    assert _verdict("gpu-disallow-interactive", sidecar) == "pass"


@SETTINGS
@given(script=st.sampled_from(["sleep 30 && python train.py", "sleep 3600", "python serve.py; sleep 10",
                               "torchrun --nproc_per_node=8 train.py", "while true; do python poll.py; sleep 5; done"]),
       shell=shells)
def test_real_work_passes(script, shell):
    spec = {"containers": [_container("main", GPU, command=shell + [script])]}
    assert _verdict("gpu-disallow-interactive", spec) == "pass"


@SETTINGS
@given(field=st.sampled_from(["stdin", "tty"]))
def test_stdin_or_tty_on_a_gpu_container_fails(field):
    spec = {"containers": [_container("main", GPU, command=["python", "train.py"], **{field: True})]}
    assert _verdict("gpu-disallow-interactive", spec) == "fail:0"


# ---------------------------------------------------------------------------- host paths

sensitive = st.sampled_from(["/", "/dev", "/dev/nvidia0", "/dev/nvidiactl", "/dev/shm", "/dev/infiniband", "/proc",
                             "/proc/sys", "/sys", "/sys/fs/cgroup", "/var/run", "/var/run/docker.sock", "/run/containerd",
                             "/run/containerd/containerd.sock", "/run/nvidia/driver", "/var/lib/kubelet",
                             "/var/lib/kubelet/device-plugins", "/var/lib/docker", "/usr/lib/x86_64-linux-gnu", "/lib64",
                             "/usr/local/nvidia/lib64", "/home/kubernetes/bin/nvidia", "/var", "/usr", "/home",
                             "/opt/podman.sock/../x/podman.sock"])
benign = st.sampled_from(["/mnt/data", "/data/imagenet", "/opt/amazon-efa-ofi", "/mnt/k8s-disks/0", "/scratch",
                          "/var/log/training", "/devices"])


@SETTINGS
@given(path=sensitive, trailing=st.booleans())
def test_sensitive_host_paths_fail(path, trailing):
    value = path + "/" if trailing and path != "/" else path
    spec = {"containers": [_container("main", GPU)], "volumes": [{"name": "h", "hostPath": {"path": value}}]}
    assert _verdict("gpu-restrict-host-paths", spec) == "fail:0"


@SETTINGS
@given(path=benign)
def test_other_host_paths_are_advisory_and_allowed_prefixes_pass(path):
    spec = {"containers": [_container("main", GPU)], "volumes": [{"name": "h", "hostPath": {"path": path}}]}
    assert _verdict("gpu-restrict-host-paths", spec) == "fail:1"
    prefix = "/" + path.strip("/").split("/")[0]
    assert _verdict("gpu-restrict-host-paths", spec, overrides=(("allowedHostPaths", (prefix,)),)) == "pass"


# ---------------------------------------------------------------------------- capabilities

@SETTINGS
@given(cap=st.sampled_from(["SYS_ADMIN", "CAP_SYS_ADMIN", "all", "ALL"]))
def test_sys_admin_and_all_fail_even_when_allowed(cap):
    spec = {"containers": [_container("main", GPU, securityContext={"capabilities": {"add": [cap]}})]}
    allow = (("allowedCapabilities", ("IPC_LOCK", "SYS_ADMIN", "ALL")),)
    assert _verdict("gpu-restrict-capabilities", spec) == "fail:0"
    assert _verdict("gpu-restrict-capabilities", spec, overrides=allow) == "fail:0"


@SETTINGS
@given(cap=st.sampled_from(["NET_ADMIN", "SYS_PTRACE", "NET_RAW", "SYS_NICE"]), spelled=st.sampled_from(["", "CAP_", "cap_"]))
def test_capabilities_outside_the_allowed_set_fail_until_allowed(cap, spelled):
    spec = {"containers": [_container("main", GPU, securityContext={"capabilities": {"add": [spelled + cap, "IPC_LOCK"]}})]}
    assert _verdict("gpu-restrict-capabilities", spec) == "fail:0"
    assert _verdict("gpu-restrict-capabilities", spec, overrides=(("allowedCapabilities", ("IPC_LOCK", cap)),)) == "pass"


# ---------------------------------------------------------------------------- privileged / non-root

@SETTINGS
@given(field=st.sampled_from(["hostPID", "hostIPC", "hostNetwork", "privileged", "allowPrivilegeEscalation"]))
def test_each_privileged_setting_fails(field):
    spec = {"containers": [_container("main", GPU)]}
    if field in ("privileged", "allowPrivilegeEscalation"):
        spec["containers"][0]["securityContext"] = {field: True}
    else:
        spec[field] = True
    assert _verdict("gpu-disallow-privileged", spec) == "fail:0"
    if field == "hostNetwork":
        assert _verdict("gpu-disallow-privileged", spec, overrides=(("allowHostNetwork", True),)) == "pass"


@SETTINGS
@given(pod_user=st.sampled_from([None, 0, 1000]), pod_non_root=st.sampled_from([None, True, False]),
       ctr_user=st.sampled_from([None, 0, 1000]), ctr_non_root=st.sampled_from([None, True, False]))
def test_non_root_follows_kubernetes_precedence(pod_user, pod_non_root, ctr_user, ctr_non_root):
    def context(user, non_root):
        ctx = {}
        if user is not None:
            ctx["runAsUser"] = user
        if non_root is not None:
            ctx["runAsNonRoot"] = non_root
        return ctx

    container = _container("main", GPU)
    if context(ctr_user, ctr_non_root):
        container["securityContext"] = context(ctr_user, ctr_non_root)
    spec = {"containers": [container]}
    if context(pod_user, pod_non_root):
        spec["securityContext"] = context(pod_user, pod_non_root)
    user = ctr_user if ctr_user is not None else pod_user
    non_root = ctr_non_root if ctr_non_root is not None else pod_non_root
    ok = user != 0 and (user is not None or non_root is True)
    assert _verdict("gpu-require-non-root", spec) == ("pass" if ok else "fail:0")
