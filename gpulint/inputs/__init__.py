"""Inputs gpulint renders before loading: Helm charts and kustomizations.

Rendering runs the real tools (`helm template`, `kustomize build` or `kubectl kustomize`) as
argument lists, never through a shell, with a timeout, and feeds their output to the loader like
any file, so Helm findings name their chart template (`# Source:`).
"""

from gpulint.inputs.render import (RENDER_TIMEOUT, RenderedInput, RenderError, ToolMissing, find_helm,
                                   find_kustomize, render_helm, render_kustomize)

__all__ = ["RENDER_TIMEOUT", "RenderError", "RenderedInput", "ToolMissing", "find_helm", "find_kustomize",
           "render_helm", "render_kustomize"]
