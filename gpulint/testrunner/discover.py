"""Finding kyverno-test.yaml files and reading the tests they hold."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from gpulint.load import LoadError, SourceDocument, read_yaml_documents

TEST_FILE_NAME = "kyverno-test.yaml"


class UsageError(Exception):
    """A path that does not exist or a test file that cannot be read: exit code 2."""


@dataclass
class TestDocument:
    """One test: a document of a test file (`data` is None when the document could not be read)."""

    path: str
    index: int
    data: Any
    source: Optional[SourceDocument] = None
    error: Optional[LoadError] = None

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path) or "."


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)
    tests: list[TestDocument] = field(default_factory=list)


def find_test_files(paths: Sequence[str], file_name: str = TEST_FILE_NAME) -> list[str]:
    """Test files under `paths`: files named explicitly, and `file_name` files found recursively.

    Hidden folders are searched too: Kyverno's policy library keeps its tests in `.kyverno-test/`.
    """
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                if file_name in files:
                    found.append(os.path.join(root, file_name))
        elif os.path.exists(path):
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    unique, seen = [], set()
    for path in found:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def read_tests(files: Sequence[str]) -> list[TestDocument]:
    """Every document of every test file; a syntax error becomes a test that will report as errored."""
    tests: list[TestDocument] = []
    for path in files:
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            raise UsageError(f"{path}: cannot read: {(error.strerror or str(error)).lower()}") from None
        documents, errors = read_yaml_documents(path)
        for index, (source, data) in enumerate(documents):
            tests.append(TestDocument(path, source.index if source else index, data, source))
        for error in errors:
            tests.append(TestDocument(path, len(documents), None, None, error))
        if not documents and not errors:
            tests.append(TestDocument(path, 0, None, None, LoadError(path, 1, 1, "the test file is empty")))
    return tests
