"""The engine stage: policies -> results. Public surface:

- `build_engine(...)` compiles policies (built-in and users') against one CEL environment whose
  library calls are answered offline from the resources of the run and the settings ConfigMap.
- `Engine.evaluate(resources)` -> list of `RuleResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from gpulint.engine.result import PolicyInfo, RuleResult  # noqa: F401  (re-exported)


@dataclass
class EngineSetup:
    engine: "object"
    policies: list
    errors: list = field(default_factory=list)


def build_engine(policy_resources: list, lookup_objects: list[dict], *, settings: Optional[dict] = None,
                 exceptions: Optional[list[dict]] = None, disabled=frozenset(), workloads: Optional[dict] = None,
                 options=None, context_extra: Optional[dict] = None) -> EngineSetup:
    """Compile `policy_resources` (load.Resource) and prepare an Engine over the run's objects."""
    from gpulint.engine.builtin import settings_configmap
    from gpulint.engine.cel import CelEnvironment, OfflineContext
    from gpulint.engine.kinds import KindTable
    from gpulint.engine.lookup import ResourceIndex
    from gpulint.engine.podtemplates import WorkloadTable
    from gpulint.engine.policyset import compile_policies
    from gpulint.engine.runner import Engine, RunOptions

    kinds = KindTable()
    for obj in lookup_objects:
        if obj.get("kind") == "CustomResourceDefinition":
            kinds.add_crd(obj)
    pruned: dict = {}
    if options is None or options.prune_nulls:
        from gpulint.engine.runner import without_nulls

        originals = lookup_objects
        lookup_objects = [without_nulls(obj) for obj in originals]
        pruned = {id(obj): (obj, new) for obj, new in zip(originals, lookup_objects)}
    index = ResourceIndex(kinds, lookup_objects)
    if settings is not None:
        index.add(settings_configmap(settings))
    extra = context_extra or {}
    context = OfflineContext(get_resource=index.get, list_resources=index.list,
                             images=extra.get("images", {}), http_responses=extra.get("http", {}),
                             global_context=extra.get("global_context", {}))
    env = CelEnvironment("vpol", context=context)
    legacy_env = CelEnvironment("k8s", context=context)
    compiled = compile_policies(policy_resources, env, exceptions=exceptions, disabled=frozenset(disabled),
                                legacy_env=legacy_env)
    engine = Engine(compiled.policies, env, kinds=kinds, workloads=WorkloadTable(workloads),
                    options=options or RunOptions())
    engine.lookup = index
    engine.pruned = pruned  # evaluate_resource reuses them
    return EngineSetup(engine, compiled.policies, compiled.errors)
