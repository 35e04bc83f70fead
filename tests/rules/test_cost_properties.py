"""Property tests of the workload-level Cost and Fair Share policies.

gpu-max-gpus-per-workload, gpu-require-queue, gpu-require-priority, gpu-require-time-bounds and
gpu-namespace-quota read whole workloads through the shared normaliser (rules/snippets/workload-roles.cel).
The jobs here are generated in every shape the normaliser knows (PyTorchJob, MPIJob, JobSet,
LeaderWorkerSet, RayCluster, Volcano Job, Deployment, Job) with an independent Python model of the
answer, and evaluated by the real engine (`build_engine` + `load_text`), the way `gpulint check` runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpulint.engine import build_engine
from gpulint.engine.builtin import resolve_settings
from gpulint.load import load_paths, load_text

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
FIXTURES = ROOT / "fixtures"

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_POLICIES: dict[str, list] = {}
_ENGINES: dict[tuple, object] = {}


def _policy(name: str) -> list:
    if name not in _POLICIES:
        _POLICIES[name] = load_paths([str(RULES / f"{name}.yaml")]).resources
    return _POLICIES[name]


def _engine(name: str, overrides: dict | None = None, lookup: tuple = ()):
    key = (name, json.dumps(overrides or {}, sort_keys=True), json.dumps(lookup, sort_keys=True))
    if key not in _ENGINES:
        setup = build_engine(_policy(name), [dict(o) for o in lookup], settings=resolve_settings(overrides or {}))
        assert not setup.errors, setup.errors
        _ENGINES[key] = setup.engine
    return _ENGINES[key]


def _results(name: str, obj: dict, overrides: dict | None = None, lookup: tuple = ()) -> list:
    loaded = load_text(json.dumps(obj), "generated.json")
    assert not loaded.errors, loaded.errors
    results = [r for r in _engine(name, overrides, lookup).evaluate(loaded.resources) if r.policy.name == name]
    errors = [r.message for r in results if r.result == "error"]
    assert not errors, errors
    return results


def _fails(name: str, obj: dict, overrides: dict | None = None, lookup: tuple = ()) -> list[str]:
    return [r.message for r in _results(name, obj, overrides, lookup) if r.result == "fail"]


# ------------------------------------------------------------------------------------ generators

def _container(gpus, name: str = "main", resource: str = "nvidia.com/gpu") -> dict:
    container = {"name": name, "image": "nvcr.io/nvidia/pytorch:24.07-py3"}
    if gpus:
        container["resources"] = {"limits": {resource: gpus}}
    return container


def _pod_spec(gpus, **extra) -> dict:
    return {"containers": [_container(gpus)], **extra}


def _template(gpus, **extra) -> dict:
    return {"spec": _pod_spec(gpus, **extra)}


# A job: kind plus its roles as (name, replicas, GPUs per pod); the builder turns it into a manifest,
# and `expected_total` is the independent model of "sum over roles of replicas x GPUs per pod".
KINDS = ["PyTorchJob", "MPIJob", "JobSet", "LeaderWorkerSet", "RayCluster", "VolcanoJob", "Deployment", "Job"]


@st.composite
def jobs(draw, max_replicas: int = 12, gpu_counts=(0, 1, 2, 4, 8)):
    kind = draw(st.sampled_from(KINDS))
    replicas = st.integers(1, max_replicas)
    gpus = st.sampled_from(gpu_counts)
    if kind == "PyTorchJob":
        roles = [("Master", draw(st.integers(0, 1)), draw(gpus)), ("Worker", draw(replicas), draw(gpus))]
    elif kind == "MPIJob":
        roles = [("Launcher", 1, 0), ("Worker", draw(replicas), draw(gpus))]
    elif kind == "JobSet":
        count = draw(st.integers(1, 3))
        roles = [(f"rj{i}", draw(st.integers(1, 4)), draw(gpus)) for i in range(count)]
        parallelism = [draw(st.integers(1, 3)) for _ in range(count)]
        roles = [(n, (r, p), g) for (n, r, g), p in zip(roles, parallelism)]
    elif kind == "LeaderWorkerSet":
        roles = [("groups", draw(st.integers(1, 4)), None), ("size", draw(st.integers(1, 4)), None),
                 ("Leader", 1, draw(gpus)), ("Worker", 1, draw(gpus))]
    elif kind == "RayCluster":
        count = draw(st.integers(1, 3))
        roles = [("Head", 1, draw(st.sampled_from((0, 1))))] + [
            (f"group{i}", draw(replicas), draw(gpus)) for i in range(count)]
    elif kind == "VolcanoJob":
        count = draw(st.integers(1, 2))
        roles = [(f"task{i}", draw(replicas), draw(gpus)) for i in range(count)]
    else:
        roles = [(kind, draw(replicas), draw(gpus))]
    return {"kind": kind, "roles": roles, "namespace": draw(st.sampled_from(["research", "inference", "team-a"]))}


def expected_total(job: dict) -> int:
    kind, roles = job["kind"], job["roles"]
    if kind == "JobSet":
        return sum(r * p * g for _, (r, p), g in roles)
    if kind == "LeaderWorkerSet":
        groups, size = roles[0][1], roles[1][1]
        leader, worker = roles[2][2], roles[3][2]
        return groups * (leader + (size - 1) * worker)
    return sum(r * g for _, r, g in roles)


def build(job: dict, *, labels: dict | None = None, top: dict | None = None, pod: dict | None = None) -> dict:
    """The manifest of a generated job. `top` merges into spec, `pod` into every pod spec."""
    kind, roles, pod = job["kind"], job["roles"], pod or {}
    meta = {"name": "generated", "namespace": job["namespace"]}
    if labels is not None:
        meta["labels"] = labels
    if kind == "PyTorchJob":
        obj = {"apiVersion": "kubeflow.org/v1", "kind": kind, "spec": {"pytorchReplicaSpecs": {
            name: {"replicas": r, "restartPolicy": "OnFailure", "template": _template(g, **pod)}
            for name, r, g in roles if r > 0 or name == "Worker"}}}
    elif kind == "MPIJob":
        obj = {"apiVersion": "kubeflow.org/v2beta1", "kind": kind, "spec": {"slotsPerWorker": 1, "mpiReplicaSpecs": {
            name: {"replicas": r, "template": _template(g, **pod)} for name, r, g in roles}}}
    elif kind == "JobSet":
        obj = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": kind, "spec": {"replicatedJobs": [
            {"name": name, "replicas": r, "template": {"spec": {"parallelism": p, "completions": p,
                                                                 "template": _template(g, restartPolicy="Never", **pod)}}}
            for name, (r, p), g in roles]}}
    elif kind == "LeaderWorkerSet":
        groups, size, leader, worker = roles[0][1], roles[1][1], roles[2][2], roles[3][2]
        obj = {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": kind, "spec": {"replicas": groups,
               "leaderWorkerTemplate": {"size": size, "leaderTemplate": _template(leader, **pod),
                                        "workerTemplate": _template(worker, **pod)}}}
    elif kind == "RayCluster":
        head = roles[0]
        obj = {"apiVersion": "ray.io/v1", "kind": kind, "spec": {
            "headGroupSpec": {"rayStartParams": {}, "template": _template(head[2], **pod)},
            "workerGroupSpecs": [{"groupName": name, "replicas": r, "minReplicas": r, "maxReplicas": r,
                                  "rayStartParams": {}, "template": _template(g, **pod)} for name, r, g in roles[1:]]}}
    elif kind == "VolcanoJob":
        obj = {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "spec": {"schedulerName": "volcano", "tasks": [
            {"name": name, "replicas": r, "template": _template(g, restartPolicy="OnFailure", **pod)}
            for name, r, g in roles]}}
    elif kind == "Deployment":
        _, r, g = roles[0]
        obj = {"apiVersion": "apps/v1", "kind": kind, "spec": {"replicas": r, "selector": {"matchLabels": {"app": "x"}},
               "template": {"metadata": {"labels": {"app": "x"}}, "spec": _pod_spec(g, **pod)}}}
    else:
        _, r, g = roles[0]
        obj = {"apiVersion": "batch/v1", "kind": kind, "spec": {"parallelism": r, "completions": r,
               "template": {"spec": _pod_spec(g, restartPolicy="Never", **pod)}}}
    obj["metadata"] = meta
    obj["spec"].update(top or {})
    return obj


def scale_role(job: dict, index: int, factor: int) -> dict:
    """The job with the replicas of role `index` multiplied (LeaderWorkerSet: its groups)."""
    roles = [list(r) for r in job["roles"]]
    if job["kind"] == "LeaderWorkerSet":
        roles[0][1] *= factor
    elif job["kind"] == "JobSet":
        r, p = roles[index][1]
        roles[index][1] = (r * factor, p)
    else:
        roles[index][1] *= factor
    return {**job, "roles": [tuple(r) for r in roles]}


def gpu_roles(job: dict) -> list[int]:
    """Indexes of the roles whose pods request GPUs (replicas > 0)."""
    if job["kind"] == "LeaderWorkerSet":
        return [0] if job["roles"][2][2] or (job["roles"][3][2] and job["roles"][1][1] > 1) else []
    return [i for i, (_, r, g) in enumerate(job["roles"]) if g and (r[0] if isinstance(r, tuple) else r) > 0]


def has_gpu_pods(job: dict) -> bool:
    return bool(gpu_roles(job))


# ------------------------------------------------------------------------- gpu-max-gpus-per-workload

MAX = "gpu-max-gpus-per-workload"


@SETTINGS
@given(job=jobs(), limit=st.sampled_from([8, 16, 32, 64]))
def test_max_gpus_fails_exactly_above_the_limit(job, limit):
    total = expected_total(job)
    fails = _fails(MAX, build(job), {"maxGpusPerWorkload": limit})
    assert bool(fails) == (total > limit), (total, limit, fails)
    if fails:
        assert f"requests {total} GPUs in total" in fails[0] and f"limit of {limit} GPUs" in fails[0]


@SETTINGS
@given(job=jobs(max_replicas=4), data=st.data())
def test_scaling_any_gpu_role_above_the_limit_always_fails(job, data):
    assume(has_gpu_pods(job))
    limit = 64
    scalable = [i for i in gpu_roles(job) if job["roles"][i][0] != "Head"]  # a Ray head is always one pod
    assume(scalable)
    role = data.draw(st.sampled_from(scalable))
    scaled = job
    while expected_total(scaled) <= limit:
        scaled = scale_role(scaled, role, 2)
    assert _fails(MAX, build(scaled)), (expected_total(scaled), scaled)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # one engine per limit
@given(job=jobs(max_replicas=8))
def test_a_job_at_or_below_the_limit_never_fails(job):
    total = expected_total(job)
    assume(total > 0)
    # The limit set to the job's own total (and above it) never fails it.
    assert not _fails(MAX, build(job), {"maxGpusPerWorkload": total})
    assert not _fails(MAX, build(job), {"maxGpusPerWorkload": total + 8})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # one engine per limit
@given(job=jobs(max_replicas=8), glob=st.booleans())
def test_namespace_override_takes_precedence(job, glob):
    total = expected_total(job)
    assume(total > 8)
    key = job["namespace"][:3] + "*" if glob else job["namespace"]
    tight = {"maxGpusPerWorkload": 10_000, "maxGpusPerWorkloadByNamespace": {key: total - 1}}
    loose = {"maxGpusPerWorkload": 1, "maxGpusPerWorkloadByNamespace": {key: total}}
    assert _fails(MAX, build(job), tight)
    assert not _fails(MAX, build(job), loose)
    other = {"maxGpusPerWorkload": 10_000, "maxGpusPerWorkloadByNamespace": {"elsewhere": 1}}
    assert not _fails(MAX, build(job), other)


@SETTINGS
@given(replicas=st.integers(9, 40), form=st.sampled_from(["int", "float", "string"]))
def test_counts_as_ints_doubles_or_strings_give_one_verdict(replicas, form):
    cast = {"int": int, "float": float, "string": str}[form]
    job = {"kind": "PyTorchJob", "namespace": "research", "roles": [("Master", 1, 8), ("Worker", replicas, 8)]}
    obj = build(job)
    for spec in obj["spec"]["pytorchReplicaSpecs"].values():
        spec["replicas"] = cast(spec["replicas"])
        limits = spec["template"]["spec"]["containers"][0]["resources"]["limits"]
        limits["nvidia.com/gpu"] = cast(limits["nvidia.com/gpu"])
    assert _fails(MAX, obj), obj


def test_placeholders_are_not_counted_but_known_roles_still_are():
    job = {"kind": "PyTorchJob", "namespace": "research", "roles": [("Master", 1, 8), ("Worker", 3, 8)]}
    obj = build(job)
    obj["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] = "$NUM_NODES"
    assert not _fails(MAX, obj)
    obj["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["resources"]["limits"][
        "nvidia.com/gpu"] = 8
    obj["spec"]["pytorchReplicaSpecs"]["Master"]["replicas"] = 1
    assert not _fails(MAX, obj, {"maxGpusPerWorkload": 8})
    assert _fails(MAX, obj, {"maxGpusPerWorkload": 4})


def test_init_containers_count_once_and_sidecars_add_up():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "research"},
           "spec": {"initContainers": [_container(8, "warmup")], "containers": [_container(4)]}}
    assert not _fails(MAX, pod, {"maxGpusPerWorkload": 8})  # max(8, 4)
    pod["spec"]["initContainers"][0]["restartPolicy"] = "Always"  # a native sidecar runs alongside
    assert _fails(MAX, pod, {"maxGpusPerWorkload": 8})  # 8 + 4


# --------------------------------------------------------------------------------- gpu-require-queue

QUEUE = "gpu-require-queue"


@SETTINGS
@given(job=jobs(), label=st.sampled_from([None, "", "team-queue"]), other=st.booleans())
def test_queue_label_decides_for_every_gpu_workload(job, label, other):
    labels = {"app": "x"} if other else {}
    if label is not None:
        labels["kueue.x-k8s.io/queue-name"] = label
    fails = _fails(QUEUE, build(job, labels=labels or None))
    assert bool(fails) == (has_gpu_pods(job) and not label), fails


@SETTINGS
@given(job=jobs())
def test_queue_label_on_pod_templates_does_not_count(job):
    assume(has_gpu_pods(job))
    obj = build(job)
    text = json.dumps(obj).replace('"spec": {"containers"',
                                   '"metadata": {"labels": {"kueue.x-k8s.io/queue-name": "q"}}, "spec": {"containers"')
    assert _fails(QUEUE, json.loads(text))


@SETTINGS
@given(job=jobs(), key=st.sampled_from(["team.example.com/queue", "kueue.x-k8s.io/queue-name"]))
def test_queue_label_key_follows_the_setting(job, key):
    assume(has_gpu_pods(job))
    obj = build(job, labels={key: "q"})
    assert bool(_fails(QUEUE, obj, {"queueLabel": "team.example.com/queue"})) == (key != "team.example.com/queue")


def test_owned_objects_are_judged_on_their_owner():
    job = build({"kind": "Job", "namespace": "research", "roles": [("Job", 1, 8)]})
    job["metadata"]["ownerReferences"] = [{"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "name": "js",
                                           "uid": "1"}]
    assert not [r for r in _results(QUEUE, job) if r.result in ("fail", "pass")]


# ------------------------------------------------------------------------------ gpu-require-priority

PRIORITY = "gpu-require-priority"


@SETTINGS
@given(job=jobs(), label=st.booleans(), per_role=st.lists(st.booleans(), min_size=4, max_size=4),
       allowed=st.sampled_from([[], ["high"], ["high", "low"]]), value=st.sampled_from(["high", "low"]))
def test_priority_model(job, label, per_role, allowed, value):
    obj = build(job, labels={"kueue.x-k8s.io/priority-class": value} if label else None)
    # priorityClassName on some pod templates (in template order).
    pods = [spec for spec in _pod_specs(obj)]
    named = []
    for spec, give in zip(pods, per_role + [False] * len(pods)):
        if give:
            spec["priorityClassName"] = value
            named.append(spec)
    lws_workers = obj["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"] if job["kind"] == "LeaderWorkerSet" \
        and obj["spec"]["leaderWorkerTemplate"]["size"] == 1 else None  # size 1: the worker template runs no pod
    gpu_specs = [s for s in pods if _requests_gpu(s) and s is not lws_workers]
    missing = not label and any("priorityClassName" not in s for s in gpu_specs)
    values = ([value] if label else []) + [value for s in gpu_specs if "priorityClassName" in s]
    disallowed = bool(allowed) and any(v not in allowed for v in values)
    expected = bool(gpu_specs) and (missing or disallowed)
    fails = _fails(PRIORITY, obj, {"allowedPriorityClasses": allowed})
    assert bool(fails) == expected, (fails, values, allowed)


def test_kubeflow_run_policy_and_volcano_priority_count():
    job = build({"kind": "PyTorchJob", "namespace": "research", "roles": [("Master", 1, 8), ("Worker", 2, 8)]},
                top={"runPolicy": {"schedulingPolicy": {"priorityClass": "high"}}})
    assert not _fails(PRIORITY, job)
    assert _fails(PRIORITY, job, {"allowedPriorityClasses": ["low"]})
    volcano = build({"kind": "VolcanoJob", "namespace": "research", "roles": [("task0", 2, 1)]},
                    top={"priorityClassName": "high"})
    assert not _fails(PRIORITY, volcano)


def _pod_specs(obj: dict) -> list[dict]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "containers" in node and isinstance(node["containers"], list):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(obj["spec"])
    return found


def _requests_gpu(spec: dict) -> bool:
    return any((c.get("resources") or {}).get("limits", {}).get("nvidia.com/gpu") for c in spec["containers"])


# --------------------------------------------------------------------------- gpu-require-time-bounds

TIME = "gpu-require-time-bounds"

# Per batch kind: fields that bound it (where they go) and fields that do not.
BOUNDS = {
    "Job": [("spec", {"activeDeadlineSeconds": 3600}), ("spec", {"ttlSecondsAfterFinished": 600})],
    "PyTorchJob": [("spec", {"runPolicy": {"activeDeadlineSeconds": 3600}}),
                   ("spec", {"runPolicy": {"ttlSecondsAfterFinished": 600}}),
                   ("spec", {"runPolicy": {"cleanPodPolicy": "Running"}}),
                   ("spec", {"runPolicy": {"cleanPodPolicy": "All"}})],
    "MPIJob": [("spec", {"runPolicy": {"activeDeadlineSeconds": 3600}}),
               ("spec", {"runPolicy": {"cleanPodPolicy": "Running"}})],
    "JobSet": [("spec", {"ttlSecondsAfterFinished": 600}), ("pod", {"activeDeadlineSeconds": 3600})],
    "VolcanoJob": [("spec", {"ttlSecondsAfterFinished": 600}),
                   ("spec", {"policies": [{"event": "TaskCompleted", "action": "CompleteJob"}]}),
                   ("pod", {"activeDeadlineSeconds": 3600})],
}
NOT_BOUNDS = {"PyTorchJob": [("spec", {"runPolicy": {"cleanPodPolicy": "None"}})],
              "MPIJob": [("spec", {"runPolicy": {"cleanPodPolicy": "None", "backoffLimit": 3}})],
              "Job": [("spec", {"backoffLimit": 3})], "JobSet": [("spec", {"failurePolicy": {"maxRestarts": 2}})],
              "VolcanoJob": [("spec", {"policies": [{"event": "PodEvicted", "action": "RestartJob"}]})]}


@SETTINGS
@given(job=jobs(), data=st.data())
def test_time_bounds_model(job, data):
    kind = job["kind"]
    assume(kind in BOUNDS)
    chosen = data.draw(st.lists(st.sampled_from(BOUNDS[kind] + NOT_BOUNDS[kind]), max_size=2))
    top, pod = {}, {}
    for where, value in chosen:
        target = top if where == "spec" else pod
        for key, val in value.items():
            if isinstance(val, dict) and isinstance(target.get(key), dict):
                target[key] = {**target[key], **val}
            else:
                target[key] = val
    obj = build(job, top=top, pod=pod)
    bounded = _bounded(kind, top, pod)
    fails = _fails(TIME, obj)
    assert bool(fails) == (has_gpu_pods(job) and not bounded), (chosen, fails)


def _bounded(kind: str, top: dict, pod: dict) -> bool:
    """Independent model: does the merged spec (`top`) or pod template (`pod`) bound the job?"""
    policy = top.get("runPolicy", {})
    if kind in ("PyTorchJob", "MPIJob"):
        return ("activeDeadlineSeconds" in policy or "ttlSecondsAfterFinished" in policy
                or policy.get("cleanPodPolicy") in ("Running", "All"))
    if kind == "Job":
        return "activeDeadlineSeconds" in top or "ttlSecondsAfterFinished" in top
    if kind == "JobSet":
        return "ttlSecondsAfterFinished" in top or "activeDeadlineSeconds" in pod
    return ("ttlSecondsAfterFinished" in top or "activeDeadlineSeconds" in pod
            or any(p.get("action") == "CompleteJob" for p in top.get("policies", [])))


@pytest.mark.parametrize("kind", ["Deployment", "LeaderWorkerSet", "RayCluster"])
def test_services_are_out_of_time_bounds_scope(kind):
    job = {"kind": kind, "namespace": "inference", "roles": {
        "Deployment": [("Deployment", 2, 8)],
        "LeaderWorkerSet": [("groups", 1, None), ("size", 2, None), ("Leader", 1, 8), ("Worker", 1, 8)],
        "RayCluster": [("Head", 1, 0), ("gpu", 2, 8)]}[kind]}
    assert not _fails(TIME, build(job))


# ------------------------------------------------------------------------------ gpu-namespace-quota

QUOTA = "gpu-namespace-quota"


def _quota(namespace: str, hard: dict) -> dict:
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": namespace},
            "spec": {"hard": hard}}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(job=jobs(), where=st.sampled_from(["same", "other", "none"]),
       key=st.sampled_from(["requests.nvidia.com/gpu", "requests.cpu", "limits.nvidia.com/gpu"]))
def test_namespace_quota_model(job, where, key):
    namespace = job["namespace"] if where == "same" else "elsewhere"
    lookup = () if where == "none" else (_quota(namespace, {key: "16"}),)
    fails = _fails(QUOTA, build(job), lookup=lookup)
    covered = where == "same" and key == "requests.nvidia.com/gpu"
    assert bool(fails) == (has_gpu_pods(job) and not covered), fails


def test_quota_context_of_the_kyverno_test_matches_the_fixtures():
    """fixtures/gpu-namespace-quota/context.yaml repeats the fixtures' ResourceQuotas for `gpulint test`."""
    folder = FIXTURES / QUOTA
    quotas = [doc for path in sorted(folder.glob("*.yaml")) if path.name.startswith(("good-", "bad-"))
              for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
              if isinstance(doc, dict) and doc.get("kind") == "ResourceQuota"]
    context = yaml.safe_load((folder / "context.yaml").read_text(encoding="utf-8"))
    assert context["spec"]["resources"] == quotas
