"""What a cluster running Kyverno will do with each resource, judged by the offline engine.

Two views of every resource: the admission view (exactly what Kyverno sees: the object itself, pod
controllers through autogen, nothing else) and gpulint's offline view, which also checks the pod
templates inside training CRDs. They differ for a Pod-level policy and a PyTorchJob: Kyverno admits
the PyTorchJob and denies the Pods its operator creates. The generated test says so instead of
expecting a denial that cannot happen: it applies those Pods as bad cases and admits the job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

from gpulint.chainsaw.files import GenError
from gpulint.chainsaw.sources import BAD, GOOD, Case, CaseSet, PolicySource
from gpulint.chainsaw.yamlout import dns_label, dump

BUILTIN_GROUPS = frozenset((
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "node.k8s.io", "resource.k8s.io", "admissionregistration.k8s.io",
    "apiextensions.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "certificates.k8s.io",
    "apiregistration.k8s.io"))
CONTROLLERS = frozenset((("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
                         ("apps", "ReplicaSet"), ("batch", "Job"), ("batch", "CronJob"),
                         ("", "ReplicationController")))
DENIED, ADMITTED = "denied", "admitted"


@dataclass
class Planned:
    obj: dict
    expect: str  # DENIED or ADMITTED
    label: str  # GOOD, BAD, or ADMITTED for a bad workload Kyverno cannot see into
    note: str = ""
    crd: Optional[str] = None  # "pytorchjobs.kubeflow.org" for objects of a custom resource
    k8s_rejects: bool = False  # Kubernetes' own validation refuses it before any webhook
    file: str = ""

    @property
    def group(self) -> str:
        return group_of(self.obj)

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def display(self) -> str:
        meta = self.obj.get("metadata") or {}
        namespace = meta.get("namespace")
        return f"{self.kind} {namespace + '/' if namespace else ''}{meta.get('name', '')}"


@dataclass
class Plan:
    policy: PolicySource
    main: list[Planned] = field(default_factory=list)
    crd: list[Planned] = field(default_factory=list)
    namespaces: list[dict] = field(default_factory=list)
    context: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def group_of(obj: dict) -> str:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.partition("/")[0] if "/" in api_version else ""


def _resource(obj: dict):
    from gpulint.load import load_text

    loaded = load_text(dump(obj), "<generated>")
    if loaded.errors or not loaded.resources:
        raise GenError(f"cannot re-read generated {obj.get('kind')}: {loaded.errors[0] if loaded.errors else 'empty'}")
    return loaded.resources[0]


class Judge:
    """The policy compiled twice: as Kyverno admits (no CRD pod templates) and as gpulint checks."""

    def __init__(self, policy: PolicySource, cases: CaseSet):
        from gpulint.engine import build_engine
        from gpulint.engine.builtin import resolve_settings
        from gpulint.engine.runner import RunOptions

        namespaces = {str((n.get("metadata") or {}).get("name")): n for n in cases.namespaces}
        namespaces.update({str((c.obj.get("metadata") or {}).get("name")): c.obj for c in cases.cases
                           if c.obj.get("kind") == "Namespace"})
        lookups = [c.obj for c in cases.cases] + list(cases.context) + list(namespaces.values())
        settings = resolve_settings({}) if policy.builtin else None
        engines = []
        for expand in (False, True):
            options = RunOptions(expand_pod_templates=expand,
                                 namespace_labels=lambda ns: ((namespaces.get(ns) or {}).get("metadata") or {})
                                 .get("labels") or {} if ns in namespaces else None,
                                 namespace_object=lambda ns: namespaces.get(ns))
            setup = build_engine([policy.resource], lookups, settings=settings, options=options)
            if setup.errors:
                raise GenError(str(setup.errors[0]))
            engines.append(setup.engine)
        self.admission, self.offline = engines

    @staticmethod
    def verdict(engine, obj: dict) -> Optional[str]:
        """'fail', 'error', 'pass', or None when the policy does not apply."""
        results = [r for r in engine.evaluate_resource(_resource(obj)) if r.applicable]
        words = {r.result for r in results}
        for word in ("fail", "error", "pass"):
            if word in words:
                return word
        return None

    def operator_pods(self, obj: dict) -> list[tuple[str, dict]]:
        """(role, Pod) for each pod template of a CRD whose Pod Kyverno would deny."""
        pods = []
        for view in self.admission.workloads.expand(obj):
            pod = json.loads(json.dumps(view.pod))
            meta = pod.setdefault("metadata", {})
            meta.pop("ownerReferences", None)  # the API server refuses owner references without a uid
            meta["name"] = dns_label(str(meta.get("name", "pod")))
            if self.verdict(self.admission, pod) == "fail":
                pods.append((str(view.role or ""), pod))
        return pods


def plan(policy: PolicySource, cases: CaseSet) -> Plan:
    judge = Judge(policy, cases)
    result = Plan(policy, namespaces=list(cases.namespaces), context=list(cases.context))
    for case in cases.cases:
        _route(judge, case, result, synthesised=False)
    _synthesise(judge, policy, result)
    for item in result.main + result.crd:
        item.k8s_rejects = item.expect == DENIED and k8s_rejects(item.obj)
        item.crd = None if item.group in BUILTIN_GROUPS else _crd_name(judge, item.obj)
    # Objects of custom resources only exist where their CRD is installed: they get their own test.
    result.crd += [p for p in result.main if p.crd]
    result.main = [p for p in result.main if not p.crd]
    return result


def _route(judge: Judge, case: Case, result: Plan, synthesised: bool) -> None:
    admission = judge.verdict(judge.admission, case.obj)
    declared = case.declared
    offline = None
    if declared is None or (declared == BAD and admission != "fail"):
        offline = judge.verdict(judge.offline, case.obj)
    if admission is None and offline is None and declared != GOOD:
        # Not judged by the policy, yet maybe read by it (a ResourceQuota, a ConfigMap): applied first.
        if not synthesised:
            result.context.append(case.obj)
        _warn(result, case, synthesised, "the policy does not apply to it; applied as a prerequisite only")
        return
    if declared is None:
        declared = {"fail": BAD, "pass": GOOD}.get(offline or "")
        if declared is None:
            _warn(result, case, synthesised, "the policy does not apply; left out")
            return
    if "error" in (admission, offline):
        _warn(result, case, synthesised, "the policy errors on it offline; left out")
        return
    if declared == GOOD:
        if admission == "fail":
            _warn(result, case, synthesised, "is expected to pass but gpulint's engine denies it; left out")
        else:
            result.main.append(Planned(case.obj, ADMITTED, GOOD, case.note))
        return
    if admission == "fail":
        result.main.append(Planned(case.obj, DENIED, BAD, case.note))
        return
    if group_of(case.obj) not in BUILTIN_GROUPS and offline == "fail":
        kind = case.obj.get("kind")
        pods = [] if synthesised else judge.operator_pods(case.obj)
        note = (f"Kyverno admits this {kind}: the policy matches Pods, so it is the Pods the {kind} operator "
                "creates that are denied" + (" (the bad Pod cases made from its templates)" if pods else ""))
        result.main.append(Planned(case.obj, ADMITTED, ADMITTED, note))
        for role, pod in pods:
            result.main.append(Planned(pod, DENIED, BAD, f"the {role or 'pod'} Pod the {kind} operator creates "
                                                         f"for {_display(case.obj)}"))
        return
    _warn(result, case, synthesised, "is expected to fail but gpulint's engine finds no violation; left out")


def _warn(result: Plan, case: Case, synthesised: bool, message: str) -> None:
    # Synthesised cases are a best effort: one that does not fit is dropped without noise.
    if not synthesised:
        result.warnings.append(f"{case.origin}: {_display(case.obj)}: {message}")


def _synthesise(judge: Judge, policy: PolicySource, result: Plan) -> None:
    """Pod-level policies: a controller case when the inputs have none; GPU policies: a training job."""
    pods = [(p.label, p.obj) for p in result.main if p.kind == "Pod" and p.group == "" and p.label != ADMITTED]
    if not pods:
        return
    has_controller = any((p.group, p.kind) in CONTROLLERS for p in result.main)
    if not has_controller:
        for label in (GOOD, BAD):
            pod = next((obj for lab, obj in pods if lab == label), None)
            if pod is not None:
                case = Case(as_deployment(pod), label, "<synthesised>", f"the {label} Pod {_name(pod)} in a Deployment")
                _route(judge, case, result, synthesised=True)
    has_crd = any(p.group not in BUILTIN_GROUPS for p in result.main)
    if not has_crd and _is_gpu_policy(policy.resource.obj):
        for label in (GOOD, BAD):
            pod = next((obj for lab, obj in pods if lab == label and _requests_gpu(obj)), None)
            if pod is not None:
                case = Case(as_pytorchjob(pod), None, "<synthesised>", f"the {label} Pod {_name(pod)} as a PyTorchJob")
                _route(judge, case, result, synthesised=True)


def _crd_name(judge: Judge, obj: dict) -> str:
    mapping = judge.admission.kinds.mapping(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    return f"{mapping.resource}.{mapping.group}"


def _display(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{obj.get('kind')} {namespace + '/' if namespace else ''}{meta.get('name', '')}"


def _name(obj: dict) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _is_gpu_policy(obj: dict) -> bool:
    return "nvidia.com/" in json.dumps(obj)


def _requests_gpu(pod: dict) -> bool:
    return "nvidia.com/" in json.dumps([c.get("resources") for c in _containers(pod.get("spec") or {})])


def _containers(spec: dict) -> list[dict]:
    return [c for key in ("initContainers", "containers") for c in (spec.get(key) or []) if isinstance(c, dict)]


def _copy(value):
    return json.loads(json.dumps(value))


def as_deployment(pod: dict) -> dict:
    meta = pod.get("metadata") or {}
    name = str(meta.get("name", "pod"))
    labels = dict(meta.get("labels") or {})
    # The pod's own labels select it when it has some: an added label could change a label policy's verdict.
    selector = dict(labels) if labels else {"gpulint.io/case": name}
    labels.update(selector)
    template_meta = {"labels": labels}
    if meta.get("annotations"):
        template_meta["annotations"] = dict(meta["annotations"])
    spec = _copy(pod.get("spec") or {})
    spec.pop("restartPolicy", None)  # a Deployment's pods must restart Always
    out_meta = {"name": name}
    if meta.get("namespace"):
        out_meta["namespace"] = meta["namespace"]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": out_meta,
            "spec": {"replicas": 1, "selector": {"matchLabels": selector},
                     "template": {"metadata": template_meta, "spec": spec}}}


def as_pytorchjob(pod: dict) -> dict:
    meta = pod.get("metadata") or {}
    spec = _copy(pod.get("spec") or {})
    spec.pop("restartPolicy", None)
    template: dict = {"spec": spec}
    if meta.get("labels"):
        template["metadata"] = {"labels": dict(meta["labels"])}
    out_meta = {"name": str(meta.get("name", "job"))}
    if meta.get("namespace"):
        out_meta["namespace"] = meta["namespace"]
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": out_meta,
            "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "restartPolicy": "OnFailure",
                                                        "template": template}}}}


def pod_specs(obj: dict) -> list[dict]:
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if group_of(obj) == "" and kind == "Pod":
        return [spec]
    if (group_of(obj), kind) == ("batch", "CronJob"):
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
    if (group_of(obj), kind) in CONTROLLERS:
        return [((spec.get("template") or {}).get("spec") or {})]
    return []


def k8s_rejects(obj: dict) -> bool:
    """Kubernetes refuses extended resources (GPUs) requested without an equal limit or in fractions."""
    for spec in pod_specs(obj):
        for container in _containers(spec):
            resources = container.get("resources") or {}
            limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
            for name, value in list(limits.items()) + list(requests.items()):
                if _extended(name) and not _whole(value):
                    return True
            for name, value in requests.items():
                if _extended(name) and (name not in limits or str(limits[name]) != str(value)):
                    return True
    return False


def _extended(name) -> bool:
    name = str(name)
    return "/" in name and not name.startswith(("kubernetes.io/", "requests.", "hugepages-"))


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) or str(value).isdigit()
