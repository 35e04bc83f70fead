"""A small CEL parser used only for source-to-source rewriting.

cel-expr-python compiles the final text; this module exists because several
Kyverno/Kubernetes behaviours cannot be declared to the C++ runtime (orValue
compat, list ``indexOf``, lazily typed ``variables``, optional-returning
library functions ...). Rewriting the AST and printing it back is the only
hook we have. Literals keep their raw source text so printing never changes
their meaning; every composite node is printed fully parenthesised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from .errors import CelCompileError

__all__ = [
    "Node", "Lit", "Ident", "Select", "Index", "Call", "Unary", "Binary", "Cond",
    "ListLit", "MapLit", "MsgLit", "parse", "emit", "walk", "MACROS",
]


# --------------------------------------------------------------------------- AST

@dataclass(eq=False)
class Node:
    pass


@dataclass(eq=False)
class Lit(Node):
    kind: str          # int uint double string bytes bool null
    raw: str           # exact source text
    value: object = None


@dataclass(eq=False)
class Ident(Node):
    name: str
    leading_dot: bool = False


@dataclass(eq=False)
class Select(Node):
    operand: Node
    field: str
    optional: bool = False


@dataclass(eq=False)
class Index(Node):
    operand: Node
    index: Node
    optional: bool = False


@dataclass(eq=False)
class Call(Node):
    fn: str
    args: list
    target: Node | None = None


@dataclass(eq=False)
class Unary(Node):
    op: str
    operand: Node


@dataclass(eq=False)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(eq=False)
class Cond(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(eq=False)
class ListLit(Node):
    elems: list = field(default_factory=list)        # [(node, optional)]


@dataclass(eq=False)
class MapLit(Node):
    entries: list = field(default_factory=list)      # [(key, value, optional)]


@dataclass(eq=False)
class MsgLit(Node):
    name: str
    fields: list = field(default_factory=list)       # [(name, value, optional)]


# Macros whose first argument(s) bind identifiers: name -> number of bound idents
# (for member macros the receiver is the range).
MACROS = {
    "all": 1, "exists": 1, "exists_one": 1, "existsOne": 1, "map": 1, "filter": 1,
    "sortBy": 1, "transformList": 2, "transformMap": 2, "transformMapEntry": 2,
    "optMap": 1, "optFlatMap": 1,
}


def children(n: Node) -> Iterator[Node]:
    if isinstance(n, Select):
        yield n.operand
    elif isinstance(n, Index):
        yield n.operand
        yield n.index
    elif isinstance(n, Call):
        if n.target is not None:
            yield n.target
        yield from n.args
    elif isinstance(n, Unary):
        yield n.operand
    elif isinstance(n, Binary):
        yield n.left
        yield n.right
    elif isinstance(n, Cond):
        yield n.cond
        yield n.then
        yield n.other
    elif isinstance(n, ListLit):
        for e, _ in n.elems:
            yield e
    elif isinstance(n, MapLit):
        for k, v, _ in n.entries:
            yield k
            yield v
    elif isinstance(n, MsgLit):
        for _, v, _ in n.fields:
            yield v


def walk(n: Node) -> Iterator[Node]:
    stack = [n]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(list(children(cur))))


# ------------------------------------------------------------------------- lexer

_RESERVED = {"as", "break", "const", "continue", "else", "for", "function", "if",
             "import", "let", "loop", "package", "namespace", "return", "var",
             "void", "while"}

_TOKEN_RE = re.compile(r"""
  (?P<ws>[ \t\r\n\f]+|//[^\n]*)
| (?P<str>(?:[rR][bB]?|[bB][rR]?)?(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
| (?P<num>0[xX][0-9a-fA-F]+[uU]?|(?:[0-9]+\.[0-9]+|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|[0-9]+[uU]?)
| (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
| (?P<op>\|\||&&|==|!=|<=|>=|\.\?|\[\?|[-+*/%!<>?:.,()\[\]{}])
""", re.VERBOSE | re.DOTALL)


@dataclass
class Tok:
    kind: str
    text: str
    pos: int


def _tokenize(src: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    n = len(src)
    while pos < n:
        m = _TOKEN_RE.match(src, pos)
        if not m:
            raise CelCompileError(f"Syntax error: token recognition error at: '{src[pos]}' (column {pos + 1})")
        kind = m.lastgroup
        text = m.group(kind)
        if kind != "ws":
            # raw-ident/prefixed strings: `r'..'` starts like an identifier `r`
            toks.append(Tok(kind, text, pos))
        pos = m.end()
    toks.append(Tok("eof", "", n))
    return toks


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}


def _unescape(body: str, is_bytes: bool) -> str | bytes:
    out: list = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c.encode() if is_bytes else c)
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise CelCompileError("Syntax error: invalid escape sequence at end of string")
        e = body[i]
        if e in _ESCAPES:
            ch = _ESCAPES[e]
            out.append(ch.encode() if is_bytes else ch)
            i += 1
        elif e in "xX":
            code = int(body[i + 1:i + 3], 16)
            out.append(bytes([code]) if is_bytes else chr(code))
            i += 3
        elif e in "uU":
            width = 4 if e == "u" else 8
            code = int(body[i + 1:i + 1 + width], 16)
            if is_bytes:
                raise CelCompileError("Syntax error: unicode escape in bytes literal")
            out.append(chr(code))
            i += 1 + width
        elif e in "01234567":
            code = int(body[i:i + 3], 8)
            out.append(bytes([code]) if is_bytes else chr(code))
            i += 3
        else:
            raise CelCompileError(f"Syntax error: invalid escape sequence '\\{e}'")
    if is_bytes:
        return b"".join(out)
    return "".join(out)


def _string_value(raw: str) -> tuple[str, object]:
    i = 0
    raw_flag = is_bytes = False
    while raw[i] not in "'\"":
        if raw[i] in "rR":
            raw_flag = True
        else:
            is_bytes = True
        i += 1
    body = raw[i:]
    q = 3 if body[:3] in ('"""', "'''") else 1
    inner = body[q:-q]
    kind = "bytes" if is_bytes else "string"
    if raw_flag:
        return kind, inner.encode() if is_bytes else inner
    try:
        return kind, _unescape(inner, is_bytes)
    except (ValueError, IndexError):
        raise CelCompileError(f"Syntax error: invalid escape sequence in {raw}") from None


# ------------------------------------------------------------------------ parser

class _Parser:
    def __init__(self, src: str):
        self.src = src
        self.toks = _tokenize(src)
        self.i = 0

    def peek(self, k: int = 0) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def accept(self, text: str) -> bool:
        t = self.peek()
        if t.kind == "op" and t.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> Tok:
        t = self.peek()
        if t.kind == "op" and t.text == text:
            self.i += 1
            return t
        self.fail(t, f"expecting '{text}'")

    def fail(self, t: Tok, why: str = ""):
        near = t.text or "<EOF>"
        col = t.pos + 1
        msg = f"Syntax error: mismatched input '{near}' at column {col}"
        if why:
            msg += f", {why}"
        raise CelCompileError(msg)

    def parse(self) -> Node:
        if self.peek().kind == "eof":
            raise CelCompileError("Syntax error: empty expression")
        n = self.expr()
        if self.peek().kind != "eof":
            self.fail(self.peek(), "expecting <EOF>")
        return n

    def expr(self) -> Node:
        c = self.binary(0)
        if self.accept("?"):
            a = self.binary(0)
            self.expect(":")
            b = self.expr()
            return Cond(c, a, b)
        return c

    _LEVELS = [("||",), ("&&",), ("<", "<=", ">", ">=", "==", "!=", "in"), ("+", "-"), ("*", "/", "%")]

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        ops = self._LEVELS[level]
        while True:
            t = self.peek()
            if (t.kind == "op" or (t.kind == "ident" and t.text == "in")) and t.text in ops:
                self.i += 1
                right = self.binary(level + 1)
                left = Binary(t.text, left, right)
            else:
                return left

    def unary(self) -> Node:
        t = self.peek()
        if t.kind == "op" and t.text in ("!", "-"):
            self.i += 1
            operand = self.unary()
            return Unary(t.text, operand)
        return self.member(self.primary())

    def member(self, n: Node) -> Node:
        while True:
            t = self.peek()
            if t.kind != "op":
                return n
            if t.text in (".", ".?"):
                self.i += 1
                name = self.next()
                if name.kind != "ident":
                    self.fail(name, "expecting IDENTIFIER")
                if t.text == "." and self.accept("("):
                    n = Call(name.text, self.exprlist(")"), target=n)
                else:
                    n = Select(n, name.text, optional=t.text == ".?")
            elif t.text in ("[", "[?"):
                self.i += 1
                idx = self.expr()
                self.expect("]")
                n = Index(n, idx, optional=t.text == "[?")
            else:
                return n

    def exprlist(self, close: str) -> list:
        items = []
        if self.accept(close):
            return items
        while True:
            items.append(self.expr())
            if self.accept(close):
                return items
            self.expect(",")

    def primary(self) -> Node:
        t = self.next()
        if t.kind == "num":
            return self.number(t)
        if t.kind == "str":
            kind, value = _string_value(t.text)
            return Lit(kind, t.text, value)
        if t.kind == "ident" or (t.kind == "op" and t.text == "."):
            leading = t.text == "."
            if leading:
                t = self.next()
                if t.kind != "ident":
                    self.fail(t, "expecting IDENTIFIER")
            name = t.text
            if not leading and name in ("true", "false"):
                return Lit("bool", name, name == "true")
            if not leading and name == "null":
                return Lit("null", name, None)
            if name in _RESERVED or name == "in":
                self.fail(t, f"reserved identifier: {name}")
            if self.accept("("):
                return Call(("." if leading else "") + name, self.exprlist(")"))
            # Message construction: a.b.C{...}
            if self.peek().kind == "op" and self.peek().text == "{" and self._is_msg_name():
                return self.message(name, leading)
            return Ident(name, leading)
        if t.kind == "op":
            if t.text == "(":
                e = self.expr()
                self.expect(")")
                return e
            if t.text == "[":
                return self.list_lit()
            if t.text == "[?":                      # `[?x, ...]`: the lexer glued '[' and '?'
                self.i -= 1
                self.toks[self.i] = Tok("op", "?", t.pos + 1)
                return self.list_lit()
            if t.text == "{":
                return self.map_lit()
        self.fail(t, "expecting an expression")

    def _is_msg_name(self) -> bool:
        # Only uppercase-initial names are treated as message construction: CEL
        # policies never build messages, and `x{` is otherwise a syntax error.
        prev = self.toks[self.i - 1]
        return prev.text[:1].isupper()

    def message(self, name: str, leading: bool) -> Node:
        self.expect("{")
        fields = []
        while not self.accept("}"):
            opt = self.accept("?")
            f = self.next()
            if f.kind != "ident":
                self.fail(f, "expecting IDENTIFIER")
            self.expect(":")
            fields.append((f.text, self.expr(), opt))
            if not self.accept(","):
                self.expect("}")
                break
        return MsgLit(("." if leading else "") + name, fields)

    def list_lit(self) -> Node:
        elems = []
        while not self.accept("]"):
            opt = self.accept("?")
            elems.append((self.expr(), opt))
            if not self.accept(","):
                self.expect("]")
                break
        return ListLit(elems)

    def map_lit(self) -> Node:
        entries = []
        while not self.accept("}"):
            opt = self.accept("?")
            k = self.expr()
            self.expect(":")
            v = self.expr()
            entries.append((k, v, opt))
            if not self.accept(","):
                self.expect("}")
                break
        return MapLit(entries)

    def number(self, t: Tok) -> Lit:
        s = t.text
        if s[-1] in "uU":
            return Lit("uint", s, int(s[:-1], 0))
        if s[:2] in ("0x", "0X"):
            return Lit("int", s, int(s, 16))
        if any(c in s for c in ".eE"):
            return Lit("double", s, float(s))
        return Lit("int", s, int(s))


def parse(src: str) -> Node:
    """Parse CEL source into the rewriting AST (raises CelCompileError)."""
    return _Parser(src).parse()


# ----------------------------------------------------------------------- printer

def _atomic(n: Node) -> bool:
    return isinstance(n, (Lit, Ident, Select, Index, Call, ListLit, MapLit, MsgLit))


def emit(n: Node) -> str:
    """Print an AST back to CEL source; composite operands are parenthesised."""
    if isinstance(n, Lit):
        return n.raw
    if isinstance(n, Ident):
        return ("." if n.leading_dot else "") + n.name
    if isinstance(n, Select):
        return f"{_operand(n.operand)}{'.?' if n.optional else '.'}{n.field}"
    if isinstance(n, Index):
        return f"{_operand(n.operand)}[{'?' if n.optional else ''}{emit(n.index)}]"
    if isinstance(n, Call):
        args = ", ".join(emit(a) for a in n.args)
        if n.target is not None:
            return f"{_operand(n.target)}.{n.fn}({args})"
        return f"{n.fn}({args})"
    if isinstance(n, Unary):
        return f"{n.op}{_operand(n.operand)}"
    if isinstance(n, Binary):
        return f"{_operand(n.left)} {n.op} {_operand(n.right)}"
    if isinstance(n, Cond):
        return f"{_operand(n.cond)} ? {_operand(n.then)} : {_operand(n.other)}"
    if isinstance(n, ListLit):
        return "[" + ", ".join(("?" if o else "") + emit(e) for e, o in n.elems) + "]"
    if isinstance(n, MapLit):
        return "{" + ", ".join(f"{'?' if o else ''}{emit(k)}: {emit(v)}" for k, v, o in n.entries) + "}"
    if isinstance(n, MsgLit):
        return n.name + "{" + ", ".join(f"{'?' if o else ''}{f}: {emit(v)}" for f, v, o in n.fields) + "}"
    raise TypeError(n)


def _operand(n: Node) -> str:
    s = emit(n)
    # Negative numeric literals print as unary minus; keep them grouped too.
    return s if _atomic(n) else f"({s})"
