"""Kyverno's JMESPath dialect and custom functions."""

import pytest

from gpulint.engine.legacy.jmespath_ext import JMESPathError, NotFoundError, search

DOC = {
    "spec": {"replicaSpecs": {"Master": {"template": {"spec": {"n": 1}}},
                              "Worker": {"template": {"spec": {"n": 2}}}}},
    "items": [{"a": 1}, {"b": 2}, {"a": 3}],
    "labels": {"app": "x"},
    "nothing": None,
}


# --- dialect -------------------------------------------------------------------------------


def test_missing_key_is_an_error():
    with pytest.raises(NotFoundError, match='Unknown key "nope" in path'):
        search("labels.nope", DOC)


def test_missing_key_propagates_through_subexpressions():
    with pytest.raises(NotFoundError):
        search("labels.nope.deeper", DOC)


def test_field_of_null_or_scalar_is_null():
    assert search("nothing.x", DOC) is None
    assert search("labels.app.x", DOC) is None


@pytest.mark.parametrize("expr,expected", [
    ("labels.nope || 'dflt'", "dflt"),          # both sides of || swallow
    ("length(labels.nope || '')", 0),
    ("to_string(labels.nope)", "null"),         # function arguments swallow
    ("labels.nope == `null`", True),            # comparators swallow
    ("!(labels.nope)", True),                   # operand of ! swallows
    ("!labels.nope", None),                     # `!` binds tighter than `.`: (!labels).nope
    ("labels.nope | @", None),                  # pipe stages swallow
    ("[labels.nope, labels.app]", [None, "x"]),  # multi-select members swallow
    ("{v: labels.nope}", {"v": None}),
    ("items[*].a", [1, 3]),                     # projection drops null/missing per element
    ("items[?a].a", [1, 3]),
    ("nope[*].a", None),                        # projection of a missing left side is null
    ("nope[]", None),
    ("labels.nope && `true`", None),            # left side of && swallows
])
def test_error_swallowing(expr, expected):
    assert search(expr, DOC) == expected


def test_right_side_of_and_propagates():
    with pytest.raises(NotFoundError):
        search("labels.app && labels.nope", DOC)


def test_object_projection_followed_by_dotted_path_keeps_projecting():
    # jmespath.py 1.1.0 returns null here (bench README pitfall); the dialect must not
    assert search("spec.replicaSpecs.*.template.spec", DOC) == [{"n": 1}, {"n": 2}]
    assert search("spec.replicaSpecs.*.template.spec.n", DOC) == [1, 2]
    assert search("values(spec.replicaSpecs)[].template.spec.n", DOC) == [1, 2]


def test_ordering_comparators_only_compare_numbers():
    assert search("`1` < `2`", {}) is True
    assert search("'a' < 'b'", {}) is None


def test_to_string_uses_go_json():
    assert search("to_string(`5.0`)", {}) == "5"
    assert search("to_string(`[1.5, 2]`)", {}) == "[1.5,2]"
    assert search("to_string(`{\"b\":1,\"a\":\"<\"}`)", {}) == '{"a":"\\u003c","b":1}'


def test_syntax_error_is_jmespath_error():
    with pytest.raises(JMESPathError):
        search("a.[", {})


def test_compiled_once():
    from gpulint.engine.legacy.jmespath_ext import compile_expression

    assert compile_expression("a.b") is compile_expression("a.b")


# --- string functions ----------------------------------------------------------------------


@pytest.mark.parametrize("expr,expected", [
    ("compare('a', 'b')", -1),
    ("equal_fold('GPU', 'gpu')", True),
    ("replace('aaa', 'a', 'b', `2`)", "bba"),
    ("replace('aaa', 'a', 'b', `-1`)", "bbb"),
    ("replace_all('a-b-c', '-', '_')", "a_b_c"),
    ("to_upper('a')", "A"),
    ("to_lower('A')", "a"),
    ("trim('--a--', '-')", "a"),
    ("trim_prefix('nvidia.com/gpu', 'nvidia.com/')", "gpu"),
    ("split('a,b', ',')", ["a", "b"]),
    ("split('ab', '')", ["a", "b"]),
    ("truncate('abcdef', `3`)", "abc"),
    ("truncate('ab', `-1`)", ""),
    ("path_canonicalize('//a/../b')", "/b"),
    ("base64_encode('hello')", "aGVsbG8="),
    ("base64_decode('aGVsbG8=')", "hello"),
    ("sha256('a')", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
])
def test_string_functions(expr, expected):
    assert search(expr, {}) == expected


def test_type_errors_read_like_kyverno():
    with pytest.raises(JMESPathError, match="JMESPath function 'to_upper': argument #1 is not of type string"):
        search("to_upper(`1`)", {})
    with pytest.raises(JMESPathError):
        search("to_upper(nope)", {"x": 1})  # a missing argument is null, a type error


# --- matching ------------------------------------------------------------------------------


@pytest.mark.parametrize("expr,expected", [
    ("regex_match('^nvcr\\.io/', 'nvcr.io/nvidia/cuda')", True),
    # raw strings only unescape \' : '\\.' stays two backslashes, a literal backslash in RE2
    ("regex_match('^nvcr\\\\.io/', 'nvcr.io/nvidia/cuda')", False),
    ("regex_match('cuda', 'nvcr.io/nvidia/cuda')", True),      # unanchored search
    ("regex_match('^[0-9]+$', `123`)", True),                  # numbers become strings
    ("regex_replace_all('([a-z]+)-([0-9]+)', 'ab-12', '$2-$1')", "12-ab"),
    ("regex_replace_all('([a-z]+)-([0-9]+)', 'ab-12', '${1}x$1x')", "abx"),  # $1x is a group name
    ("regex_replace_all_literal('a', 'banana', '$1')", "b$1n$1n$1"),
    ("pattern_match('gpu-*', 'gpu-a100')", True),
    ("pattern_match('gpu-?', 'gpu-10')", False),
    ("label_match(`{\"a\":\"1\"}`, `{\"a\":\"1\",\"b\":\"2\"}`)", True),
    ("label_match(`{\"a\":\"1\"}`, `{\"b\":\"2\"}`)", False),
    ("semver_compare('1.2.3', '>=1.0.0 <2.0.0')", True),
    ("semver_compare('2.1.0', '<2.0.0 || >2.0.5')", True),
    ("semver_compare('not-a-version', '>0.0.0')", False),     # unparsable version = 0.0.0
])
def test_matching_functions(expr, expected):
    assert search(expr, {}) == expected


# --- data functions ------------------------------------------------------------------------


def test_data_functions():
    assert search("to_boolean('TRUE')", {}) is True
    with pytest.raises(JMESPathError):
        search("to_boolean('yes')", {})
    assert search("parse_json('{\"a\": [1]}').a", {}) == [1]
    assert search("parse_yaml('a: b')", {}) == {"a": "b"}
    assert search("lookup(`{\"a\": 1}`, 'b')", {}) is None
    assert search("lookup(`[1, 2]`, `5`)", {}) is None
    with pytest.raises(JMESPathError):
        search("lookup(`[1, 2]`, `0.5`)", {})
    assert search("items(`{\"b\": 2, \"a\": 1}`, 'k', 'v')", {}) == [{"k": "a", "v": 1}, {"k": "b", "v": 2}]
    assert search("object_from_lists(`[\"a\", \"b\"]`, `[1]`)", {}) == {"a": 1, "b": None}
    assert search("image_normalize('nginx')", {}) == "docker.io/nginx:latest"
    assert search("image_normalize('nvcr.io/nvidia/cuda:12.2')", {}) == "nvcr.io/nvidia/cuda:12.2"
    value = search("random('[a-z]{4}-[0-9]{2}')", {})
    assert len(value) == 7 and value[4] == "-"


def test_is_external_url_without_dns():
    assert search("is_external_url('http://10.0.0.1/')", {}) is False
    assert search("is_external_url('http://8.8.8.8/')", {}) is True
    with pytest.raises(JMESPathError, match="DNS"):
        search("is_external_url('http://example.com/')", {})


# --- arithmetic ----------------------------------------------------------------------------


@pytest.mark.parametrize("expr,expected", [
    ("add(`1`, `2`)", 3),
    ("add('1Gi', '512Mi')", "1536Mi"),
    ("add('12Ki', '13')", "12301"),            # strings are quantities, not scalars
    ("add('1h', '30s')", "1h0m30s"),           # durations when not quantities
    ("subtract('1Gi', '512Mi')", "512Mi"),
    ("multiply('100m', `3`)", "300m"),
    ("multiply(`3`, '2Gi')", "6Gi"),
    ("multiply('10s', `3`)", "30s"),
    ("divide('1Gi', '1Mi')", 1024.0),
    ("divide('3', `2`)", "1"),                 # quantity / scalar rounds down at the larger scale
    ("divide('1h', '30m0s')", 2.0),
    ("divide(`7`, `2`)", 3.5),
    ("modulo(`7`, `3`)", 1.0),
    ("modulo('7', '3')", "1"),
    ("sum(`[1, 2, 3]`)", 6.0),
    ("sum(['1Gi', '1Gi'])", "2Gi"),
    ("round(`1.2345`, `2`)", 1.23),
])
def test_arithmetic(expr, expected):
    assert search(expr, {}) == expected


def test_arithmetic_errors():
    with pytest.raises(JMESPathError, match="Types mismatch"):
        search("add(`12`, '13')", {})  # scalar + quantity
    with pytest.raises(JMESPathError, match="Types mismatch"):
        search("add('1h', '5m')", {})  # '5m' is 5 milli-units, not 5 minutes
    with pytest.raises(JMESPathError, match="Zero divisor"):
        search("divide(`1`, `0`)", {})
    with pytest.raises(JMESPathError, match="Non-integer"):
        search("modulo(`1.5`, `1`)", {})
    with pytest.raises(JMESPathError):
        search("sum(`[]`)", {})


# --- time ----------------------------------------------------------------------------------


@pytest.mark.parametrize("expr,expected", [
    ("time_add('2023-01-01T00:00:00Z', '25h')", "2023-01-02T01:00:00Z"),
    ("time_diff('2023-01-01T00:00:00Z', '2023-01-01T01:02:03Z')", "1h2m3s"),
    ("time_before('2023-01-01T00:00:00Z', '2023-01-02T00:00:00Z')", True),
    ("time_after('2023-01-01T00:00:00Z', '2023-01-02T00:00:00Z')", False),
    ("time_between('2023-01-02T00:00:00Z', '2023-01-01T00:00:00Z', '2023-01-03T00:00:00Z')", True),
    ("time_parse('2006-01-02', '2023-05-06')", "2023-05-06T00:00:00Z"),
    ("time_parse('1136214245', '1136214245')", "2006-01-02T15:04:05Z"),
    ("time_utc('2023-05-06T10:00:00+02:00')", "2023-05-06T08:00:00Z"),
    ("time_to_cron('2023-05-07T10:20:00Z')", "20 10 7 5 0"),
    ("time_truncate('2023-05-07T10:20:33Z', '1h')", "2023-05-07T10:00:00Z"),
    ("time_since('', '2023-01-01T00:00:00Z', '2023-01-01T00:00:10Z')", "10s"),
])
def test_time_functions(expr, expected):
    assert search(expr, {}) == expected
