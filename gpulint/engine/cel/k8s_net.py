"""Kubernetes ``ip``, ``cidr`` and ``url`` CEL libraries (ip.go, cidr.go, urls.go).

IP/CIDR semantics follow Go's net/netip as used by Kubernetes: zones and
IPv4-mapped IPv6 addresses are rejected, IPv4 octets with leading zeros are
invalid, a CIDR keeps the address as written (``10.0.0.1/8`` is not masked
until ``masked()``). URLs follow Go's ``url.ParseRequestURI``.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import unquote

from cel_expr_python import cel

from .errors import LibraryError
from .opaque import TYPES, make
from .registry import Registry

T = cel.Type
IPT, CIDRT, URLT = TYPES["net.IP"], TYPES["net.CIDR"], TYPES["kubernetes.URL"]


# ------------------------------------------------------------------------------ IP

@lru_cache(maxsize=2048)
def _parse_ip(s: str):
    if "%" in s:
        raise LibraryError("IP Address with zone value is not allowed")
    try:
        if ":" in s:
            addr = ipaddress.IPv6Address(s)
            if addr.ipv4_mapped is not None:
                raise LibraryError("IPv4-mapped IPv6 address is not allowed")
            return addr
        if not re.fullmatch(r"[0-9.]+", s):
            raise ValueError
        return ipaddress.IPv4Address(s)
    except (ValueError, ipaddress.AddressValueError):
        raise LibraryError(f"IP Address {s!r} parse error during conversion from string: "
                           f"ParseAddr({s!r}): unable to parse IP") from None


def _ip_of(msg):
    return _parse_ip(msg.v)


def ip(s: str):
    return make("net.IP", str(_parse_ip(s)))


def is_ip(s: str) -> bool:
    try:
        _parse_ip(s)
        return True
    except LibraryError:
        return False


def ip_is_canonical(s: str) -> bool:
    return str(_parse_ip(s)) == s


def _family(a) -> int:
    return 4 if a.version == 4 else 6


def _is_link_local_multicast(a) -> bool:
    if a.version == 4:
        return a in ipaddress.IPv4Network("224.0.0.0/24")
    return (int(a) >> 112) & 0xff0f == 0xff02


def _is_global_unicast(a) -> bool:
    # Go: not unspecified, loopback, multicast, link-local unicast, or IPv4 broadcast.
    if a.version == 4 and int(a) == 0xFFFFFFFF:
        return False
    return not (a.is_unspecified or a.is_loopback or a.is_multicast or a.is_link_local)


# ---------------------------------------------------------------------------- CIDR

@lru_cache(maxsize=2048)
def _parse_cidr(s: str):
    """(address, bits) as netip.ParsePrefix."""
    addr_s, slash, bits_s = s.rpartition("/")
    if not slash:
        raise LibraryError(f"network address parse error during conversion from string: "
                           f"netip.ParsePrefix({s!r}): no '/'")
    if "%" in addr_s:
        raise LibraryError("CIDR with zone value is not allowed")
    try:
        addr = _parse_ip(addr_s)
    except LibraryError as e:
        if "mapped" in str(e):
            raise LibraryError("IPv4-mapped IPv6 address is not allowed") from None
        raise LibraryError(f"network address parse error during conversion from string: "
                           f"netip.ParsePrefix({s!r}): ParseAddr({addr_s!r}): unable to parse IP") from None
    maxbits = 32 if addr.version == 4 else 128
    if not bits_s.isdigit() or (len(bits_s) > 1 and bits_s[0] == "0") or int(bits_s) > maxbits:
        raise LibraryError(f"network address parse error during conversion from string: "
                           f"netip.ParsePrefix({s!r}): bad bits after slash: {bits_s!r}")
    return addr, int(bits_s)


def _cidr_str(addr, bits) -> str:
    return f"{addr}/{bits}"


def cidr(s: str):
    addr, bits = _parse_cidr(s)
    return make("net.CIDR", _cidr_str(addr, bits))


def is_cidr(s: str) -> bool:
    try:
        _parse_cidr(s)
        return True
    except LibraryError:
        return False


def _network(addr, bits):
    return ipaddress.ip_network(f"{addr}/{bits}", strict=False)


def _masked(msg):
    addr, bits = _parse_cidr(msg.v)
    return _network(addr, bits).network_address, bits


def cidr_contains_ip(c, other) -> bool:
    a = _parse_ip(other) if isinstance(other, str) else _ip_of(other)
    addr, bits = _parse_cidr(c.v)
    return a.version == addr.version and a in _network(addr, bits)


def cidr_contains_cidr(c, other) -> bool:
    if isinstance(other, str):
        oaddr, obits = _parse_cidr(other)
    else:
        oaddr, obits = _parse_cidr(other.v)
    addr, bits = _parse_cidr(c.v)
    if oaddr.version != addr.version:
        return False
    return _network(addr, bits).network_address == _network(oaddr, bits).network_address and bits <= obits


# ----------------------------------------------------------------------------- URL

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*$")


@lru_cache(maxsize=1024)
def _parse_url(s: str) -> dict:
    """Subset of Go url.ParseRequestURI sufficient for the accessors Kubernetes exposes."""
    def fail(why):
        raise LibraryError(f"URL parse error during conversion from string: parse {_goq(s)}: {why}")
    if s == "":
        fail("empty url")
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in s):
        fail("net/url: invalid control character in URL")
    u = {"scheme": "", "opaque": "", "host": "", "path": "", "rawpath": "", "query": "", "orig": s}
    if s == "*":
        u["path"] = "*"
        return u
    rest = s
    colon = s.find(":")
    if colon > 0 and _SCHEME.match(s[:colon]):
        u["scheme"], rest = s[:colon].lower(), s[colon + 1:]
    elif colon == 0:
        fail("missing protocol scheme")
    rest, _, u["query"] = rest.partition("?")
    if not rest.startswith("/"):
        if u["scheme"]:
            u["opaque"] = rest
            return u
        fail("invalid URI for request")
    if u["scheme"] and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        if "@" in authority:
            authority = authority.rsplit("@", 1)[1]
        _check_host(authority, fail)
        u["host"] = authority
    if "%" in rest:
        try:
            unquote(rest, errors="strict")
        except UnicodeDecodeError:
            fail("invalid URL escape")
        if re.search(r"%(?![0-9a-fA-F]{2})", rest):
            fail(f"invalid URL escape {_goq(rest[rest.index('%'):rest.index('%') + 3])}")
    u["path"] = rest
    return u


def _goq(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_host(host: str, fail) -> None:
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            fail("missing ']' in host")
        port = host[end + 1:]
        if port and not re.fullmatch(r":[0-9]*", port):
            fail(f"invalid port {_goq(port)} after host")
        return
    if ":" in host:
        port = host[host.rindex(":"):]
        if not re.fullmatch(r":[0-9]*", port):
            fail(f"invalid port {_goq(port)} after host")


def url(s: str):
    _parse_url(s)
    return make("kubernetes.URL", s)


def is_url(s: str) -> bool:
    try:
        _parse_url(s)
        return True
    except LibraryError:
        return False


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[1:host.find("]")]
    return host.rsplit(":", 1)[0] if ":" in host else host


def _port(host: str) -> str:
    if host.startswith("["):
        rest = host[host.find("]") + 1:]
        return rest[1:] if rest.startswith(":") else ""
    return host.rsplit(":", 1)[1] if ":" in host else ""


def _query(q: str) -> dict:
    out: dict[str, list[str]] = {}
    for part in re.split(r"&", q):
        if not part or ";" in part:
            continue
        k, _, v = part.partition("=")
        try:
            k, v = unquote(k.replace("+", " "), errors="strict"), unquote(v.replace("+", " "), errors="strict")
        except UnicodeDecodeError:
            continue
        out.setdefault(k, []).append(v)
    return out


def register(reg: Registry) -> None:
    reg.fn("ip", [T.STRING], IPT, ip)
    reg.fn("isIP", [T.STRING], T.BOOL, is_ip)
    reg.fn("ip.isCanonical", [T.STRING], T.BOOL, ip_is_canonical)
    reg.fn("family", [IPT], T.INT, lambda a: _family(_ip_of(a)), member=True)
    reg.fn("isUnspecified", [IPT], T.BOOL, lambda a: _ip_of(a).is_unspecified, member=True)
    reg.fn("isLoopback", [IPT], T.BOOL, lambda a: _ip_of(a).is_loopback, member=True)
    reg.fn("isLinkLocalMulticast", [IPT], T.BOOL, lambda a: _is_link_local_multicast(_ip_of(a)), member=True)
    reg.fn("isLinkLocalUnicast", [IPT], T.BOOL, lambda a: _ip_of(a).is_link_local, member=True)
    reg.fn("isGlobalUnicast", [IPT], T.BOOL, lambda a: _is_global_unicast(_ip_of(a)), member=True)
    reg.fn("cidr", [T.STRING], CIDRT, cidr)
    reg.fn("isCIDR", [T.STRING], T.BOOL, is_cidr)
    reg.fn("containsIP", [CIDRT, T.STRING], T.BOOL, cidr_contains_ip, member=True, oid="gpl_cidr_containsIP_s")
    reg.fn("containsIP", [CIDRT, IPT], T.BOOL, cidr_contains_ip, member=True, oid="gpl_cidr_containsIP_ip")
    reg.fn("containsCIDR", [CIDRT, T.STRING], T.BOOL, cidr_contains_cidr, member=True, oid="gpl_cidr_containsCIDR_s")
    reg.fn("containsCIDR", [CIDRT, CIDRT], T.BOOL, cidr_contains_cidr, member=True, oid="gpl_cidr_containsCIDR_c")
    reg.fn("ip", [CIDRT], IPT, lambda c: make("net.IP", str(_parse_cidr(c.v)[0])), member=True)
    reg.fn("masked", [CIDRT], CIDRT, lambda c: make("net.CIDR", _cidr_str(*_masked(c))), member=True)
    reg.fn("prefixLength", [CIDRT], T.INT, lambda c: _parse_cidr(c.v)[1], member=True)
    reg.fn("url", [T.STRING], URLT, url)
    reg.fn("isURL", [T.STRING], T.BOOL, is_url)
    reg.fn("getScheme", [URLT], T.STRING, lambda u: _parse_url(u.v)["scheme"], member=True)
    reg.fn("getHost", [URLT], T.STRING, lambda u: _parse_url(u.v)["host"], member=True)
    reg.fn("getHostname", [URLT], T.STRING, lambda u: _hostname(_parse_url(u.v)["host"]), member=True)
    reg.fn("getPort", [URLT], T.STRING, lambda u: _port(_parse_url(u.v)["host"]), member=True)
    reg.fn("getEscapedPath", [URLT], T.STRING, lambda u: _parse_url(u.v)["path"], member=True)
    reg.fn("getQuery", [URLT], T.Map(T.STRING, T.List(T.STRING)), lambda u: _query(_parse_url(u.v)["query"]),
           member=True)


def to_string(msg) -> str | None:
    """``string(ip)`` / ``string(cidr)`` (used by the string() rewrite)."""
    name = msg.DESCRIPTOR.full_name
    if name in ("net.IP", "net.CIDR"):
        return msg.v
    return None
