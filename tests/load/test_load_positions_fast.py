"""The line scanner (gpulint.load.blockpos) answers exactly as libyaml's events do, and is the one used.

Every comparison goes over every path of a document: each key and list index, plus paths that go on past
a scalar, past the end of a list, into a missing key, with an int into a mapping and a str into a list.
"""

from __future__ import annotations

import collections
import pathlib
import random
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpulint.load import blockpos, positions
from gpulint.load.documents import parse_documents
from gpulint.load.model import Position

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
GENERATOR = SHARED / "bench" / "gen_manifests.py"


def all_paths(entry, prefix=(), out=None, depth=0):
    """Every path to an entry of an event tree, and paths that do not exist below each."""
    out = [] if out is None else out
    out.append(prefix)
    children = entry[2]
    if depth > 40:  # an alias can make the tree recursive
        return out
    if isinstance(children, dict):
        for key, child in children.items():
            all_paths(child, prefix + (key,), out, depth + 1)
        out.extend([prefix + ("no such key",), prefix + (0,), prefix + ("name", "deeper")])
    elif isinstance(children, list):
        for index, child in enumerate(children):
            all_paths(child, prefix + (index,), out, depth + 1)
        out.extend([prefix + (len(children),), prefix + (-1,), prefix + ("0",), prefix + (0, "x", 1)])
    else:
        out.extend([prefix + ("below a scalar",), prefix + (0,)])
    return out


def compare(text: str, name: str = "t.yaml") -> collections.Counter:
    """Asserts, for every path of every document of `text`, that the locator gives the events' answer and
    that the lines, where they answer, give it too; counts how the documents and paths were answered."""
    counts: collections.Counter = collections.Counter()
    documents, _ = parse_documents(text, name)
    for doc, _ in documents:
        events = positions._yaml_tree(doc.text, doc.part)
        lines = None if doc.part else blockpos.line_tree(doc.text)
        locate = positions.build_locator(doc)
        counts["documents"] += 1
        counts["lines" if lines is not None else "events"] += 1
        for path in all_paths(events):
            expected = positions._walk(events, path)
            assert locate(path) == Position(expected[0] + doc.line, expected[1] + 1), (name, doc.line, path)
            if lines is None:
                continue
            try:
                entry = blockpos.walk(lines, path)
            except blockpos.Unsure:
                counts["unsure paths"] += 1
                continue
            if entry is None:
                counts["flow paths"] += 1
                continue
            counts["paths"] += 1
            assert (entry[0], entry[1]) == expected[:2], (name, doc.line, path, doc.text)
    return counts


def compare_files(files) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for path in files:
        counts += compare(path.read_text(encoding="utf-8", errors="replace"), str(path))
    return counts


def yaml_files(directory: pathlib.Path) -> list:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


# -- real and generated documents ---------------------------------------------------------------------

@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} is not present (the shared/ folder)")
def test_lines_match_events_on_the_corpus():
    counts = compare_files(yaml_files(CORPUS))
    assert counts["documents"] > 200
    # Nearly all documents take the fast path (218 of 221 when written): the others have a flow
    # collection or a quoted scalar over lines, or a quote that looks like one.
    assert counts["lines"] >= 0.95 * counts["documents"], counts
    assert counts["paths"] > 20_000


def test_lines_match_events_on_examples_and_fixtures():
    counts = compare_files(yaml_files(ROOT / "examples") + yaml_files(ROOT / "fixtures"))
    assert counts["documents"] > 300
    assert counts["lines"] >= 0.95 * counts["documents"], counts


@pytest.mark.skipif(not GENERATOR.is_file(), reason=f"{GENERATOR} is not present (the shared/ folder)")
@pytest.mark.parametrize("helm", [False, True])
def test_lines_match_events_on_generated_manifests(tmp_path, helm):
    subprocess.run([sys.executable, str(GENERATOR), "--resources", "24", "--out", str(tmp_path), "--quiet",
                    "--seed", "7"] + (["--helm"] if helm else []), check=True)
    counts = compare_files(yaml_files(tmp_path))
    assert counts["documents"] >= 24
    assert counts["events"] == 0, counts  # every generated document takes the fast path
    assert counts["paths"] > 20 * counts["flow paths"] > 0  # flow collections (command: [...]) are left to the events


@pytest.mark.skipif(not GENERATOR.is_file(), reason=f"{GENERATOR} is not present (the shared/ folder)")
def test_the_locator_uses_the_lines_for_findings_paths(tmp_path):
    subprocess.run([sys.executable, str(GENERATOR), "--resources", "16", "--out", str(tmp_path), "--quiet"],
                   check=True)
    documents = [doc for path in yaml_files(tmp_path) for doc, _ in parse_documents(path.read_text(), str(path))[0]]
    before = collections.Counter(positions.used)
    for doc in documents:
        locate = positions.build_locator(doc)
        for path in [("metadata", "labels"), ("spec",), ("spec", "template", "spec", "containers", 0, "image"),
                     ("spec", "template", "spec", "containers", 0, "resources", "limits", "nvidia.com/gpu"),
                     ("spec", "template", "spec", "containers", 0, "securityContext", "privileged")]:
            locate(path)
    used = collections.Counter(positions.used)
    used.subtract(before)
    assert used["lines"] == len(documents) and used["events"] == 0 and used["events after lines"] == 0, used


# -- what the lines leave to the events ---------------------------------------------------------------

def lines_answer(text: str, path: tuple):
    """The scanner's entry for `path`: an entry, None (a flow collection), "unsure", or "no lines"."""
    lines = blockpos.line_tree(text)
    if lines is None:
        return "no lines"
    try:
        return blockpos.walk(lines, path)
    except blockpos.Unsure:
        return "unsure"


FALLBACKS = [  # (text, a path, what the scanner does with it)
    ("{a: 1, b: {c: 2}}\n", ("b", "c"), "no lines"),  # a flow document
    ("a: [1,\n  2]\nb: 1\n", ("b",), "no lines"),  # a flow collection over lines
    ("a: {x: 1,\ny: 2}\nb: 1\n", ("b",), "no lines"),
    ('a: "one\nb: two"\nc: 1\n', ("c",), "no lines"),  # a quoted scalar over lines
    ("a: 'one\nb: two'\nc: 1\n", ("c",), "no lines"),
    ("%YAML 1.1\n---\na: 1\n", ("a",), "no lines"),
    ("--- !!map\na: 1\n", ("a",), "no lines"),
    ("&anchor a: 1\n", ("a",), "no lines"),
    ("a: &x\n  b: 1\nc: *x\n", ("c", "b"), "unsure"),  # anchors and aliases
    ("a: &x\n  b: 1\nc: *x\n", ("a", "b"), "unsure"),
    ("base: &b\n  x: 1\nm:\n  <<: *b\n  y: 2\n", ("m", "x"), "unsure"),  # a merge key
    ("a: !!map\n  b: 1\n", ("a", "b"), "unsure"),  # a tag
    ("? a\n: 1\nb: 2\n", ("b",), "no lines"),  # an explicit key
    ("a:\n  ? x\n  : 1\n  b: 2\n", ("a", "b"), "unsure"),
    ('"a\\tb": 1\nc: 2\n', ("c",), "unsure"),  # an escape in a quoted key
    ("a:\n  b: [1, {c: 2}]\n", ("a", "b", 1, "c"), None),  # into a flow collection
    ("a:\n  - {c: 2}\n", ("a", 0, "c"), None),
    ("a:\tb\nc: 1\n", ("c",), "unsure"),  # a tab after a key
    ("l:\n- - a\n  - &x b\n", ("l", 0, 1), "unsure"),
    # a line that looks like a block scalar header does not hide a real quoted scalar or flow over lines
    ("s: |\n  text\na: \"x\n  y\"\nb: 1\n", ("b",), "no lines"),
    ("a: # note |\n  b: \"multi\n  line\"\n  c: 1\n", ("a", "c"), "no lines"),
    ('a: "x\nk: |\n    y"\nb:\n    c: "real\nopen"\nd: 1\n', ("d",), "no lines"),
    ("a: |\n  ok\nb: [1,\n  2]\nc: 1\n", ("c",), "no lines"),
]


@pytest.mark.parametrize("text,path,answer", FALLBACKS)
def test_what_the_lines_cannot_tell_goes_to_the_events(text, path, answer):
    assert lines_answer(text, path) == answer
    counts = compare(text)
    assert counts["documents"] == 1


def test_the_locator_reads_the_events_once_when_the_lines_give_up():
    text = "a:\n  b: [1, {c: 2}]\n  d: 3\n"
    documents, _ = parse_documents(text, "f.yaml")
    before = positions.used["events after lines"]
    locate = positions.build_locator(documents[0][0])
    assert locate(("a", "d")) == Position(3, 3)
    assert positions.used["events after lines"] == before
    assert locate(("a", "b", 1, "c")) == Position(2, 11)
    assert locate(("a", "b", 0)) == Position(2, 7)
    assert positions.used["events after lines"] == before + 1


ANSWERED = [  # block YAML that the lines answer, with the position they must give (0-based line, column)
    ("a:\n- x\n- y\nb: 1\n", ("a", 1), (2, 2)),  # a list at its key's indentation
    ("a:\n  - x\n  -   y\nb: 1\n", ("a", 1), (2, 6)),
    ("- - a\n  - b\n- c\n", (0, 1), (1, 4)),  # lists in lists on one line
    ("-\n  a: 1\n-\n- x\n", (0, "a"), (1, 2)),  # an item on the next line
    ("-\n  a: 1\n-\n- x\n", (1,), (2, 1)),  # a null item: right after its '-'
    ("- # c\n  a: 1\n", (0,), (1, 2)),
    ("a: 1\na: 2\n", ("a",), (1, 0)),  # duplicate keys: the last one
    ("on: 1\nyes: 2\n0x10: 3\n~: 4\n1.50: 5\n", ("true",), (1, 0)),  # keys as the Go reader reads them
    ("on: 1\nyes: 2\n0x10: 3\n~: 4\n1.50: 5\n", ("16",), (2, 0)),
    ("on: 1\nyes: 2\n0x10: 3\n~: 4\n1.50: 5\n", ("null",), (3, 0)),
    ("on: 1\nyes: 2\n0x10: 3\n~: 4\n1.50: 5\n", ("1.5",), (4, 0)),
    ("'it''s': 1\n\"q\": 2\nkey : 3\n", ("it's",), (0, 0)),  # quoted keys, a space before ':'
    ("'it''s': 1\n\"q\": 2\nkey : 3\n", ("key",), (2, 0)),
    ("a: |\n  b: 1\n  - c\n# x\nd:\n  e: >-\n    f: 2\n\n   # g\n  h: 3\n", ("d", "h"), (9, 2)),  # block scalars
    ("a: plain\n  continued here\nb: 1\n", ("b",), (2, 0)),  # a plain scalar over lines
    ("a:\n   # a comment\n\n  b: 1\n# another\n  c: 2\n", ("a", "c"), (5, 2)),
    ("a: {}\nb: []\n", ("a", "x"), (0, 0)),  # empty flow collections need no reading
    ("k:\n  é: 1\n  ü: [x]\n", ("k", "ü"), (2, 2)),  # columns count characters
    ("a:\r\n  b: 1\r\n", ("a", "b"), (1, 2)),  # CRLF
    ("a:\n  b:\n  c: 1\n", ("a", "b", "x"), (1, 2)),  # a null value
    ("a: 1\nb:\n", ("b", 0), (1, 0)),
    ("x: y\n\"a b\": 1\n", ("a b",), (1, 0)),
    ("a:\n  - |\n   text\n  - y\n", ("a", 1), (3, 4)),
    ("a: -1\nb: --x\n", ("b",), (1, 0)),
    # quotes and brackets left open inside block scalars (scripts, JSON) are content
    ('s: |\n  echo "a\n  [\n    {"k": 1}\n  ]\nb: 1\n', ("b",), (5, 0)),
    ('- k: >-\n   "x\n   [1\n  j: 2\n- y\n', (0, "j"), (3, 2)),
    ('- |\n  "x\n  {\n- y\n', (1,), (3, 2)),
    ('a: x |\n  "y\nb: 1\n', ("b",), (2, 0)),  # a plain scalar that ends like a header: "y goes on with it
    ('a:\n  - "q": \' "\'\n    r: 1\n', ("a", 0, "r"), (2, 4)),  # a quote after a closed one is no start
]


@pytest.mark.parametrize("text,path,position", ANSWERED)
def test_block_yaml_is_answered_by_the_lines(text, path, position):
    entry = lines_answer(text, path)
    assert isinstance(entry, list), entry
    assert (entry[0], entry[1]) == position
    counts = compare(text)
    assert counts["lines"] == 1 and counts["unsure paths"] == 0, counts


# -- random data, dumped in several block styles -------------------------------------------------------

KEY_WORDS = ["name", "image", "spec", "on", "yes", "No", "true", "1", "0x1F", "1.5", "~", "null", "", "a b",
             "a:b", "-x", "x-", "#x", "x #y", "a: b", "'q'", '"q"', "é", "日本", "<<", "? x", "!x", "&x", "*x",
             "[x]", "{x}", "x,y", "%x", "@x", "`x", " lead", "trail ", "tab\tin", "nl\nin", "---", "..."]
VALUE_WORDS = ["", "- a", ": x", "# c", "&a", "*a", "{}", "[]", "'", '"', " lead", "a\nb", "a\n\nb\n", "x " * 30,
               "line one\n  indented\nback\n", "ends with space ", "key: value", "a #b", "|", ">", "\ttab",
               'say "hi\n  there" [\n', '[\n  {"a": 1,\n}\n', "it's\n'quoted\n", "x |\n  \"y\n"]

names = st.from_regex(r"[a-z][a-zA-Z0-9./-]{0,12}", fullmatch=True)
keys = st.one_of(names, names, names, st.sampled_from(KEY_WORDS), st.text(max_size=6), st.integers(-3, 300))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                    st.sampled_from(VALUE_WORDS), names)
data = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(keys, inner, max_size=5)), max_leaves=30)
# What Kubernetes manifests hold: names, numbers, words, text over lines (written as block scalars)
plain_scalars = st.one_of(st.none(), st.booleans(), st.integers(), names, st.sampled_from(
    ["a few words", "x " * 30 + "end", "line one\n  indented\nback\n", "a\n\nb\n", "on", "1.5", "~"]))
plain_data = st.recursive(plain_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(names, st.sampled_from(["on", "1", "a b"])), inner,
                                                 max_size=5)), max_leaves=40)

class IndentedListsDumper(yaml.SafeDumper):
    """Lists indented under their key (PyYAML writes them at the key's indentation by default)."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def literal_strings(style):
    class Dumper(yaml.SafeDumper):
        pass

    def represent(dumper, value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style if "\n" in value else None)

    Dumper.add_representer(str, represent)
    return Dumper


def dump(value, options) -> str:
    dumper, flow, indent, width, unicode, sort = options
    return yaml.dump(value, Dumper=dumper, default_flow_style=flow, indent=indent, width=width,
                     allow_unicode=unicode, sort_keys=sort)


dump_options = st.tuples(
    st.sampled_from([yaml.SafeDumper, IndentedListsDumper, literal_strings("|"), literal_strings(">")]),
    st.sampled_from([False, False, False, None]), st.integers(2, 5), st.sampled_from([20, 40, 80, 200]),
    st.booleans(), st.booleans())

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data, dump_options)
def test_lines_match_events_on_random_block_yaml(value, options):
    compare(dump(value, options))


@SETTINGS
@given(st.dictionaries(keys, data, min_size=1, max_size=6), dump_options,
       st.lists(st.tuples(st.integers(0, 200), st.integers(0, 12), st.sampled_from(["# c", "#", "", "   "])),
                max_size=6), st.booleans(), st.booleans())
def test_lines_match_events_with_comments_blank_lines_and_crlf(value, options, inserts, end_comments, crlf):
    lines = dump(value, options).split("\n")
    for at, indent, text in inserts:
        lines.insert(at % (len(lines) + 1), " " * indent + text)
    if end_comments:
        lines = [line + "  # end" if line.endswith(":") else line for line in lines]
    text = "\n".join(lines)
    compare(text.replace("\n", "\r\n") if crlf else text)


@settings(SETTINGS, max_examples=120)
@given(st.dictionaries(names, plain_data, min_size=1, max_size=6),
       st.sampled_from([yaml.SafeDumper, IndentedListsDumper]), st.sampled_from(["|", ">"]),
       st.integers(2, 5), st.sampled_from([30, 80]))
def test_the_lines_answer_every_path_of_plain_block_yaml(value, dumper, style, indent, width):
    class Dumper(dumper):
        pass

    Dumper.add_representer(str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v,
                                                                style=style if "\n" in v else None))
    counts = compare(yaml.dump(value, Dumper=Dumper, default_flow_style=False, indent=indent, width=width))
    assert counts["lines"] == 1 and counts["unsure paths"] == counts["flow paths"] == 0, counts


def test_the_scanner_is_used_on_plain_block_dumps():
    value = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
             "spec": {"containers": [{"name": "c", "image": "i", "args": ["a", "b"],
                                      "env": [{"name": "X", "value": "1"}], "resources": {"limits": {"cpu": 1}}}]}}
    for dumper in (yaml.SafeDumper, IndentedListsDumper):
        for indent in (2, 3, 4):
            counts = compare(yaml.dump(value, Dumper=dumper, default_flow_style=False, indent=indent))
            assert counts["lines"] == 1 and counts["unsure paths"] == counts["flow paths"] == 0, counts


SOUP = ["k: |", "k: >-", "- |", "- k: |", "k:", "- k:", "j:", "k: v", "- v", '"x', "'x", "[", "{", "]", "}",
        'k: "x', "k: [1,", 'x"', "# c", "", "k: x |", "k: a # b |", '- "a": 1', "? k", ": v", "&a k: 1", "k: *a",
        "<<: *a", "- - a", "-", "x y", "j: 'a", "b'", "k: {a: 1}", "- [a]", "k: |2", "  ", "m: >", 'k: "a" # |',
        "k: !t", "k: &b", "n: 1"]


def test_lines_match_events_on_line_soups():
    """Lines of YAML fragments at random indentations: most soups are not YAML; those that are, are odd."""
    generator = random.Random(5)
    counts: collections.Counter = collections.Counter()
    for _ in range(30_000):
        lines = [" " * generator.choice([0, 0, 1, 2, 2, 3, 4, 4, 5, 6]) + generator.choice(SOUP)
                 for _ in range(generator.randint(2, 10))]
        counts += compare("\n".join(lines) + "\n")
    assert counts["documents"] > 1000 and counts["paths"] > 5000, counts


def test_json_documents_keep_their_scanner():
    documents, _ = parse_documents('{"a": {"b": [1, 2]}}', "x.json", is_json=True)
    doc = documents[0][0]
    before = positions.used["json"]
    assert positions.build_locator(doc)(("a", "b", 1)) == Position(1, 17)
    assert positions.used["json"] == before + 1
