"""The real-world corpus in ../shared/corpus loads, and its one broken file fails cleanly."""

from __future__ import annotations

import os

import pytest

from gpulint.load import LoadError, load_paths

CORPUS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "corpus"))
BROKEN = os.path.join(CORPUS, "gpu-workloads", "gke-kubernetes-engine-samples", "vllm-llama4-scout-17b-16e.yaml")
SWALLOWED = os.path.join(CORPUS, "helm-rendered", "llm-benchmark-chart-vllm.yaml")

pytestmark = pytest.mark.skipif(not os.path.isdir(CORPUS), reason=f"{CORPUS} is not present (the shared/ folder)")


def test_corpus_loads():
    result = load_paths([CORPUS])
    assert len(result.files) >= 100
    assert len(result.resources) >= 200
    assert result.errors == [
        # published invalid: `hf_api_token: {{HF_TOKEN}}` is a sed placeholder; unquoted, YAML reads a
        # mapping used as a key, which Kubernetes' reader refuses too
        LoadError(BROKEN, 96, 18, "a mapping key is a mapping, not a string (an unquoted {{...}} placeholder?)"),
        # the chart's license comment has no final newline, so `# ...SOFTWARE.apiVersion: v1` swallows the
        # ServiceAccount's apiVersion: kubectl refuses that object too ("apiVersion not set")
        LoadError(SWALLOWED, 23, 1, "document 1 has kind ServiceAccount but no apiVersion, so it is not a Kubernetes object"),
    ]


def test_the_broken_file_keeps_its_other_documents():
    result = load_paths([BROKEN])
    assert [r.kind for r in result.resources] == ["Deployment", "Service"]
    assert len(result.errors) == 1


def test_helm_values_files_are_skipped_silently():
    result = load_paths([os.path.join(CORPUS, "helm-rendered", "values")])
    assert result.files and result.resources == [] and result.errors == []
