"""The `gpulint` pre-commit hook, through the real pre-commit: `pre-commit try-repo` installs this
checkout into a fresh hook environment (pip, so PyPI must be reachable for the dependencies) and
runs it on a temporary git repository. One try-repo run: the environment install is the slow part.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: ml
spec:
  containers:
    - name: cuda
      image: {image}
      resources:
        limits:
          nvidia.com/gpu: 1
"""
# The checkout as pip would build it (pyproject may force-include any folder), without history,
# virtual environments, tools and caches.
IGNORE = shutil.ignore_patterns(".git", ".venv", ".tools", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis",
                                ".benchmarks", "build", "dist", "*.egg-info")


def git(cwd, env, *args):
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def test_gpulint_hook_fails_on_the_bad_manifest_and_passes_the_good_one(tmp_path):
    if importlib.util.find_spec("pre_commit") is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]' installs it)")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), GIT_AUTHOR_NAME="t",
               GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
               GIT_CONFIG_NOSYSTEM="1", PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1")
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(key, None)

    # A snapshot of this checkout as its own repository: try-repo then sees uncommitted work too,
    # and the project's own repository is never touched.
    hook_repo = tmp_path / "gpulint-src"
    shutil.copytree(ROOT, hook_repo, ignore=IGNORE)
    git(hook_repo, env, "init", "-q")
    git(hook_repo, env, "add", "-A")
    git(hook_repo, env, "commit", "-q", "-m", "snapshot")

    work = tmp_path / "manifests"
    (work / "charts" / "x" / "templates").mkdir(parents=True)
    (work / "good.yaml").write_text(POD.format(name="good", image="nvcr.io/nvidia/cuda:12.4.0-base-ubuntu22.04"))
    (work / "bad.yaml").write_text(POD.format(name="bad", image="docker.io/nvidia/cuda:12.4.0-base-ubuntu22.04"))
    # Excluded by the hook: a chart's Chart.yaml and a Go template, neither of which is a manifest.
    (work / "charts" / "x" / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: 0.1.0\n")
    (work / "charts" / "x" / "templates" / "pod.yaml").write_text("{{- if .Values.on }}\nkind: Pod\n{{- end }}\n")
    # The repository's own registry policy alone, so that rule-pack changes cannot move this test.
    (work / ".gpulint.yaml").write_text(textwrap.dedent(f"""\
        builtin: false
        policies: [{hook_repo / "rules" / "gpu-approved-registries.yaml"}]
        """))
    git(work, env, "init", "-q")
    git(work, env, "add", "-A")
    git(work, env, "commit", "-q", "-m", "manifests")

    files = ["good.yaml", "bad.yaml", "charts/x/Chart.yaml", "charts/x/templates/pod.yaml"]
    completed = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "gpulint",
                                "--verbose", "--color", "never", "--files", *files],
                               cwd=work, env=env, capture_output=True, text=True, timeout=540)
    output = completed.stdout + completed.stderr
    if "Could not find a version" in output or "Failed to establish a new connection" in output:
        pytest.skip(f"the hook environment could not be installed (no network to PyPI?): {output[-400:]}")
    assert completed.returncode == 1, output
    assert "gpulint (Kubernetes GPU manifests)" in output and "Failed" in output
    finding = [line for line in output.splitlines() if "gpu-approved-registries" in line and ":" in line]
    assert finding and all(line.startswith("bad.yaml:") for line in finding), output
    assert "good.yaml:" not in output and "Chart.yaml" not in output and "templates/pod.yaml" not in output
    assert "1 finding (1 high) in 2 resources from 2 files, 1 policy" in output
