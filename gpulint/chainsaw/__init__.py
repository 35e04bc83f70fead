"""Tests generated from policies: Chainsaw tests that prove a policy in a real cluster, kyverno-test.yaml
suites that lock in the engine's current verdicts, and scaffolds for new policies.

Public surface (no CLI here; gpulint.cli.gen_chainsaw, gen_test and new call it):
- generate_chainsaw(policy_paths, *, builtin, fixtures, resources) -> Generated
- generate_kyverno_test(policy_paths, resource_paths, out_file) -> Generated   (gpulint.chainsaw.kyvernotest)
- scaffold(name) -> Generated                                                   (gpulint.chainsaw.scaffold)
- write_files(root, fileset, force) -> WriteReport; GenError for unusable input (exit 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from gpulint.chainsaw.files import FileSet, GenError, WriteReport, write_files

__all__ = ["FileSet", "GenError", "Generated", "WriteReport", "generate_chainsaw", "write_files"]


@dataclass
class Generated:
    files: FileSet = field(default_factory=FileSet)
    warnings: list[str] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)  # the policies a test was generated for
    errors: list[str] = field(default_factory=list)  # policies that could not be used (exit 2, the rest still written)


def generate_chainsaw(policy_paths: Sequence[str], *, builtin: bool = False, fixtures: Optional[str] = None,
                      resources: Sequence[str] = ()) -> Generated:
    """Chainsaw tests for every ValidatingPolicy and ClusterPolicy found; paths are relative to the output."""
    from gpulint.chainsaw.render import render_config, render_plan
    from gpulint.chainsaw.sources import find_cases, load_policies
    from gpulint.chainsaw.verdicts import plan

    sources, warnings = load_policies(policy_paths, builtin)
    if not sources:
        raise GenError("no policy to generate tests for: give --policy PATH or --builtin")
    result = Generated(warnings=list(warnings))
    result.files.add(".chainsaw.yaml", render_config())
    for source in sources:
        cases = find_cases(source, fixtures, resources)
        if cases is None or not cases.cases:
            result.warnings.append(f"{source.resource.file}: {source.name}: no good or bad resources (give "
                                   "--fixtures, a kyverno-test.yaml beside the policy, or resources); skipped")
            continue
        try:
            planned = plan(source, cases)
        except GenError as error:  # one broken policy must not cost the tests of the others
            result.errors.append(str(error))
            continue
        result.warnings.extend(planned.warnings)
        if not planned.main and not planned.crd:
            result.warnings.append(f"{source.resource.file}: {source.name}: no resource left to test; skipped")
            continue
        result.files.update(render_plan(planned), prefix=source.name)
        result.policies.append(source.name)
    return result
