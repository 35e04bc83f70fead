"""Offline REST mapping: which resource (plural) and scope a kind has, without a cluster.

Kyverno's CLI embeds discovery data for the built-in API groups and falls back to a guessed plural
for anything else (kyverno-cel-semantics.md 7.4). CustomResourceDefinitions found among the inputs
extend the table, so a user's own CRDs map exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

# kind -> (group, plural, namespaced) for the groups of Kyverno's embedded discovery data
# plus the GPU workload CRDs of gpu-domain.md section 5.
_BUILTIN: dict[tuple[str, str], tuple[str, bool]] = {}


def _register(group: str, namespaced: bool, *pairs: str) -> None:
    for pair in pairs:
        kind, plural = pair.split(":")
        _BUILTIN[(group, kind)] = (plural, namespaced)


_register("", True, "Pod:pods", "Service:services", "ConfigMap:configmaps", "Secret:secrets",
          "ServiceAccount:serviceaccounts", "PersistentVolumeClaim:persistentvolumeclaims",
          "ReplicationController:replicationcontrollers", "Endpoints:endpoints", "Event:events",
          "LimitRange:limitranges", "ResourceQuota:resourcequotas", "PodTemplate:podtemplates",
          "Binding:bindings")
_register("", False, "Namespace:namespaces", "Node:nodes", "PersistentVolume:persistentvolumes",
          "ComponentStatus:componentstatuses")
_register("apps", True, "Deployment:deployments", "StatefulSet:statefulsets", "DaemonSet:daemonsets",
          "ReplicaSet:replicasets", "ControllerRevision:controllerrevisions")
_register("batch", True, "Job:jobs", "CronJob:cronjobs")
_register("autoscaling", True, "HorizontalPodAutoscaler:horizontalpodautoscalers")
_register("policy", True, "PodDisruptionBudget:poddisruptionbudgets")
_register("networking.k8s.io", True, "Ingress:ingresses", "NetworkPolicy:networkpolicies")
_register("networking.k8s.io", False, "IngressClass:ingressclasses")
_register("rbac.authorization.k8s.io", True, "Role:roles", "RoleBinding:rolebindings")
_register("rbac.authorization.k8s.io", False, "ClusterRole:clusterroles",
          "ClusterRoleBinding:clusterrolebindings")
_register("storage.k8s.io", False, "StorageClass:storageclasses", "CSIDriver:csidrivers",
          "CSINode:csinodes", "VolumeAttachment:volumeattachments")
_register("scheduling.k8s.io", False, "PriorityClass:priorityclasses")
_register("node.k8s.io", False, "RuntimeClass:runtimeclasses")
_register("resource.k8s.io", False, "DeviceClass:deviceclasses", "ResourceSlice:resourceslices")
_register("resource.k8s.io", True, "ResourceClaim:resourceclaims",
          "ResourceClaimTemplate:resourceclaimtemplates")
_register("admissionregistration.k8s.io", False,
          "ValidatingWebhookConfiguration:validatingwebhookconfigurations",
          "MutatingWebhookConfiguration:mutatingwebhookconfigurations",
          "ValidatingAdmissionPolicy:validatingadmissionpolicies",
          "ValidatingAdmissionPolicyBinding:validatingadmissionpolicybindings")
_register("apiextensions.k8s.io", False, "CustomResourceDefinition:customresourcedefinitions")
_register("coordination.k8s.io", True, "Lease:leases")
_register("discovery.k8s.io", True, "EndpointSlice:endpointslices")
_register("events.k8s.io", True, "Event:events")
_register("certificates.k8s.io", False, "CertificateSigningRequest:certificatesigningrequests")
_register("apiregistration.k8s.io", False, "APIService:apiservices")
# GPU workload CRDs (namespaced) and cluster-scoped CRDs that GPU platforms use.
_register("kubeflow.org", True, "PyTorchJob:pytorchjobs", "TFJob:tfjobs", "MPIJob:mpijobs",
          "PaddleJob:paddlejobs", "XGBoostJob:xgboostjobs", "JAXJob:jaxjobs", "MXJob:mxjobs",
          "Notebook:notebooks")
_register("trainer.kubeflow.org", True, "TrainJob:trainjobs", "TrainingRuntime:trainingruntimes")
_register("trainer.kubeflow.org", False, "ClusterTrainingRuntime:clustertrainingruntimes")
_register("jobset.x-k8s.io", True, "JobSet:jobsets")
_register("leaderworkerset.x-k8s.io", True, "LeaderWorkerSet:leaderworkersets")
_register("ray.io", True, "RayCluster:rayclusters", "RayJob:rayjobs", "RayService:rayservices")
_register("batch.volcano.sh", True, "Job:jobs")
_register("scheduling.volcano.sh", False, "Queue:queues")
_register("scheduling.volcano.sh", True, "PodGroup:podgroups")
_register("serving.kserve.io", True, "InferenceService:inferenceservices",
          "LLMInferenceService:llminferenceservices", "ServingRuntime:servingruntimes")
_register("serving.kserve.io", False, "ClusterServingRuntime:clusterservingruntimes")
_register("apps.nvidia.com", True, "NIMService:nimservices", "NIMCache:nimcaches",
          "NemoCustomizer:nemocustomizers", "NIMPipeline:nimpipelines")
_register("argoproj.io", True, "Workflow:workflows", "WorkflowTemplate:workflowtemplates",
          "CronWorkflow:cronworkflows")
_register("argoproj.io", False, "ClusterWorkflowTemplate:clusterworkflowtemplates")
_register("kueue.x-k8s.io", True, "LocalQueue:localqueues", "Workload:workloads")
_register("kueue.x-k8s.io", False, "ClusterQueue:clusterqueues", "ResourceFlavor:resourceflavors",
          "WorkloadPriorityClass:workloadpriorityclasses")
_register("nvidia.com", False, "ClusterPolicy:clusterpolicies", "NVIDIADriver:nvidiadrivers")
_register("kyverno.io", False, "ClusterPolicy:clusterpolicies")
_register("kyverno.io", True, "Policy:policies", "PolicyException:policyexceptions")
_register("policies.kyverno.io", False, "ValidatingPolicy:validatingpolicies")
_register("policies.kyverno.io", True, "NamespacedValidatingPolicy:namespacedvalidatingpolicies",
          "PolicyException:policyexceptions")


def split_api_version(api_version: str) -> tuple[str, str]:
    """'apps/v1' -> ('apps', 'v1'); 'v1' -> ('', 'v1')."""
    if "/" in api_version:
        group, _, version = api_version.partition("/")
        return group, version
    return "", api_version


def guess_plural(kind: str) -> str:
    """Kubernetes' UnsafeGuessKindToResource."""
    lower = kind.lower()
    if not lower:
        return lower
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    if lower == "endpoints":
        return lower
    return lower + "s"


@dataclass(frozen=True)
class Mapping:
    group: str
    version: str
    resource: str
    namespaced: bool
    known: bool  # False when the plural was guessed


class KindTable:
    """REST mapping for one run: the built-in table plus CRDs found among the inputs."""

    def __init__(self) -> None:
        self._extra: dict[tuple[str, str], tuple[str, bool]] = {}

    def add_crd(self, crd: dict) -> None:
        spec = crd.get("spec") if isinstance(crd, dict) else None
        if not isinstance(spec, dict):
            return
        names = spec.get("names") or {}
        group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
        if isinstance(group, str) and isinstance(kind, str) and isinstance(plural, str):
            self._extra[(group, kind)] = (plural, spec.get("scope", "Namespaced") != "Cluster")

    def mapping(self, api_version: str, kind: str) -> Mapping:
        group, version = split_api_version(api_version)
        found = self._extra.get((group, kind)) or _BUILTIN.get((group, kind))
        if found:
            return Mapping(group, version, found[0], found[1], True)
        return Mapping(group, version, guess_plural(kind), True, False)

    def resource_for(self, api_version: str, kind: str) -> str:
        return self.mapping(api_version, kind).resource

    def is_namespaced(self, api_version: str, kind: str) -> bool:
        return self.mapping(api_version, kind).namespaced
