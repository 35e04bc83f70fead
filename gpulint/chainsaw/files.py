"""Generated files: built in memory as a FileSet, then written under one root, never outside it.

Writing in two phases (build everything, then write) means a generator that fails half-way leaves
nothing behind, and the same FileSet can be compared byte for byte with a committed snapshot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


class GenError(Exception):
    """Input that cannot be used (one line, with file:line:col when known): exit code 2."""


@dataclass
class FileSet:
    """Relative POSIX path -> content. Adding the same path twice with other content is a bug."""

    files: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, content: str) -> None:
        clean = _checked(path)
        if clean in self.files and self.files[clean] != content:
            raise GenError(f"{clean}: generated twice with different content")
        self.files[clean] = content

    def update(self, other: "FileSet", prefix: str = "") -> None:
        for path, content in other.files.items():
            self.add(f"{prefix.rstrip('/')}/{path}" if prefix else path, content)

    def sorted_items(self) -> list[tuple[str, str]]:
        return sorted(self.files.items())


def _checked(path: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("..", "") for part in pure.parts) or "\\" in path:
        raise GenError(f"{path}: refusing to generate a file outside the output directory")
    return str(pure)


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # existed with other content; not touched (no --force)


def write_files(root: Path, fileset: FileSet, force: bool) -> WriteReport:
    """Write every file under `root`. Existing files are only replaced with `force`; files whose
    content is already right are left alone either way, so re-running is a no-op."""
    report = WriteReport()
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise GenError(f"{root}: exists and is not a directory")
    real_root = Path(os.path.realpath(root))
    planned = []
    for relative, content in fileset.sorted_items():
        target = root / relative
        # A symlink inside --out must not smuggle a write elsewhere.
        real_parent = Path(os.path.realpath(target.parent))
        if real_parent != real_root and real_root not in real_parent.parents:
            raise GenError(f"{target}: resolves outside {root}; refusing to write there")
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise GenError(f"{target}: exists and is not a regular file")
        planned.append((relative, target, content))
    for relative, target, content in planned:
        data = content.encode("utf-8")
        if target.exists():
            try:
                current = target.read_bytes()
            except OSError as error:
                raise GenError(f"{target}: cannot read: {(error.strerror or str(error)).lower()}") from None
            if current == data:
                report.unchanged.append(relative)
                continue
            if not force:
                report.kept.append(relative)
                continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as error:
            raise GenError(f"{target}: cannot write: {(error.strerror or str(error)).lower()}") from None
        report.written.append(relative)
    return report
