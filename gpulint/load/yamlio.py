"""Fast YAML parsing: libyaml builds node trees, gpulint.load.goyaml turns them into Python data.

PyYAML's own resolver and constructor are not used: calling the Python resolver from C for every
scalar and then running the generic constructor costs 2-3 times the parse itself (10,000 generated
resources: about 6.7 s with yaml.load_all and CSafeLoader, about 3 s this way; see
bench/load_speed.py). The pure-Python parser is used only when PyYAML was built without libyaml.
"""

from __future__ import annotations

from typing import Any

import yaml

from gpulint.load.goyaml import to_python
from gpulint.load.limits import MAX_DEPTH, DocumentError, check_expansion, depth_error, may_be_deep, may_have_aliases

try:
    from yaml.cyaml import CParser as _ParserBase

    HAS_LIBYAML = True
except ImportError:  # PyYAML without libyaml: slower, same results
    HAS_LIBYAML = False
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _ParserBase(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

        def dispose(self) -> None:
            Parser.dispose(self)


class NodeParser(_ParserBase):
    """libyaml parser + composer that leaves tag resolution to gpulint.load.goyaml.

    The composer calls ``resolve`` for every untagged node and ``descend_resolver``/``ascend_resolver``
    around every node. They are set to C builtins that accept the same arguments and do nothing useful,
    which avoids a Python call per node: an untagged node's ``tag`` is then a ``slice`` object, an
    explicitly tagged one has its full tag as a ``str`` (see gpulint.load.goyaml).
    """

    resolve = staticmethod(slice)
    descend_resolver = staticmethod(slice)
    ascend_resolver = staticmethod(tuple)


def compose_yaml(text: str) -> list[Any]:
    """The node trees (with marks) of the documents of `text`."""
    parser = NodeParser(text)
    try:
        nodes = []
        while parser.check_node():
            nodes.append(parser.get_node())
        return nodes
    finally:
        parser.dispose()


def check_depth(text: str) -> None:
    """Exact nesting check on libyaml's event stream (iterative: no deep C recursion)."""
    parser = NodeParser(text)
    depth = 0
    try:
        while True:
            event = parser.get_event()
            cls = event.__class__
            if cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    raise depth_error(event.start_mark.line, event.start_mark.column)
            elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
                depth -= 1
            elif cls is yaml.StreamEndEvent:
                return
    except yaml.YAMLError:
        return  # the composer reports syntax errors, at the same place
    finally:
        parser.dispose()


def _offset_error(message: str, text: str, offset: int) -> DocumentError:
    before = text[:offset]
    line = before.count("\n")
    return DocumentError(message, line, offset - (before.rfind("\n") + 1))


def _text_at(text: str, line: int, column: int) -> str:
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
    end = text.find("\n", start)
    return text[start + column: end if end != -1 else len(text)] or " "


def _to_document_error(exc: Exception, text: str) -> DocumentError:
    """A one-line DocumentError from whatever PyYAML/libyaml raised while reading `text`."""
    if isinstance(exc, DocumentError):
        return exc
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line, mark.column) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        if "maximum nesting depth" in problem:
            return depth_error(line, column)
        if problem == "found character that cannot start any token":  # libyaml leaves out the character
            problem = f"found character {_text_at(text, line, column)[:1]!r} that cannot start any token"
        elif problem == "found undefined alias":
            problem += f" {_text_at(text, line, column).split()[0].rstrip(',]}')[1:]!r}"
        error = DocumentError(problem, line, column)
        context = exc.context_mark
        if exc.problem and exc.context and context and (context.line, context.column) != (line, column):
            error.context = (exc.context, context.line, context.column)
        return error
    if isinstance(exc, yaml.reader.ReaderError):
        offset = exc.position
        if HAS_LIBYAML:  # libyaml counts bytes of the UTF-8 text
            offset = len(text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore"))
        character = f" (character #x{exc.character:04x})" if isinstance(exc.character, int) else ""
        return _offset_error(f"{exc.reason}{character}", text, offset)
    if isinstance(exc, UnicodeEncodeError):
        return _offset_error("text contains an unpaired surrogate character", text, exc.start)
    if isinstance(exc, RecursionError):
        return depth_error()
    return DocumentError(f"cannot parse YAML: {exc}".splitlines()[0])


def parse_yaml(text: str, *, deep_check: bool = True, alias_check: bool = True) -> list[Any]:
    """The documents of `text` (normally one chunk holding one document) as Python data.

    Raises DocumentError. `deep_check`/`alias_check` may be passed False when the caller has already
    run may_be_deep()/may_have_aliases() on a larger text containing this one and they were False.
    """
    try:
        if deep_check and may_be_deep(text):
            check_depth(text)
        nodes = compose_yaml(text)
        if alias_check and may_have_aliases(text):
            for node in nodes:
                check_expansion(node)
        return [to_python(node) for node in nodes]
    except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line load error
        raise _to_document_error(exc, text) from None
