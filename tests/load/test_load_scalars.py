"""Scalars, keys and tags are read as Kubernetes' Go YAML reader (sigs.k8s.io/yaml, go-yaml v2) reads them."""

from __future__ import annotations

import math

import pytest

from gpulint.load import load_text


def value(text: str):
    result = load_text(f"apiVersion: v1\nkind: ConfigMap\nv: {text}\n", "s.yaml")
    assert result.errors == []
    return result.resources[0].obj["v"]


@pytest.mark.parametrize("text, expected", [
    ("2024-01-01", "2024-01-01"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
    ("12:30", "12:30"),
    ("190:20:30", "190:20:30"),
    ("1e3", 1000.0),
    ("1.0e3", 1000.0),
    ("-2E-5", -2e-05),
    ("+1.5", 1.5),
    ("1.", 1.0),
    (".5", 0.5),
    ("1_000.5", 1000.5),
    ("1e400", "1e400"),
    ("1.2.3", "1.2.3"),
    ("0x1F", 31),
    ("-0x1F", -31),
    ("0o17", 15),
    ("017", 15),
    ("0b101", 5),
    ("08", 8.0),
    ("1_000", 1000),
    ("0", 0),
    ("-0", 0),
    ("+12", 12),
    ("9223372036854775807", 9223372036854775807),
    ("18446744073709551615", 18446744073709551615),
    ("18446744073709551616", 1.8446744073709552e19),
    ("-9223372036854775809", -9.223372036854776e18),
    ("2Gi", "2Gi"),
    ("100m", "100m"),
    ("-foo", "-foo"),
    ("--", "--"),
    ("v1.2", "v1.2"),
    ("~", None),
    ("null", None),
    ("Null", None),
    ("NULL", None),
    ("", None),
    ("nil", "nil"),
    ("None", "None"),
    ('"yes"', "yes"),
    ("'1'", "1"),
    ('"null"', "null"),
    ("|\n  1\n", "1\n"),
    ("$NUM_NODES", "$NUM_NODES"),
])
def test_scalars(text, expected):
    result = value(text)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("word", ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"])
def test_true_words(word):
    assert value(word) is True


@pytest.mark.parametrize("word", ["n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"])
def test_false_words(word):
    assert value(word) is False


@pytest.mark.parametrize("word", ["yES", "tRUE", "oN", "Nope", "yess"])
def test_other_case_mixes_are_strings(word):
    assert value(word) == word


def test_special_floats():
    assert value(".inf") == math.inf and value("-.Inf") == -math.inf and value("+.INF") == math.inf
    assert math.isnan(value(".nan")) and math.isnan(value(".NaN"))
    assert value("inf") == "inf" and value("NaN") == "NaN"


@pytest.mark.parametrize("text, expected", [
    ('!!str 123', "123"),
    ('!!int "42"', 42),
    ('!!int 3.0', 3),
    ('!!int abc', "abc"),
    ('!!float 1', 1.0),
    ('!!float "2.5"', 2.5),
    ('!!bool "yes"', True),
    ('!!null x', None),
    ('!!binary aGVsbG8=', "aGVsbG8="),
    ('!!timestamp 2024-01-01', "2024-01-01"),
    ('!Ref MyBucket', "MyBucket"),
    ('!custom [1, 2]', [1, 2]),
])
def test_tags(text, expected):
    result = value(text)
    assert result == expected and type(result) is type(expected)


def test_mapping_keys_become_strings():
    text = "1: a\n-2: b\ntrue: c\nno: d\n1.5: e\n1e6: f\n0x10: g\n~: h\n2024-01-01: i\n\"3\": j\n"
    result = load_text(f"apiVersion: v1\nkind: ConfigMap\ndata:\n" + "".join(f"  {line}\n" for line in text.splitlines()),
                       "k.yaml")
    assert result.errors == []
    assert result.resources[0].obj["data"] == {
        "1": "a", "-2": "b", "true": "c", "false": "d", "1.5": "e", "1e+06": "f", "16": "g", "null": "h",
        "2024-01-01": "i", "3": "j",
    }


def test_duplicate_keys_last_wins():
    result = load_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nmetadata: {name: b}\n", "d.yaml")
    assert result.errors == [] and result.resources[0].name == "b"


def test_merge_keys_follow_go_yaml_v2():
    text = (
        "apiVersion: v1\nkind: ConfigMap\n"
        "a: &a {x: 1, w: 1}\n"
        "b: &b {w: 2, z: 2}\n"
        "m1: {<<: *a, x: 9}\n"              # explicit key after the merge wins
        "m2: {x: 9, <<: *a}\n"              # go-yaml v2 applies merges in order
        "m3: {<<: [*a, *b]}\n"              # earlier mappings of a list win
        "m4: {\"<<\": *a}\n"                # a quoted << is an ordinary key
    )
    obj = load_text(text, "m.yaml").resources[0].obj
    assert obj["m1"] == {"x": 9, "w": 1}
    assert obj["m2"] == {"x": 1, "w": 1}
    assert obj["m3"] == {"x": 1, "w": 1, "z": 2}
    assert obj["m4"] == {"<<": {"x": 1, "w": 1}}


def test_yaml_1_1_words_as_keys_are_booleans_as_in_go():
    obj = load_text("apiVersion: v1\nkind: ConfigMap\ndata: {y: 1, n: 2, on: 3, \"y\": 4}\n", "y.yaml").resources[0].obj
    assert obj["data"] == {"true": 3, "false": 2, "y": 4}


def test_aliases_are_copies():
    obj = load_text("apiVersion: v1\nkind: ConfigMap\na: &a {x: [1]}\nb: *a\n", "a.yaml").resources[0].obj
    assert obj["a"] == obj["b"] and obj["a"] is not obj["b"]


def test_pyyaml_global_state_is_untouched():
    import yaml

    load_text("apiVersion: v1\nkind: ConfigMap\nv: 1e3\n", "x.yaml")
    assert yaml.safe_load("v: 1e3") == {"v": "1e3"}
    assert yaml.safe_load("d: 2024-01-01")["d"].__class__.__name__ == "date"


FALLBACK = r'''
import json, sys
sys.modules["yaml._yaml"] = None  # as if PyYAML had been built without libyaml
from gpulint.load import load_text, yamlio
assert not yamlio.HAS_LIBYAML
text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  x: [1e3, y, 0o17, '1', 2024-01-01, 12:30]\n"
        "---\napiVersion: v1\nkind: Pod\nspec:\n\tx: 1\n---\ndata: " + "[" * 600 + "]" * 600 + "\n")
result = load_text(text, "p.yaml")
print(json.dumps([[r.obj for r in result.resources], [str(e) for e in result.errors],
                  list(result.resources[0].locate(("spec", "x", 1)).__dict__.values())]))
'''


def test_pure_python_fallback_gives_the_same_results():
    import json
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", FALLBACK], capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    objects, errors, position = json.loads(done.stdout)
    assert objects == [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
                        "spec": {"x": [1000.0, True, 15, "1", "2024-01-01", "12:30"]}}]
    assert errors == ["p.yaml:10:1: found character '\\t' that cannot start any token",
                      "p.yaml:12:506: nesting deeper than 500 levels"]
    assert position == [5, 12]
