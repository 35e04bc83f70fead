"""`gpulint check --helm-chart/--kustomize` with the real helm and kubectl binaries.

tests/tools/install-k8s-tools.sh puts them in .tools/bin (CI runs it); without them these tests
skip with that hint, except in CI on linux-x86_64, where they must run."""

import json
import os
import platform
import shutil
import sys
import textwrap

import pytest

from gpulint.cli import main
from gpulint.inputs import RenderError
from gpulint.inputs.render import run_tool
from tests.conftest import ROOT

TOOLS = ROOT / ".tools" / "bin"
POLICY = ["--no-builtin", "-p", str(ROOT / "tests" / "report" / "data" / "policies" / "test-gpu-registry.yaml")]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-trainer
  namespace: {{ .Values.namespace }}
spec:
  selector:
    matchLabels: {app: trainer}
  template:
    metadata:
      labels: {app: trainer}
    spec:
      containers:
        - name: trainer
          image: {{ .Values.image | quote }}
          resources:
            limits:
              nvidia.com/gpu: {{ .Values.gpus }}
"""


def search_path() -> str:
    return os.pathsep.join([str(TOOLS), os.environ.get("PATH", "")])


def require(name: str) -> None:
    if shutil.which(name, path=search_path()) is None:
        reason = f"{name} is not installed: run tests/tools/install-k8s-tools.sh"
        if os.environ.get("CI") == "true" and platform.system() == "Linux" and platform.machine() == "x86_64":
            pytest.fail(f"{reason} (CI installs it through .ci/run)")
        pytest.skip(reason)


@pytest.fixture
def helm(monkeypatch):
    require("helm")
    monkeypatch.setenv("PATH", search_path())


@pytest.fixture
def kubectl(monkeypatch):
    require("kubectl")
    monkeypatch.setenv("PATH", search_path())


def make_chart(directory, name="trainer"):
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (directory / "values.yaml").write_text("namespace: ml\nimage: nvcr.io/nvidia/pytorch:24.07-py3\ngpus: 1\n")
    (directory / "templates" / "deployment.yaml").write_text(DEPLOYMENT)
    return directory


def run(capsys, *argv):
    code = main(["check", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_helm_chart_with_values_and_set(capsys, helm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_chart(tmp_path / "charts" / "trainer")
    (tmp_path / "values-prod.yaml").write_text("image: docker.io/acme/trainer:1\n")
    code, out, err = run(capsys, *POLICY, "--helm-chart", "charts/trainer", "--values", "values-prod.yaml",
                         "--helm-set", "namespace=prod", "--helm-release", "r1", "-o", "json",
                         "-o", "sarif=gpulint.sarif", "-o", "github=gh.txt")
    assert code == 1, err
    (finding,) = json.loads(out)["results"]
    assert finding["file"] == "<helm template charts/trainer>"
    assert finding["template"] == "trainer/templates/deployment.yaml"
    assert finding["resource"] == {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "prod",
                                   "name": "r1-trainer"}
    assert "docker.io/acme/trainer:1" in finding["message"]
    # Code hosts get the chart template, a file of the repository.
    location = json.loads((tmp_path / "gpulint.sarif").read_text())["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "charts/trainer/templates/deployment.yaml"
    assert (tmp_path / "gh.txt").read_text().startswith(
        "::error file=charts/trainer/templates/deployment.yaml,line=1,col=1,")


def test_helm_chart_clean(capsys, helm, tmp_path):
    code, out, _ = run(capsys, *POLICY, "--helm-chart", str(make_chart(tmp_path / "c")))
    assert code == 0 and out.splitlines()[-1] == "0 findings in 1 resource from 1 file, 1 policy"


def test_helm_runs_without_a_shell(capsys, helm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    chart = make_chart(tmp_path / "c; touch pwned $(touch pwned2)")
    code, out, err = run(capsys, *POLICY, "--helm-chart", chart.name, "--helm-set", "image=x;touch pwned3")
    assert code == 1, err
    assert not list(tmp_path.glob("pwned*"))


def test_broken_chart_is_an_input_error_and_the_rest_still_runs(capsys, helm, tmp_path):
    chart = make_chart(tmp_path / "broken")
    (chart / "templates" / "deployment.yaml").write_text("kind: {{ .Values.nope.deeper }\n")
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers:\n"
                   "    - {name: c, image: docker.io/x:1, resources: {limits: {nvidia.com/gpu: 1}}}\n")
    code, out, err = run(capsys, *POLICY, str(pod), "--helm-chart", str(chart))
    assert code == 2
    lines = out.splitlines()
    assert any(line.startswith(f"{chart}:1:1: error helm template {chart} failed (exit 1): Error: ") for line in lines)
    assert any(line.startswith(f"{pod}:") and "test-gpu-registry" in line for line in lines)


def test_kustomize_overlay(capsys, kubectl, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "base"
    base.mkdir()
    (base / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
    (base / "pod.yaml").write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: trainer}
        spec:
          containers:
            - {name: c, image: nvcr.io/nvidia/pytorch:24.07-py3, resources: {limits: {nvidia.com/gpu: 1}}}
        """))
    overlay = tmp_path / "overlays" / "prod"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text(textwrap.dedent("""\
        resources: [../../base]
        namespace: prod
        images:
          - name: nvcr.io/nvidia/pytorch
            newName: docker.io/acme/pytorch
        """))
    code, out, err = run(capsys, *POLICY, "--kustomize", "overlays/prod", "-o", "json", "-o", "github=gh.txt")
    assert code == 1, err
    (finding,) = json.loads(out)["results"]
    assert finding["file"] == "<kustomize overlays/prod>"
    assert finding["resource"]["namespace"] == "prod" and "docker.io/acme/pytorch" in finding["message"]
    assert (tmp_path / "gh.txt").read_text().startswith("::error file=overlays/prod/kustomization.yaml,line=1,col=1,")
    code, out, _ = run(capsys, *POLICY, "--kustomize", "base")
    assert code == 0


@pytest.mark.parametrize("option,tool", [("--helm-chart", "helm"), ("--kustomize", "kustomize or kubectl")])
def test_missing_binary_is_a_one_line_usage_error(capsys, tmp_path, monkeypatch, option, tool):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    code, out, err = run(capsys, *POLICY, option, str(tmp_path))
    assert code == 2 and out == ""
    assert err.startswith(f"gpulint: error: {option} needs {tool}" if option == "--kustomize"
                          else f"gpulint: error: {option} needs the helm binary on PATH")
    assert err.count("\n") == 1


def test_values_without_a_chart_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, *POLICY, str(tmp_path), "--values", "v.yaml")
    assert code == 2 and "--values and --helm-set need --helm-chart" in err


def test_render_timeout_is_one_line():
    with pytest.raises(RenderError) as caught:
        run_tool([sys.executable, "-c", "import time; time.sleep(10)"], "slow render", timeout=0.3)
    assert str(caught.value) == "slow render did not finish within 0.3s"


def test_kustomize_binary_is_preferred_and_called_with_build(capsys, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "argv.txt"
    fake = bin_dir / "kustomize"
    fake.write_text(f"#!{sys.executable}\nimport sys\nopen({str(log)!r}, 'w').write(repr(sys.argv[1:]))\n"
                    "print('apiVersion: v1\\nkind: Pod\\nmetadata: {name: p, namespace: ml}\\nspec:\\n  containers:\\n"
                    "    - {name: c, image: docker.io/x:1, resources: {limits: {nvidia.com/gpu: 1}}}')\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    (tmp_path / "overlay").mkdir()
    code, out, err = run(capsys, *POLICY, "--kustomize", str(tmp_path / "overlay"))
    assert code == 1, err
    assert log.read_text() == repr(["build", str(tmp_path / "overlay")])
    assert out.startswith(f"<kustomize {tmp_path / 'overlay'}>:")
