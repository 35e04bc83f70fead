"""Random strings matching a regular expression, for Kyverno's `random()` JMESPath function."""

from __future__ import annotations

import random
import re
import string

try:  # Python 3.11+
    from re import _constants as sre_c
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore
    import sre_parse  # type: ignore

_PRINTABLE = [c for c in string.printable if c not in "\n\r\x0b\x0c"]
_CATEGORIES = {
    sre_c.CATEGORY_DIGIT: string.digits,
    sre_c.CATEGORY_NOT_DIGIT: string.ascii_letters + "_-",
    sre_c.CATEGORY_SPACE: " \t",
    sre_c.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
    sre_c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_c.CATEGORY_NOT_WORD: "-.!@#",
}
_MAX_REPEAT = 10


def generate(pattern: str, rng: random.Random) -> str:
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise ValueError(f"error parsing regexp: {exc}") from None
    return _gen(parsed, rng, {})


def _class_chars(items) -> list[str]:
    chars: list[str] = []
    negate = False
    for op, av in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            chars.append(chr(av))
        elif op is sre_c.RANGE:
            chars.extend(chr(c) for c in range(av[0], av[1] + 1))
        elif op is sre_c.CATEGORY:
            chars.extend(_CATEGORIES.get(av, ""))
    if negate:
        return [c for c in _PRINTABLE if c not in set(chars)]
    return chars or _PRINTABLE


def _gen(parsed, rng, groups) -> str:
    out = []
    for op, av in parsed:
        if op is sre_c.LITERAL:
            out.append(chr(av))
        elif op is sre_c.NOT_LITERAL:
            out.append(rng.choice([c for c in _PRINTABLE if c != chr(av)]))
        elif op is sre_c.ANY:
            out.append(rng.choice(_PRINTABLE))
        elif op is sre_c.IN:
            out.append(rng.choice(_class_chars(av)))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            hi = min(hi, lo + _MAX_REPEAT) if hi is not sre_c.MAXREPEAT else lo + _MAX_REPEAT
            for _ in range(rng.randint(lo, max(lo, hi))):
                out.append(_gen(sub, rng, groups))
        elif op is sre_c.SUBPATTERN:
            gid, sub = av[0], av[-1]
            text = _gen(sub, rng, groups)
            if gid:
                groups[gid] = text
            out.append(text)
        elif op is sre_c.BRANCH:
            out.append(_gen(rng.choice(av[1]), rng, groups))
        elif op is sre_c.GROUPREF:
            out.append(groups.get(av, ""))
        elif op is sre_c.CATEGORY:
            out.append(rng.choice(_CATEGORIES.get(av, "a")))
        # anchors (AT) and lookarounds produce nothing
    return "".join(out)
