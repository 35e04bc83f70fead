"""From bytes and text to documents and Kubernetes resources.

A YAML stream is split into documents with a line scanner (a line `---` or `--- ...` starts a document,
a line `...` ends one, `%` directives belong to the document they precede), so that each document is
parsed on its own: a syntax error costs only its own document, and every document keeps its text and
first line for lazy position lookups. `helm template` output marks each document with a
`# Source: chart/templates/x.yaml` comment; it is kept as SourceDocument.template.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, Iterator

from gpulint.load import limits, yamlio
from gpulint.load.model import LoadError, LoadResult, Resource, SourceDocument

_BINARY_PROBE = 8192
_MARKER = re.compile(r"\n(?:---|\.\.\.)")
_JSON_TOKEN = re.compile(r'[\[\]{}]|"(?:[^"\\]|\\.)*"')
_TYPE_NAMES = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}


class TextError(Exception):
    """Bytes that are not text we can read: message and 1-based line/column."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def decode(data: bytes) -> str:
    """UTF-8 text (a BOM is accepted; UTF-16/32 only with a BOM); TextError for binary or invalid data."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise TextError(f"not valid {codec.upper()} text (at byte offset {exc.start})") from None
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    if b"\0" in data[:_BINARY_PROBE]:
        raise TextError("binary file, not YAML or JSON")
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        line_start = data.rfind(b"\n", 0, offset) + 1
        column = len(data[max(line_start, skip):offset].decode("utf-8", "replace")) + 1
        raise TextError(f"not valid UTF-8 text (byte 0x{data[offset]:02x} at offset {offset})",
                        data.count(b"\n", 0, offset) + 1, column) from None


def _is_start_marker(line: str) -> bool:
    return line.startswith("---") and (len(line) == 3 or line[3] in " \t\r\n")


def _is_end_marker(line: str) -> bool:
    return line.startswith("...") and not line[3:].strip()


def _chunks(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of the documents of a YAML stream, marker lines `---` included."""
    start = 0
    markers = [-1] if text.startswith(("---", "...")) else []
    markers += [m.start() for m in _MARKER.finditer(text)]
    for newline in markers:
        line_start = newline + 1
        line_end = text.find("\n", line_start)
        line = text[line_start:] if line_end == -1 else text[line_start:line_end]
        if _is_start_marker(line):
            if line_start > start and not _only_directives(text, start, line_start):
                yield start, line_start
                start = line_start
        elif _is_end_marker(line):
            yield start, line_start
            start = len(text) if line_end == -1 else line_end + 1
    if start < len(text):
        yield start, len(text)


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, str]]:
    while start < end:
        newline = text.find("\n", start, end)
        stop = end if newline == -1 else newline
        yield start, text[start:stop]
        start = stop + 1


def _only_directives(text: str, start: int, end: int) -> bool:
    """True for a `%YAML`/`%TAG` preamble, which belongs to the document after the next `---`."""
    found = False
    for _, line in _lines(text, start, end):
        stripped = line.strip()
        if stripped.startswith("%"):
            found = True
        elif stripped and not stripped.startswith("#"):
            return False
    return found


def _content_start(text: str, start: int, end: int) -> tuple[int, str | None]:
    """Offset of a chunk's first content line (blank/comment lines and a bare `---` skipped), helm source."""
    template = None
    for offset, line in _lines(text, start, end):
        stripped = line[3:].strip() if _is_start_marker(line) else line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            return offset, template
        if template is None and stripped.startswith("# Source:"):
            template = stripped[len("# Source:"):].strip() or None
    return end, template


def parse_documents(text: str, file: str, *, is_json: bool = False) -> tuple[list[tuple[SourceDocument, Any]], list[LoadError]]:
    """Every non-empty document of `text` (YAML, or JSON when `is_json`) as (SourceDocument, data).

    Data is whatever the document holds (not only Kubernetes objects); documents that are empty or
    `null` are left out. Errors are one-line LoadErrors with file, line and column; a document with
    an error is left out, the others are still returned.
    """
    if is_json:
        return _parse_json(text, file)
    documents: list[tuple[SourceDocument, Any]] = []
    errors: list[LoadError] = []
    deep_check = limits.may_be_deep(text)
    alias_check = limits.may_have_aliases(text)
    line = 1
    position = 0
    index = 0
    for start, end in _chunks(text):
        content, template = _content_start(text, start, end)
        if content >= end:
            continue
        line += text.count("\n", position, content)
        position = content
        chunk = text[content:end]
        try:
            values = yamlio.parse_yaml(chunk, deep_check=deep_check, alias_check=alias_check)
        except limits.DocumentError as exc:
            errors.append(LoadError(file, line + exc.line, exc.column + 1, exc.render(line - 1)))
            index += 1
            continue
        for part, value in enumerate(values):
            if value is not None:
                documents.append((SourceDocument(file, index, line, chunk, template=template, part=part), value))
            index += 1
    return documents, errors


def _too_deep(value: Any) -> bool:
    """Whether JSON data nests collections deeper than MAX_DEPTH (iterative)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.MAX_DEPTH:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def _first_too_deep(text: str) -> tuple[int, int]:
    """Line and column of the first bracket nested deeper than MAX_DEPTH in a JSON text."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        char = match.group()[0]
        depth += 1 if char in "[{" else -1 if char in "]}" else 0
        if depth > limits.MAX_DEPTH:
            offset = match.start()
            return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
    return 1, 1


def _parse_json(text: str, file: str) -> tuple[list[tuple[SourceDocument, Any]], list[LoadError]]:
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        return [], []
    first = len(text) - len(stripped)
    line = text.count("\n", 0, first) + 1
    body = text[text.rfind("\n", 0, first) + 1:]  # the document text starts at its first line
    try:
        value = json.loads(text)
        too_deep = text.count("[") + text.count("{") > limits.MAX_DEPTH and _too_deep(value)
    except json.JSONDecodeError as exc:
        return [], [LoadError(file, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")]
    except RecursionError:  # json's C decoder stops at Python's recursion limit
        too_deep = True
    if too_deep:
        return [], [LoadError(file, *_first_too_deep(text), limits.depth_error().message)]
    if value is None:
        return [], []
    return [(SourceDocument(file, 0, line, body, is_json=True), value)], []


def _not_an_object(file: str, where: tuple[int, int], what: str, value: Any) -> LoadError:
    if isinstance(value, dict):
        kind, api_version = value.get("kind"), value.get("apiVersion")
        if isinstance(kind, str) and kind and not api_version:
            return LoadError(file, *where, f"{what} has kind {kind} but no apiVersion, so it is not a Kubernetes object")
        if isinstance(api_version, str) and api_version and not kind:
            return LoadError(file, *where, f"{what} has apiVersion {api_version} but no kind, so it is not a "
                                           "Kubernetes object")
        return LoadError(file, *where, f"{what} is not a Kubernetes object (kind and apiVersion must be strings)")
    return LoadError(file, *where, f"{what} is a {_TYPE_NAMES.get(type(value), 'value')}, not a Kubernetes object")


def _is_object(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    kind, api_version = value.get("kind"), value.get("apiVersion")
    return isinstance(kind, str) and isinstance(api_version, str) and bool(kind) and bool(api_version)


def _list_items(obj: dict) -> list | None:
    """The items of a `kind: List` or `kind: <X>List` object, or None when `obj` is not a list."""
    kind, items = obj["kind"], obj.get("items")
    if kind == "List":
        return items if isinstance(items, list) else []
    if kind.endswith("List") and isinstance(items, list):
        return items
    return None


def add_resources(result: LoadResult, doc: SourceDocument, value: Any) -> None:
    """Resources of one document into `result`, or a LoadError when it is not a Kubernetes object.

    A mapping with neither `kind` nor `apiVersion` (a Helm values file, a kustomization) is skipped
    silently. Lists (`kind: List`, `kind: PodList` with `items`) give one Resource per item; items of a
    typed list that lack `kind`/`apiVersion` get them from the list, as Kubernetes clients do. A JSON
    file may hold an array of objects.
    """
    label = f"document {doc.index + 1}"
    if isinstance(value, list) and doc.is_json:
        for i, item in enumerate(value):
            _add_object(result, doc, item, (i,), f"item {i + 1} of {label}")
        return
    if isinstance(value, dict) and "kind" not in value and "apiVersion" not in value:
        return
    if not _is_object(value):
        result.errors.append(_not_an_object(doc.file, (doc.line, 1), label, value))
        return
    items = _list_items(value)
    if items is None:
        result.resources.append(Resource(value, doc))
        return
    item_kind = value["kind"][: -len("List")]
    for i, item in enumerate(items):
        if item_kind and isinstance(item, dict):
            if "kind" not in item:
                item = {"kind": item_kind, **item}
            if "apiVersion" not in item:
                item = {"apiVersion": value["apiVersion"], **item}
        _add_object(result, doc, item, ("items", i), f"item {i + 1} of {label}")


def _add_object(result: LoadResult, doc: SourceDocument, value: Any, path: tuple, label: str) -> None:
    if _is_object(value):
        result.resources.append(Resource(value, doc, path))
    else:
        position = doc.locate(path)
        result.errors.append(_not_an_object(doc.file, (position.line, position.column), label, value))


def load_text(text: str, file: str) -> LoadResult:
    """Resources and errors from the text of one file (JSON when `file` ends in `.json`)."""
    result = LoadResult(files=[file])
    add_text(result, text, file)
    return result


def add_text(result: LoadResult, text: str, file: str) -> None:
    documents, errors = parse_documents(text, file, is_json=file.lower().endswith(".json"))
    result.errors.extend(errors)
    for doc, value in documents:
        add_resources(result, doc, value)
