"""The Chainsaw tests of the whole built-in pack, committed as a snapshot: regenerated, compared byte for
byte, and checked against the Chainsaw JSON schema. GPULINT_UPDATE_SNAPSHOTS=1 rewrites the snapshot."""

import os
import shutil

import pytest
from chainsaw_helpers import ROOT, SCHEMA_COMMENT, run, schema_errors, tree

from gpulint.chainsaw import generate_chainsaw, write_files

SNAPSHOT = ROOT / "tests" / "snapshots" / "chainsaw"


@pytest.fixture(scope="module")
def generated():
    return generate_chainsaw([], builtin=True)


def test_snapshot_matches_a_fresh_generation(generated, tmp_path):
    write_files(tmp_path, generated.files, force=False)
    if os.environ.get("GPULINT_UPDATE_SNAPSHOTS") == "1":
        shutil.rmtree(SNAPSHOT, ignore_errors=True)
        write_files(SNAPSHOT, generated.files, force=True)
    fresh, committed = tree(tmp_path), tree(SNAPSHOT)
    assert sorted(fresh) == sorted(committed), (
        "tests/snapshots/chainsaw is out of date: GPULINT_UPDATE_SNAPSHOTS=1 python -m pytest tests/chainsaw")
    changed = [path for path in fresh if fresh[path] != committed[path]]
    assert not changed, f"{changed[:5]} differ: GPULINT_UPDATE_SNAPSHOTS=1 python -m pytest tests/chainsaw"


def test_the_cli_writes_the_same_bytes(generated, tmp_path, capsys):
    code, out, _ = run(capsys, "gen-chainsaw", "--builtin", "--out", tmp_path / "out")
    # A built-in policy that does not compile is reported (exit 2); the others' tests are still written.
    assert code == (2 if generated.errors else 0) and "written" in out
    assert tree(tmp_path / "out") == {path: text.encode() for path, text in generated.files.sorted_items()}


def test_every_builtin_policy_with_fixtures_gets_a_test(generated):
    assert {"gpu-require-seccomp", "gpu-topology", "gpu-worker-homogeneity"} <= set(generated.policies)
    for name in generated.policies:
        assert f"{name}/.chainsaw-test/chainsaw-test.yaml" in generated.files.files
        assert f"{name}/{name}.yaml" in generated.files.files


def test_every_committed_chainsaw_test_validates_and_carries_the_schema_comment():
    files = sorted(SNAPSHOT.rglob("chainsaw-test.yaml"))
    assert files, "no snapshot: GPULINT_UPDATE_SNAPSHOTS=1 python -m pytest tests/chainsaw"
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith(SCHEMA_COMMENT), path
        assert schema_errors(text) == [], path
    config = (SNAPSHOT / ".chainsaw.yaml").read_text(encoding="utf-8")
    assert config.startswith("# yaml-language-server: $schema=") and "parallel: 1" in config


def test_generation_is_deterministic(generated):
    again = generate_chainsaw([], builtin=True)
    assert again.files.files == generated.files.files
