"""``string.matches(re)`` without compiling RE2 on every call.

cel-cpp compiles the RE2 pattern of ``matches`` on every evaluation (about 15 µs, even for a literal
pattern), and the built-in pack calls ``matches`` several hundred times per workload (``'^[0-9]+$'``
to read replica counts, node-shape tables ...). Expressions that compile with ``matches`` are also
compiled with ``__gpl_matches`` (see env.py); that call answers from a cache of compiled patterns:

* a pattern in a small, conservative subset of RE2 syntax is translated to an equivalent Python
  ``re`` pattern (``search`` = RE2 PartialMatch): literals, ``.``, ``^``/``$`` (start/end of text),
  groups and alternation, character classes of explicit characters and ranges, ``\\d \\w \\s`` (ASCII,
  as RE2), ``* + ? {n,m}`` and a leading ``(?i)`` (then only on ASCII text);
* Python's ``re`` backtracks where RE2 does not. Unbounded repetitions are accepted only on single
  characters, and the work of a match is bounded: at most ``paths x (n+1)^u`` steps per start
  position for text of length n, where u counts the unbounded repetitions and paths the ways through
  the alternatives and bounded repetitions. Each pattern gets the longest text for which that bound
  stays under ``MAX_STEPS``; longer text goes to RE2;
* anything else (other syntax, other flags, long text, non-ASCII text with ``(?i)``) is answered by
  RE2 itself, through a one-line CEL program, so the result and any error are exactly cel-cpp's.
"""

from __future__ import annotations

import re
from typing import Callable, Optional

from .errors import LibraryError

MAX_TEXT = 4096                # text longer than this always goes to RE2
MAX_STEPS = 200_000            # bound on Python's backtracking work for one call (see above)
MAX_PATTERN = 512
MAX_CACHE = 4096
_MAX_COUNT = 100               # {n,m} bounds (RE2 allows 1000)

_LITERAL_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-:/=@%,;'\"!#&~<>`")
_CLASS_LITERAL_OK = (_LITERAL_OK | set(".*+?(){}$")) - set("&~|-")
_ESCAPED_PUNCT = set(".-\\/+*?()[]{}|^$")
_CLASS_ESCAPES = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
_ESCAPES = {"d": "[0-9]", "D": "[^0-9]", "w": "[0-9A-Za-z_]", "W": "[^0-9A-Za-z_]",
            "s": "[\\t\\n\\f\\r ]", "S": "[^\\t\\n\\f\\r ]"}
_COUNT = re.compile(r"\{(\d{1,3})(,(\d{0,3}))?\}")


class _Untranslatable(Exception):
    pass


class _Translator:
    """Recursive descent over the accepted subset; emits a Python pattern and its cost (paths, u)."""

    def __init__(self, pattern: str):
        self.p = pattern
        self.i = 0

    @staticmethod
    def fail():
        raise _Untranslatable()

    def peek(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def alternation(self, depth: int) -> tuple[str, int, int, bool]:
        """(python text, paths, unbounded, anchored at the start)"""
        parts, paths, unbounded, anchored = [], 0, 0, True
        while True:
            text, n, u, a = self.sequence(depth)
            if not text:
                self.fail()  # empty branches: not worth the corner cases
            parts.append(text)
            paths, unbounded, anchored = paths + n, max(unbounded, u), anchored and a
            if paths > MAX_STEPS:
                self.fail()
            if self.peek() != "|":
                return "|".join(parts), paths, unbounded, anchored
            self.i += 1

    def sequence(self, depth: int) -> tuple[str, int, int, bool]:
        out, paths, unbounded = [], 1, 0
        anchored = self.peek() == "^"
        while self.i < len(self.p) and self.peek() not in "|)":
            atom, single, n, u = self.atom(depth)
            quant, lo, hi = self.quantifier()
            if hi is None:  # unbounded
                if not single:
                    self.fail()  # (ab)*, (a|aa)+ ...: exponential backtracking
                u += 1
            elif quant:
                n = sum(n ** k for k in range(lo, hi + 1))
                u *= hi
            paths *= n
            unbounded += u
            if paths > MAX_STEPS or unbounded > 8:
                self.fail()
            out.append(atom + quant)
        return "".join(out), paths, unbounded, anchored

    def quantifier(self) -> tuple[str, int, Optional[int]]:
        """(text, min, max): max None for an unbounded repetition; ("", 1, 1) for none."""
        c = self.peek()
        if c in ("*", "+"):
            self.i += 1
            q, lo, hi = c, (0 if c == "*" else 1), None
        elif c == "?":
            self.i += 1
            q, lo, hi = c, 0, 1
        elif c == "{":
            m = _COUNT.match(self.p, self.i)
            if not m:
                self.fail()
            lo, comma, top = int(m.group(1)), m.group(2), m.group(3)
            hi = None if comma and not top else int(top) if top else lo
            if lo > _MAX_COUNT or (hi is not None and (hi > _MAX_COUNT or hi < lo)):
                self.fail()
            self.i = m.end()
            q = m.group(0)
        else:
            return "", 1, 1
        if self.peek() == "?":  # lazy: the same answer to "is there a match"
            self.i += 1
            q += "?"
        if self.peek() in ("*", "+", "?", "{"):
            self.fail()
        return q, lo, hi

    def atom(self, depth: int) -> tuple[str, bool, int, int]:
        """(python text, is a single character, paths, unbounded)"""
        c = self.peek()
        if c == "(":
            if depth >= 4:
                self.fail()
            self.i += 1
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.peek() == "?":
                self.fail()  # flags, named groups ...
            text, paths, unbounded, _ = self.alternation(depth + 1)
            if self.peek() != ")":
                self.fail()
            self.i += 1
            return "(?:" + text + ")", False, paths, unbounded
        if c == "[":
            return self.char_class(), True, 1, 0
        if c == ".":
            self.i += 1
            return ".", True, 1, 0
        if c == "^":
            self.i += 1
            return "^", False, 1, 0
        if c == "$":
            self.i += 1
            return "\\Z", False, 1, 0
        if c == "\\":
            e = self.p[self.i + 1:self.i + 2]
            self.i += 2
            if e in _ESCAPES:
                return _ESCAPES[e], True, 1, 0
            if e and e in _ESCAPED_PUNCT:
                return re.escape(e), True, 1, 0
            self.fail()
        if c in _LITERAL_OK:
            self.i += 1
            return re.escape(c), True, 1, 0
        self.fail()

    def char_class(self) -> str:
        self.i += 1
        out = ["["]
        if self.peek() == "^":
            out.append("^")
            self.i += 1
        items = 0
        while True:
            c = self.peek()
            if c == "]" and items:
                self.i += 1
                break
            if c == "\\":
                e = self.p[self.i + 1:self.i + 2]
                self.i += 2
                if e in _CLASS_ESCAPES:
                    out.append(_CLASS_ESCAPES[e])
                elif e and e in _ESCAPED_PUNCT:
                    out.append("\\" + e)
                else:
                    self.fail()
            elif c == "-" and (items == 0 or self.p[self.i + 1:self.i + 2] == "]"):
                self.i += 1
                out.append("\\-")
            elif c and c in _CLASS_LITERAL_OK:
                self.i += 1
                if self.peek() == "-" and self.p[self.i + 1:self.i + 2] not in ("]", ""):
                    hi = self.p[self.i + 1]
                    same = (c.isdigit() and hi.isdigit()) or (c.islower() and hi.islower()) or \
                        (c.isupper() and hi.isupper())
                    if not same or hi < c:
                        self.fail()
                    out.append(c + "-" + hi)
                    self.i += 2
                else:
                    out.append(re.escape(c))
            else:
                self.fail()
            items += 1
        out.append("]")
        return "".join(out)


def translate(pattern: str) -> Optional[tuple[str, bool, int]]:
    """(python pattern, ignore case, longest text it may be used on), or None outside the subset."""
    if not pattern or len(pattern) > MAX_PATTERN or not pattern.isascii():
        return None
    ignore_case = pattern.startswith("(?i)")
    body = pattern[4:] if ignore_case else pattern
    t = _Translator(body)
    try:
        text, paths, unbounded, anchored = t.alternation(0)
    except (_Untranslatable, IndexError):
        return None
    if t.i != len(body):
        return None
    longest = 0
    while longest < MAX_TEXT:   # the longest text whose bound stays under MAX_STEPS
        n = min(MAX_TEXT, max(longest + 1, longest * 2))
        if paths * (n + 1) ** unbounded * (1 if anchored else n + 1) > MAX_STEPS:
            break
        longest = n
    while True:
        n = longest + 1
        if n > MAX_TEXT or paths * (n + 1) ** unbounded * (1 if anchored else n + 1) > MAX_STEPS:
            break
        longest = n
    return text, ignore_case, longest


class FastMatcher:
    """``__gpl_matches(text, pattern)``; ``native(text, pattern)`` runs cel-cpp's ``matches``.

    A pattern is translated on its ``WARM``-th use: compiling a Python pattern costs more than a few
    RE2 calls, and a one-file run uses most patterns once or twice.
    """

    WARM = 3

    def __init__(self, native: Callable[[str, str], bool]):
        self._native = native
        self._cache: dict[str, object] = {}  # pattern -> uses so far (int), or the translation (tuple or None)

    def _entry(self, pattern: str):
        if len(self._cache) >= MAX_CACHE:
            self._cache.clear()
        found = translate(pattern)
        entry = None
        if found is not None:
            text, ignore_case, longest = found
            try:
                compiled = re.compile(text, re.IGNORECASE if ignore_case else 0)
            except re.error:
                compiled = None
            if compiled is not None:
                entry = (compiled.search, ignore_case, longest)
        self._cache[pattern] = entry
        return entry

    def __call__(self, text: str, pattern: str) -> bool:
        entry = self._cache.get(pattern, 0)
        if entry.__class__ is int:
            if entry == 0 and len(self._cache) >= MAX_CACHE:
                self._cache.clear()
            if entry + 1 < self.WARM:
                self._cache[pattern] = entry + 1
                return self._native(text, pattern)
            entry = self._entry(pattern)
        if entry is None or len(text) > entry[2] or (entry[1] and not text.isascii()):
            return self._native(text, pattern)
        return entry[0](text) is not None


def native_matcher(env) -> Callable[[str, str], bool]:
    """cel-cpp's own ``matches`` as a Python function (errors raised as LibraryError, verbatim)."""
    program = env.compile("__gpl_text.matches(__gpl_pattern)")

    def native(text: str, pattern: str) -> bool:
        try:
            value = program.eval(data={"__gpl_text": text, "__gpl_pattern": pattern})
        except RuntimeError as error:
            raise LibraryError(str(error)) from None
        result = value.plain_value()
        if result is True or result is False:
            return result
        raise LibraryError(str(value.value()))

    return native
