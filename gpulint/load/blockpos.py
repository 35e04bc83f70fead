"""Positions in block-style YAML found from its lines: the fast path of gpulint.load.positions.

Reading libyaml's event stream costs a Python call per node of the whole document (about 3 us a line),
and a finding needs a few paths. Block-style YAML shows its structure in its indentation, so this module
reads only the collections a path goes through, each once, when a path first goes into it: the entries of
a block collection whose entries stand at column m are the lines after its first one that are indented
exactly m, up to the first line indented less. A byte per line holding its indentation lets bytes methods
find them in C, skipping every line indented more; plain keys seen before are known by their text.

That rule holds for a document that libyaml has read without error (positions are only asked for such
documents), with two exceptions, which line_tree() rules out first: libyaml does not check the
indentation of the continuation lines of quoted scalars and of flow collections. Everything else that a
line indented more than m can hold belongs to an entry at m or deeper: block scalar content and the
continuation lines of plain scalars are indented more than the collection that holds them.

What the lines do not show with certainty on a path (anchors, aliases, tags, merge keys, explicit keys,
quoted keys with escapes, tabs in indentation, a flow collection that the path goes into) makes it give
up on that path (Unsure, or FLOW as children), and the caller reads the events.
"""

from __future__ import annotations

import re
from operator import sub
from typing import Any, Optional

from yaml.nodes import ScalarNode

from gpulint.load import goyaml

# Entries are [line, column, children] (0-based): children are None (a scalar), FLOW (a flow collection,
# not read), a dict, a list, or not read yet: an int, the column just after the ':' for the value of a
# key, -1 for a node that starts at the entry's position (see read()).
FLOW = type("Flow", (), {"__repr__": lambda self: "FLOW", "__slots__": ()})()

_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_COLON = re.compile(r":(?=[ \t]|$)")  # a plain key ends at the first ':' followed by a blank
_BAD_KEY = re.compile(r"[#\t\"'\[\]{},]")  # a comment, a tab, flow indicators or quotes inside a plain key
# A plain key that needs no second look (no ':' inside), then its ':'; other keys go through _key_at
_KEY = re.compile(r"""([^\s\-?:,\[\]{}#&*!|>'"%@`][^\t#'"\[\]{},:]*+):(?= |$)""")
_AFTER_SCALAR = re.compile(r"[ \t]*(?:[ \t]#.*)?$")
_QUOTED = {'"': re.compile(r'"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"'), "'": re.compile(r"'[^'\n]*+(?:''[^'\n]*+)*+'")}

# A quoted scalar left open at the end of its line, where one can start: after indentation, a blank or a
# flow indicator (over-approximated: a quote inside a plain scalar or a comment may be taken for one; the
# events are read then). Each pattern starts with its quote, so that re looks for it as str.find does.
_BEFORE_TOKEN = " \t,:[{\n"
_OPEN_QUOTES = (re.compile(r'"(?<=[ \t,:\[{\n]")[^"\\\n]*+(?:\\.[^"\\\n]*+)*+\\?$', re.M),
                re.compile(r"'(?<=[ \t,:\[{\n]')[^'\n]*+(?:''[^'\n]*+)*+$", re.M))


def _flow_pattern(depth: int) -> str:
    """A flow collection on one line, nested at most `depth` deep (quotes only where a scalar starts)."""
    atom = (r"""[^\[\]{}\n"'#]++|(?<![ \t])#"""
            + r'|(?<=[\[{,: \t])"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"'
            + r"|(?<=[\[{,: \t])'[^'\n]*+(?:''[^'\n]*+)*+'")
    inner = atom
    for _ in range(depth):  # possessive throughout: what matched is never given back, no backtracking
        inner = rf"{atom}|\[(?:{inner})*+\]|\{{(?:{inner})*+\}}"
    return rf"\[(?:{inner})*+\]|\{{(?:{inner})*+\}}"


_FLOW = re.compile(_flow_pattern(4))
# The indicator of a block scalar at the end of a line (its header), and a comment before it
_HEADER = re.compile(r"(?:^|[ \t])[|>](?:[1-9][-+]?|[-+][1-9]?)?[ \t]*(?:[ \t]#.*)?$")
_COMMENT = re.compile(r"(?:^|[ \t])#")
_AT = [bytes((column,)) for column in range(256)]  # a line indented `column`, in Lines.code
_less: dict[int, bytes] = {}  # column -> translation table (see _end)
_keys: dict[str, Any] = {}  # plain key text -> key string, as goyaml.key_of gives it


class Unsure(Exception):
    """The lines do not tell this with certainty: read the events."""


class Lines:
    """A document as the scanner reads it: its lines, their indentation, its root entry.

    `code` has a byte per line, its indentation (blank and comment lines included), so that the lines of a
    collection are found by searching a short bytes object (in C) instead of the text.
    """

    __slots__ = ("lines", "code", "root")

    def __init__(self, lines: list[str], code: bytes, root: list) -> None:
        self.lines, self.code, self.root = lines, code, root


def line_tree(text: str) -> Optional[Lines]:
    """The scanner's view of the document `text`, or None when the events must be read for it."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None  # a line break that str.split does not see
    is_ascii = text.isascii()
    if not is_ascii and ("\x85" in text or "\u2028" in text or "\u2029" in text or "\ufeff" in text):
        return None  # line breaks that libyaml counts and str.split does not, a BOM
    if text.startswith(("%", "---", "...")):
        return None  # directives, or a document marker with something after it
    lines = text.split("\n")
    try:
        if is_ascii and "\t" not in text:  # then str.lstrip() strips only spaces: cheaper
            code = bytes(map(sub, map(len, lines), map(len, map(str.lstrip, lines))))
        else:
            code = bytes([len(line) - len(line.lstrip(" ")) for line in lines])
    except ValueError:  # a line indented 256 or more
        return None
    if text[:1] in ("'", '"') and _QUOTED[text[0]].match(text) is None:
        return None
    if not _closed_on_their_lines(text, lines, code):
        return None
    doc = Lines(lines, code, [])
    first = _next_content(doc, -1)
    if first < 0:
        return None
    column = code[first]
    line = lines[first]
    char = line[column]
    if char in _INDICATORS and char not in "-\"'" or char == "-" and line[column + 1:column + 2] not in ("", " "):
        return None  # a flow document, or one that starts with an anchor, a tag or another indicator
    doc.root[:] = [first, column, -1]
    return doc


def _closed_on_their_lines(text: str, lines: list, code: bytes) -> bool:
    """Whether every quoted scalar and flow collection of `text` ends on the line where it starts.

    Where one can start, a quote that its line leaves open or a bracket that does not close on its line
    is suspect, unless it is inside the content of a block scalar (a script, JSON in an annotation). The
    first real one in a document is never taken for content, since nothing before it can hide it: a
    line above that looks like a block scalar header is one, or is inside a scalar that goes on over
    the suspect's line too (see _block_scalar_end).
    """
    for pattern, quote in zip(_OPEN_QUOTES, "\"'"):
        at = 0 if quote in text else -1
        while at >= 0:
            match = pattern.search(text, at)
            if match is None:
                break
            at = match.start() + 1
            if _opens_a_node(text, match.start()):
                at = _skip_block_scalar(text, lines, code, match.start())
                if at < 0:
                    return False
    for bracket in "[{":
        at = text.find(bracket)
        while at >= 0:
            if ((at == 0 or text[at - 1] in _BEFORE_TOKEN) and _FLOW.match(text, at) is None
                    and _opens_a_node(text, at)):
                at = _skip_block_scalar(text, lines, code, at)
                if at < 0:
                    return False
            at = text.find(bracket, at + 1)
    return True


def _opens_a_node(text: str, at: int) -> bool:
    """Whether a node may start at `at`: after indentation, an indicator, or an anchor or a tag."""
    before = at - 1
    while before >= 0 and text[before] in " \t":
        before -= 1
    if before < 0 or text[before] in "\n:?-,[{":
        return True
    start = max(text.rfind(" ", 0, before), text.rfind("\t", 0, before), text.rfind("\n", 0, before)) + 1
    return text[start] in "&!"


def _skip_block_scalar(text: str, lines: list, code: bytes, at: int) -> int:
    """The offset after the content of the block scalar that holds offset `at`, or -1 when none does."""
    number = text.count("\n", 0, at)
    end = _block_scalar_end(lines, code, number)
    if end < 0:
        return -1
    return sum(map(len, lines[:end])) + end - 1  # the \n before line `end`


def _block_scalar_end(lines: list, code: bytes, number: int) -> int:
    """The line after the content of the block scalar that holds line `number`, or -1 when none does.

    A line above whose text ends with a block scalar indicator, with every line in between (and line
    `number`) indented more than the collection that holds that indicator's node, holds line `number`
    in its content; or, when it is no header, it is inside a scalar that goes on over those lines: the
    content of a block scalar, a plain scalar's continuation lines (what follows them indented more
    belongs to them), or a quoted scalar or flow collection that began above, which is suspect itself.
    """
    lowest = code[number]
    for above in range(number - 1, -1, -1):
        line, indent = lines[above], code[above]
        if indent >= len(line):
            continue  # blank
        header = None if line.startswith("#", indent) else _HEADER.search(line, indent)
        if header is not None and not _COMMENT.search(line, indent, header.start() + 1):
            owner = column = indent  # the column of the collection that holds the block scalar
            while line.startswith("-", column) and line[column + 1:column + 2] in ("", " ", "\t"):
                owner = column
                column += 1
                while line.startswith((" ", "\t"), column):
                    column += 1
            if column <= header.start():
                owner = column  # a key: the header is its value
            if owner < lowest:
                for after in range(number + 1, len(lines)):
                    if code[after] <= owner and code[after] < len(lines[after]):
                        return after
                return len(lines)
        lowest = min(lowest, indent)
        if not lowest:
            return -1
    return -1


def _next_content(doc: Lines, line: int) -> int:
    """The first line after `line` that is neither blank nor a comment, or -1."""
    lines, code = doc.lines, doc.code
    for number in range(line + 1, len(lines)):
        column = code[number]
        text = lines[number]
        if column < len(text) and text[column] != "#":
            return number
    return -1


def walk(doc: Lines, path: tuple) -> Optional[list]:
    """The entry of the deepest node along `path` (as positions walks an event tree), or None when the
    path goes into a flow collection; Unsure when the lines cannot tell."""
    entry = doc.root
    for step in path:
        children = entry[2]
        if children.__class__ is int:
            children = entry[2] = read(doc, entry)
        if children.__class__ is dict:
            found = children.get(step if step.__class__ is str or isinstance(step, str) else str(step))
        elif children.__class__ is list:
            if not isinstance(step, int) or not 0 <= step < len(children):
                break
            found = children[step]
        elif children is FLOW:
            return None
        else:
            break
        if found is None:
            break
        entry = found
    return entry


def read(doc: Lines, entry: list) -> Any:
    """The children of an entry whose children are not read yet (Unsure when the lines cannot tell)."""
    number, column, after = entry
    if after < 0:
        return _node(doc, number, column)
    lines = doc.lines
    line = lines[number]
    if after < len(line):
        rest = line[after:].lstrip(" ")
        if rest and rest[0] != "#":  # on the key's line: a scalar or a flow collection
            children = _node(doc, number, len(line) - len(rest))
            if (children.__class__ is dict or children.__class__ is list) and rest[0] not in "[{":
                raise Unsure  # a block collection cannot start there
            return children
    following = number + 1
    if following == len(lines):
        return None
    indent = doc.code[following]
    line = lines[following]
    if indent >= len(line) or line[indent] == "#":  # a blank line or a comment: look further
        following = _next_content(doc, following)
        if following < 0:
            return None
        indent = doc.code[following]
        line = lines[following]
    if indent > column:
        return _node(doc, following, indent)
    if indent == column and (line.startswith("- ", indent) or line.endswith("-") and len(line) == indent + 1):
        return _list(doc, following, indent)  # a list at its key's indentation
    return None


def _node(doc: Lines, number: int, column: int) -> Any:
    """The children of the node at `column` of line `number`."""
    line = doc.lines[number]
    colon = line.find(": ", column)
    if colon < 0 and line.endswith(":"):
        colon = len(line) - 1
    if colon > column:
        key = _keys.get(line[column:colon])
        if key is not None:  # a plain key seen before (see _plain_key)
            return _mapping(doc, number, column, key, colon + 1)
    match = _KEY.match(line, column)
    if match is not None:
        return _mapping(doc, number, column, _plain_key(match[1]), match.end())
    char = line[column]
    if char == "-" and (column + 1 == len(line) or line[column + 1] == " "):
        return _list(doc, number, column)
    if char == "[" or char == "{":
        flow = _FLOW.match(line, column)
        if flow is None or not _AFTER_SCALAR.match(line, flow.end()):
            raise Unsure  # a flow collection used as a key, or text after it
        if flow.end() == column + 2:  # {} or []: nothing to read
            return {} if char == "{" else []
        return FLOW
    if char == "|" or char == ">":
        return None
    if char == "\t" or (char in _INDICATORS and char not in "\"'" and (char != "-" or line[column + 1] in " \t")):
        raise Unsure  # anchor, alias, tag, explicit key, reserved character
    key = _key_at(line, column)
    return None if key is None else _mapping(doc, number, column, key[0], key[1])


def _end(doc: Lines, number: int, column: int) -> int:
    """The first line after `number` indented less than `column` (blank lines and comments aside)."""
    if not column:
        return len(doc.code)
    less = _less.get(column)
    if less is None:  # a translation of Lines.code that makes the lines indented less than `column` zeros
        less = _less[column] = bytes(0 if indent < column else 1 for indent in range(256))
    marks, lines, code = doc.code.translate(less), doc.lines, doc.code
    at = marks.find(0, number + 1)  # bytes.translate and bytes.find beat a regex for a set of bytes
    while at >= 0:
        line = lines[at]
        if code[at] < len(line) and line[code[at]] != "#":
            return at
        at = marks.find(0, at + 1)
    return len(code)


def _mapping(doc: Lines, number: int, column: int, key: Any, after: int) -> dict:
    """The entries of the block mapping whose first key (`key`, its ':' ending at `after`) is at `column`
    of line `number`: the lines indented `column` up to the first one indented less."""
    lines = doc.lines
    children = {key: [number, column, after]}
    end = _end(doc, number, column)
    known = _keys.get
    at = number
    for gap in doc.code[number + 1:end].split(_AT[column])[:-1]:  # splitting finds the lines fastest
        at += len(gap) + 1
        line = lines[at]
        colon = line.find(": ", column)
        if colon < 0 and line.endswith(":"):
            colon = len(line) - 1
        key = known(line[column:colon]) if colon > column else None
        if key is not None:  # a plain key seen before (_keys holds only those; see _plain_key)
            children[key] = [at, column, colon + 1]  # duplicate keys: the last one wins, as in the events
            continue
        if line.startswith("- ", column):  # an item of a list at its key's indentation, inside this mapping
            continue
        match = _KEY.match(line, column)
        if match is not None:
            children[_plain_key(match[1])] = [at, column, match.end()]
            continue
        char = line[column:column + 1]
        if char and char != "#" and not (char == "-" and len(line) == column + 1):  # blank, comment, item aside
            if char == "\t" or (not column and line.startswith(("---", "...")) and line[3:4] in ("", " ", "\t")):
                raise Unsure
            found = _key_at(line, column)
            if found is None:
                raise Unsure
            children[found[0]] = [at, column, found[1]]
    return children


def _list(doc: Lines, number: int, column: int) -> list:
    """The items of the block list whose first '-' is at `column` of line `number`: the lines indented
    `column` that start with '-', up to the first line indented less or another line indented `column`."""
    lines = doc.lines
    children: list = []
    _item(doc, children, number, column)
    end = _end(doc, number, column)
    at = number
    for gap in doc.code[number + 1:end].split(_AT[column])[:-1]:
        at += len(gap) + 1
        line = lines[at]
        if line.startswith("- ", column) or len(line) == column + 1 and line.endswith("-"):
            _item(doc, children, at, column)
            continue
        char = line[column:column + 1]
        if char and char != "#":  # neither blank nor a comment
            if char == "\t" or line.startswith("-\t", column) or (not column and line.startswith(("---", "..."))):
                raise Unsure
            break  # a key after a list at its key's indentation
    return children


def _item(doc: Lines, children: list, number: int, column: int) -> None:
    """Adds the list item whose '-' is at `column` of line `number`."""
    line = doc.lines[number]
    node = column + 1
    if line.startswith(" ", node):
        node = len(line) - len(line[node:].lstrip(" "))
    if node < len(line) and line[node] != "#":
        if line[node] in "&*!?\t":
            raise Unsure  # an anchor or a tag moves the item's start, an alias is another node
        children.append([number, node, -1])
        return
    following = _next_content(doc, number)  # the item is on the next lines, or is a null
    indent = doc.code[following] if following >= 0 else -1
    if indent > column:
        if doc.lines[following][indent] == "\t":
            raise Unsure
        children.append([following, indent, -1])
    else:
        children.append([number, column + 1, None])  # libyaml puts an empty item right after its '-'


def _plain_key(text: str) -> Any:
    """The key string of a plain key, spaces before its ':' included (the callers look in _keys first).

    Only texts that _KEY or _key_at read as a whole plain key get here, so a text found in _keys is one:
    its line's first ': ' (or its final ':') ends it."""
    key = goyaml.key_of(ScalarNode(None, text.rstrip(" "), None, None, ""))
    if key is goyaml.MERGE:
        raise Unsure  # merged keys change the mapping: never in _keys
    if len(_keys) > 10_000:
        _keys.clear()
    _keys[text] = key
    return key


def _key_at(line: str, column: int) -> Optional[tuple[Any, int]]:
    """(key, offset after its ':') when a mapping key starts at line[column]; None for a scalar."""
    first = line[column]
    if first == '"' or first == "'":
        match = _QUOTED[first].match(line, column)
        if match is None:
            raise Unsure
        after = match.end()
        while after < len(line) and line[after] == " ":
            after += 1
        if after == len(line) or line[after] != ":":
            return None
        if after + 1 < len(line) and line[after + 1] != " ":
            raise Unsure  # a tab, or text right after the ':'
        body = line[column + 1:match.end() - 1]
        if first == '"':
            if "\\" in body:
                raise Unsure
            return body, after + 1
        return body.replace("''", "'"), after + 1
    match = _COLON.search(line, column)
    if match is None:
        return None
    colon = match.start()
    segment = line[column:colon]
    if first in _INDICATORS or _BAD_KEY.search(segment) or line.startswith("\t", colon + 1):
        raise Unsure
    segment = segment.rstrip(" ")
    return _keys.get(segment) or _plain_key(segment), colon + 1
