"""Units of the report stage: YAML writing, GitHub escaping, levels, identities, baselines."""

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gpulint.engine.result import ERROR, FAIL, SKIP, WARN, PolicyInfo, RuleResult
from gpulint.engine.suppress import parse_ignore
from gpulint.load import load_text
from gpulint.report import CheckReport, baseline
from gpulint.report.common import fingerprint, identity, level
from gpulint.report.github import escape_data, escape_property
from gpulint.report.policy_report import build, render

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: ml
spec:
  containers:
    - name: a
      image: nginx
"""


def result(policy="p", severity="high", word=FAIL, text=POD.format(name="x"), field=("spec", "containers", 0, "image"),
           role=None, message="m"):
    (resource,) = load_text(text, "f.yaml").resources
    info = PolicyInfo(name=policy, kind="ValidatingPolicy", severity=severity, category="c")
    return RuleResult(info, "", word, message, resource, role=role, field_path=field)


NASTY = ["yes", "No", "null", "~", "123", "1e3", "0x1F", "2024-01-01", "a: b", "a #b", "- x", "[x]", "{x}", "'q'",
         '"dq"', "tab\there", "line\nbreak", "nel\x85x", "ls\u2028x", "\x1b[31mred", "emoji \U0001F680", "",
         " lead", "trail ", "@at", "`tick", "%pct", "!tag", "&anchor", "*alias", "|", ">", "?", "key:", "é", "...",
         "---", "=", "<<"]


@pytest.mark.parametrize("text", NASTY)
def test_policy_report_yaml_reads_back_exactly(text):
    report = CheckReport(results=[result(message=text)], started=1700000000.25)
    report.results[0].properties = {text or "empty": text, "plain": "value"}
    assert list(yaml.safe_load_all(render(report))) == build(report)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_policy_report_yaml_reads_back_any_message(text):
    report = CheckReport(results=[result(message=text)])
    assert list(yaml.safe_load_all(render(report))) == build(report)


def test_github_escaping_follows_the_toolkit():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


@pytest.mark.parametrize("severity,expected", [("critical", "error"), ("high", "error"), ("medium", "warning"),
                                               ("low", "note"), ("info", "note"), ("", "note")])
def test_levels_follow_severity(severity, expected):
    assert level(result(severity=severity)) == expected


def test_levels_of_warn_and_error_results():
    assert level(result(severity="low", word=ERROR)) == "error"
    assert level(result(severity="critical", word=WARN)) == "warning"


def test_identity_ignores_lines_but_not_field_role_or_resource():
    base = result()
    moved = result(text="# a comment\n\n" + POD.format(name="x"))
    assert base.location().line != moved.location().line
    assert fingerprint(base) == fingerprint(moved)
    assert fingerprint(base) != fingerprint(result(field=("spec",)))
    assert fingerprint(base) != fingerprint(result(role="Worker"))
    assert fingerprint(base) != fingerprint(result(text=POD.format(name="y")))
    assert fingerprint(base) != fingerprint(result(policy="q"))
    assert identity(base)["field"] == "spec.containers[0].image"


def test_baseline_round_trip_matches_by_identity_and_counts(tmp_path):
    first = [result(), result(), result(policy="q"), result(word="pass")]
    path = tmp_path / "baseline.json"
    path.write_text(baseline.render(first))
    document = json.loads(path.read_text())
    assert document["gpulint-baseline"] == 1 and len(document["findings"]) == 3
    assert "line" not in document["findings"][0]
    accepted = baseline.load(str(path))
    # The same findings after an edit above them, plus one more of the same identity.
    shifted = "# moved\n" + POD.format(name="x")
    later = [result(text=shifted), result(text=shifted), result(text=shifted), result(policy="q", text=shifted)]
    applied = baseline.apply(later, accepted)
    assert [r.result for r in applied] == [SKIP, SKIP, FAIL, SKIP]
    assert applied[0].message == "in baseline" and applied[0].suppression.result == FAIL
    # Rewriting keeps the accepted findings and adds the new one.
    assert len(json.loads(baseline.render(applied))["findings"]) == 4


@pytest.mark.parametrize("content,problem", [("{", "invalid JSON"), ('{"findings": []}', "gpulint-baseline"),
                                             ('{"gpulint-baseline": 1, "findings": [{"policy": 1}]}', "findings/0")])
def test_bad_baselines_are_one_line_errors(tmp_path, content, problem):
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(baseline.BaselineError) as caught:
        baseline.load(str(path))
    assert str(caught.value).startswith(f"{path}: not a gpulint baseline") and problem in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value,expected", [
    ("a: why", (["a"], "why", None)),
    ("a, b ,c:  because: reasons ", (["a", "b", "c"], "because: reasons", None)),
    ("a", (["a"], "", "gives no reason")),
    ("a:   ", (["a"], "", "gives no reason")),
    (": why", ([], "", "names no policy")),
    (["a"], ([], "", "must be a string")),
])
def test_parse_ignore(value, expected):
    assert parse_ignore(value) == expected
