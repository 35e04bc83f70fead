"""CEL layer: compile and evaluate Kyverno / Kubernetes CEL expressions offline.

Public API::

    from gpulint.engine.cel import (CelEnvironment, CelProgram, OfflineContext, HttpResponse,
                                    CelCompileError, CelEvalError, ints_to_floats)

    env = CelEnvironment("vpol", context=OfflineContext(...))      # or "k8s" (VAP, legacy validate.cel)
    prog = env.compile("object.spec.replicas <= 8", variables=[("ctrs", "object.spec.containers")],
                       expect="bool")                               # cached per (expr, variables, expect, namespace)
    act = env.activation(object=obj, oldObject=None, request=req, namespaceObject=ns)   # once per resource
    prog.evaluate(act)   # -> plain Python value, or raises CelEvalError("no such key: foo")

* ``CelEnvironment(flavor, *, params=False, context=None)``
    - ``"vpol"``: Kubernetes base libraries + Kyverno libraries (resource, http, image,
      globalContext, json, yaml, time, hash, listObjToMap, math.round, gzip,
      parseServiceAccount, random); variables object, oldObject, request,
      namespaceObject, exceptions, and policy ``variables``.
    - ``"k8s"``: Kubernetes base libraries only; variables object, oldObject, request,
      namespaceObject, authorizer (declared; any use errors "authorizer requires a
      cluster"), params iff ``params=True``.
    - ``env.context`` may be replaced between runs (library calls read it at call time).
* ``env.compile(expression, *, variables=(), expect=None, namespace=None) -> CelProgram``
    - ``variables``: the policy's (name, expression) pairs in order; each is compiled
      once on its own and ``variables.x`` becomes a typed accessor call that evaluates
      x on first use and memoises it on the activation (lazy, statically typed and
      evaluated once per resource like Kyverno; see variables.py); forward references
      -> CelCompileError("undefined field 'x'").
    - ``expect``: "bool" | "string" | "string_or_null" | None; the *static* type must
      match exactly (a ``dyn`` result is rejected for "bool", as in Kyverno).
    - ``namespace``: a NamespacedValidatingPolicy's namespace (short ``resource.get``
      / ``resource.list`` forms use it).
    - raises CelCompileError(reason) — e.g. "output is expected to be of type bool";
      the caller builds the Kyverno field path message around it.
* ``env.check_variables(variables, namespace=None) -> [(index, CelCompileError)]``
* ``env.activation(*, object, oldObject, request, namespaceObject, params, exceptions)``
  -> an ``Activation`` wrapper (cel activation + memo of variable values); build one per
  resource and reuse it for every program of every policy.
* ``CelProgram.evaluate(activation)``; attributes ``expression``, ``source`` (text
  given to cel-cpp after rewriting) and ``return_type`` (cel-go style name).
* ``ints_to_floats(obj)``: recursive copy with ints as floats (what ``kyverno test``/
  ``apply`` do to resources, fact sheet §2.3); never applied implicitly.

Functions beyond plain CEL (vpol and k8s unless noted):
  Kubernetes: isSorted sum min max indexOf lastIndexOf (lists and strings), find findAll,
  url isURL getScheme getHost getHostname getPort getEscapedPath getQuery, quantity
  isQuantity sign isInteger asInteger asApproximateFloat compareTo isGreaterThan
  isLessThan add sub, ip isIP ip.isCanonical family isUnspecified isLoopback
  isLinkLocalMulticast isLinkLocalUnicast isGlobalUnicast, cidr isCIDR containsIP
  containsCIDR ip masked prefixLength, string(ip|cidr), format.named format.<13 names>()
  validate, semver isSemver major minor patch compareTo isLessThan isGreaterThan.
  cel-go extensions: strings (charAt indexOf lastIndexOf lowerAscii upperAscii replace
  split substring trim join format strings.quote — format/quote/join are cel-go's
  formatter), optional types, two-variable comprehensions (transformMap/Entry
  included), lists (slice flatten distinct reverse sort sortBy lists.range), sets,
  and for "vpol" only: regex, math, cel.bind, base64.
  Kyverno ("vpol"): resource.get/list/post/toGVR (+Pascal), http.get/post/put/client,
  image parseImageReference isImage registry repository identifier tag digest
  containsDigest, image.GetMetadata, globalContext.get, json.unmarshal/marshal,
  yaml.parse, parseServiceAccount, time.now/truncate/toCron, sha1 sha256 md5 (+hash.),
  listObjToMap (+transform.), math.round(x, n), gzip.compress/decompress, random().
Knowingly missing or different: x509.decode (no certificate parser dependency);
  random(pattern); quantity mul/div/divInt (newer Kubernetes only); sum() over
  durations (cel-expr-python cannot return durations from dyn functions);
  authorizer.requestResource; isInteger()/asInteger() depend on the value, not on
  Go's internal representation (quantity('1000m').isInteger() is true here);
  resource.post/toGVR always error offline; an opaque value's canonical field is
  readable (quantity('1').v); cost limits differ from Kubernetes (below);
  ``variables.x`` has the nearest declared accessor type when x's static type has no
  accessor of its own (``list(map(string, int))`` -> ``list(map(string, dyn))``);
  ``cel.bind`` is eager (cel-go's is too; cel-cpp's lazy one is buggy, see rewrite.py).
  Data handed in must be JSON-like (dict/list/str/int/float/bool/None): dates,
  tuples or ints beyond int64 make the accessing expression fail.

Bounds: cel-cpp stops any expression after 10,000 comprehension iterations
(CelEvalError "operation cancelled: actual cost limit exceeded ..."); all regex
matching (``matches``, ``find``, ``findAll``, ``regex.*``) runs on RE2 (linear time,
no backreferences/lookarounds, like Go); YAML/JSON parsing is capped at 1e6 nodes
(alias bombs); quantity exponents/lengths are capped. Nothing reaches the network
or a cluster: resource/http/image data only come from the OfflineContext.
"""

from .env import CelEnvironment, CelProgram, HttpResponse, OfflineContext
from .errors import CelCompileError, CelEvalError
from .values import ints_to_floats

__all__ = ["CelEnvironment", "CelProgram", "OfflineContext", "HttpResponse", "CelCompileError", "CelEvalError",
           "ints_to_floats"]
