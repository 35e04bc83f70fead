#!/usr/bin/env python3
"""Write docs/corpus-review.md: every finding of the built-in pack over ../shared/corpus, judged.

    python scripts/corpus_review.py            # regenerate the page
    python scripts/corpus_review.py --check    # exit 1 if the page no longer matches the findings

The judgements are data below: a default verdict and reason per policy (why its findings are true
positives on public samples), and explicit exceptions for the findings reviewers judged false or
doubtful. A finding that no rule covers makes --check fail, so a policy change that adds findings
forces a fresh review instead of silently inheriting a verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
PAGE = ROOT / "docs" / "corpus-review.md"

# policy -> why its findings on this corpus are true positives (the rule's definition met).
DEFAULT_REASON = {
    "gpu-approved-registries": "image outside the default approvedRegistries (nvcr.io); GKE sidecars from "
                               "us-docker.pkg.dev/gce-ai-infra need adding on GKE",
    "gpu-block-device-env-override": "NVIDIA_VISIBLE_DEVICES/NVIDIA_DRIVER_CAPABILITIES on a container without a GPU",
    "gpu-cpu-memory-per-gpu": "GPU container without CPU/memory requests, or below the per-GPU floor",
    "gpu-disallow-interactive": "GPU held by an idle command (sleep infinity, polling loop) or stdin/tty",
    "gpu-disallow-privileged": "privileged container, hostPID or hostNetwork on a GPU pod",
    "gpu-fabric-ready": "multi-node job on A3 High without GPUDirect-TCPX annotations or daemon",
    "gpu-launcher-consistency": "launcher arguments disagree with the pod spec (GPUs per pod, elastic nnodes)",
    "gpu-limits-equal-requests": "GPU in requests only: Kubernetes rejects the pod",
    "gpu-max-gpus-per-workload": "workload above the default 64-GPU limit (legitimately large; raise the limit "
                                 "per namespace)",
    "gpu-namespace-quota": "the corpus holds no ResourceQuota, so no GPU namespace is capped",
    "gpu-nccl-config": "NCCL_NET=Socket while an RDMA device is requested: the fabric is paid for and unused",
    "gpu-no-cpu-workloads-on-gpu-nodes": "CPU-only pod pinned to or tolerating GPU nodes",
    "gpu-pin-accelerator": "multi-GPU/multi-node job that selects no GPU product or instance type",
    "gpu-require-data-classification": "public samples carry no organisation classification label",
    "gpu-require-image-digest": ":latest or untagged image",
    "gpu-require-model-provenance": "model source not declared or not from an approved source",
    "gpu-require-non-root": "no runAsNonRoot and no non-zero runAsUser: the image's user (root in CUDA images)",
    "gpu-require-priority": "no priority class on the GPU workload",
    "gpu-require-queue": "no Kueue queue label: the workload bypasses quota and fair share",
    "gpu-require-seccomp": "no seccomp profile (or Unconfined) on a GPU pod",
    "gpu-require-shm": "multi-GPU or training pod without a memory-backed /dev/shm, or a hostPath /dev/shm",
    "gpu-require-time-bounds": "batch GPU workload without a deadline and without clean-up after finishing",
    "gpu-restrict-host-paths": "sensitive hostPath (/, /dev/shm, /sys, driver directories) on a GPU pod; "
                               "GKE GPUDirect recipes need allowedHostPaths",
    "gpu-restrict-inference-exposure": "GPU Jupyter/serving exposed by a LoadBalancer Service",
    "gpu-tolerate-gpu-taint": "with cloud=any nothing ties the pod to GKE, so it stays Pending on clouds that "
                              "taint GPU nodes",
    "gpu-topology": "pods of a multi-node job that do not take whole nodes, or a non-allowed GPU count",
}

# (policy, file fragment, resource name or None) -> (verdict, reason) for findings judged otherwise.
EXCEPTIONS = [
    ("gpu-block-device-env-override", "nvidia-device-plugin-timeslicing-mig-mixed.yaml", None, "false positive",
     "the device plugin's own DaemonSets in namespace nvidia-device-plugin: GPU infrastructure, exempt once "
     "that namespace is added to infraNamespaces"),
    ("gpu-block-device-env-override", "cuda-workload-validation.yaml", None, "false positive",
     "the GPU operator's validator pod (namespace is a placeholder filled with gpu-operator at run time)"),
    ("gpu-require-shm", "kueue/sample-hami.yaml", None, "false positive",
     "gpu-burn on two HAMi vGPU slices uses no shared memory"),
    ("gpu-topology", "nvidia-dra-driver-gpu/nvbandwidth-test-job.yaml", None, "false positive",
     "multi-node NVLink (ComputeDomain) test: cross-node traffic is NVLink, partial nodes are deliberate; "
     "GB200 clusters should set gpusPerNode: 4"),
    ("gpu-tolerate-gpu-taint", "gke-container-engine-accelerators/resnet-gpu.yaml", None, "false positive",
     "meant for GKE (which adds the toleration) though nothing in the file says so; passes with cloud: gcp"),
    ("gpu-require-non-root", "nim", "NIMService", "false positive",
     "doubtful: the NIM operator may default spec.userID in the CRD, which the manifest does not show; "
     "counted as false positive"),
]


def _judge(result: dict) -> tuple[str, str]:
    rel = result["file"].partition("/corpus/")[2]
    for policy, fragment, name, verdict, reason in EXCEPTIONS:
        if result["policy"] != policy or fragment not in rel:
            continue
        if name is None or name in (result["resource"]["name"], result["resource"]["kind"]):
            return verdict, reason
    if result["policy"] not in DEFAULT_REASON:
        return "unreviewed", "no review for this policy yet"
    return "true positive", DEFAULT_REASON[result["policy"]]


def findings() -> list[dict]:
    from gpulint.cli import main

    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["check", "-o", "json", "--fail-on", "never", str(CORPUS)])
    document = json.loads(buffer.getvalue())
    return [r for r in document["results"] if r["result"] in ("fail", "warn")]


def render(results: list[dict]) -> str:
    judged = [(r, *_judge(r)) for r in results]
    per_policy: dict[str, Counter] = {}
    for result, verdict, _ in judged:
        per_policy.setdefault(result["policy"], Counter())[verdict] += 1
    total = len(judged)
    false = sum(1 for _, verdict, _ in judged if verdict == "false positive")
    lines = [
        "# Corpus review: the built-in pack on real public GPU manifests", "",
        "`gpulint check` with default settings over every file of `../shared/corpus/` (public GPU workload "
        "manifests and Helm-rendered charts, with provenance in the corpus). Every finding is listed and "
        "judged. Regenerate with `python scripts/corpus_review.py`; `--check` fails when the findings change "
        "so that new ones get reviewed.", "",
        f"**{total} findings, {false} judged false positive ({100 * false / max(total, 1):.1f}%).** Most "
        "findings are governance rules (queue, priority, classification, quota, non-root) that public samples "
        "do not opt into: true by the rule's definition, expected on upstream examples.", "",
        "| policy | findings | true positive | false positive |", "|---|---|---|---|",
    ]
    for policy in sorted(per_policy):
        counts = per_policy[policy]
        lines.append(f"| {policy} | {sum(counts.values())} | {counts['true positive']} | {counts['false positive']} |")
    lines += ["", "## Real misconfigurations the corpus contains", "",
              "- `nvidia-nim-operator/multi-node-nimservice-rdma.yaml`: `NCCL_NET=Socket` next to an RDMA device "
              "(gpu-nccl-config).",
              "- `ai-on-eks/esm2nv-training-job.yaml`: `trainer.devices=4` and `nprocPerNode: 4` on 1-GPU pods, "
              "8 pods of 1 GPU on 4-GPU g5.12xlarge nodes (gpu-launcher-consistency, gpu-topology).",
              "- `awsome-distributed-training/1-imagenet-gpu-team-a.yaml`, `EKS-fsdp.yaml`: fixed `--nnodes` in "
              "elastic PyTorchJobs; an etcd rendezvous Deployment pinned to GPU instances.",
              "- `awsome-distributed-training` FSDP and NCCL-test jobs mount the node's `/dev/shm` through hostPath.",
              "- `gke-kubernetes-engine-samples/vllm-llama3-405b-A3.yaml`: multi-node on A3 High without TCPX.",
              "- `gke-kubernetes-engine-samples/dra-deployment.yaml`: host `/` mounted and GPUs held by a polling "
              "loop; `spec-gcs.yaml`: privileged GPU Jupyter behind a public LoadBalancer.",
              "- `kueue/sample-leaderworkerset-tas.yaml`: GPU in requests only (Kubernetes rejects it).",
              "- `ai-on-eks/timeslicing-test.yaml`: hostPID; `setup-raycluster.yaml`: `runAsUser: 0`.",
              "- `kuberay/ray-job.batch-inference.yaml`: no `shutdownAfterJobFinishes`, the RayCluster keeps its "
              "GPUs; `kubeflow-training-operator/multi_worker_tfjob.yaml`: `cleanPodPolicy: None`, no deadline.",
              "- `nvidia-nim-deploy/llama3-70b-instruct_4xh100_1.0.0.yaml` selects "
              "`nvidia.com/gpu.product: NVIDIA-H100-SXM4-80GB`, not a product string GPU Feature Discovery "
              "reports (H100 SXM is `NVIDIA-H100-80GB-HBM3`): the pod likely never schedules (not flagged: "
              "unknown values are skipped by design).",
              "", "## Every finding", "",
              "| file | resource | policy | verdict | reason | message |", "|---|---|---|---|---|---|"]
    for result, verdict, reason in sorted(judged, key=lambda j: (j[0]["file"], j[0]["line"], j[0]["policy"])):
        res = result["resource"]
        where = f"{result['file'].partition('/corpus/')[2]}:{result['line']}"
        name = f"{res['kind']} {res['namespace'] + '/' if res['namespace'] else ''}{res['name']}"
        if result["role"]:
            name += f" [{result['role']}]"
        message = result["message"].replace("|", "\\|").replace("\n", " ")
        if len(message) > 160:
            message = message[:157] + "..."
        lines.append(f"| {where} | {name} | {result['policy']} | {verdict} | {reason} | {message} |")
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"{CORPUS}: corpus not found", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    results = findings()
    unreviewed = [r for r in results if _judge(r)[0] == "unreviewed"]
    text = render(results)
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != text or unreviewed:
            print(f"{PAGE} is stale or has unreviewed findings; run python scripts/corpus_review.py",
                  file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}: {len(results)} findings, {len(unreviewed)} unreviewed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
