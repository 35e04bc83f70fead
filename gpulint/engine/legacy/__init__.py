"""Kyverno's legacy policy engine (kyverno.io/v1 and v2beta1 ClusterPolicy / Policy validate
rules) in pure Python.

    from gpulint.engine.legacy import LegacyPolicy, LegacyContextData

    policy = LegacyPolicy.from_object(policy_dict)        # LegacyPolicyError when invalid
    for response in policy.evaluate(resource_dict, LegacyContextData(operation="CREATE")):
        response.rule, response.status, response.message, response.path, response.properties
"""

from gpulint.engine.legacy.engine import (
    LegacyContextData, LegacyPolicy, LegacyPolicyError, LegacyRuleResponse)

__all__ = ["LegacyContextData", "LegacyPolicy", "LegacyPolicyError", "LegacyRuleResponse"]
