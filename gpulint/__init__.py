"""gpulint: offline Kyverno policy linter and test runner for Kubernetes GPU workloads."""

__version__ = "0.1.0"
