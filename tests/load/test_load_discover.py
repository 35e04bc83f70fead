"""Which files are read, in which order: directories, exclusions, stdin, explicit files, duplicates."""

from __future__ import annotations

import io
import os

from gpulint.load import LoadError, load_paths

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"


def write(root, relative, name=None):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(POD.format(name=name or relative))
    return path


def tree(root):
    for relative in ["b.yaml", "a.yml", "c.json", "z/inner.yaml", "m/x.yaml", "m/a.yaml", "notes.txt",
                     ".hidden.yaml", ".git/config.yaml", "vendor/v.yaml", "node_modules/n.yaml",
                     "charts/sub/templates/t.yaml", "tmp/gen.yaml", "k.generated.yaml", "README.md"]:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if relative.endswith(".json"):
            path.write_text('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "%s"}}' % relative)
        else:
            path.write_text(POD.format(name=relative))


def relative_files(result, root):
    return [os.path.relpath(f, root) for f in result.files]


def test_directory_walk_is_sorted_and_skips_hidden_and_vendored(tmp_path):
    tree(tmp_path)
    result = load_paths([str(tmp_path)])
    assert result.errors == []
    assert relative_files(result, tmp_path) == [
        "a.yml", "b.yaml", "c.json", "charts/sub/templates/t.yaml", "k.generated.yaml", "m/a.yaml", "m/x.yaml",
        "tmp/gen.yaml", "z/inner.yaml"]
    assert [r.name for r in result.resources] == [os.path.relpath(f, tmp_path) for f in result.files]


def test_display_paths_keep_the_path_as_given(tmp_path, monkeypatch):
    write(tmp_path, "manifests/a.yaml")
    monkeypatch.chdir(tmp_path)
    assert load_paths(["manifests"]).files == ["manifests/a.yaml"]
    assert load_paths(["manifests/"]).files == ["manifests/a.yaml"]
    assert load_paths(["./manifests"]).files == ["./manifests/a.yaml"]


def test_excludes(tmp_path):
    tree(tmp_path)
    result = load_paths([str(tmp_path)], exclude=["**/tmp/*", "*.generated.yaml", "m", "charts/sub/*"])
    assert relative_files(result, tmp_path) == ["a.yml", "b.yaml", "c.json", "z/inner.yaml"]


def test_exclude_applies_to_relative_paths_and_explicit_files(tmp_path, monkeypatch):
    tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert load_paths(["."], exclude=["tmp/*", "*.json", "*.yml"]).files == [
        "./b.yaml", "./charts/sub/templates/t.yaml", "./k.generated.yaml", "./m/a.yaml", "./m/x.yaml", "./z/inner.yaml"]
    assert load_paths(["b.yaml", "c.json"], exclude=["b.*"]).files == ["c.json"]


def test_paths_in_the_order_given(tmp_path):
    tree(tmp_path)
    result = load_paths([str(tmp_path / "z"), str(tmp_path / "b.yaml"), str(tmp_path / "m")])
    assert relative_files(result, tmp_path) == ["z/inner.yaml", "b.yaml", "m/a.yaml", "m/x.yaml"]


def test_explicit_files_are_read_whatever_their_name(tmp_path):
    tree(tmp_path)
    result = load_paths([str(tmp_path / "notes.txt"), str(tmp_path / ".hidden.yaml"), str(tmp_path / "vendor")])
    assert relative_files(result, tmp_path) == ["notes.txt", ".hidden.yaml", "vendor/v.yaml"]
    assert result.errors == []


def test_a_file_reached_twice_is_read_once(tmp_path):
    path = write(tmp_path, "a.yaml")
    os.symlink(path, tmp_path / "link.yaml")
    result = load_paths([str(path), str(tmp_path)])
    assert relative_files(result, tmp_path) == ["a.yaml"]
    assert len(result.resources) == 1


def test_symlinked_directories_are_followed(tmp_path):
    write(tmp_path, "real/a.yaml")
    (tmp_path / "top").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "top" / "linked")
    result = load_paths([str(tmp_path / "top")])
    assert relative_files(result, tmp_path) == ["top/linked/a.yaml"]


def test_stdin(tmp_path):
    write(tmp_path, "a.yaml")
    stdin = io.StringIO(POD.format(name="from-stdin"))
    result = load_paths([str(tmp_path / "a.yaml"), "-"], stdin=stdin)
    assert [r.name for r in result.resources] == ["a.yaml", "from-stdin"]
    assert result.files == [str(tmp_path / "a.yaml"), "<stdin>"]
    assert result.resources[1].file == "<stdin>"


def test_stdin_bytes_are_checked_like_files():
    class Binary:
        buffer = io.BytesIO(b"apiVersion: v1\nkind: Pod\nmetadata: {name: \xff}\n")

    assert load_paths(["-"], stdin=Binary()).errors == [
        LoadError("<stdin>", 3, 18, "not valid UTF-8 text (byte 0xff at offset 42)")]


def test_determinism(tmp_path):
    tree(tmp_path)
    first, second = load_paths([str(tmp_path)]), load_paths([str(tmp_path)])
    assert first.files == second.files
    assert [r.obj for r in first.resources] == [r.obj for r in second.resources]
    assert [(r.source.file, r.source.index, r.source.line) for r in first.resources] == [
        (r.source.file, r.source.index, r.source.line) for r in second.resources]


def test_gc_state_is_restored(tmp_path):
    import gc

    write(tmp_path, "a.yaml")
    assert gc.isenabled()
    load_paths([str(tmp_path)])
    assert gc.isenabled()
    gc.disable()
    try:
        load_paths([str(tmp_path)])
        assert not gc.isenabled()
    finally:
        gc.enable()
