"""Go formatting, durations, quantities and wildcards."""

import pytest

from gpulint.engine.legacy.goutil import (
    format_duration, format_float32_f, format_float_E, format_float_v, go_json, parse_duration,
    parse_quantity, wildcard_match)


@pytest.mark.parametrize("f,text", [(1e6, "1e+06"), (123456.0, "123456"), (1.5, "1.5"),
                                    (0.0001, "0.0001"), (0.00001, "1e-05")])
def test_percent_v(f, text):
    assert format_float_v(f) == text


@pytest.mark.parametrize("f,text", [(1.5, "1.5E+00"), (8080.0, "8.08E+03"), (1.0, "1E+00")])
def test_percent_E(f, text):
    assert format_float_E(f) == text


def test_float32_formatting():
    assert format_float32_f(0.1) == "0.1"
    assert format_float32_f(3.0) == "3"
    assert format_float32_f(16777217.0) == "16777216"  # float32 precision


def test_go_json():
    assert go_json({"b": [1.0, 2.5, "<x>"], "a": None}) == '{"a":null,"b":[1,2.5,"\\u003cx\\u003e"]}'
    assert go_json(1e21) == "1e+21"


@pytest.mark.parametrize("text,ns", [("1h30m", 5_400_000_000_000), ("300ms", 300_000_000),
                                     ("0", 0), ("1.5h", 5_400_000_000_000), ("-2s", -2_000_000_000),
                                     ("5", None), ("", None), ("1x", None)])
def test_parse_duration(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("ns,text", [(0, "0s"), (25 * 10**9, "25s"), (5_400_000_000_000, "1h30m0s"),
                                     (1500, "1.5\u00b5s"), (1_500_000, "1.5ms"), (-2 * 10**9, "-2s")])
def test_format_duration(ns, text):
    assert format_duration(ns) == text


@pytest.mark.parametrize("text,canonical", [("1Gi", "1Gi"), ("1024Mi", "1Gi"), ("1.5", "1500m"),
                                            ("2k", "2k"), ("1e3", "1e3"), ("0.1m", "100u"),
                                            ("100m", "100m"), ("-5", "-5")])
def test_quantities(text, canonical):
    assert str(parse_quantity(text)) == canonical


def test_quantity_compare_and_invalid():
    assert parse_quantity("1Gi").cmp(parse_quantity("1024Mi")) == 0
    assert parse_quantity("500m").cmp(parse_quantity("1")) == -1
    for bad in ("", "abc", "1.2.3", "1Gb", "5min"):
        assert parse_quantity(bad) is None


def test_wildcards():
    assert wildcard_match("gpu-*", "gpu-a100")
    assert wildcard_match("*", "")
    assert not wildcard_match("?*", "")
    assert wildcard_match("a?c", "abc")
    assert not wildcard_match("a.c", "abc")  # no other metacharacters
    assert not wildcard_match("GPU", "gpu")  # case-sensitive


from hypothesis import given, strategies as st  # noqa: E402


@given(st.integers(min_value=-(2**62), max_value=2**62))
def test_duration_round_trip(ns):
    assert parse_duration(format_duration(ns)) == ns


@given(st.integers(min_value=-10**15, max_value=10**15), st.sampled_from(["", "m", "k", "Ki", "Mi", "Gi"]))
def test_quantity_canonical_form_round_trips(n, suffix):
    q = parse_quantity(f"{n}{suffix}")
    assert parse_quantity(str(q)).cmp(q) == 0


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_go_json_floats_parse_back(f):
    import json
    assert json.loads(go_json(f)) == f
