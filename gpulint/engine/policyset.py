"""Turn policy documents into compiled policies; a broken policy is reported, the rest still run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from gpulint.engine.cel import CelEnvironment
from gpulint.engine.policyinfo import PolicyError
from gpulint.engine.vap import ValidatingAdmissionPolicy, attach_bindings, is_vap
from gpulint.engine.vpol import VPOL_GROUP, VPOL_KINDS, ValidatingPolicy
from gpulint.load.model import LoadError, Resource

LEGACY_KINDS = ("ClusterPolicy", "Policy")
LEGACY_GROUP = "kyverno.io"


def is_policy(resource: Resource) -> bool:
    group = resource.api_version.partition("/")[0]
    return ((group == VPOL_GROUP and resource.kind in VPOL_KINDS)
            or (group == LEGACY_GROUP and resource.kind in LEGACY_KINDS)
            or is_vap(resource.api_version, resource.kind))


@dataclass
class PolicySet:
    policies: list = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    sources: dict = field(default_factory=dict)  # id(policy) -> Resource it was read from

    def names(self) -> list[str]:
        return [p.info.name for p in self.policies]


def _error(resource: Resource, message: str, path: tuple = ()) -> LoadError:
    try:
        position = resource.locate(path)
    except Exception:  # positions are best effort; the message still names the file
        position = resource.locate(())
    return LoadError(resource.file, position.line, position.column, message)


def compile_policies(resources: list[Resource], env: CelEnvironment, *,
                     exceptions: Optional[list[dict]] = None,
                     disabled: frozenset = frozenset(), legacy_env: Optional[CelEnvironment] = None) -> PolicySet:
    """Compile every policy among `resources`; other kinds are ignored."""
    result = PolicySet()
    seen: dict[str, Resource] = {}
    for resource in resources:
        if not is_policy(resource):
            continue
        name = str(resource.metadata.get("name", ""))
        if not name:
            result.errors.append(_error(resource, f"{resource.kind} has no metadata.name", ("metadata",)))
            continue
        if name in disabled:
            continue
        key = f"{resource.kind}/{resource.namespace}/{name}"
        if key in seen:
            first = seen[key]
            result.errors.append(_error(resource, f"duplicate policy {name} (first defined in {first.file}:"
                                                  f"{first.locate(()).line}); this one is ignored"))
            continue
        seen[key] = resource
        try:
            policy = _compile_one(resource, env, exceptions or [], legacy_env)
        except PolicyError as error:
            result.errors.append(_error(resource, str(error), error.path))
            continue
        result.policies.append(policy)
        result.sources[id(policy)] = resource
    attach_bindings(result.policies, resources)
    return result


def _compile_one(resource: Resource, env: CelEnvironment, exceptions: list[dict], legacy_env):
    position = resource.locate(())
    if is_vap(resource.api_version, resource.kind):
        k8s_env = legacy_env or CelEnvironment("k8s", context=getattr(env, "context", None))
        return ValidatingAdmissionPolicy(resource.obj, k8s_env, resource.file, position.line)
    if resource.kind in VPOL_KINDS:
        policy = ValidatingPolicy(resource.obj, env, resource.file, position.line)
        from gpulint.engine.exceptions_cel import CelExceptionSet

        cel_exceptions = [e for e in exceptions if str(e.get("apiVersion", "")).startswith(VPOL_GROUP + "/")]
        if cel_exceptions:
            variables = [(v.get("name"), v.get("expression", "")) for v in policy.spec.get("variables") or ()
                         if isinstance(v, dict)]
            policy.exceptions = CelExceptionSet.compile(cel_exceptions, policy, variables)
        return policy
    from gpulint.engine.legacy_adapter import LegacyAdapter

    adapter = LegacyAdapter(resource.obj, resource.file, position.line, legacy_env)
    # The legacy engine selects the kyverno.io exceptions that name its policy and rule itself.
    adapter.exceptions = [e for e in exceptions if str(e.get("apiVersion", "")).startswith(LEGACY_GROUP + "/")]
    return adapter
