"""Configuration discovery and validation (yamllint-style: upward search, exact positions)."""

import pytest

from gpulint.config import ConfigError, find_config, load_config


def test_found_upward_and_stops_at_repository_root(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "a" / "b").mkdir(parents=True)
    (repo / ".gpulint.yaml").write_text("fail-on: critical\n")
    assert find_config(repo / "a" / "b") == repo / ".gpulint.yaml"
    (tmp_path / ".gpulint.yaml").write_text("fail-on: low\n")
    (repo / ".gpulint.yaml").unlink()
    assert find_config(repo / "a" / "b") is None  # never looks above the repository root


def test_pyproject_tool_section(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.gpulint]\nfail-on = "medium"\n'
                                              'disable = ["gpu-require-apparmor"]\n')
    config = load_config(find_config(tmp_path))
    assert config.fail_on == "medium"
    assert config.disable == ["gpu-require-apparmor"]


def test_unknown_key_names_file_line_and_column(tmp_path):
    path = tmp_path / ".gpulint.yaml"
    path.write_text("fail-on: high\nsettings:\n  approvedRegistries: [nvcr.io]\nfail_on: low\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}:4:1: unknown key 'fail_on'"


def test_wrong_type_is_an_error_with_position(tmp_path):
    path = tmp_path / ".gpulint.yaml"
    path.write_text("disable: gpu-topology\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}:1:1: disable: 'gpu-topology' is not of type 'array'")


def test_policy_paths_are_relative_to_the_config_file(tmp_path):
    path = tmp_path / ".gpulint.yaml"
    path.write_text("policies: [policies/]\n")
    assert load_config(path).policies == [str(tmp_path / "policies/")]


def test_config_feeds_check(tmp_path, monkeypatch, capsys):
    from gpulint.cli import main

    (tmp_path / ".git").mkdir()
    (tmp_path / ".gpulint.yaml").write_text("fail-on: never\n")
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                   "    - {name: c, image: docker.io/x, resources: {limits: {nvidia.com/gpu: 1}}}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "-q", str(pod)]) == 0
    assert main(["check", "-q", "--fail-on", "high", str(pod)]) == 1
    (tmp_path / ".gpulint.yaml").write_text("fail-on: sometimes\n")
    assert main(["check", "-q", str(pod)]) == 2
    assert ".gpulint.yaml:1:1: fail-on: 'sometimes' is not one of" in capsys.readouterr().err
