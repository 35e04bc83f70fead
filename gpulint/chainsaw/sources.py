"""Where generated tests get their policies and their good and bad resources from.

Resources come, in this order of preference, from a fixtures folder (files named good-*/bad-*;
other files are sorted by the engine), from the expectations of a kyverno-test.yaml that tests the
policy, or from resources the user names, sorted into pass and fail by the offline engine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from gpulint.chainsaw.files import GenError
from gpulint.load import Resource, load_paths, read_yaml_documents

VPOL_API_PREFIX = "policies.kyverno.io/"
LEGACY_API_VERSIONS = ("kyverno.io/v1", "kyverno.io/v2beta1")
SUPPORTED = "ValidatingPolicy and ClusterPolicy"
TEST_FILE = "kyverno-test.yaml"
GOOD, BAD = "good", "bad"


@dataclass
class PolicySource:
    resource: Resource
    builtin: bool
    whole_file: bool = False  # the file holds this policy alone: copy it byte for byte, comments included

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def kind(self) -> str:
        return self.resource.kind

    @property
    def is_vpol(self) -> bool:
        return self.kind == "ValidatingPolicy"

    @property
    def text(self) -> str:
        """The policy as its author wrote it (comments kept) when the file holds just this policy."""
        from gpulint.chainsaw.yamlout import dump

        source = self.resource.source
        if self.whole_file:
            with open(self.resource.file, encoding="utf-8-sig") as handle:
                return handle.read()
        if self.resource.path_in_document == () and not source.is_json and source.part == 0:
            text = source.text
            return text if text.endswith("\n") else text + "\n"
        return dump(self.resource.obj)


@dataclass
class Case:
    obj: dict
    declared: Optional[str]  # GOOD, BAD, or None: the engine decides
    origin: str  # where it came from, for messages
    note: str = ""  # why a synthesised case exists


@dataclass
class CaseSet:
    cases: list[Case] = field(default_factory=list)
    namespaces: list[dict] = field(default_factory=list)  # Namespace objects among the inputs
    context: list[dict] = field(default_factory=list)  # objects the policy reads (kyverno-test context)
    origin: str = ""


def builtin_fixtures_dir() -> Path:
    from gpulint.engine.builtin import builtin_rules_dir

    rules = builtin_rules_dir()
    installed = rules.parent / "_builtin_fixtures"
    return installed if installed.is_dir() else rules.parent / "fixtures"


def load_policies(paths: Sequence[str], builtin: bool) -> tuple[list[PolicySource], list[str]]:
    """Policies to generate for, and warnings about documents that are skipped."""
    from gpulint.engine.builtin import builtin_rules_dir

    sources: list[PolicySource] = []
    warnings: list[str] = []
    groups = ([(str(builtin_rules_dir()), True)] if builtin else []) + [(p, False) for p in paths]
    for path, is_builtin in groups:
        if not os.path.exists(path):
            raise GenError(f"{path}: no such file or directory")
        result = load_paths([path])
        if result.errors:
            raise GenError(str(result.errors[0]))
        found = False
        per_file: dict[str, int] = {}
        for resource in result.resources:
            per_file[resource.file] = per_file.get(resource.file, 0) + 1
        for resource in result.resources:
            if resource.api_version.startswith(VPOL_API_PREFIX) and resource.kind == "ValidatingPolicy" \
                    or resource.api_version in LEGACY_API_VERSIONS and resource.kind == "ClusterPolicy":
                found = True
                if not resource.name:
                    raise GenError(f"{_where(resource)}: {resource.kind} has no metadata.name")
                alone = per_file[resource.file] == 1 and resource.path_in_document == ()
                sources.append(PolicySource(resource, is_builtin, alone and not resource.source.is_json))
            elif resource.api_version.partition("/")[0] in ("kyverno.io", "policies.kyverno.io",
                                                            "admissionregistration.k8s.io"):
                found = True
                warnings.append(f"{_where(resource)}: skipping {resource.kind} {resource.name}: "
                                f"only {SUPPORTED} are supported")
        if not found and not is_builtin:
            raise GenError(f"{path}: no {SUPPORTED} found")
    seen: dict[str, PolicySource] = {}
    for source in sources:
        if source.name in seen:
            first = seen[source.name]
            raise GenError(f"{_where(source.resource)}: policy {source.name} is also defined in {_where(first.resource)}")
        seen[source.name] = source
    return sorted(sources, key=lambda s: s.name), warnings


def _where(resource: Resource) -> str:
    position = resource.locate(())
    return f"{resource.file}:{position.line}:{position.column}"


def _is_test_object(resource: Resource) -> bool:
    return resource.api_version.startswith("cli.kyverno.io/") or resource.api_version.startswith("chainsaw.")


def _prefix(path: str) -> Optional[str]:
    base = os.path.basename(path)
    return GOOD if base.startswith("good-") else BAD if base.startswith("bad-") else None


def _load(paths: list[str]) -> list[Resource]:
    result = load_paths(paths)
    if result.errors:
        raise GenError(str(result.errors[0]))
    return [r for r in result.resources if not _is_test_object(r)]


def _split(resources: list[Resource], declared, origin: str) -> CaseSet:
    cases = CaseSet(origin=origin)
    for resource in resources:
        verdict = declared(resource)
        if resource.kind == "Namespace" and resource.api_version == "v1" and verdict is None:
            cases.namespaces.append(resource.obj)
        else:
            cases.cases.append(Case(resource.obj, verdict, resource.file))
    return cases


def _yaml_files(folder: str) -> list[str]:
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.endswith((".yaml", ".yml", ".json")) and f != TEST_FILE
                  and os.path.isfile(os.path.join(folder, f)))


def from_fixtures(policy: PolicySource, fixtures: str) -> Optional[CaseSet]:
    """A folder named after the policy inside `fixtures`, or `fixtures` itself with good-/bad- files."""
    if not os.path.isdir(fixtures):
        raise GenError(f"{fixtures}: not a directory")
    folder = os.path.join(fixtures, policy.name)
    if not os.path.isdir(folder):
        if not any(_prefix(f) for f in os.listdir(fixtures)):
            return None
        folder = fixtures
    files = _yaml_files(folder)
    if not any(_prefix(f) for f in files) and os.path.isfile(os.path.join(folder, TEST_FILE)):
        return from_kyverno_test(policy, os.path.join(folder, TEST_FILE))
    if not files:
        return None
    return _split(_load(files), lambda r: _prefix(r.file), folder)


def kyverno_test_candidates(policy: PolicySource) -> list[str]:
    folder = os.path.dirname(policy.resource.file) or "."
    found = [os.path.join(folder, ".kyverno-test", TEST_FILE), os.path.join(folder, TEST_FILE)]
    if policy.builtin:
        found.insert(0, str(builtin_fixtures_dir() / policy.name / TEST_FILE))
    return [path for path in found if os.path.isfile(path)]


def from_kyverno_test(policy: PolicySource, path: str) -> Optional[CaseSet]:
    """Resources of the tests in `path` that expect pass (good) or fail (bad) of this policy."""
    documents, errors = read_yaml_documents(path)
    if errors:
        raise GenError(str(errors[0]))
    folder = os.path.dirname(path) or "."
    merged: Optional[CaseSet] = None
    for _, data in documents:
        if not isinstance(data, dict):
            continue
        verdicts = _expected(data, policy.name)
        if not verdicts:
            continue
        resources = _load([_join(folder, p) for p in _as_list(data.get("resources"))])
        found = _split(resources, lambda r: _verdict_of(r, verdicts), path)
        found.cases = [c for c in found.cases if c.declared is not None]
        if data.get("context"):
            found.context = _context_objects(_join(folder, data["context"]))
        if merged is None:
            merged = found
        else:
            merged.cases += found.cases
            merged.namespaces += found.namespaces
            merged.context += found.context
    return merged


def _expected(data: dict, name: str) -> dict[str, str]:
    """'ns/name' or 'name' -> good/bad, from the results of one test about policy `name`."""
    verdicts: dict[str, str] = {}
    for result in _as_list(data.get("results")):
        if not isinstance(result, dict) or str(result.get("policy", "")).split("/")[-1] != name:
            continue
        word = {"pass": GOOD, "fail": BAD}.get(str(result.get("result", "")))
        if word is None:
            continue
        for ref in _as_list(result.get("resources")):
            # A resource that fails one rule is bad, whatever its other rules say.
            if verdicts.get(str(ref)) != BAD:
                verdicts[str(ref)] = word
    return verdicts


def _verdict_of(resource: Resource, verdicts: dict[str, str]) -> Optional[str]:
    namespace = resource.namespace or "default"
    return verdicts.get(f"{namespace}/{resource.name}") or verdicts.get(resource.name)


def _context_objects(path: str) -> list[dict]:
    documents, errors = read_yaml_documents(path)
    if errors:
        raise GenError(str(errors[0]))
    objects = []
    for _, data in documents:
        spec = data.get("spec") if isinstance(data, dict) else None
        if isinstance(spec, dict):
            objects += [r for r in _as_list(spec.get("resources")) if isinstance(r, dict)]
    return objects


def from_resources(paths: Sequence[str]) -> Optional[CaseSet]:
    """Resources the user named: the engine sorts them into pass and fail."""
    if not paths:
        return None
    for path in paths:
        if not os.path.exists(path):
            raise GenError(f"{path}: no such file or directory")
    return _split(_load(list(paths)), lambda r: None, ", ".join(paths))


def find_cases(policy: PolicySource, fixtures: Optional[str], resources: Sequence[str]) -> Optional[CaseSet]:
    if fixtures:
        found = from_fixtures(policy, fixtures)
        if found is not None:
            return found
    for candidate in kyverno_test_candidates(policy):
        found = from_kyverno_test(policy, candidate)
        if found is not None and found.cases:
            return found
    return from_resources(resources)


def _join(folder: str, path) -> str:
    path = str(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(folder, path))


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
