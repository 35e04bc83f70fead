"""x509_decode(): a DER reader for PEM certificates producing the fields of Go's
x509.Certificate JSON that policies read (Subject, Issuer, NotBefore, NotAfter, SerialNumber,
PublicKey N/E, DNSNames, IsCA, ...)."""

from __future__ import annotations

import base64
import ipaddress
import re
from datetime import datetime, timezone

_NAME_OIDS = {
    "2.5.4.6": "Country", "2.5.4.10": "Organization", "2.5.4.11": "OrganizationalUnit",
    "2.5.4.7": "Locality", "2.5.4.8": "Province", "2.5.4.9": "StreetAddress",
    "2.5.4.17": "PostalCode", "2.5.4.5": "SerialNumber", "2.5.4.3": "CommonName",
}
_SIG_ALGS = {
    "1.2.840.113549.1.1.2": 1, "1.2.840.113549.1.1.4": 2, "1.2.840.113549.1.1.5": 3,
    "1.2.840.113549.1.1.11": 4, "1.2.840.113549.1.1.12": 5, "1.2.840.113549.1.1.13": 6,
    "1.2.840.10040.4.3": 7, "2.16.840.1.101.3.4.3.2": 8, "1.2.840.10045.4.1": 9,
    "1.2.840.10045.4.3.2": 10, "1.2.840.10045.4.3.3": 11, "1.2.840.10045.4.3.4": 12,
    "1.2.840.113549.1.1.10": 13, "1.3.101.112": 16,
}
_PK_ALGS = {"1.2.840.113549.1.1.1": 1, "1.2.840.10040.4.1": 2, "1.2.840.10045.2.1": 3,
            "1.3.101.112": 4}
_EKU = {"1.3.6.1.5.5.7.3.1": 1, "1.3.6.1.5.5.7.3.2": 2, "1.3.6.1.5.5.7.3.3": 3,
        "1.3.6.1.5.5.7.3.4": 4, "1.3.6.1.5.5.7.3.8": 8, "1.3.6.1.5.5.7.3.9": 9,
        "2.5.29.37.0": 0}


def _tlv(data: bytes, pos: int):
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    return tag, data[pos:pos + length], pos + length


def _children(data: bytes):
    pos, out = 0, []
    while pos < len(data):
        tag, value, pos = _tlv(data, pos)
        out.append((tag, value))
    return out


def _oid(value: bytes) -> str:
    parts = [value[0] // 40, value[0] % 40]
    n = 0
    for b in value[1:]:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(n)
            n = 0
    return ".".join(map(str, parts))


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big", signed=True)


def _time(tag: int, value: bytes) -> str:
    text = value.decode()
    fmt = "%y%m%d%H%M%SZ" if tag == 0x17 else "%Y%m%d%H%M%SZ"
    t = datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _name(value: bytes) -> dict:
    out: dict = {k: None for k in _NAME_OIDS.values()}
    out["CommonName"] = ""
    out["SerialNumber"] = ""
    names = []
    for _, rdn in _children(value):
        for _, atv in _children(rdn):
            (_, oid), (_, val) = _children(atv)[:2]
            key, text = _oid(oid), val.decode(errors="replace")
            names.append({"Type": [int(x) for x in key.split(".")], "Value": text})
            field = _NAME_OIDS.get(key)
            if field in ("CommonName", "SerialNumber"):
                out[field] = text
            elif field:
                out[field] = (out[field] or []) + [text]
    out["Names"] = names
    out["ExtraNames"] = None
    return out


def _public_key(spki: bytes):
    alg, bits = _children(spki)[:2]
    alg_oid = _oid(_children(alg[1])[0][1])
    key = None
    if alg_oid == "1.2.840.113549.1.1.1":
        (_, rsa), = _children(bits[1][1:])[:1]
        n, e = _children(rsa)[:2]
        key = {"N": int.from_bytes(n[1], "big"), "E": int.from_bytes(e[1], "big")}
    return _PK_ALGS.get(alg_oid, 0), key


def decode(pem: str) -> dict:
    m = re.search(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", pem, re.S)
    if not m:
        raise ValueError("invalid certificate")
    der = base64.b64decode("".join(m.group(2).split()))
    try:
        return _certificate(der) if "REQUEST" not in m.group(1) else _request(der)
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"x509: malformed certificate: {exc}") from None


def _request(der: bytes) -> dict:
    info, sig_alg, _ = _children(_tlv(der, 0)[1])[:3]
    fields = _children(info[1])
    pk_alg, pk = _public_key(fields[2][1])
    return {"Version": _int(fields[0][1]), "Subject": _name(fields[1][1]),
            "PublicKeyAlgorithm": pk_alg, "PublicKey": pk,
            "SignatureAlgorithm": _SIG_ALGS.get(_oid(_children(sig_alg[1])[0][1]), 0)}


def _certificate(der: bytes) -> dict:
    tbs, sig_alg, _ = _children(_tlv(der, 0)[1])[:3]
    fields = _children(tbs[1])
    version = 1
    if fields[0][0] == 0xA0:
        version = _int(_children(fields[0][1])[0][1]) + 1
        fields = fields[1:]
    serial, _, issuer, validity, subject, spki = fields[:6]
    (t1, v1), (t2, v2) = _children(validity[1])[:2]
    pk_alg, pk = _public_key(spki[1])
    cert = {
        "Version": version, "SerialNumber": _int(serial[1]),
        "Issuer": _name(issuer[1]), "Subject": _name(subject[1]),
        "NotBefore": _time(t1, v1), "NotAfter": _time(t2, v2),
        "SignatureAlgorithm": _SIG_ALGS.get(_oid(_children(sig_alg[1])[0][1]), 0),
        "PublicKeyAlgorithm": pk_alg, "PublicKey": pk, "KeyUsage": 0, "ExtKeyUsage": None,
        "BasicConstraintsValid": False, "IsCA": False, "MaxPathLen": -1, "MaxPathLenZero": False,
        "DNSNames": None, "EmailAddresses": None, "IPAddresses": None, "URIs": None,
    }
    for tag, value in fields[6:]:
        if tag == 0xA3:
            for _, ext in _children(_children(value)[0][1]):
                _extension(cert, _children(ext))
    return cert


def _extension(cert: dict, parts) -> None:
    oid, value = _oid(parts[0][1]), parts[-1][1]
    if oid == "2.5.29.19":
        cert["BasicConstraintsValid"] = True
        for tag, v in _children(_tlv(value, 0)[1]):
            if tag == 0x01:
                cert["IsCA"] = v != b"\x00"
            elif tag == 0x02:
                cert["MaxPathLen"] = _int(v)
                cert["MaxPathLenZero"] = _int(v) == 0
    elif oid == "2.5.29.15":
        bits = _tlv(value, 0)[1]
        usage = 0
        for i, byte in enumerate(bits[1:]):
            for j in range(8):
                if byte & (0x80 >> j):
                    usage |= 1 << (i * 8 + j)
        cert["KeyUsage"] = usage
    elif oid == "2.5.29.37":
        cert["ExtKeyUsage"] = [_EKU.get(_oid(v), -1) for _, v in _children(_tlv(value, 0)[1])]
    elif oid == "2.5.29.17":
        for tag, v in _children(_tlv(value, 0)[1]):
            key = {0x82: "DNSNames", 0x81: "EmailAddresses", 0x86: "URIs", 0x87: "IPAddresses"}.get(tag)
            if key:
                text = str(ipaddress.ip_address(v)) if tag == 0x87 else v.decode(errors="replace")
                cert[key] = (cert[key] or []) + [text]
