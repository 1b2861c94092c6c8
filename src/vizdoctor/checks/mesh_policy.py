"""mesh-policy-blocks-apiserver: a service mesh's inbound policy on a webhook or APIService pod that refuses
the kube-apiserver, which is an unmeshed client speaking plain TLS.

Linkerd (linkerd.io/2/reference/authorization-policy): the default inbound policy comes from the pod's
`config.linkerd.io/default-inbound-policy` annotation, else its namespace's, else the install's
(proxy.defaultInboundPolicy, default all-unauthenticated; a live proxy's LINKERD2_PROXY_INBOUND_DEFAULT_POLICY
is the effective value). A Server that selects the port replaces the default: traffic is then denied unless an
AuthorizationPolicy (or the older ServerAuthorization) admits it; an unauthenticated client passes only a
NetworkAuthentication (or `client.unauthenticated: true`). Istio (istio.io/latest/docs/reference/config/security/
peer_authentication): the most specific PeerAuthentication (workload, then namespace, then the root namespace)
decides; STRICT refuses plain-TLS clients unless portLevelMtls makes the port PERMISSIVE or DISABLE.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from vizdoctor.checks.context import Context
from vizdoctor.checks.control_plane import object_ref
from vizdoctor.checks.path_facts import pod_paths, port_name, service_text, severity
from vizdoctor.findings import Finding, Fix, new
from vizdoctor.knowledge import cni
from vizdoctor.model import Inventory, RawObject, Workload
from vizdoctor.network.cni import namespace_annotations, namespace_labels, pod_template, raw_workload
from vizdoctor.network.netpol import label_selector_matches
from vizdoctor.paths import ControlPlanePath, describe
from vizdoctor.remediation.pod_network import istio_permissive, linkerd_allow

CHECK = "mesh-policy-blocks-apiserver"
ISTIO_ROOT_NAMESPACE = "istio-system"  # meshConfig.rootNamespace's default


def _pod(inv: Inventory, w: Workload) -> dict[str, Any]:
    doc = raw_workload(inv, w)
    return pod_template(doc) if doc else {}


def _containers(pod: dict[str, Any]) -> set[str]:
    spec = pod.get("spec") or {}
    return {
        str(c.get("name"))
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
        if isinstance(c, dict)
    }


def _annotations(pod: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((pod.get("metadata") or {}).get("annotations") or {}).items()}


def _proxy_env(pod: dict[str, Any], container: str) -> dict[str, str]:
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if isinstance(c, dict) and c.get("name") == container:
            return {
                str(e.get("name")): str(e.get("value"))
                for e in c.get("env") or []
                if isinstance(e, dict) and "value" in e
            }
    return {}


def _skipped(ann: dict[str, str], key: str, port: int) -> bool:
    for part in ann.get(key, "").split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            if lo.isdigit() and hi.isdigit() and int(lo) <= port <= int(hi):
                return True
        elif part == str(port):
            return True
    return False


def _server_port_matches(spec: dict[str, Any], port: int, name: str | None) -> bool:
    p = spec.get("port")
    return p == port or str(p) == str(port) or (name is not None and p == name)


def _admits_unauthenticated(inv: Inventory, ns: str, server: RawObject) -> tuple[bool | None, str]:
    """Does an AuthorizationPolicy or ServerAuthorization on this Server admit an unmeshed client?"""
    undecided = ""
    for pol in inv.objects.get("AuthorizationPolicy", []):
        if (pol.namespace or inv.default_namespace) != ns or "linkerd" not in str(
            pol.doc.get("apiVersion", "")
        ):
            continue
        spec = pol.doc.get("spec") or {}
        ref = spec.get("targetRef") or {}
        if not (
            (ref.get("kind") == "Server" and ref.get("name") == server.name) or ref.get("kind") == "Namespace"
        ):
            continue
        refs = [r for r in spec.get("requiredAuthenticationRefs") or [] if isinstance(r, dict)]
        if not refs:
            return True, f"AuthorizationPolicy {pol.name} requires no authentication"
        if any(r.get("kind") != "NetworkAuthentication" for r in refs):
            continue  # a MeshTLSAuthentication or ServiceAccount needs a meshed client
        for r in refs:
            for na in inv.objects.get("NetworkAuthentication", []):
                if na.name == r.get("name") and (na.namespace or inv.default_namespace) == (
                    r.get("namespace") or ns
                ):
                    nets = [
                        str(n.get("cidr"))
                        for n in (na.doc.get("spec") or {}).get("networks") or []
                        if isinstance(n, dict)
                    ]
                    if any(_everything(n) for n in nets):
                        return (
                            True,
                            f"AuthorizationPolicy {pol.name} admits NetworkAuthentication {na.name} ({', '.join(nets)})",
                        )
                    undecided = f"whether NetworkAuthentication {na.name} ({', '.join(nets)}) holds the kube-apiserver's source is not in the inputs"
    for sa in inv.objects.get("ServerAuthorization", []):
        if (sa.namespace or inv.default_namespace) != ns:
            continue
        spec = sa.doc.get("spec") or {}
        target = spec.get("server") or {}
        labels = {str(k): str(v) for k, v in ((server.doc.get("metadata") or {}).get("labels") or {}).items()}
        if target.get("name") != server.name and not (
            isinstance(target.get("selector"), dict) and label_selector_matches(target["selector"], labels)
        ):
            continue
        client = spec.get("client") or {}
        if client.get("unauthenticated"):
            nets = [str(n.get("cidr")) for n in client.get("networks") or [] if isinstance(n, dict)]
            if not nets or any(_everything(n) for n in nets):
                return True, f"ServerAuthorization {sa.name} admits unauthenticated clients"
            undecided = f"whether ServerAuthorization {sa.name}'s networks ({', '.join(nets)}) hold the kube-apiserver's source is not in the inputs"
    if undecided:
        return None, undecided
    return (
        False,
        f"no AuthorizationPolicy or ServerAuthorization on Server {server.name} admits an unauthenticated client",
    )


def _everything(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _linkerd(
    inv: Inventory, path: ControlPlanePath, w: Workload, pod: dict[str, Any]
) -> tuple[bool | None, str] | None:
    """(admitted, why) for a meshed pod; None when the pod is not meshed by Linkerd or the port skips the proxy."""
    ann = _annotations(pod)
    ns_ann = namespace_annotations(inv, w.namespace) or {}
    injected = "linkerd-proxy" in _containers(pod) or (
        ann.get("linkerd.io/inject", ns_ann.get("linkerd.io/inject")) in ("enabled", "ingress")
    )
    port = path.target_port
    assert port is not None
    if not injected or _skipped(ann, cni.LINKERD_SKIP_INBOUND, port):
        return None
    name = port_name(path)
    for server in inv.objects.get("Server", []):
        if (server.namespace or inv.default_namespace) != w.namespace or "linkerd" not in str(
            server.doc.get("apiVersion", "")
        ):
            continue
        spec = server.doc.get("spec") or {}
        if not _server_port_matches(spec, port, name):
            continue
        if not label_selector_matches(spec.get("podSelector") or {}, w.pod_labels):
            continue
        access = spec.get("accessPolicy")
        if access and cni.LINKERD_ADMITS_UNAUTHENTICATED.get(str(access)):
            return True, f"Server {server.name} has accessPolicy {access}"
        ok, why = _admits_unauthenticated(inv, w.namespace, server)
        return ok, f"Server {server.name} selects port {port} of the pods: {why}"
    env_policy = _proxy_env(pod, "linkerd-proxy").get(cni.LINKERD_POLICY_ENV)
    policy, where = None, ""
    if env_policy:
        policy, where = env_policy, "the proxy's " + cni.LINKERD_POLICY_ENV
    elif cni.LINKERD_POLICY_ANNOTATION in ann:
        policy, where = (
            ann[cni.LINKERD_POLICY_ANNOTATION],
            "the pod annotation " + cni.LINKERD_POLICY_ANNOTATION,
        )
    elif cni.LINKERD_POLICY_ANNOTATION in ns_ann:
        policy, where = (
            ns_ann[cni.LINKERD_POLICY_ANNOTATION],
            f"namespace {w.namespace}'s annotation " + cni.LINKERD_POLICY_ANNOTATION,
        )
    if policy is None or policy not in cni.LINKERD_ADMITS_UNAUTHENTICATED:
        return None  # the install's default applies, which the inputs do not override
    ok = cni.LINKERD_ADMITS_UNAUTHENTICATED[policy]
    if ok is None:
        return (
            None,
            f"default inbound policy {policy} ({where}) admits unmeshed clients only from the cluster networks, and whether the kube-apiserver's address is one of them is not in the inputs",
        )
    return ok, f"default inbound policy {policy} ({where}) and no Server on port {port}"


def _istio(
    inv: Inventory, path: ControlPlanePath, w: Workload, pod: dict[str, Any]
) -> tuple[bool | None, str] | None:
    labels = namespace_labels(inv, w.namespace) or {}
    pod_labels = {
        str(k): str(v) for k, v in ((pod.get("metadata") or {}).get("labels") or {}).items()
    } or w.pod_labels
    ann = _annotations(pod)
    injected = "istio-proxy" in _containers(pod) or (
        pod_labels.get("sidecar.istio.io/inject", ann.get("sidecar.istio.io/inject")) != "false"
        and (
            labels.get("istio-injection") == "enabled"
            or "istio.io/rev" in labels
            or pod_labels.get("sidecar.istio.io/inject") == "true"
        )
    )
    port = path.target_port
    assert port is not None
    if not injected or _skipped(ann, "traffic.sidecar.istio.io/excludeInboundPorts", port):
        return None
    chosen: tuple[int, RawObject] | None = None
    for pa in inv.objects.get("PeerAuthentication", []):
        ns = pa.namespace or inv.default_namespace
        spec = pa.doc.get("spec") or {}
        selector = spec.get("selector")
        if ns == w.namespace and selector:
            if label_selector_matches(selector, w.pod_labels):
                rank = 3
            else:
                continue
        elif ns == w.namespace:
            rank = 2
        elif ns == ISTIO_ROOT_NAMESPACE and not selector:
            rank = 1
        else:
            continue
        if chosen is None or rank > chosen[0]:
            chosen = (rank, pa)
    if chosen is None:
        return None
    pa = chosen[1]
    spec = pa.doc.get("spec") or {}
    mode = str((spec.get("mtls") or {}).get("mode", "UNSET"))
    port_level = (spec.get("portLevelMtls") or {}).get(port) or (spec.get("portLevelMtls") or {}).get(
        str(port)
    )
    if isinstance(port_level, dict) and spec.get("selector"):
        mode = str(port_level.get("mode", mode))
        return mode != "STRICT", f"PeerAuthentication {pa.namespace}/{pa.name} sets port {port} to {mode}"
    if mode == "STRICT":
        return (
            False,
            f"PeerAuthentication {pa.namespace or w.namespace}/{pa.name} requires mTLS (STRICT) on every port, {port} included",
        )
    return None if mode == "UNSET" else True, f"PeerAuthentication {pa.name}: {mode}"


def check(ctx: Context) -> list[Finding]:
    inv = ctx.inventory
    out: list[Finding] = []
    for path in pod_paths(ctx.paths):
        seen = False
        for w in path.workloads:
            if seen:
                break
            pod = _pod(inv, w)
            for mesh, judge in (("Linkerd", _linkerd), ("Istio", _istio)):
                got = judge(inv, path, w, pod)
                if got is None or got[0] is True:
                    continue
                seen = True
                ok, why = got
                assert path.target_port is not None
                svc = path.target.service
                assert svc is not None
                fix = (linkerd_allow if mesh == "Linkerd" else istio_permissive)(
                    w.namespace, svc.name, w.pod_labels, path.target_port
                )
                if ok is False:
                    out.append(
                        new(
                            CHECK,
                            f"{describe(path)}: {mesh} policy refuses the kube-apiserver",
                            f"The pods behind {service_text(path)} are meshed by {mesh} and {why}. The kube-apiserver is "
                            "an unmeshed client that speaks plain TLS, so the proxy refuses its connection (the API "
                            "server logs `connection reset by peer` or `EOF`) although the network is open.",
                            f"Admit unauthenticated clients on port {path.target_port} of these pods, or let that port "
                            "bypass the proxy.",
                            severity=severity(path),
                            object=object_ref(path),
                            location=path.target.location,
                            fix=Fix(manifest=fix),
                            extra={"path": describe(path), "mesh": mesh},
                        )
                    )
                else:
                    out.append(
                        new(
                            CHECK,
                            f"{describe(path)}: {mesh} policy effect unknown",
                            f"The pods behind {service_text(path)} are meshed by {mesh}: {why}.",
                            "Add the input that decides it, or run `vizdoctor check --probe` to measure the path.",
                            severity="warning",
                            object=object_ref(path),
                            location=path.target.location,
                            fix=Fix(manifest=fix),
                            extra={"path": describe(path), "mesh": mesh},
                        )
                    )
                break
    return out
