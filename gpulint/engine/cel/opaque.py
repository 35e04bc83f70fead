"""Opaque CEL types (Quantity, IP, CIDR, URL, Semver, Format, Image ...) as protobuf messages.

cel-expr-python 0.1.3 cannot carry ``AbstractType`` values at runtime, but it
does carry protobuf messages from a DescriptorPool handed to ``NewEnv``.
Each opaque value is a one-field message holding a *canonical* string, so

* ``type(quantity('1'))`` is ``kubernetes.Quantity`` (Kubernetes' own name),
* ``==`` is cel-cpp's field-wise message equality, which equals Kubernetes'
  semantic equality because the field is canonical
  (``quantity('1') == quantity('1000m')``, ``ip('::1') == ip('0::1')``),
* member functions are declared on the message type, so a misuse like
  ``quantity('1').major()`` is a compile error, as in Kubernetes.

Trade-off: the hidden field is readable from CEL (``quantity('1').v``) where
Kubernetes would refuse the selection, and per-value state that is not part of
the canonical value is lost (see k8s_quantity for ``isInteger``).
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from cel_expr_python import cel

__all__ = ["POOL", "TYPES", "MSG", "make"]

# CEL type name -> field names (all strings)
_MESSAGES = {
    "kubernetes.Quantity": ["v"],
    "kubernetes.URL": ["v"],
    "kubernetes.Semver": ["v"],
    "kubernetes.NamedFormat": ["v"],
    "net.IP": ["v"],
    "net.CIDR": ["v"],
    "kubernetes.authorization.Authorizer": ["v"],
    "kyverno.image.Image": ["v"],
    "kyverno.http.Client": ["v"],
    # Kyverno returns a Go struct through ext.NativeTypes: fields keep Go names.
    "user.ServiceAccount": ["Namespace", "Name"],
}


def _build():
    pool = descriptor_pool.DescriptorPool()
    by_pkg: dict[str, list[tuple[str, list[str]]]] = {}
    for full, fields in _MESSAGES.items():
        pkg, _, name = full.rpartition(".")
        by_pkg.setdefault(pkg, []).append((name, fields))
    for pkg, msgs in sorted(by_pkg.items()):
        fdp = descriptor_pb2.FileDescriptorProto(name=f"gpulint/{pkg.replace('.', '/')}.proto",
                                                 package=pkg, syntax="proto3")
        for name, fields in msgs:
            m = fdp.message_type.add(name=name)
            for i, f in enumerate(fields, 1):
                m.field.add(name=f, number=i, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                            label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
        pool.Add(fdp)
    classes = {full: message_factory.GetMessageClass(pool.FindMessageTypeByName(full)) for full in _MESSAGES}
    return pool, classes


POOL, MSG = _build()
TYPES = {full: cel.Type(full) for full in _MESSAGES}


def make(type_name: str, v: str):
    return MSG[type_name](v=v)
