"""The shipped rule cache (gpulint/engine/data/rulecache.*) is current and changes nothing but speed."""

import json

from gpulint.engine import build_engine
from gpulint.engine.builtin import builtin_rules_dir, resolve_settings
from gpulint.engine.cel import rulecache
from gpulint.load import load_paths
from tests.conftest import ROOT


def test_shipped_cache_is_current():
    """Fails after a change to rules/ or gpulint/engine/cel/: run python scripts/build_rulecache.py."""
    data = rulecache.build()
    assert rulecache.PATH.read_text(encoding="utf-8") == rulecache.render(data), \
        "stale rule cache: run python scripts/build_rulecache.py"
    assert set(rulecache.read_checked_forms()) == set(rulecache.checked_forms(data)), \
        "stale rule cache: run python scripts/build_rulecache.py"
    assert rulecache.load() is not None


def _results(use_cache: bool, monkeypatch):
    monkeypatch.setattr(rulecache, "load", rulecache.load if use_cache else (lambda: None))
    policies = load_paths([str(builtin_rules_dir())]).resources
    inputs = load_paths([str(ROOT / "fixtures"), str(ROOT / "examples")]).resources
    setup = build_engine(policies, [r.obj for r in inputs], settings=resolve_settings({}))
    assert setup.errors == []
    return [(r.policy.name, r.rule, r.result, r.message, r.role, r.field_path, json.dumps(r.properties, sort_keys=True))
            for r in setup.engine.evaluate(inputs)]


def test_results_are_the_same_with_and_without_the_cache(monkeypatch):
    with_cache = _results(True, monkeypatch)
    assert len(with_cache) > 1000
    assert _results(False, monkeypatch) == with_cache


def test_programs_from_the_cache_are_compiled_on_first_use(monkeypatch):
    policies = load_paths([str(builtin_rules_dir())]).resources
    setup = build_engine(policies, [], settings=resolve_settings({}))
    env = setup.engine.env
    deferred = [p for p in env._programs.values() if getattr(p, "_expr", 1) is None]
    assert len(deferred) > 100  # nothing compiled by cel-cpp before an input needs it


def test_runtime_never_writes_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(rulecache, "PATH", tmp_path / "missing.json")
    monkeypatch.setattr(rulecache, "CHECKED_PATH", tmp_path / "missing.checked")
    rulecache.load.cache_clear()
    try:
        assert rulecache.load() is None  # missing: gpulint compiles the normal way
        policies = load_paths([str(builtin_rules_dir())]).resources
        assert build_engine(policies, [], settings=resolve_settings({})).errors == []
        assert list(tmp_path.iterdir()) == []
    finally:
        rulecache.load.cache_clear()


def test_built_in_rules_from_the_cache_are_the_parsed_files():
    from gpulint.engine.builtin import builtin_rules_dir

    cached = rulecache.load_rules(builtin_rules_dir())
    parsed = load_paths([str(builtin_rules_dir())])
    assert cached is not None and cached.files == parsed.files and cached.errors == parsed.errors == []

    def doc(r):
        s = r.source
        return (s.file, s.index, s.line, s.part, s.template, s.text, s.is_json, json.dumps(r.obj), r.path_in_document)

    assert [doc(r) for r in cached.resources] == [doc(r) for r in parsed.resources]
