"""Bad input never raises: one one-line LoadError with file, line and column, and the run goes on."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys

import pytest

from gpulint.load import MAX_FILE_BYTES, LoadError, Position, load_paths, load_text
from gpulint.load import discover

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"


def pods(result):
    return [r.name for r in result.resources]


def test_syntax_error_costs_only_its_document():
    text = POD.format(name="a") + "---\n" + "apiVersion: v1\nkind: Pod\nspec:\n\tcontainers: []\n" + "---\n" + POD.format(name="c")
    result = load_text(text, "bad.yaml")
    assert pods(result) == ["a", "c"]
    assert result.errors == [LoadError("bad.yaml", 9, 1, "found character '\\t' that cannot start any token")]
    assert str(result.errors[0]) == "bad.yaml:9:1: found character '\\t' that cannot start any token"


def test_syntax_error_with_context():
    result = load_text("apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: b, c: [1, 2}\n", "f.yaml")
    assert result.errors == [LoadError("f.yaml", 4, 26, "did not find expected ',' or ']' "
                                                        "(while parsing a flow sequence at line 4, column 21)")]


def test_unterminated_quote_stops_at_the_next_document():
    text = 'apiVersion: v1\nkind: Pod\nmetadata: {name: "a}\n---\n' + POD.format(name="b")
    result = load_text(text, "q.yaml")
    assert pods(result) == ["b"]
    assert [(e.line, e.column) for e in result.errors] == [(4, 1)]
    assert result.errors[0].message.startswith("found unexpected end of stream (while scanning a quoted scalar at line 3")


def test_control_character():
    result = load_text("apiVersion: v1\nkind: Pod\nmetadata: {name: \"a\x07\"}\n", "c.yaml")
    assert result.errors == [LoadError("c.yaml", 3, 20, "control characters are not allowed (character #x0007)")]


def test_mapping_as_key():
    result = load_text("apiVersion: v1\nkind: Secret\nstringData:\n  token: {{HF_TOKEN}}\n", "s.yaml")
    assert result.errors == [LoadError("s.yaml", 4, 11, "a mapping key is a mapping, not a string "
                                                        "(an unquoted {{...}} placeholder?)")]


BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def test_alias_bomb():
    text = POD.format(name="a") + "---\napiVersion: v1\nkind: ConfigMap\n" + BOMB + "---\n" + POD.format(name="c")
    result = load_text(text, "bomb.yaml")
    assert pods(result) == ["a", "c"]
    assert result.errors == [LoadError("bomb.yaml", 13, 4, "YAML aliases expand to more than 100,000 nodes (alias bomb?)")]


def test_moderate_aliasing_is_fine():
    result = load_text("apiVersion: v1\nkind: ConfigMap\n" + "\n".join(BOMB.splitlines()[:4]) + "\n", "ok.yaml")
    assert result.errors == []
    assert len(result.resources[0].obj["d"]) == 9


def test_large_document_without_aliases_is_not_a_bomb():
    text = "apiVersion: v1\nkind: ConfigMap\ndata: [" + "1, " * 150_000 + '"a && b *c"]\n'
    result = load_text(text, "big.yaml")
    assert result.errors == [] and len(result.resources[0].obj["data"]) == 150_001


def test_recursive_alias():
    result = load_text("apiVersion: v1\nkind: ConfigMap\ndata: &a [1, *a]\n", "r.yaml")
    assert result.errors == [LoadError("r.yaml", 3, 7, "a YAML alias refers to a node that contains it (recursive alias)")]


def test_undefined_alias():
    result = load_text("apiVersion: v1\nkind: ConfigMap\ndata: *nope\n", "u.yaml")
    assert result.errors == [LoadError("u.yaml", 3, 7, "found undefined alias 'nope'")]


@pytest.mark.parametrize("levels, column", [(500, 506), (999, 506), (10_000, 1006)])
def test_deep_flow_nesting(levels, column):
    # the document's mapping is level 1; beyond 1000 levels libyaml stops first, further on the line
    text = POD.format(name="a") + "---\napiVersion: v1\nkind: ConfigMap\ndata: " + "[" * levels + "]" * levels + "\n"
    result = load_text(text, "deep.yaml")
    assert pods(result) == ["a"]
    assert result.errors == [LoadError("deep.yaml", 8, column, "nesting deeper than 500 levels")]


def test_nesting_of_500_levels_is_accepted():
    result = load_text("apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 499 + "]" * 499 + "\n", "ok.yaml")
    assert result.errors == []
    json_result = load_text('{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + "[" * 499 + "]" * 499 + "}", "ok.json")
    assert json_result.errors == []


def test_deep_indentation():
    lines = "".join(" " * i + "a:\n" for i in range(10_000))
    result = load_text("apiVersion: v1\nkind: ConfigMap\n" + lines, "indent.yaml")
    assert result.errors == [LoadError("indent.yaml", 503, 501, "nesting deeper than 500 levels")]


def test_deep_compact_sequences():
    result = load_text("- " * 10_000 + "a\n", "compact.yaml")
    assert result.errors == [LoadError("compact.yaml", 1, 1001, "nesting deeper than 500 levels")]


def test_deep_nesting_through_aliases():
    inner = "[" * 300 + "]" * 300
    text = f"apiVersion: v1\nkind: ConfigMap\na: &a {inner}\nb: {'[' * 250}*a{']' * 250}\n"
    result = load_text(text, "alias-deep.yaml")
    assert [(e.line, e.message) for e in result.errors] == [(4, "nesting deeper than 500 levels")]


@pytest.mark.parametrize("levels", [501, 600, 10_000])  # json.loads copes with 600, not with 10,000
def test_deep_json(tmp_path, levels):
    path = tmp_path / "deep.json"
    path.write_text('{"a":' * levels + "1" + "}" * levels)
    result = load_paths([str(path)])
    assert result.errors == [LoadError(str(path), 1, 2501, "nesting deeper than 500 levels")]


def test_deep_input_does_not_crash_the_interpreter(tmp_path):
    (tmp_path / "flow.yaml").write_text("[" * 200_000 + "]" * 200_000)
    (tmp_path / "block.yaml").write_text("".join(" " * i + "a:\n" for i in range(20_000)))
    (tmp_path / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    code = f"from gpulint.load import load_paths; print(len(load_paths([{str(tmp_path)!r}]).errors))"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert (done.returncode, done.stdout.strip()) == (0, "3"), done.stderr


def test_huge_file_is_refused_without_reading(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no 100 MB written
    (tmp_path / "ok.yaml").write_text(POD.format(name="a"))
    result = load_paths([str(tmp_path)])
    assert result.errors == [LoadError(str(path), 1, 1, "file is larger than 100 MB")]
    assert pods(result) == ["a"]


def test_huge_stdin(monkeypatch):
    monkeypatch.setattr(discover, "MAX_FILE_BYTES", 1024 * 1024)
    result = load_paths(["-"], stdin=_Stdin(b"#" * (1024 * 1024 + 1)))
    assert result.errors == [LoadError("<stdin>", 1, 1, "file is larger than 1 MB")]


def test_binary_file(tmp_path):
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert load_paths([str(path)]).errors == [LoadError(str(path), 1, 1, "binary file, not YAML or JSON")]


def test_invalid_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(POD.format(name="caf\xe9").encode("latin-1"))
    result = load_paths([str(path)])
    assert result.errors == [LoadError(str(path), 4, 12, "not valid UTF-8 text (byte 0xe9 at offset 46)")]


def test_invalid_utf8_after_a_bom_and_multibyte_text(tmp_path):
    path = tmp_path / "mixed.yaml"
    path.write_bytes(codecs.BOM_UTF8 + "a: é\nb: é".encode() + b"\xff\n")
    assert load_paths([str(path)]).errors == [LoadError(str(path), 2, 5, "not valid UTF-8 text (byte 0xff at offset 14)")]


def test_bom_and_utf16(tmp_path):
    (tmp_path / "a.yaml").write_bytes(codecs.BOM_UTF8 + POD.format(name="a").encode())
    (tmp_path / "b.yaml").write_bytes(codecs.BOM_UTF16_LE + POD.format(name="b").encode("utf-16-le"))
    (tmp_path / "c.yaml").write_bytes(codecs.BOM_UTF16_BE + POD.format(name="c").encode("utf-16-be"))
    result = load_paths([str(tmp_path)])
    assert result.errors == [] and pods(result) == ["a", "b", "c"]
    assert [r.locate(("metadata", "name")) for r in result.resources] == [Position(4, 3)] * 3


def test_json_syntax_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "apiVersion": "v1",\n  "kind": "Pod",\n}\n')
    assert load_paths([str(path)]).errors == [
        LoadError(str(path), 4, 1, "invalid JSON: Expecting property name enclosed in double quotes")]


def test_missing_path_and_the_run_goes_on(tmp_path):
    (tmp_path / "ok.yaml").write_text(POD.format(name="a"))
    missing = str(tmp_path / "missing.yaml")
    result = load_paths([missing, str(tmp_path / "ok.yaml")])
    assert result.errors == [LoadError(missing, 1, 1, "no such file or directory")]
    assert pods(result) == ["a"]


def test_unreadable_file_and_directory(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text(POD.format(name="a"))
    (tmp_path / "b.yaml").write_text(POD.format(name="b"))
    (tmp_path / "sub").mkdir()
    real_open, real_scandir = open, os.scandir

    def deny_open(path, *args, **kwargs):
        if str(path).endswith("a.yaml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    def deny_scandir(path):
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discover, "open", deny_open, raising=False)
    monkeypatch.setattr(discover.os, "scandir", deny_scandir)
    result = load_paths([str(tmp_path)])
    assert result.errors == [
        LoadError(str(tmp_path / "a.yaml"), 1, 1, "cannot read: permission denied"),
        LoadError(str(tmp_path / "sub"), 1, 1, "cannot read directory: permission denied"),
    ]
    assert pods(result) == ["b"]


def test_file_deleted_during_the_run(tmp_path, monkeypatch):
    for name in "abc":
        (tmp_path / f"{name}.yaml").write_text(POD.format(name=name))
    real_add_text = discover.add_text

    def add_and_delete(result, text, file):
        real_add_text(result, text, file)
        if file.endswith("a.yaml"):
            os.remove(tmp_path / "b.yaml")

    monkeypatch.setattr(discover, "add_text", add_and_delete)
    result = load_paths([str(tmp_path)])
    assert result.errors == [LoadError(str(tmp_path / "b.yaml"), 1, 1, "no such file or directory")]
    assert pods(result) == ["a", "c"]


def test_broken_symlink_and_symlink_loops(tmp_path):
    (tmp_path / "ok.yaml").write_text(POD.format(name="a"))
    os.symlink(tmp_path / "nowhere.yaml", tmp_path / "broken.yaml")
    os.symlink(tmp_path / "loop2.yaml", tmp_path / "loop1.yaml")
    os.symlink(tmp_path / "loop1.yaml", tmp_path / "loop2.yaml")
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path, tmp_path / "sub" / "up")
    result = load_paths([str(tmp_path)])
    assert pods(result) == ["a"]
    assert [(os.path.relpath(e.file, tmp_path), e.line, e.column) for e in result.errors] == [
        ("broken.yaml", 1, 1), ("loop1.yaml", 1, 1), ("loop2.yaml", 1, 1), ("sub/up", 1, 1)]
    assert result.errors[0].message == "broken symbolic link (its target does not exist)"
    assert result.errors[1].message == "cannot read: too many levels of symbolic links"
    assert result.errors[3].message == "symbolic link loop (a directory that contains itself), skipped"


def test_surrogates_in_text():
    result = load_text("apiVersion: v1\nkind: Pod\nmetadata: {name: \"\ud800\"}\n", "s.yaml")
    assert result.errors == [LoadError("s.yaml", 3, 19, "text contains an unpaired surrogate character")]


class _Stdin:
    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)
