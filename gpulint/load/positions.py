"""Lazy line/column lookup for paths into a loaded document.

The load stage keeps no positions. The first time a finding needs one, the document's text is read
again with a position-tracking reader (libyaml's composer for YAML, a small scanner for JSON) into a
compact tree of (line, column, children) entries, kept for later lookups in the same document.

A path such as ("spec", "containers", 1, "env", 0, "value") points at the *key* for a mapping entry
(`value:`), at the item's node for a list item (for `- name: x`, at `name`); when the path does not
exist completely, at the deepest part that does; the empty path points at the document's root node.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any, Callable, Optional, Union

from yaml.nodes import MappingNode, SequenceNode

from gpulint.load import goyaml, yamlio
from gpulint.load.limits import DocumentError
from gpulint.load.model import Position, SourceDocument

# (0-based line, 0-based column, children): children is a dict for a mapping, a list for a sequence
Entry = tuple[int, int, Optional[Union[dict, list]]]


def build_locator(doc: SourceDocument) -> Callable[[tuple], Position]:
    """A function from a path in `doc` to the Position (in the file) of the deepest node along it."""
    try:
        root = _json_tree(doc.text) if doc.is_json else _yaml_tree(doc.text, doc.part)
    except Exception:  # noqa: BLE001 - unreadable text: point at the document
        root = None
    offset = doc.line - 1

    def locate(path: tuple) -> Position:
        if root is None:
            return Position(doc.line, 1)
        entry = root
        for step in path:
            children = entry[2]
            if isinstance(children, dict):
                found = children.get(step if isinstance(step, str) else str(step))
            elif isinstance(children, list) and isinstance(step, int) and 0 <= step < len(children):
                found = children[step]
            else:
                found = None
            if found is None:
                break
            entry = found
        return Position(entry[0] + offset + 1, entry[1] + 1)

    return locate


def _yaml_tree(text: str, part: int) -> Entry:
    node = yamlio.compose_yaml(text)[part]
    return (node.start_mark.line, node.start_mark.column, _yaml_children(node, {}))


def _yaml_children(node: Any, memo: dict[int, Any]) -> Any:
    """Children of a node; `memo` shares the subtree of a node reached again through an alias."""
    if node.__class__ is not MappingNode and node.__class__ is not SequenceNode:
        return None
    key = id(node)
    if key in memo:
        return memo[key]
    if node.__class__ is SequenceNode:
        children: Any = []
        for item in node.value:  # a loop, not a comprehension: one stack frame per nesting level
            children.append((item.start_mark.line, item.start_mark.column, _yaml_children(item, memo)))
    else:
        children = {}
        for key_node, value_node in node.value:
            try:
                name = goyaml.key_of(key_node)
            except DocumentError:
                continue
            if name is goyaml.MERGE:  # same order of precedence as the loader
                sources = reversed(value_node.value) if value_node.__class__ is SequenceNode else [value_node]
                for source in sources:
                    merged = _yaml_children(source, memo)
                    if isinstance(merged, dict):
                        children.update(merged)
                continue
            mark = key_node.start_mark
            children[name] = (mark.line, mark.column, _yaml_children(value_node, memo))
    memo[key] = children
    return children


_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_SCALAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|NaN|-?Infinity")


def _json_tree(text: str) -> Entry:
    """Positions in a JSON text, from a scanner that follows json.loads' grammar (duplicate keys: last wins)."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset) - 1
        return line, offset - line_starts[line]

    def skip(i: int) -> int:
        return _JSON_WS.match(text, i).end()  # type: ignore[union-attr]

    def value(i: int) -> tuple[Any, int]:
        char = text[i]
        if char == "{":
            children: dict = {}
            i = skip(i + 1)
            if text[i] == "}":
                return children, i + 1
            while True:
                if text[i] != '"':
                    raise ValueError(i)
                key_at = i
                key, i = json.decoder.scanstring(text, i + 1)
                i = skip(i)
                if text[i] != ":":
                    raise ValueError(i)
                i = skip(i + 1)
                sub, i = value(i)
                children[key] = (*where(key_at), sub)
                i = skip(i)
                if text[i] == "}":
                    return children, i + 1
                if text[i] != ",":
                    raise ValueError(i)
                i = skip(i + 1)
        if char == "[":
            items: list = []
            i = skip(i + 1)
            if text[i] == "]":
                return items, i + 1
            while True:
                item_at = i
                sub, i = value(i)
                items.append((*where(item_at), sub))
                i = skip(i)
                if text[i] == "]":
                    return items, i + 1
                if text[i] != ",":
                    raise ValueError(i)
                i = skip(i + 1)
        if char == '"':
            return None, json.decoder.scanstring(text, i + 1)[1]
        match = _JSON_SCALAR.match(text, i)
        if match is None:
            raise ValueError(i)
        return None, match.end()

    start = skip(0)
    return (*where(start), value(start)[0])
