"""Run one Kyverno CLI test (one document of a kyverno-test.yaml) and report on it."""

from __future__ import annotations

import os
from typing import Any

from gpulint.load import LoadError
from gpulint.testrunner import classify
from gpulint.testrunner.compare import compare
from gpulint.testrunner.discover import TestDocument
from gpulint.testrunner.evaluate import Evaluator, LegacyEntry, SuiteInputs, suite_resources
from gpulint.testrunner.inputs import (
    SuiteError, api_call_mocks, cel_global_context, global_context_entries, load_cluster, load_context, load_objects,
    load_payloads, load_user_info, load_values)
from gpulint.testrunner.model import ERRORED, FAILED, UNSUPPORTED, SuiteReport
from gpulint.testrunner.schema import validate_test

LEGACY_API_VERSIONS = ("kyverno.io/v1", "kyverno.io/v2beta1")
LEGACY_EXCEPTION_VERSIONS = ("kyverno.io/v2", "kyverno.io/v2beta1")
CEL_EXCEPTION_GROUP = "policies.kyverno.io/"


def run_suite(test: TestDocument, strict: bool = False) -> SuiteReport:
    report = SuiteReport(test.path, _name(test), index=test.index)
    if test.error is not None:
        return _errored(report, str(test.error))
    try:
        _run(test, report, strict)
    except SuiteError as error:
        return _errored(report, str(error))
    except Exception as error:  # noqa: BLE001 - an engine bug must not stop the run or print a traceback
        return _errored(report, f"internal error while running the test: {type(error).__name__}: {error}")
    return report.finish()


def _name(test: TestDocument) -> str:
    data = test.data if isinstance(test.data, dict) else {}
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    return str(meta.get("name") or data.get("name") or os.path.basename(os.path.dirname(test.path)) or test.path)


def _errored(report: SuiteReport, reason: str) -> SuiteReport:
    report.status, report.reason = ERRORED, " ".join(reason.split())
    return report


def _where(test: TestDocument, path: tuple) -> str:
    if test.source is None:
        return f"{test.path}:1:1"
    position = test.source.locate(path)
    return f"{test.path}:{position.line}:{position.column}"


def _check_schema(test: TestDocument, data: dict, report: SuiteReport) -> list[str]:
    """Raise on schema errors; return the unknown-field findings (warnings, or failures with --strict)."""
    if not data.get("apiVersion") or not data.get("kind") or "name" in data:
        raise SuiteError(f"{_where(test, ())}: the test uses a deprecated schema (no apiVersion/kind, or a "
                         "top-level name): migrate it with `kyverno fix test`")
    unknown = []
    for finding in validate_test(data):
        text = f"{_where(test, finding.path)}: {finding.message}"
        if not finding.unknown_field:
            raise SuiteError(f"{text} (cli.kyverno.io/v1alpha1 Test schema)")
        unknown.append(text)
    report.warnings.extend(unknown)
    return unknown


def _run(test: TestDocument, report: SuiteReport, strict: bool) -> None:
    data = test.data
    if not isinstance(data, dict):
        raise SuiteError(f"{_where(test, ())}: a test must be a YAML mapping")
    unknown = _check_schema(test, data, report)
    test_dir = test.directory
    policies = load_objects(test_dir, data.get("policies"), "policies")
    features: set[str] = set()
    reasons = classify.test_reasons(data)
    for policy in policies:
        found, why = classify.policy_features(policy.obj)
        features |= found
        reasons.extend(why)
    reasons.extend(classify.live_call_reasons([p.obj for p in policies], data))
    report.features = frozenset(features)
    if reasons:
        report.status, report.reason = UNSUPPORTED, "; ".join(dict.fromkeys(reasons))
        return
    _evaluate(test, data, policies, report, strict)
    if strict and unknown:
        report.finish()
        report.status = FAILED
        report.reason = f"unknown test fields (--strict): {unknown[0]}" + (
            f" and {len(unknown) - 1} more" if len(unknown) > 1 else "")


def _split_exceptions(exceptions: list) -> tuple[list[dict], list[dict]]:
    """kyverno.io exceptions (legacy policies) and policies.kyverno.io ones (CEL); anything else is an error."""
    legacy, cel = [], []
    for resource in exceptions:
        if resource.kind == "PolicyException" and resource.api_version in LEGACY_EXCEPTION_VERSIONS:
            legacy.append(resource.obj)
        elif resource.kind == "PolicyException" and resource.api_version.startswith(CEL_EXCEPTION_GROUP):
            cel.append(resource.obj)
        else:
            position = resource.locate(())
            error = LoadError(resource.file, position.line, position.column,
                              f"{resource.api_version} {resource.kind} is not a PolicyException")
            raise SuiteError(f"failed to load exceptions: {error}")
    return legacy, cel


def _is_cel_policy(resource) -> bool:
    from gpulint.engine.vap import is_binding, is_vap

    return ((resource.kind in classify.VPOL_KINDS and resource.api_version.startswith(CEL_EXCEPTION_GROUP))
            or is_vap(resource.api_version, resource.kind) or is_binding(resource.api_version, resource.kind))


def _evaluate(test: TestDocument, data: dict, policies: list, report: SuiteReport, strict: bool) -> None:
    from gpulint.engine.cel import ints_to_floats
    from gpulint.engine.kinds import KindTable
    from gpulint.engine.lookup import ResourceIndex
    from gpulint.engine.vap import is_vap

    test_dir = test.directory
    values = load_values(data, test_dir)
    user_info = load_user_info(data, test_dir)
    legacy_exceptions, cel_exceptions = _split_exceptions(load_objects(test_dir, data.get("exceptions"), "exceptions"))
    context = load_context(data, test_dir)
    cluster = load_cluster(data, test_dir)
    params = [r.obj for r in load_objects(test_dir, data.get("paramResources"), "param resources")]
    global_context = global_context_entries(data, test_dir)
    kinds = KindTable()
    for crd in cluster.crds:
        kinds.add_crd(crd)
    resources = suite_resources(load_objects(test_dir, data.get("resources"), "resources"), kinds, report.warnings)
    resources += load_payloads(data, test_dir)

    cel_policies = [p for p in policies if _is_cel_policy(p)]
    if any(is_vap(p.api_version, p.kind) for p in cel_policies) and (legacy_exceptions or cel_exceptions):
        raise SuiteError("use of exceptions with ValidatingAdmissionPolicies is not supported")
    legacy, invalid = _compile_legacy(policies, report)
    inputs = SuiteInputs(values, user_info, legacy_exceptions, params=params,
                         global_context={name: entry["data"] for name, entry in global_context.items()})
    # clusterResources make a fake cluster of every object of the test: lookups of both engines read it.
    lookup = list(context.resources) + cluster.crds
    if cluster.enabled:
        objects = [ints_to_floats(r.resource.obj) for r in resources if not r.payload]
        objects += params + cluster.resources + cluster.crds
        index = ResourceIndex(kinds, objects)
        inputs.cluster_get, inputs.cluster_list = index.get, index.list
        lookup += objects
    cel_engine = None
    if cel_policies:
        cel_engine = _build_cel_engine(cel_policies, cel_exceptions, lookup, context.images, global_context, params,
                                       api_call_mocks(data))
    evaluator = Evaluator(resources, legacy, cel_engine, inputs)
    report.rows = compare(data.get("results") or [], resources, evaluator.responses, invalid, strict=strict)


def _compile_legacy(policies: list, report: SuiteReport) -> tuple[list[LegacyEntry], dict[str, str]]:
    """Valid legacy policies, and the invalid ones (name -> reason): Kyverno skips those."""
    from gpulint.engine.legacy import LegacyPolicy, LegacyPolicyError

    entries, invalid = [], {}
    for resource in policies:
        if resource.kind not in classify.LEGACY_KINDS or resource.api_version not in LEGACY_API_VERSIONS:
            continue
        try:
            policy = LegacyPolicy.from_object(resource.obj)
        except LegacyPolicyError as error:
            name = str(resource.metadata.get("name", ""))
            position = resource.locate(())
            invalid[name] = str(error)
            report.warnings.append(f"{resource.file}:{position.line}:{position.column}: skipping invalid policy "
                                   f"{name}: {error}")
            continue
        annotations = resource.metadata.get("annotations")
        entries.append(LegacyEntry(policy, annotations if isinstance(annotations, dict) else {}))
    return entries, invalid


def _build_cel_engine(cel_policies: list, cel_exceptions: list, lookup: list, images: dict, global_context: dict,
                      params: list, http: dict) -> Any:
    from gpulint.engine import build_engine
    from gpulint.engine.runner import RunOptions

    extra = {"images": images, "http": http, "global_context": cel_global_context(global_context)}
    setup = build_engine(cel_policies, lookup, exceptions=cel_exceptions, context_extra=extra,
                         options=RunOptions(prune_nulls=False))
    if setup.errors:
        raise SuiteError(str(setup.errors[0]))
    engine = setup.engine
    engine.vap_params = params
    return engine
