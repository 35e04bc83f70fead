"""Field paths written by policies (`spec.containers[0].env[2]`, `metadata.labels['a/b']`)."""

from __future__ import annotations

import re
from typing import Optional

_TOKEN = re.compile(r"""\.?([A-Za-z0-9_$@-]+)|\[(\d+)\]|\[['"]([^'"]*)['"]\]|/([^/]+)""")


def parse_field_path(text: str) -> Optional[tuple]:
    """Parse a dotted/indexed path (or a JSON pointer-like /a/b/0) into a tuple; None if malformed."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("/"):
        parts = [p for p in text.split("/") if p]
        return tuple(int(p) if p.isdigit() else p.replace("~1", "/").replace("~0", "~") for p in parts)
    path: list = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            return None
        name, index, quoted, _ = match.groups()
        if name is not None:
            path.append(name)
        elif index is not None:
            path.append(int(index))
        elif quoted is not None:
            path.append(quoted)
        else:
            return None
        position = match.end()
    return tuple(path)


def format_field_path(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += f".{part}" if out else part
        else:
            out += f"['{part}']"
    return out
