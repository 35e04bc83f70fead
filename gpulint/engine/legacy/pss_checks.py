"""Pod Security Standards checks (kyverno/pod-security-admission policy/check_*.go), on plain
JSON pod specs. Each check returns (forbidden reason, detail, field errors) or None."""

from __future__ import annotations

from dataclasses import dataclass

_LATEST = (1, 34)


def latest_version() -> tuple[int, int]:
    return _LATEST


@dataclass(frozen=True)
class FieldError:
    path: str
    container: str | None  # the container the field belongs to, None for pod-level fields
    value: object = None
    kind: str = "Forbidden"


@dataclass(frozen=True)
class Check:
    id: str
    level: str
    versions: tuple  # ((major, minor), fn) sorted by version


def run_check(check: Check, version: tuple[int, int], metadata: dict, spec: dict):
    chosen = None
    for minimum, fn in check.versions:
        if minimum <= version:
            chosen = fn
    if chosen is None:
        return None
    return chosen(metadata or {}, spec or {})


def _containers(spec: dict):
    """(container, path, name) in psa's visiting order: init, regular, ephemeral."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for i, c in enumerate(spec.get(key) or []):
            if isinstance(c, dict):
                yield c, f"spec.{key}[{i}]", str(c.get("name", ""))


def _sc(obj: dict) -> dict:
    sc = obj.get("securityContext")
    return sc if isinstance(sc, dict) else {}


def _plural(single: str, plural: str, n: int) -> str:
    return single if n == 1 else plural


def _quote(items) -> str:
    return ", ".join(f'"{x}"' for x in items)


def _who(names: list) -> str:
    return f"{_plural('container', 'containers', len(names))} {_quote(names)}"


def _windows(spec: dict) -> bool:
    return ((spec.get("os") or {}).get("name")) == "windows"


# ---------------------------------------------------------------------------------------------
# baseline


def host_namespaces(meta, spec):
    bad = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k) is True]
    if not bad:
        return None
    errs = [FieldError(f"spec.{k}", None, True) for k in ("hostNetwork", "hostPID", "hostIPC")
            if spec.get(k) is True]
    return "host namespaces", ", ".join(bad), errs


def privileged(meta, spec):
    names, errs = [], []
    for c, path, name in _containers(spec):
        if _sc(c).get("privileged") is True:
            names.append(name)
            errs.append(FieldError(f"{path}.securityContext.privileged", name, True))
    if not names:
        return None
    return "privileged", f"{_who(names)} must not set securityContext.privileged=true", errs


_BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                  "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def capabilities_baseline(meta, spec):
    names, caps, errs = [], set(), []
    for c, path, name in _containers(spec):
        added = (_sc(c).get("capabilities") or {}).get("add") or []
        bad = [str(x) for x in added if str(x) not in _BASELINE_CAPS]
        if bad:
            names.append(name)
            caps.update(bad)
            errs.append(FieldError(f"{path}.securityContext.capabilities.add", name, bad))
    if not names:
        return None
    return ("non-default capabilities",
            f"{_who(names)} must not include {_quote(sorted(caps))} in "
            "securityContext.capabilities.add", errs)


def host_path_volumes(meta, spec):
    names, errs = [], []
    for i, v in enumerate(spec.get("volumes") or []):
        if isinstance(v, dict) and v.get("hostPath") is not None:
            names.append(str(v.get("name", "")))
            errs.append(FieldError(f"spec.volumes[{i}].hostPath", None, v.get("hostPath")))
    if not names:
        return None
    return "hostPath volumes", f"{_plural('volume', 'volumes', len(names))} {_quote(names)}", errs


def host_ports(meta, spec):
    names, ports, errs = [], [], []
    for c, path, name in _containers(spec):
        bad = False
        for j, p in enumerate(c.get("ports") or []):
            hp = (p or {}).get("hostPort")
            if hp not in (None, 0, 0.0):
                bad = True
                ports.append(str(int(hp)) if isinstance(hp, (int, float)) else str(hp))
                errs.append(FieldError(f"{path}.ports[{j}].hostPort", name, hp))
        if bad:
            names.append(name)
    if not names:
        return None
    return ("hostPort", f"{_who(names)} {_plural('uses', 'use', len(names))} "
            f"{_plural('hostPort', 'hostPorts', len(ports))} {', '.join(ports)}", errs)


def app_armor(meta, spec):
    setters, values, errs = [], set(), []
    ptype = ((_sc(spec).get("appArmorProfile") or {}).get("type"))
    if _sc(spec).get("appArmorProfile") is not None and ptype not in ("RuntimeDefault", "Localhost"):
        setters.append("pod")
        values.add(str(ptype or ""))
        errs.append(FieldError("spec.securityContext.appArmorProfile.type", None, ptype))
    names = []
    for c, path, name in _containers(spec):
        prof = _sc(c).get("appArmorProfile")
        if prof is not None and (prof or {}).get("type") not in ("RuntimeDefault", "Localhost"):
            names.append(name)
            values.add(str((prof or {}).get("type") or ""))
            errs.append(FieldError(f"{path}.securityContext.appArmorProfile.type", name,
                                   (prof or {}).get("type")))
    if names:
        setters.append(_who(names))
    annotations = []
    prefix = "container.apparmor.security.beta.kubernetes.io/"
    for k, v in sorted(((meta or {}).get("annotations") or {}).items()):
        v = str(v)
        if k.startswith(prefix) and not (v == "" or v == "runtime/default"
                                         or v.startswith("localhost/")):
            annotations.append(f'{k}="{v}"')
            errs.append(FieldError(f"metadata.annotations[{k}]", None, v))
    bad_list = sorted(values) + annotations
    if annotations:
        setters.append(_plural("annotation", "annotations", len(annotations)))
    if not setters:
        return None
    return (_plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(bad_list)),
            f"{' and '.join(setters)} must not set AppArmor profile type to {_quote(bad_list)}", errs)


def _selinux(allowed):
    def check(meta, spec):
        setters, types, errs = [], set(), []
        flags = {"user": False, "role": False}

        def bad(opts, base, container):
            ok = True
            if str(opts.get("type") or "") not in allowed:
                ok = False
                types.add(str(opts.get("type") or ""))
                errs.append(FieldError(f"{base}.seLinuxOptions.type", container, opts.get("type")))
            for key in ("user", "role"):
                if opts.get(key):
                    ok = False
                    flags[key] = True
                    errs.append(FieldError(f"{base}.seLinuxOptions.{key}", container, opts.get(key)))
            return not ok

        pod_opts = _sc(spec).get("seLinuxOptions")
        if isinstance(pod_opts, dict) and bad(pod_opts, "spec.securityContext", None):
            setters.append("pod")
        names = [name for c, path, name in _containers(spec)
                 if isinstance(_sc(c).get("seLinuxOptions"), dict)
                 and bad(_sc(c)["seLinuxOptions"], f"{path}.securityContext", name)]
        if names:
            setters.append(_who(names))
        if not setters:
            return None
        data = []
        if types:
            data.append(f"{_plural('type', 'types', len(types))} {_quote(sorted(types))}")
        data += [f"{k} may not be set" for k in ("user", "role") if flags[k]]
        return ("seLinuxOptions", f"{' and '.join(setters)} set forbidden "
                f"securityContext.seLinuxOptions: {'; '.join(data)}", errs)
    return check


def proc_mount(meta, spec):
    names, types, errs = [], set(), []
    for c, path, name in _containers(spec):
        pm = _sc(c).get("procMount")
        if pm is not None and pm != "Default":
            names.append(name)
            types.add(str(pm))
            errs.append(FieldError(f"{path}.securityContext.procMount", name, pm))
    if not names:
        return None
    return ("procMount", f"{_who(names)} must not set securityContext.procMount to "
            f"{_quote(sorted(types))}", errs)


def _seccomp_annotations(meta, errs, values, setters):
    ann = (meta or {}).get("annotations") or {}
    if str(ann.get("seccomp.security.alpha.kubernetes.io/pod", "")) == "unconfined":
        setters.append("pod annotation")
        values.add("unconfined")
        errs.append(FieldError("metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]",
                               None, "unconfined"))
    for k, v in sorted(ann.items()):
        if k.startswith("container.seccomp.security.alpha.kubernetes.io/") and v == "unconfined":
            setters.append(f'container annotation "{k}"')
            values.add("unconfined")
            errs.append(FieldError(f"metadata.annotations[{k}]", None, v))


def seccomp_baseline(meta, spec):
    setters, values, errs = [], set(), []
    _seccomp_annotations(meta, errs, values, setters)
    if (_sc(spec).get("seccompProfile") or {}).get("type") == "Unconfined":
        setters.append("pod")
        values.add("Unconfined")
        errs.append(FieldError("spec.securityContext.seccompProfile.type", None, "Unconfined"))
    names = []
    for c, path, name in _containers(spec):
        if (_sc(c).get("seccompProfile") or {}).get("type") == "Unconfined":
            names.append(name)
            values.add("Unconfined")
            errs.append(FieldError(f"{path}.securityContext.seccompProfile.type", name, "Unconfined"))
    if names:
        setters.append(_who(names))
    if not setters:
        return None
    return ("seccompProfile", f"{' and '.join(setters)} must not set "
            f"securityContext.seccompProfile.type to {_quote(sorted(values))}", errs)


_SYSCTLS = {
    (1, 0): {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
             "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"},
}
_SYSCTLS[(1, 27)] = _SYSCTLS[(1, 0)] | {"net.ipv4.ip_local_reserved_ports"}
_SYSCTLS[(1, 29)] = _SYSCTLS[(1, 27)] | {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                                         "net.ipv4.tcp_keepalive_intvl",
                                         "net.ipv4.tcp_keepalive_probes"}
_SYSCTLS[(1, 32)] = _SYSCTLS[(1, 29)] | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}


def _sysctls(allowed):
    def check(meta, spec):
        names, errs = [], []
        for i, s in enumerate(_sc(spec).get("sysctls") or []):
            name = str((s or {}).get("name", ""))
            if name not in allowed:
                names.append(name)
                errs.append(FieldError(f"spec.securityContext.sysctls[{i}].name", None, name))
        if not names:
            return None
        return "forbidden sysctls", ", ".join(names), errs
    return check


def windows_host_process(meta, spec):
    setters, errs = [], []
    if ((_sc(spec).get("windowsOptions") or {}).get("hostProcess")) is True:
        setters.append("pod")
        errs.append(FieldError("spec.securityContext.windowsOptions.hostProcess", None, True))
    names = []
    for c, path, name in _containers(spec):
        if ((_sc(c).get("windowsOptions") or {}).get("hostProcess")) is True:
            names.append(name)
            errs.append(FieldError(f"{path}.securityContext.windowsOptions.hostProcess", name, True))
    if names:
        setters.append(_who(names))
    if not setters:
        return None
    return ("hostProcess", f"{' and '.join(setters)} must not set "
            "securityContext.windowsOptions.hostProcess=true", errs)


def host_probes(meta, spec):
    names, hosts, errs = [], set(), []
    for c, path, name in _containers(spec):
        found = []
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            for handler in ("httpGet", "tcpSocket"):
                host = ((c.get(probe) or {}).get(handler) or {}).get("host")
                if host:
                    found.append(host)
                    errs.append(FieldError(f"{path}.{probe}.{handler}.host", name, host))
        for hook in ("postStart", "preStop"):
            for handler in ("httpGet", "tcpSocket"):
                host = (((c.get("lifecycle") or {}).get(hook) or {}).get(handler) or {}).get("host")
                if host:
                    found.append(host)
                    errs.append(FieldError(f"{path}.lifecycle.{hook}.{handler}.host", name, host))
        if found:
            names.append(name)
            hosts.update(map(str, found))
    if not names:
        return None
    return ("probe or lifecycle host", f"{_who(sorted(set(names)))} "
            f"{_plural('uses', 'use', len(set(names)))} "
            f"{_plural('probe or lifecycle host', 'probe or lifecycle hosts', len(hosts))} "
            f"{_quote(sorted(hosts))}", errs)


# ---------------------------------------------------------------------------------------------
# restricted

_ALLOWED_VOLUMES = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
                    "persistentVolumeClaim", "projected", "secret")
_KNOWN_VOLUMES = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs",
                  "iscsi", "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc",
                  "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk",
                  "portworxVolume", "scaleIO", "storageos")


def restricted_volumes(meta, spec):
    names, types, errs = [], set(), []
    for i, v in enumerate(spec.get("volumes") or []):
        if not isinstance(v, dict) or any(v.get(k) is not None for k in _ALLOWED_VOLUMES):
            continue
        kind = next((k for k in _KNOWN_VOLUMES if v.get(k) is not None), "unknown")
        names.append(str(v.get("name", "")))
        types.add(kind)
        errs.append(FieldError(f"spec.volumes[{i}].{kind}", None, kind))
    if not names:
        return None
    n = len(names)
    return ("restricted volume types",
            f"{_plural('volume', 'volumes', n)} {_quote(names)} {_plural('uses', 'use', n)} "
            f"{_plural('restricted volume type', 'restricted volume types', len(types))} "
            f"{_quote(sorted(types))}", errs)


def _allow_privilege_escalation(windows_exempt: bool):
    def check(meta, spec):
        if windows_exempt and _windows(spec):
            return None
        names, errs = [], []
        for c, path, name in _containers(spec):
            if _sc(c).get("allowPrivilegeEscalation") is not False:
                names.append(name)
                errs.append(FieldError(f"{path}.securityContext.allowPrivilegeEscalation", name,
                                       _sc(c).get("allowPrivilegeEscalation"),
                                       "Forbidden" if "allowPrivilegeEscalation" in _sc(c)
                                       else "Required value"))
        if not names:
            return None
        return ("allowPrivilegeEscalation != false",
                f"{_who(names)} must set securityContext.allowPrivilegeEscalation=false", errs)
    return check


def run_as_non_root(meta, spec):
    setters, errs, implicit = [], [], []
    pod_value = _sc(spec).get("runAsNonRoot")
    if pod_value is False:
        setters.append("pod")
        errs.append(FieldError("spec.securityContext.runAsNonRoot", None, False))
    explicit = []
    for c, path, name in _containers(spec):
        value = _sc(c).get("runAsNonRoot")
        if value is not None:
            if value is False:
                explicit.append(name)
                errs.append(FieldError(f"{path}.securityContext.runAsNonRoot", name, False))
        elif pod_value is not True:
            implicit.append(name)
            errs.append(FieldError(f"{path}.securityContext.runAsNonRoot", name, None,
                                   "Required value"))
    if explicit:
        setters.append(_who(explicit))
    details = []
    if setters:
        details.append(f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false")
    if implicit:
        details.append(f"pod or {_who(implicit)} must set securityContext.runAsNonRoot=true")
    if not details:
        return None
    return "runAsNonRoot != true", "\n".join(details), errs


def run_as_user(meta, spec):
    setters, errs = [], []
    if _sc(spec).get("runAsUser") == 0:
        setters.append("pod")
        errs.append(FieldError("spec.securityContext.runAsUser", None, 0))
    names = []
    for c, path, name in _containers(spec):
        if _sc(c).get("runAsUser") == 0:
            names.append(name)
            errs.append(FieldError(f"{path}.securityContext.runAsUser", name, 0))
    if names:
        setters.append(_who(names))
    if not setters:
        return None
    return "runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0", errs


def _seccomp_restricted(windows_exempt: bool):
    def check(meta, spec):
        if windows_exempt and _windows(spec):
            return None
        ok_types = ("RuntimeDefault", "Localhost")
        setters, values, errs, implicit = [], set(), [], []
        pod_type = (_sc(spec).get("seccompProfile") or {}).get("type")
        pod_ok = pod_type in ok_types
        if _sc(spec).get("seccompProfile") is not None and not pod_ok:
            setters.append("pod")
            values.add(str(pod_type))
            errs.append(FieldError("spec.securityContext.seccompProfile.type", None, pod_type))
        explicit = []
        for c, path, name in _containers(spec):
            prof = _sc(c).get("seccompProfile")
            if prof is not None:
                if (prof or {}).get("type") not in ok_types:
                    explicit.append(name)
                    values.add(str((prof or {}).get("type")))
                    errs.append(FieldError(f"{path}.securityContext.seccompProfile.type", name,
                                           (prof or {}).get("type")))
            elif not pod_ok:
                implicit.append(name)
                errs.append(FieldError(f"{path}.securityContext.seccompProfile.type", name, None,
                                       "Required value"))
        if explicit:
            setters.append(_who(explicit))
        details = []
        if setters:
            details.append(f"{' and '.join(setters)} must not set "
                           f"securityContext.seccompProfile.type to {_quote(sorted(values))}")
        if implicit:
            details.append(f"pod or {_who(implicit)} must set securityContext.seccompProfile.type "
                           'to "RuntimeDefault" or "Localhost"')
        if not details:
            return None
        return "seccompProfile", "; ".join(details), errs
    return check


def _capabilities_restricted(windows_exempt: bool):
    def check(meta, spec):
        if windows_exempt and _windows(spec):
            return None
        no_drop, bad_add, caps, errs = [], [], set(), []
        for c, path, name in _containers(spec):
            capabilities = _sc(c).get("capabilities") or {}
            drop = [str(x) for x in capabilities.get("drop") or []]
            if "ALL" not in drop:
                no_drop.append(name)
                errs.append(FieldError(f"{path}.securityContext.capabilities.drop", name, drop,
                                       "Required value" if not drop else "Forbidden"))
            added = [str(x) for x in capabilities.get("add") or [] if str(x) != "NET_BIND_SERVICE"]
            if added:
                bad_add.append(name)
                caps.update(added)
                errs.append(FieldError(f"{path}.securityContext.capabilities.add", name, added))
        details = []
        if no_drop:
            details.append(f'{_who(no_drop)} must set securityContext.capabilities.drop=["ALL"]')
        if bad_add:
            details.append(f"{_who(bad_add)} must not include {_quote(sorted(caps))} in "
                           "securityContext.capabilities.add")
        if not details:
            return None
        return "unrestricted capabilities", "; ".join(details), errs
    return check


CHECKS: tuple[Check, ...] = (
    Check("allowPrivilegeEscalation", "restricted",
          (((1, 8), _allow_privilege_escalation(False)),
           ((1, 25), _allow_privilege_escalation(True)))),
    Check("appArmorProfile", "baseline", (((1, 0), app_armor),)),
    Check("capabilities_baseline", "baseline", (((1, 0), capabilities_baseline),)),
    Check("capabilities_restricted", "restricted",
          (((1, 22), _capabilities_restricted(False)), ((1, 25), _capabilities_restricted(True)))),
    Check("hostNamespaces", "baseline", (((1, 0), host_namespaces),)),
    Check("hostPathVolumes", "baseline", (((1, 0), host_path_volumes),)),
    Check("hostPorts", "baseline", (((1, 0), host_ports),)),
    Check("hostProbesAndHostLifecycle", "baseline", (((1, 34), host_probes),)),
    Check("privileged", "baseline", (((1, 0), privileged),)),
    Check("procMount", "baseline", (((1, 0), proc_mount),)),
    Check("restrictedVolumes", "restricted", (((1, 0), restricted_volumes),)),
    Check("runAsNonRoot", "restricted", (((1, 0), run_as_non_root),)),
    Check("runAsUser", "restricted", (((1, 23), run_as_user),)),
    Check("seLinuxOptions", "baseline",
          (((1, 0), _selinux({"", "container_t", "container_init_t", "container_kvm_t"})),
           ((1, 31), _selinux({"", "container_t", "container_init_t", "container_kvm_t",
                               "container_engine_t"})))),
    Check("seccompProfile_baseline", "baseline", (((1, 0), seccomp_baseline),)),
    Check("seccompProfile_restricted", "restricted",
          (((1, 19), _seccomp_restricted(False)), ((1, 25), _seccomp_restricted(True)))),
    Check("sysctls", "baseline", tuple((v, _sysctls(s)) for v, s in sorted(_SYSCTLS.items()))),
    Check("windowsHostProcess", "baseline", (((1, 0), windows_host_process),)),
)
CHECK_IDS: dict[str, Check] = {c.id: c for c in CHECKS}
