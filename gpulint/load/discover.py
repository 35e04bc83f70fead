"""Finding and reading input files: paths, directories, stdin, exclusions, size and read errors."""

from __future__ import annotations

import gc
import os
import stat
import sys
from fnmatch import fnmatchcase
from typing import Any, Iterator, Optional, Sequence, TextIO

from gpulint.load import parallel
from gpulint.load.documents import TextError, add_text, decode, parse_documents
from gpulint.load.limits import MAX_FILE_BYTES
from gpulint.load.model import LoadError, LoadResult, SourceDocument

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
SKIPPED_DIRS = frozenset({"vendor", "node_modules"})  # besides hidden ones (.git, .terraform, ...)
STDIN = "<stdin>"


class ReadError(Exception):
    """A file that could not be read: a one-line message."""


def _os_message(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def read_bytes(path: str) -> bytes:
    """The content of `path` (at most MAX_FILE_BYTES, checked before reading), or ReadError."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
                raise ReadError(_too_large())
            data = handle.read(MAX_FILE_BYTES + 1)  # also bounds pipes and files that grow
    except FileNotFoundError:
        if os.path.islink(path):
            raise ReadError("broken symbolic link (its target does not exist)") from None
        raise ReadError("no such file or directory") from None
    except OSError as exc:
        raise ReadError(f"cannot read: {_os_message(exc)}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(_too_large())
    return data


def _too_large() -> str:
    return f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"


def _read_stdin(stream: Optional[TextIO]) -> str:
    stream = sys.stdin if stream is None else stream
    if stream is None:  # no standard input at all
        return ""
    raw = getattr(stream, "buffer", None)
    try:
        if raw is not None:
            data = raw.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise ReadError(_too_large())
            return decode(data)
        text = stream.read(MAX_FILE_BYTES + 1)
    except UnicodeDecodeError as exc:
        raise TextError(f"not valid UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    except OSError as exc:
        raise ReadError(f"cannot read: {_os_message(exc)}") from None
    if len(text) > MAX_FILE_BYTES:
        raise ReadError(_too_large())
    return text


def read_input(path: str, stdin: Optional[TextIO] = None) -> str | LoadError:
    """The text of a file, or of standard input for `-`; a LoadError when it cannot be read as text."""
    try:
        return _read_stdin(stdin) if path == "-" else decode(read_bytes(path))
    except ReadError as exc:
        return LoadError(_display(path), 1, 1, str(exc))
    except TextError as exc:
        return LoadError(_display(path), exc.line, exc.column, exc.message)


def _display(path: str) -> str:
    return STDIN if path == "-" else path


def read_yaml_documents(path: str) -> tuple[list[tuple[SourceDocument, Any]], list[LoadError]]:
    """Every non-empty document of a YAML or JSON file (`-` for stdin) as (SourceDocument, data).

    For policy files, kyverno-test.yaml files and the like: data is any YAML value (not only
    Kubernetes objects), read with the same Go-compatible rules and limits as manifests, and
    `SourceDocument.locate(path)` gives the line/column of any node. A file is JSON when its name
    ends in `.json`. Read and syntax errors come back as one-line LoadErrors; a document with an error
    is left out, the others are still returned.
    """
    text = read_input(path)
    if isinstance(text, LoadError):
        return [], [text]
    return parse_documents(text, _display(path), is_json=path.lower().endswith(".json"))


def _excluded(relative: str, display: str, patterns: Sequence[str]) -> bool:
    """fnmatch against the path below the directory that was given (`relative`), each trailing part
    and each segment of it, and the path as given unless that is absolute (a pattern like `**/tmp/*`
    must not exclude everything under /tmp/work)."""
    if not patterns:
        return False
    parts = [part for part in relative.replace(os.sep, "/").split("/") if part not in ("", ".")]
    candidates = {"/".join(parts[i:]) for i in range(len(parts))}
    if not os.path.isabs(display):
        candidates.add(display.replace(os.sep, "/"))
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        pattern = pattern[2:] if pattern.startswith("./") else pattern
        variants = (pattern, pattern[3:]) if pattern.startswith("**/") else (pattern,)
        if any(fnmatchcase(candidate, variant) for candidate in candidates for variant in variants):
            return True
    return False


def _walk(directory: str, relative: str, patterns: Sequence[str], ancestors: tuple[str, ...],
          errors: list[LoadError]) -> Iterator[str]:
    """Manifest files under `directory`, sorted, depth first; symbolic links to directories followed once."""
    real = os.path.realpath(directory)
    if real in ancestors:
        errors.append(LoadError(directory, 1, 1, "symbolic link loop (a directory that contains itself), skipped"))
        return
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        errors.append(LoadError(directory, 1, 1, f"cannot read directory: {_os_message(exc)}"))
        return
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        path, below = os.path.join(directory, name), os.path.join(relative, name)
        if _excluded(below, path, patterns):
            continue
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError:
            is_dir = is_file = False
        if is_dir:
            if name not in SKIPPED_DIRS:
                yield from _walk(path, below, patterns, ancestors + (real,), errors)
        elif name.lower().endswith(MANIFEST_SUFFIXES):
            if is_file or entry.is_symlink():  # a broken link or a link loop is reported when read
                yield path


def _inputs(paths: Sequence[str], patterns: Sequence[str], errors: list[LoadError]) -> Iterator[str]:
    for path in paths:
        if path == "-":
            yield path
        elif os.path.isdir(path):
            yield from _walk(path, "", patterns, (), errors)
        elif not _excluded(os.path.basename(path), path, patterns):
            yield path  # a file named explicitly is read whatever its name; read errors are reported then


def load_paths(paths: Sequence[str], *, exclude: Sequence[str] = (), stdin: Optional[TextIO] = None,
               already: Optional[LoadResult] = None, jobs: int = 0,
               min_parallel_bytes: Optional[int] = None) -> LoadResult:
    """Resources from files, directories (recursive: *.yaml, *.yml, *.json) and `-` (stdin).

    Files come in the order of `paths`, directory contents sorted by name; hidden files and folders and
    `vendor`/`node_modules` folders are skipped; `exclude` holds glob patterns (see _excluded) such as
    `**/tmp/*`, `*.generated.yaml` or a folder name. A file reached twice (named twice, or through a
    symbolic link) is read once. Problems with one input become LoadErrors and the run goes on.
    `already` holds what was loaded from earlier paths (its files are not read again): the result
    then continues it.

    Inputs of at least `min_parallel_bytes` (default parallel.MIN_PARALLEL_BYTES) are loaded by `jobs`
    processes (0: one per usable CPU; 1: this process only), forked here; the result is the same as
    this process alone would give.
    """
    result = already if already is not None else LoadResult()
    seen: set[tuple[int, int]] = set()
    for path in result.files:
        identity, _ = _identity_and_size(path)
        if identity is not None:
            seen.add(identity)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the collector would walk the growing object graph over and over: about half the time
    try:
        entries = _entries(paths, exclude, seen)
        count = parallel.processes(jobs, entries, min_parallel_bytes)

        def load_one(into: LoadResult, path: str) -> None:
            _load_file(into, path, stdin)

        if count > 1:
            parallel.load(entries, result, load_one, count)
        else:
            for entry in entries:
                if isinstance(entry, LoadError):
                    result.errors.append(entry)
                else:
                    load_one(result, entry[0])
    finally:
        if gc_was_enabled:
            gc.enable()
    return result


def _entries(paths: Sequence[str], patterns: Sequence[str], seen: set) -> list[parallel.Entry]:
    """What there is to load, in order: errors of the walk and (path, size) of each file to read, a
    file reached twice only once. Size -1: stdin, or not a regular file (read by this process)."""
    entries: list[parallel.Entry] = []
    for path in _inputs(paths, patterns, entries):  # walk errors are appended as they are met
        size = -1
        if path != "-":
            identity, size = _identity_and_size(path)
            if identity is not None:
                if identity in seen:
                    continue
                seen.add(identity)
        entries.append((path, size))
    return entries


def _load_file(result: LoadResult, path: str, stdin: Optional[TextIO]) -> None:
    text = read_input(path, stdin)
    if isinstance(text, LoadError):
        result.errors.append(text)
        return
    result.files.append(_display(path))
    add_text(result, text, _display(path))


def _identity_and_size(path: str) -> tuple[Optional[tuple[int, int]], int]:
    """(device, inode) and size of a regular file; (None, -1) for anything else."""
    try:
        info = os.stat(path)
    except OSError:
        return None, -1
    if not stat.S_ISREG(info.st_mode):
        return None, -1
    return (info.st_dev, info.st_ino), info.st_size
