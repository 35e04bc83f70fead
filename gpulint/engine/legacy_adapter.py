"""Legacy kyverno.io ClusterPolicy/Policy behind the same interface the runner uses for CEL policies."""

from __future__ import annotations

from gpulint.engine.policyinfo import PolicyError, policy_info


class LegacyAdapter:
    def __init__(self, obj: dict, file: str, line: int, cel_env=None):
        from gpulint.engine.legacy import LegacyPolicy, LegacyPolicyError

        try:
            self.policy = LegacyPolicy.from_object(obj, cel_env=cel_env) if cel_env is not None else \
                LegacyPolicy.from_object(obj)
        except TypeError:
            self.policy = LegacyPolicy.from_object(obj)
        except LegacyPolicyError as error:
            raise PolicyError(str(error), tuple(getattr(error, "path", ()) or ())) from None
        self.info = policy_info(obj, file, line)
        self.kind = obj.get("kind", "")
        self.name = (obj.get("metadata") or {}).get("name", "")
        self.exceptions: list = []  # kyverno.io PolicyExceptions (dicts), set by compile_policies

    def resources(self):
        return None  # legacy matching is by kind name with wildcards; evaluated for every resource

    def evaluate_subject(self, engine, subject) -> list:
        from gpulint.engine.legacy import LegacyContextData
        from gpulint.engine.runner import make_result

        options = engine.options
        lookup = getattr(engine, "lookup", None)
        context = LegacyContextData(
            operation=options.operation, user_info=options.user_info, namespace_labels=options.namespace_labels,
            get_resource=lookup.get if lookup else (lambda *a: None),
            list_resources=lookup.list if lookup else (lambda *a: []), exceptions=self.exceptions)
        results = []
        for response in self.policy.evaluate(subject.obj, context):
            path = tuple(response.path) if response.path else None
            if path is not None and subject.view is not None:
                path = subject.view.map_path(path)
            results.append(make_result(self.info, response.rule, response.status, response.message, subject,
                                       path, response.properties, True))
        return results
