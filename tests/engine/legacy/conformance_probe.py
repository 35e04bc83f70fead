"""Development probe (not a pytest test): run the legacy engine over the Kyverno policy-library
conformance suites and compare with their expected results, the way `kyverno test` does.

    python tests/engine/legacy/conformance_probe.py [ROOT] [--cel] [--verbose] [--only SUBSTR]

Suites taken: every `.kyverno-test/kyverno-test.yaml` whose policies are all kyverno.io
ClusterPolicy/Policy with validate rules only (no mutate/generate/verifyImages). validate.cel
suites are counted separately (--cel includes them in the run).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections import Counter

import yaml

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))

from gpulint.engine.legacy import LegacyContextData, LegacyPolicy, LegacyPolicyError  # noqa: E402

DEFAULT_ROOT = "/work/shared/conformance/kyverno-policies"
_CLUSTER_SCOPED = {"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
                   "StorageClass", "CustomResourceDefinition", "PriorityClass", "RuntimeClass",
                   "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
                   "ClusterPolicy", "IngressClass", "CSIDriver", "CSINode", "VolumeAttachment",
                   "APIService", "CertificateSigningRequest", "ClusterIssuer",
                   "SecurityContextConstraints", "ValidatingAdmissionPolicy",
                   "ValidatingAdmissionPolicyBinding", "ClusterPolicyReport"}


def load_docs(path: str) -> list:
    with open(path, encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if d is not None]


def files_of(base: str, entry: str) -> list[str]:
    path = os.path.normpath(os.path.join(base, entry))
    if os.path.isdir(path):
        return sorted(glob.glob(os.path.join(path, "*.yaml")) + glob.glob(os.path.join(path, "*.yml")))
    return [path]


def floats(value):
    """`kyverno test` turns every integer of the loaded resources into a float64."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [floats(v) for v in value]
    return value


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def classify(policies: list) -> str | None:
    kinds = {p.get("kind") for p in policies}
    if not policies or not kinds <= {"ClusterPolicy", "Policy"}:
        return None
    cel = False
    for p in policies:
        for rule in (p.get("spec") or {}).get("rules") or []:
            if any(k in rule for k in ("mutate", "generate", "verifyImages")):
                return None
            if (rule.get("validate") or {}).get("cel") is not None:
                cel = True
    return "cel" if cel else "legacy"


class Suite:
    def __init__(self, test_file: str, test: dict):
        self.file = test_file
        self.base = os.path.dirname(test_file)
        self.test = test
        self.policies = [jsonable(d) for e in test.get("policies") or []
                         for f in files_of(self.base, e) for d in load_docs(f)]
        self.kind = classify(self.policies)

    def load(self):
        t = self.test
        self.resources = []
        seen = set()
        for entry in t.get("resources") or []:
            for f in files_of(self.base, entry):
                for doc in load_docs(f):
                    doc = floats(jsonable(doc))
                    meta = doc.setdefault("metadata", {})
                    if not meta.get("namespace") and doc.get("kind") not in _CLUSTER_SCOPED:
                        meta["namespace"] = "default"
                    key = (doc.get("apiVersion"), doc.get("kind"), meta.get("namespace"),
                           meta.get("name"))
                    if key not in seen:
                        seen.add(key)
                        self.resources.append(doc)
        self.exceptions = [jsonable(d) for e in t.get("exceptions") or []
                           for f in files_of(self.base, e) for d in load_docs(f)]
        self.values = {}
        if t.get("values"):
            self.values = jsonable(t["values"])
        elif t.get("variables"):
            docs = load_docs(os.path.join(self.base, t["variables"]))
            self.values = jsonable(docs[0]) if docs else {}
        self.user_info = None
        if t.get("userinfo"):
            docs = load_docs(os.path.join(self.base, t["userinfo"]))
            if docs:
                info = jsonable(docs[0])
                self.user_info = {"userInfo": info.get("userInfo") or {},
                                  "roles": info.get("roles") or [],
                                  "clusterRoles": info.get("clusterRoles") or []}
        cluster = []
        for entry in t.get("clusterResources") or []:
            for f in files_of(self.base, entry):
                for doc in load_docs(f):
                    spec = doc.get("spec") or {}
                    cluster.extend(jsonable(r) for r in spec.get("resources") or [])
        self.cluster = cluster if t.get("clusterResources") else None

    def namespace_labels(self, ns: str):
        for obj in self.values.get("namespaces") or []:
            if (obj.get("metadata") or {}).get("name") == ns:
                return (obj.get("metadata") or {}).get("labels") or {}
        for entry in self.values.get("namespaceSelector") or []:
            if entry.get("name") == ns:
                return entry.get("labels") or {}
        return None

    def context_for(self, policy: LegacyPolicy, resource: dict, operation: str | None):
        global_values = dict(self.values.get("globalValues") or {})
        variables = dict(global_values)
        rule_vars, foreach_vars = {}, {}
        for pv in self.values.get("policies") or []:
            if pv.get("name") != policy.name:
                continue
            for rv in pv.get("resources") or []:
                if rv.get("name") == (resource.get("metadata") or {}).get("name"):
                    variables.update(rv.get("values") or {})
            for rule in pv.get("rules") or []:
                if rule.get("values"):
                    rule_vars[rule.get("name")] = rule["values"]
                if rule.get("foreachValues"):
                    foreach_vars[rule.get("name")] = rule["foreachValues"]
        op = operation or variables.get("request.operation") or "CREATE"
        old = resource if op in ("UPDATE", "DELETE") else None
        # no cluster resources: configMap/apiCall entries are skipped, as `kyverno test` does
        get_resource, list_resources = (None, None) if self.cluster is None else \
            _cluster_lookups(self.cluster)
        return LegacyContextData(operation=op, user_info=self.user_info,
                                 namespace_labels=self.namespace_labels, variables=variables,
                                 rule_variables=rule_vars, foreach_variables=foreach_vars,
                                 get_resource=get_resource, list_resources=list_resources,
                                 old_object=old, exceptions=self.exceptions)


def _cluster_lookups(items: list):
    def get_resource(api_version, plural, ns, name):
        return next((r for r in items if r.get("apiVersion") == api_version
                     and _plural(r.get("kind", "")) == plural
                     and (r.get("metadata") or {}).get("namespace", "") in ("", ns)
                     and (r.get("metadata") or {}).get("name") == name), None)

    def list_resources(api_version, plural, ns):
        return [r for r in items if r.get("apiVersion") == api_version
                and _plural(r.get("kind", "")) == plural
                and (not ns or (r.get("metadata") or {}).get("namespace") == ns)]

    return get_resource, list_resources


def _plural(kind: str) -> str:
    k = kind.lower()
    if k.endswith("s"):
        return k + "es"
    if k.endswith("y"):
        return k[:-1] + "ies"
    return k + "s"


def run_suite(suite: Suite, verbose: bool = False):
    suite.load()
    compiled, invalid = {}, {}
    for obj in suite.policies:
        name = (obj.get("metadata") or {}).get("name")
        try:
            compiled[name] = LegacyPolicy.from_object(obj)
        except LegacyPolicyError as exc:
            invalid[name] = str(exc)
    cache = {}

    def responses(policy, resource, operation):
        key = (policy.name, id(resource), operation)
        if key not in cache:
            cache[key] = policy.evaluate(resource, suite.context_for(policy, resource, operation))
        return cache[key]

    rows = []
    for expected in suite.test.get("results") or []:
        pname = str(expected.get("policy", "")).split("/")[-1]
        want = expected.get("result") or expected.get("status")
        rule = expected.get("rule")
        names = expected.get("resources") or ([expected["resource"]] if expected.get("resource") else [])
        if pname in invalid:
            rows.append((True, f"{pname}: invalid policy ({invalid[pname]})"))
            continue
        policy = compiled.get(pname)
        targets = [r for r in suite.resources if _named(r, names)] or suite.resources
        for resource in targets:
            rname = (resource.get("metadata") or {}).get("name")
            if policy is None:
                rows.append((False, f"{pname}/{rule} {rname}: Not found"))
                continue
            got = [r for r in responses(policy, resource, expected.get("operation"))
                   if not rule or r.rule in (rule, f"autogen-{rule}", f"autogen-cronjob-{rule}")]
            if not got:
                rows.append((True, f"{pname}/{rule} {rname}: Excluded (want {want})"))
                continue
            for r in got:
                status = r.status
                scored = ((policy.annotations or {}).get("policies.kyverno.io/scored") != "false")
                if status == "fail" and not scored:
                    status = "warn"
                ok = status == want
                rows.append((ok, f"{pname}/{r.rule} {rname}: want {want}, got {status}: {r.message}"))
    return rows


def _named(resource: dict, names: list) -> bool:
    meta = resource.get("metadata") or {}
    for n in names:
        if "/" in str(n):
            ns, name = str(n).split("/", 1)
            if meta.get("namespace") == ns and meta.get("name") == name:
                return True
        elif meta.get("name") == n:
            return True
    return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default=DEFAULT_ROOT)
    ap.add_argument("--cel", action="store_true", help="also run validate.cel suites")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--only", default="")
    args = ap.parse_args(argv)
    totals = Counter()
    failures = []
    found = []
    for folder, _dirs, files in os.walk(args.root):  # glob's ** skips .kyverno-test folders
        found.extend(os.path.join(folder, f) for f in files if f == "kyverno-test.yaml")
    for test_file in sorted(found):
        if args.only and args.only not in test_file:
            continue
        for test in load_docs(test_file):
            suite = Suite(test_file, test)
            if suite.kind is None or (suite.kind == "cel" and not args.cel):
                continue
            folder = suite.base if os.path.basename(suite.base) != ".kyverno-test" else \
                os.path.dirname(suite.base)
            name = os.path.relpath(folder, args.root)
            try:
                rows = run_suite(suite, args.verbose)
            except Exception as exc:  # a probe: report and carry on
                rows = [(False, f"crash: {type(exc).__name__}: {exc}")]
            ok = all(r[0] for r in rows)
            totals[suite.kind, ok] += 1
            if not ok:
                failures.append((name, [r[1] for r in rows if not r[0]]))
            if args.verbose or (args.only and not ok):
                print(("PASS " if ok else "FAIL ") + name)
                for good, text in rows:
                    if args.verbose or not good:
                        print(("   ok  " if good else "   BAD ") + text[:300])
    for kind in ("legacy", "cel"):
        passed, failed = totals[kind, True], totals[kind, False]
        if passed + failed:
            print(f"{kind}: {passed}/{passed + failed} suites pass "
                  f"({100.0 * passed / (passed + failed):.1f}%)")
    for name, bad in failures:
        print(f"FAILED {name}")
        for text in bad[:5]:
            print(f"    {text[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
