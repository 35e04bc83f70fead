import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def suite(tmp_path):
    """Write files (name -> YAML text) into a fresh folder and return its path."""

    def make(files: dict, folder: str = "suite") -> Path:
        root = tmp_path / folder
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return root

    return make
