"""validate.podSecurity."""

import pytest

from gpulint.engine.legacy.podsecurity import apply_exclusions, evaluate_pod, validate_pod_security

RESTRICTED_OK = {"name": "c", "image": "nvcr.io/nvidia/cuda:12.2",
                 "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                                     "seccompProfile": {"type": "RuntimeDefault"},
                                     "capabilities": {"drop": ["ALL"]}}}


def pod(*containers, **spec):
    spec = dict(spec)
    spec["containers"] = list(containers)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def rule(level="restricted", version="latest", exclude=None):
    ps = {"level": level, "version": version}
    if exclude:
        ps["exclude"] = exclude
    return {"name": "pss", "validate": {"podSecurity": ps}}


def ids(level, spec, version=(1, 34)):
    return sorted(o.id for o in evaluate_pod(level, version, {}, spec))


def test_restricted_pod_passes():
    res = validate_pod_security(rule(), pod(RESTRICTED_OK), [])
    assert (res.status, res.message) == ("pass", "Validation rule 'pss' passed.")


def test_baseline_checks():
    spec = {"hostNetwork": True, "containers": [{"name": "c", "securityContext": {"privileged": True},
                                                 "ports": [{"containerPort": 80, "hostPort": 80.0}]}],
            "volumes": [{"name": "v", "hostPath": {"path": "/dev"}}]}
    assert ids("baseline", spec) == ["hostNamespaces", "hostPathVolumes", "hostPorts", "privileged"]


def test_restricted_adds_checks_and_privileged_level_runs_everything():
    spec = {"containers": [{"name": "c"}]}
    restricted = ["allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot",
                  "seccompProfile_restricted"]
    assert ids("baseline", spec) == []
    assert ids("restricted", spec) == restricted
    assert ids("privileged", spec) == restricted  # any level but baseline runs every check (§12.6)


def test_versions_select_checks():
    spec = {"containers": [dict(RESTRICTED_OK, securityContext=dict(RESTRICTED_OK["securityContext"], runAsUser=0))]}
    assert ids("restricted", spec, (1, 22)) == []
    assert ids("restricted", spec, (1, 23)) == ["runAsUser"]


def test_windows_pods_are_exempt_from_some_checks_from_1_25():
    spec = {"os": {"name": "windows"}, "containers": [{"name": "c", "securityContext": {"runAsNonRoot": True}}]}
    assert ids("restricted", spec, (1, 25)) == []
    assert "allowPrivilegeEscalation" in ids("restricted", spec, (1, 24))


def test_fail_message():
    res = validate_pod_security(rule(level="baseline"), pod({"name": "c", "securityContext": {"privileged": True}}), [])
    assert res.status == "fail"
    assert res.message.startswith("Validation rule 'pss' failed. It violates PodSecurity \"baseline:latest\": "
                                  "(Forbidden reason: privileged, field error list: "
                                  "[spec.containers[0].securityContext.privileged: Forbidden])")


def test_controller_paths_in_messages():
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"template": {"spec": {"containers": [{"name": "c", "securityContext": {"privileged": True}}]}}}}
    res = validate_pod_security(rule(level="baseline"), dep, [])
    assert "spec.template.spec.containers[0].securityContext.privileged" in res.message


def test_exclusion_by_image():
    bad = {"name": "c", "image": "ghcr.io/kyverno/test-nginx:latest",
           "securityContext": dict(RESTRICTED_OK["securityContext"], capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]})}
    excl = [{"controlName": "Capabilities", "images": ["ghcr.io/kyverno/test-nginx*"]}]
    assert validate_pod_security(rule(exclude=excl), pod(bad), []).status == "pass"
    other = dict(bad, image="busybox:1.28")
    assert validate_pod_security(rule(exclude=excl), pod(other), []).status == "fail"


def test_pod_level_exclusion_without_images():
    spec_pod = pod(dict(RESTRICTED_OK, securityContext={k: v for k, v in RESTRICTED_OK["securityContext"].items()
                                                       if k != "seccompProfile"}),
                   securityContext={"seccompProfile": {"type": "Unconfined"}})
    excl = [{"controlName": "Seccomp"}, {"controlName": "Seccomp", "images": ["*"]}]
    assert validate_pod_security(rule(exclude=excl), spec_pod, []).status == "pass"
    assert validate_pod_security(rule(), spec_pod, []).status == "fail"


def test_restricted_field_and_values_narrow_exclusions():
    c = dict(RESTRICTED_OK, securityContext=dict(RESTRICTED_OK["securityContext"],
                                                 capabilities={"drop": ["ALL"], "add": ["NET_ADMIN"]}))
    outcomes = evaluate_pod("baseline", (1, 34), {}, {"containers": [c]})
    excl = {"controlName": "Capabilities", "images": ["*"],
            "restrictedField": "spec.containers[*].securityContext.capabilities.add", "values": ["NET_*"]}
    assert apply_exclusions("baseline", (1, 34), outcomes, [excl], {}, {"containers": [c]}) == []
    excl["values"] = ["SYS_*"]
    assert apply_exclusions("baseline", (1, 34), outcomes, [excl], {}, {"containers": [c]}) != []


def test_unsupported_kind_is_error():
    res = validate_pod_security(rule(), {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}, [])
    assert res.status == "error"


def test_exception_without_pod_security_skips():
    exc = {"metadata": {"name": "e", "namespace": "ns"}, "spec": {}}
    res = validate_pod_security(rule(), pod({"name": "c"}), [("ns/e", exc)])
    assert (res.status, res.message) == ("skip", "rule is skipped due to policy exceptionsns/e")


def test_exception_with_pod_security_subtracts_controls():
    exc = {"metadata": {"name": "e"}, "spec": {"podSecurity": [{"controlName": "Privileged Containers",
                                                                "images": ["*"]}]}}
    res = validate_pod_security(rule(level="baseline"), pod({"name": "c", "image": "x",
                                                             "securityContext": {"privileged": True}}), [("e", exc)])
    assert res.status == "skip"


@pytest.mark.parametrize("sysctl,version,bad", [("net.ipv4.ip_local_reserved_ports", (1, 26), True),
                                                ("net.ipv4.ip_local_reserved_ports", (1, 27), False),
                                                ("kernel.msgmax", (1, 34), True)])
def test_sysctls_grow_by_version(sysctl, version, bad):
    spec = {"securityContext": {"sysctls": [{"name": sysctl, "value": "1"}]}, "containers": [{"name": "c"}]}
    assert ("sysctls" in ids("baseline", spec, version)) is bad
