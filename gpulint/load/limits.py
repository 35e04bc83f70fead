"""Limits of the load stage and the cheap checks that enforce them before anything expensive runs.

Inputs are untrusted: a file may be huge, nest collections deeply enough to overflow a C stack, or use
YAML aliases to expand a few lines into billions of nodes ("billion laughs"). Each is refused with a
one-line error instead.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

MAX_FILE_BYTES = 100 * 1024 * 1024  # larger inputs are refused without being read
MAX_DEPTH = 500  # collections nested deeper than this are refused (the document's root is level 1)
MAX_ALIAS_NODES = 100_000  # a document whose aliases expand to more nodes than this is refused


class DocumentError(Exception):
    """A document that cannot be loaded; ``line``/``column`` are 0-based, relative to the parsed text."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.context: tuple[str, int, int] | None = None  # ("while scanning ...", line, column)

    def render(self, line_offset: int = 0) -> str:
        """The message, with the context's position shifted by `line_offset` lines."""
        if self.context is None:
            return self.message
        what, line, column = self.context
        return f"{self.message} ({what} at line {line + line_offset + 1}, column {column + 1})"


def depth_error(line: int = 0, column: int = 0) -> DocumentError:
    return DocumentError(f"nesting deeper than {MAX_DEPTH} levels", line, column)


_DEEP_LINE = re.compile(r"\n[ \t?:-]{%d}" % (MAX_DEPTH // 4))
_DEEP_LINE_ANY_BREAK = re.compile(r"(?:^|[\n\r\x85\u2028\u2029])[ \t?:-]{%d}" % (MAX_DEPTH // 4))
_ALIAS = re.compile(r"[\s\[{,]\*[^\s\[\]{},]|^\*", re.M)


def may_be_deep(text: str) -> bool:
    """False when `text` cannot nest collections deeper than MAX_DEPTH (a cheap, conservative test).

    Each flow level needs a `[` or `{`. Block levels need indentation: columns of nested block
    collections grow at least every second level, and what precedes a block collection on its line is
    only spaces and the indicators `-`, `?`, `:`. So more than MAX_DEPTH levels need more than
    MAX_DEPTH/2 brackets, or a line starting with MAX_DEPTH/4 such characters.
    """
    if text.count("[") + text.count("{") > MAX_DEPTH // 2:
        return True
    rare_breaks = ("\r" in text and text.count("\r") != text.count("\r\n")) or (
        "\x85" in text or "\u2028" in text or "\u2029" in text
    )
    pattern = _DEEP_LINE_ANY_BREAK if rare_breaks else _DEEP_LINE
    return pattern.search("\n" + text[: MAX_DEPTH // 4]) is not None or pattern.search(text) is not None


def may_have_aliases(text: str) -> bool:
    return "&" in text and "*" in text and _ALIAS.search(text) is not None


def _children(node: Any) -> list:
    if node.__class__ is MappingNode:
        return [child for pair in node.value for child in pair]
    if node.__class__ is SequenceNode:
        return node.value
    return []


def check_expansion(root: Any) -> None:
    """Refuse alias bombs, recursive aliases and alias-built nesting; linear in the composed tree.

    A subtree's expanded size can exceed the number of distinct nodes seen so far only through aliases,
    so a large document without aliases is never refused.
    """
    done: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded node count, depth)
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            size, depth = 1, 0
            for child in _children(node):
                child_size, child_depth = done[id(child)]
                size += child_size
                depth = max(depth, child_depth)
            if node.__class__ is not ScalarNode:
                depth += 1
            mark = node.start_mark
            if size > MAX_ALIAS_NODES + len(done) + 1:
                raise DocumentError(f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes (alias bomb?)",
                                    mark.line, mark.column)
            if depth > MAX_DEPTH:
                raise depth_error(mark.line, mark.column)
            done[key] = (size, depth)
            active.discard(key)
        elif key in active:
            mark = node.start_mark
            raise DocumentError("a YAML alias refers to a node that contains it (recursive alias)",
                                mark.line, mark.column)
        elif key not in done:
            active.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in done)
