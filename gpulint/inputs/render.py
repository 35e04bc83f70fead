"""Render Helm charts and kustomizations with the real binaries found on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional, Sequence

from gpulint.load import MAX_FILE_BYTES, LoadError, LoadResult, load_text

RENDER_TIMEOUT = 120  # seconds; rendering a local chart takes well under one
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class RenderError(Exception):
    """Rendering failed; the message is one line naming the chart or directory."""


class ToolMissing(RenderError):
    """The binary a rendered input needs is not on PATH."""


@dataclass(frozen=True)
class RenderedInput:
    """Where the resources of one rendered input came from."""

    display: str  # the file name findings show, like "<stdin>": "<helm template charts/trainer>"
    directory: str  # the chart or kustomization directory as given
    entry_file: str  # Chart.yaml or the kustomization file: where findings without a better file point
    helm: bool

    def file_for(self, template: Optional[str]) -> str:
        """The repository file a code host should annotate for a resource of this input: its chart
        template when Helm named one that exists on disk, else the entry file."""
        if self.helm and template and "/" in template:
            # Helm names templates "<chart name>/templates/x.yaml", the chart name standing for the
            # chart directory (subcharts: "<chart>/charts/<sub>/templates/x.yaml").
            candidate = os.path.join(self.directory, template.split("/", 1)[1])
            if os.path.isfile(candidate):
                return candidate
        return self.entry_file


def find_helm() -> str:
    path = shutil.which("helm")
    if path is None:
        raise ToolMissing("--helm-chart needs the helm binary on PATH (https://helm.sh/docs/intro/install/)")
    return path


def find_kustomize() -> list[str]:
    """The command prefix that builds a kustomization: kustomize itself, else kubectl's copy."""
    kustomize = shutil.which("kustomize")
    if kustomize is not None:
        return [kustomize, "build"]
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        return [kubectl, "kustomize"]
    raise ToolMissing("--kustomize needs kustomize or kubectl on PATH (https://kubectl.docs.kubernetes.io/installation/)")


def render_helm(chart: str, values: Sequence[str] = (), sets: Sequence[str] = (),
                release: str = "release-name", helm: Optional[str] = None) -> tuple[LoadResult, RenderedInput]:
    directory = chart.rstrip("/") or chart
    argv = [helm or find_helm(), "template", release, directory]
    for path in values:
        argv += ["--values", path]
    for item in sets:
        argv += ["--set", item]
    origin = RenderedInput(f"<helm template {directory}>", directory, os.path.join(directory, "Chart.yaml"), True)
    return _load(argv, f"helm template {directory}", origin), origin


def render_kustomize(directory: str, command: Optional[list[str]] = None) -> tuple[LoadResult, RenderedInput]:
    directory = directory.rstrip("/") or directory
    argv = (command or find_kustomize()) + [directory]
    entry = next((os.path.join(directory, name) for name in KUSTOMIZATION_FILES
                  if os.path.isfile(os.path.join(directory, name))), os.path.join(directory, KUSTOMIZATION_FILES[0]))
    origin = RenderedInput(f"<kustomize {directory}>", directory, entry, False)
    return _load(argv, f"{os.path.basename(argv[0])} {' '.join(argv[1:])}", origin), origin


def _load(argv: list[str], what: str, origin: RenderedInput) -> LoadResult:
    try:
        text = run_tool(argv, what)
    except RenderError as error:  # reported like an unreadable file: the other inputs still run
        return LoadResult(errors=[LoadError(origin.directory, 1, 1, str(error))])
    return load_text(text, origin.display)


def run_tool(argv: list[str], what: str, timeout: float = RENDER_TIMEOUT) -> str:
    """The stdout of `argv`, run without a shell; RenderError with one line of its stderr if it fails."""
    try:
        completed = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                                   check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{what} did not finish within {timeout:g}s") from None
    except OSError as error:
        raise RenderError(f"cannot run {argv[0]}: {error.strerror or error}") from None
    if completed.returncode != 0:
        return_code = completed.returncode
        raise RenderError(f"{what} failed (exit {return_code}): {_first_error(completed.stderr)}")
    if len(completed.stdout) > MAX_FILE_BYTES:
        raise RenderError(f"{what} printed more than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return completed.stdout.decode("utf-8", errors="replace")


def _first_error(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
    for line in lines:
        if line.lower().startswith("error"):
            return line
    return lines[-1] if lines else "no error message"
