"""Kubernetes named formats (k8s.io/apiserver/pkg/cel/library/format.go).

``format.named(name)`` and ``<Format>.validate(s)`` return optionals in
Kubernetes; optionals cannot cross into Python, so rewrite.py wraps the Python
results (an empty Format message / an empty error list) in
``optional.ofNonZeroValue``. Messages are apimachinery's validation texts.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import re

from cel_expr_python import cel

from .errors import LibraryError
from .opaque import TYPES, make
from .registry import Registry

T = cel.Type
FORMAT = TYPES["kubernetes.NamedFormat"]



_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QNAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABELVALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_UUID = re.compile(r"(?i)(^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)|(^[0-9a-f]{32}$)")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$")


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    ex = " or ".join(f"'{e}'," for e in examples)
    return f"{msg} (e.g. {ex} regex used for validation is '{fmt}')"


_LABEL_MSG = _regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                          "and must start and end with an alphanumeric character",
                          "[a-z0-9]([-a-z0-9]*[a-z0-9])?", "my-name", "123-abc")
_SUBDOMAIN_MSG = _regex_error("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                              "'-' or '.', and must start and end with an alphanumeric character",
                              "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", "example.com")
_DNS1035_MSG = _regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
                            "an alphabetic character, and end with an alphanumeric character",
                            "[a-z]([-a-z0-9]*[a-z0-9])?", "my-name", "abc-123")
_QNAME_MSG = _regex_error("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                          "alphanumeric character", "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]",
                          "MyName", "my.name", "123-abc")
_LABELVALUE_MSG = _regex_error("a valid label must be an empty string or consist of alphanumeric characters, '-', "
                               "'_' or '.', and must start and end with an alphanumeric character",
                               "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", "MyValue", "my_value", "12345")


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def _dns_label(s: str) -> list[str]:
    errs = []
    if len(s) > 63:
        errs.append(_max_len(63))
    if not _LABEL.match(s):
        errs.append("must not contain dots" if _SUBDOMAIN.match(s) else _LABEL_MSG)
    return errs


def _dns_subdomain(s: str) -> list[str]:
    errs = []
    if len(s) > 253:
        errs.append(_max_len(253))
    if not _SUBDOMAIN.match(s):
        errs.append(_SUBDOMAIN_MSG)
    return errs


def _dns1035(s: str) -> list[str]:
    errs = []
    if len(s) > 63:
        errs.append(_max_len(63))
    if not _DNS1035.match(s):
        errs.append(_DNS1035_MSG)
    return errs


def _qualified_name(s: str) -> list[str]:
    errs: list[str] = []
    parts = s.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in _dns_subdomain(prefix)]
    else:
        return ["a qualified name " + _QNAME_MSG + " with an optional DNS subdomain prefix and '/' "
                "(e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len(63))
    if not _QNAME.match(name):
        errs.append("name part " + _QNAME_MSG)
    return errs


def _label_value(s: str) -> list[str]:
    errs = []
    if len(s) > 63:
        errs.append(_max_len(63))
    if not _LABELVALUE.match(s):
        errs.append(_LABELVALUE_MSG)
    return errs


def _mask_trailing_dash(s: str) -> str:
    return s[:-2] + "a" if len(s) > 1 and s.endswith("-") else s


def _uri(s: str) -> list[str]:
    from .k8s_net import _parse_url
    try:
        _parse_url(s)
        return []
    except LibraryError as e:
        return [str(e).split("conversion from string: ", 1)[-1]]


def _byte(s: str) -> list[str]:
    try:
        base64.b64decode(s, validate=True)
        return []
    except (binascii.Error, ValueError):
        return ["invalid base64"]


def _date(s: str) -> list[str]:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            raise ValueError
        _dt.date.fromisoformat(s)
        return []
    except ValueError:
        return ["invalid date"]


def _datetime(s: str) -> list[str]:
    m = _DATETIME.match(s)
    if m:
        try:
            _dt.datetime.strptime(s[:19].replace("t", "T").replace(" ", "T"), "%Y-%m-%dT%H:%M:%S")
            return []
        except ValueError:
            pass
    return ["invalid datetime"]


FORMATS = {
    "dns1123Label": lambda s: _dns_label(s),
    "dns1123Subdomain": lambda s: _dns_subdomain(s),
    "dns1035Label": lambda s: _dns1035(s),
    "qualifiedName": _qualified_name,
    "dns1123LabelPrefix": lambda s: _dns_label(_mask_trailing_dash(s)),
    "dns1123SubdomainPrefix": lambda s: _dns_subdomain(_mask_trailing_dash(s)),
    "dns1035LabelPrefix": lambda s: _dns1035(_mask_trailing_dash(s)),
    "labelValue": _label_value,
    "uri": _uri,
    "uuid": lambda s: [] if _UUID.match(s) else ["does not match the UUID format"],
    "byte": _byte,
    "date": _date,
    "datetime": _datetime,
}


def format_named(name: str):
    # An empty message is the "zero value" that optional.ofNonZeroValue turns into none.
    return make("kubernetes.NamedFormat", name if name in FORMATS else "")


def format_validate(fmt, s: str) -> list[str]:
    return FORMATS[fmt.v](s)


def register(reg: Registry) -> None:
    reg.fn("__gpl_format_named", [T.STRING], FORMAT, format_named)
    reg.fn("__gpl_format_validate", [FORMAT, T.STRING], T.List(T.STRING), format_validate, member=True)
    for name in FORMATS:
        reg.fn(f"format.{name}", [], FORMAT, (lambda n: lambda: make("kubernetes.NamedFormat", n))(name))
