"""Kyverno's comparison quirks, on synthetic engine responses."""

from gpulint.load import Resource, SourceDocument
from gpulint.testrunner.compare import compare, select_resources
from gpulint.testrunner.evaluate import PolicyResponse, RuleResponse, SuiteResource
from gpulint.testrunner.model import ROW_FAIL, ROW_PASS, ROW_SKIP


def resource(api_version, kind, namespace, name):
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}
    source = SourceDocument("r.yaml", 0, 1, "")
    return SuiteResource(",".join((api_version, kind, namespace, name)), Resource(obj, source), api_version, kind,
                         namespace, name)


POD = resource("v1", "Pod", "default", "web")
POD_ML = resource("v1", "Pod", "ml", "web")
DEPLOY = resource("apps/v1", "Deployment", "ml", "trainer")
CRONJOB = resource("batch/v1", "CronJob", "ml", "nightly")
ALL = [POD, POD_ML, DEPLOY, CRONJOB]


def responses_from(table):
    def responses(operation=None):
        return table.get(operation, table.get(None))
    return responses


def run(result, table, resources=ALL, invalid=None, strict=False):
    return compare([result], resources, responses_from(table), invalid or {}, strict)


def legacy(*rules):
    return PolicyResponse("p", "ClusterPolicy", [RuleResponse(name, status, "") for name, status in rules])


def test_pass_and_want_got():
    table = {None: {POD.key: [legacy(("r", "fail"))]}}
    ok = run({"policy": "p", "rule": "r", "resources": ["web"], "result": "fail", "kind": "Pod"}, table, [POD])
    assert [(r.status, r.reason) for r in ok] == [(ROW_PASS, "Ok")]
    bad = run({"policy": "p", "rule": "r", "resources": ["web"], "result": "pass", "kind": "Pod"}, table, [POD])
    assert [(r.status, r.reason, r.actual) for r in bad] == [(ROW_FAIL, "Want pass, got fail", "fail")]


def test_policy_without_matching_rule_is_excluded_and_passes_whatever_was_expected():
    table = {None: {POD.key: [legacy()]}}
    rows = run({"policy": "p", "rule": "r", "resources": ["web"], "result": "fail", "kind": "Pod"}, table, [POD])
    assert [(r.status, r.reason, r.actual) for r in rows] == [(ROW_PASS, "Excluded", "excluded")]


def test_wrong_rule_name_is_excluded_too():
    table = {None: {POD.key: [legacy(("other", "fail"))]}}
    rows = run({"policy": "p", "rule": "r", "resources": ["web"], "result": "fail", "kind": "Pod"}, table, [POD])
    assert rows[0].reason == "Excluded"


def test_no_response_of_the_policy_is_not_found():
    table = {None: {POD.key: [legacy(("r", "pass"))]}}
    rows = run({"policy": "unknown", "resources": ["web"], "result": "pass", "kind": "Pod"}, table, [POD])
    assert [(r.status, r.reason, r.actual) for r in rows] == [(ROW_FAIL, "Not found", None)]


def test_names_matching_nothing_check_every_resource():
    table = {None: {r.key: [legacy(("r", "pass"))] for r in ALL}}
    rows = run({"policy": "p", "rule": "r", "resources": ["typo"], "result": "pass", "kind": "Pod"}, table)
    assert [r.resource for r in rows] == ["web", "web", "trainer", "nightly"]
    assert all(r.status == ROW_PASS for r in rows)


def test_kind_is_ignored_and_a_bare_name_matches_every_namespace():
    table = {None: {r.key: [legacy(("r", "pass"))] for r in ALL}}
    rows = run({"policy": "p", "rule": "r", "resources": ["web"], "result": "pass", "kind": "Deployment"}, table)
    assert [(r.kind, r.namespace) for r in rows] == [("Pod", "default"), ("Pod", "ml")]


def test_namespace_slash_name():
    table = {None: {r.key: [legacy(("r", "pass"))] for r in ALL}}
    rows = run({"policy": "p", "rule": "r", "resources": ["ml/web"], "result": "pass", "kind": "Pod"}, table)
    assert [r.display for r in rows] == ["v1/Pod/ml/web"]


def test_resource_specs_only_count_next_to_a_resources_list():
    spec = {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "ml", "name": "trainer"}
    selected, _ = select_resources({"resources": [], "resourceSpecs": [spec]}, ALL)
    assert selected == [DEPLOY]
    selected, _ = select_resources({"resourceSpecs": [spec]}, ALL)
    assert selected == ALL


def test_rule_matches_autogen_variants():
    table = {None: {DEPLOY.key: [legacy(("autogen-r", "fail"))], CRONJOB.key: [legacy(("autogen-cronjob-r", "fail"))]}}
    rows = run({"policy": "p", "rule": "r", "resources": ["trainer", "nightly"], "result": "fail", "kind": "Pod"},
               table)
    assert [(r.status, r.reason) for r in rows] == [(ROW_PASS, "Ok"), (ROW_PASS, "Ok")]


def test_rule_is_ignored_for_ruleless_kinds():
    vpol = PolicyResponse("v", "ValidatingPolicy", [RuleResponse("", "fail", "denied")])
    table = {None: {POD.key: [vpol]}}
    rows = run({"policy": "v", "rule": "whatever", "resources": ["web"], "result": "fail", "kind": "Pod"}, table, [POD])
    assert [(r.status, r.reason) for r in rows] == [(ROW_PASS, "Ok")]


def test_namespaced_policy_reference_compares_the_name_only():
    response = PolicyResponse("v", "NamespacedValidatingPolicy", [RuleResponse("", "pass", "")])
    rows = run({"policy": "team/v", "resources": ["web"], "result": "pass", "kind": "Pod"},
               {None: {POD.key: [response]}}, [POD])
    assert rows[0].status == ROW_PASS and rows[0].policy == "team/v"


def test_invalid_policy_rows_are_skipped():
    rows = run({"policy": "p", "rule": "r", "resources": ["web"], "result": "fail", "kind": "Pod"}, {None: {}},
               invalid={"p": "bad rule"})
    assert [(r.status, r.reason) for r in rows] == [(ROW_SKIP, "Invalid Policy")]


def test_result_level_operation_uses_its_own_evaluation():
    table = {None: {POD.key: [legacy()]}, "DELETE": {POD.key: [legacy(("r", "fail"))]}}
    rows = run({"policy": "p", "rule": "r", "resources": ["web"], "result": "fail", "kind": "Pod",
                "operation": "DELETE"}, table, [POD])
    assert rows[0].reason == "Ok"


def test_strict_fails_missing_names_and_policies_that_did_not_apply():
    table = {None: {POD.key: [legacy()]}}
    result = {"policy": "p", "rule": "r", "resources": ["web", "ghost"], "result": "fail", "kind": "Pod"}
    relaxed = run(result, table, [POD])
    assert all(r.status == ROW_PASS for r in relaxed)
    strict = run(result, table, [POD], strict=True)
    assert [r.status for r in strict] == [ROW_FAIL, ROW_FAIL]
    assert "ghost" in strict[1].reason
    skip = run(dict(result, result="skip", resources=["web"]), table, [POD], strict=True)
    assert skip[0].status == ROW_PASS
