"""Policies, resources and test-file text shared by the testrunner tests."""

import textwrap

POD_POLICY = """
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-gpu-limits
spec:
  validationFailureAction: Audit
  rules:
  - name: check-limits
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "GPU containers need limits"
      pattern:
        spec:
          containers:
          - resources:
              limits:
                nvidia.com/gpu: "?*"
"""

PODS = """
apiVersion: v1
kind: Pod
metadata: {name: good, namespace: ml}
spec:
  containers:
  - {name: c, image: nvcr.io/nvidia/cuda:12.2.0-base, resources: {limits: {nvidia.com/gpu: 1}}}
---
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - {name: c, image: nvcr.io/nvidia/cuda:12.2.0-base}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ml}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: c, image: nvcr.io/nvidia/cuda:12.2.0-base}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ml}
spec: {ports: [{port: 80}]}
"""


def kyverno_test(results: str, extra: str = "", policies: str = "[policy.yaml]",
                 resources: str = "[resources.yaml]") -> str:
    return (f"apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {{name: t}}\npolicies: {policies}\n"
            f"resources: {resources}\n{extra}results:\n" + textwrap.dedent(results).strip("\n") + "\n")
