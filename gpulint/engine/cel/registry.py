"""Collects Python-implemented CEL overloads and turns them into cel-expr-python declarations.

Two runtime constraints of cel-expr-python 0.1.3 shape this module:

* a Python overload whose parameter is ``dyn`` never dispatches, so "any value"
  parameters (ANY) are expanded into one overload per concrete runtime type;
* the runtime registers implementations by argument *kind*, and every protobuf
  message is the same kind, so ``isLessThan(Quantity, Quantity)`` and
  ``isLessThan(Semver, Semver)`` collide. Such overloads are declared
  separately for the type checker but share one implementation that
  dispatches on the message type.
"""

from __future__ import annotations

import itertools
from typing import Callable

from cel_expr_python import cel

from .opaque import TYPES

T = cel.Type

# Every runtime type a dyn value can have, with a stable suffix for overload ids.
CONCRETE = [
    ("int", T.INT), ("uint", T.UINT), ("double", T.DOUBLE), ("string", T.STRING), ("bool", T.BOOL),
    ("bytes", T.BYTES), ("null", T.NULL), ("list", T.List(T.DYN)), ("map", T.Map(T.DYN, T.DYN)),
    ("timestamp", T.TIMESTAMP), ("duration", T.DURATION),
]
ANY = "*"          # placeholder parameter: expanded over CONCRETE
ANY_OPAQUE = "**"  # like ANY plus every opaque message type


def _expand(p):
    if isinstance(p, str) and p == ANY:
        return CONCRETE
    if isinstance(p, str) and p == ANY_OPAQUE:
        return CONCRETE + [(name.replace(".", "_"), t) for name, t in TYPES.items()]
    return [(None, p)]


def _kind(t) -> str:
    if t.is_message():
        return "message"
    name = t.name()
    if name.startswith("LIST"):
        return "list"
    if name.startswith("MAP"):
        return "map"
    return name


class Registry:
    def __init__(self) -> None:
        self._entries: list[tuple] = []      # (name, oid, params, ret, impl, member)
        self._ids: set[str] = set()

    def fn(self, name: str, params: list, ret, impl: Callable, *, member: bool = False, oid: str | None = None):
        """Declare one overload (or several if a parameter is ANY/ANY_OPAQUE)."""
        base = oid or f"gpl_{name.replace('.', '_').replace('@', '')}_{'m' if member else 'g'}{len(params)}"
        for combo in itertools.product(*(_expand(p) for p in params)):
            suffix = "_".join(s for s, _ in combo if s)
            ovid = f"{base}_{suffix}" if suffix else base
            n = 2
            while ovid in self._ids:
                ovid = f"{base}_{suffix}_{n}"
                n += 1
            self._ids.add(ovid)
            self._entries.append((name, ovid, [t for _, t in combo], ret, impl, member))

    def names(self) -> set[str]:
        return {e[0] for e in self._entries}

    def decls(self) -> list:
        groups: dict[tuple, list[tuple]] = {}
        for e in self._entries:
            name, _, params, _, _, member = e
            groups.setdefault((name, member, tuple(_kind(p) for p in params)), []).append(e)
        by_name: dict[str, list] = {}
        for entries in groups.values():
            impl = entries[0][4] if len(entries) == 1 else _dispatcher(entries)
            for i, (name, ovid, params, ret, _, member) in enumerate(entries):
                if i == 0:
                    ov = cel.Overload(ovid, ret, params, is_member=member, impl=impl)
                else:
                    ov = cel.Overload(ovid, ret, params, is_member=member)
                by_name.setdefault(name, []).append(ov)
        return [cel.FunctionDecl(name, ovs) for name, ovs in by_name.items()]


def _dispatcher(entries: list[tuple]) -> Callable:
    table = []
    for _, _, params, _, impl, _ in entries:
        table.append(([p.name() if p.is_message() else None for p in params], impl))

    def dispatch(*args):
        for names, impl in table:
            if all(n is None or getattr(getattr(a, "DESCRIPTOR", None), "full_name", None) == n
                   for n, a in zip(names, args)):
                return impl(*args)
        raise TypeError("no such overload")
    return dispatch
