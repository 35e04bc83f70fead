"""Lazy line/column lookup for paths into a loaded document.

The load stage keeps no positions. The first time a finding needs one, the document's text is read
again into a compact tree of (line, column, children) entries, kept for later lookups in the same
document: block-style YAML by a scan of its lines (gpulint.load.blockpos, several times cheaper), other
YAML from libyaml's event stream (also when a path goes into a flow collection the line scan left
unread), JSON by a small scanner.

A path such as ("spec", "containers", 1, "env", 0, "value") points at the *key* for a mapping entry
(`value:`), at the item's node for a list item (for `- name: x`, at `name`); when the path does not
exist completely, at the deepest part that does; the empty path points at the document's root node.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from typing import Any, Callable, Optional, Union

from yaml.events import (AliasEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent,
                         SequenceEndEvent, SequenceStartEvent, StreamEndEvent)
from yaml.nodes import ScalarNode

from gpulint.load import blockpos, goyaml, yamlio
from gpulint.load.limits import DocumentError
from gpulint.load.model import Position, SourceDocument

# (0-based line, 0-based column, children): children is a dict for a mapping, a list for a sequence
Entry = tuple[int, int, Optional[Union[dict, list]]]


def build_locator(doc: SourceDocument) -> Callable[[tuple], Position]:
    """A function from a path in `doc` to the Position (in the file) of the deepest node along it."""
    lines = None
    if not doc.is_json and not doc.part:
        try:
            lines = blockpos.line_tree(doc.text)
        except Exception:  # noqa: BLE001 - a scanner bug must not cost a position: the events give it
            lines = None
    trees: list = []  # the entry tree of the events (or of the JSON scanner), read at most once
    offset = doc.line - 1

    def tree() -> Optional[Entry]:
        if not trees:
            try:
                trees.append(_json_tree(doc.text) if doc.is_json else _yaml_tree(doc.text, doc.part))
            except Exception:  # noqa: BLE001 - unreadable text: point at the document
                trees.append(None)
        return trees[0]

    if lines is None:
        used["json" if doc.is_json else "events"] += 1
        tree()
    else:
        used["lines"] += 1

    def locate(path: tuple) -> Position:
        if lines is not None:
            try:
                entry = blockpos.walk(lines, path)
            except Exception:  # noqa: BLE001 - blockpos.Unsure (or a scanner bug): the events give the answer
                entry = None
            if entry is not None:
                return Position(entry[0] + offset + 1, entry[1] + 1)
            if not trees:
                used["events after lines"] += 1
        root = tree()
        if root is None:
            return Position(doc.line, 1)
        entry = _walk(root, path)
        return Position(entry[0] + offset + 1, entry[1] + 1)

    return locate


# How many locators read each way: "lines" (blockpos), "events", "json"; "events after lines" counts
# those whose lines could not answer a path (tests and measurements read it).
used: Counter = Counter()


def _walk(root: Entry, path: tuple) -> Entry:
    """The entry of the deepest node along `path` (blockpos.walk does the same on the lines' entries)."""
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
    return entry


def _yaml_tree(text: str, part: int) -> Entry:
    """The entry tree of document `part` of `text`, from libyaml's events (no node tree is built).

    Gives what composing the document and walking its nodes would (tests/load/test_load_positions.py
    compares them): entries at the start of a mapping's keys and of a list's items, an alias reusing
    its anchor's entry, merge keys (``<<``) applied where they stand, keys that are collections left out.
    """
    parser = yamlio.NodeParser(text)
    try:
        document = -1
        while True:
            event = parser.get_event()
            cls = event.__class__
            if cls is DocumentStartEvent:
                document += 1
                if document == part:
                    return _events_tree(parser)
            elif cls is StreamEndEvent:
                raise IndexError(part)
    finally:
        parser.dispose()


_SKIP = object()  # a key that is a collection: the pair is left out, as goyaml.key_of refuses it
_NO_KEY = object()


def _events_tree(parser) -> Entry:
    """The entries of the node whose events come next (a document's root)."""
    anchors: dict[str, tuple[Entry, Any]] = {}  # anchor -> (entry, key info: (tag, value, style) or None)
    stack: list[list] = []  # [children (dict or list), entry, pending key, key line, key column]
    while True:
        event = parser.get_event()
        cls = event.__class__
        if cls is ScalarEvent:
            mark = event.start_mark
            entry = (mark.line, mark.column, None)
            tag = event.tag if event.tag is not None and event.tag != "!" else _UNTAGGED
            info = (tag, event.value, event.style)
            if event.anchor is not None:
                _anchor(anchors, event, entry, info)
        elif cls is AliasEvent:
            try:
                entry, info = anchors[event.anchor]
            except KeyError:
                raise DocumentError(f"found undefined alias {event.anchor!r}") from None
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            mark = event.start_mark
            children: Any = {} if cls is MappingStartEvent else []
            entry = (mark.line, mark.column, children)
            if event.anchor is not None:
                _anchor(anchors, event, entry, None)
            stack.append([children, entry, _NO_KEY, 0, 0])
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            entry = stack.pop()[1]
            info = None
        elif event is None or cls is StreamEndEvent:
            raise IndexError("document ended early")
        else:
            continue
        if not stack:
            return entry
        frame = stack[-1]
        children = frame[0]
        if children.__class__ is list:
            children.append(entry)
        elif frame[2] is _NO_KEY:  # this node is a key
            if info is None:
                frame[2] = _SKIP
            else:
                try:
                    frame[2] = goyaml.key_of(ScalarNode(info[0], info[1], None, None, info[2]))
                except DocumentError:
                    frame[2] = _SKIP
            frame[3], frame[4] = entry[0], entry[1]
        else:  # this node is the value of frame[2]
            key = frame[2]
            frame[2] = _NO_KEY
            if key is goyaml.MERGE:  # same order of precedence as the loader
                value = entry[2]
                sources = reversed(value) if value.__class__ is list else [entry]
                for source in sources:
                    merged = source[2] if value.__class__ is list else value
                    if isinstance(merged, dict):
                        children.update(merged)
            elif key is not _SKIP:
                children[key] = (frame[3], frame[4], entry[2])


class _Untagged:
    """The tag of a scalar without an explicit one (not a str: see goyaml._is_tagged)."""


_UNTAGGED = _Untagged()


def _anchor(anchors: dict, event, entry: Entry, info) -> None:
    if event.anchor in anchors:
        raise DocumentError(f"found duplicate anchor {event.anchor!r}")
    anchors[event.anchor] = (entry, info)


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
