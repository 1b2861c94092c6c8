"""Helpers for the checks that read what `vizdoctor check` found in a live cluster (`Inventory.live`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vizdoctor.model import CertSummary, LiveState

Obj = dict[str, Any]


def meta(obj: Obj) -> Obj:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def name_of(obj: Obj) -> str:
    return str(meta(obj).get("name", ""))


def namespace_of(obj: Obj) -> str | None:
    ns = meta(obj).get("namespace")
    return str(ns) if ns else None


def labels_of(obj: Obj) -> dict[str, str]:
    labels = meta(obj).get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def readable(live: LiveState, kind: str) -> bool:
    """Whether the kind was listed (an empty list counts); False when it could not be read."""
    return kind in live.objects


class _KindIndex:
    """One kind's live objects by name and by namespace, built on first use: lookups per path are then
    O(1) and O(namespace) instead of a pass over every object of the kind (quadratic at 10k pods)."""

    def __init__(self, items: list[Obj]) -> None:
        self.count = len(items)
        self.by_name: dict[str, list[Obj]] = {}
        self.by_namespace: dict[str | None, list[Obj]] = {}
        self.by_service: dict[tuple[str | None, str], list[Obj]] = {}  # EndpointSlices
        self._by_label: dict[tuple[str | None, str, str], list[Obj]] = {}
        for obj in items:
            self.by_name.setdefault(name_of(obj), []).append(obj)
            ns = namespace_of(obj)
            self.by_namespace.setdefault(ns, []).append(obj)
            labels = labels_of(obj)
            owner = labels.get("kubernetes.io/service-name")
            if owner is not None:
                self.by_service.setdefault((ns, owner), []).append(obj)
            for k, v in labels.items():
                self._by_label.setdefault((ns, k, v), []).append(obj)

    def by_label(self, namespace: str, key: str, value: str) -> list[Obj]:
        return self._by_label.get((namespace, key, value), [])


def _index(live: LiveState, kind: str) -> _KindIndex:
    items = live.objects.get(kind, [])
    # kept on the LiveState itself (not a dataclass field: equality and asdict ignore it), so it lives
    # exactly as long as the objects it indexes; rebuilt if the kind's list was replaced or grew
    cache: dict[str, tuple[list[Obj], _KindIndex]] = live.__dict__.setdefault("_kind_indexes", {})
    cached = cache.get(kind)
    if cached is not None and cached[0] is items and cached[1].count == len(items):
        return cached[1]
    index = _KindIndex(items)
    cache[kind] = (items, index)
    return index


def find(live: LiveState, kind: str, name: str, namespace: str | None = None) -> Obj | None:
    for obj in _index(live, kind).by_name.get(name, []):
        if namespace is None or namespace_of(obj) == namespace:
            return obj
    return None


def in_namespace(live: LiveState, kind: str, namespace: str) -> list[Obj]:
    return list(_index(live, kind).by_namespace.get(namespace, []))


def condition(obj: Obj, ctype: str) -> Obj | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == ctype:
            return c
    return None


def pod_ready(pod: Obj) -> bool:
    c = condition(pod, "Ready")
    return (pod.get("status") or {}).get("phase") == "Running" and c is not None and c.get("status") == "True"


def pod_state(pod: Obj) -> str:
    """One phrase: `Running and ready`, `Running, not ready (container tap: CrashLoopBackOff)`, `Pending (...)`."""
    status = pod.get("status") or {}
    phase = str(status.get("phase") or "Unknown")
    if pod_ready(pod):
        return "Running and ready"
    why: list[str] = []
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if not isinstance(cs, dict) or cs.get("ready"):
            continue
        state = cs.get("state") or {}
        waiting = state.get("waiting") or state.get("terminated") or {}
        reason = waiting.get("reason") or ("running" if "running" in state else "not ready")
        why.append(f"container {cs.get('name')}: {reason}")
    if not why:
        for c in status.get("conditions") or []:
            if isinstance(c, dict) and c.get("status") != "True" and c.get("reason"):
                why.append(f"{c.get('type')}: {c.get('reason')}")
    detail = f" ({'; '.join(why)})" if why else ""
    return (f"{phase}, not ready" if phase == "Running" else phase) + detail


def selected_pods(live: LiveState, namespace: str, selector: dict[str, str] | None) -> list[Obj]:
    if not selector:
        return []
    # the pods carrying the selector's first label, then the whole selector
    k0, v0 = next(iter(selector.items()))
    return [
        p
        for p in _index(live, "Pod").by_label(namespace, k0, v0)
        if all(labels_of(p).get(k) == v for k, v in selector.items())
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


@dataclass
class Endpoints:
    """What the EndpointSlices of one Service say about one of its ports."""

    service: Obj | None
    port_name: str | None = None
    target_port: Any = None
    ready: list[str] = field(default_factory=list)  # "ip:port"
    not_ready: list[str] = field(default_factory=list)
    pods: list[Obj] = field(default_factory=list)  # the pods the Service selects

    def describe_not_ready(self) -> str:
        svc = self.service
        assert svc is not None
        where = f"{namespace_of(svc)}/{name_of(svc)}"
        port = f" {self.port_name!r}" if self.port_name else ""
        parts = [f"Service {where} has no ready endpoint on its port{port} (targetPort {self.target_port})"]
        if self.not_ready:
            parts.append(f"not ready: {', '.join(self.not_ready[:5])}")
        if self.pods:
            parts.append(
                "; ".join(
                    f"pod {name_of(p)} on {(p.get('spec') or {}).get('nodeName') or 'no node'}: {pod_state(p)}"
                    for p in self.pods[:5]
                )
            )
        else:
            sel = (svc.get("spec") or {}).get("selector")
            parts.append(f"no running pod matches its selector {sel}" if sel else "it has no selector")
        return "; ".join(parts)


def service_endpoints(live: LiveState, namespace: str, name: str, port: int) -> Endpoints:
    """Ready and not-ready endpoints of Service namespace/name on its port `port` (from EndpointSlices)."""
    svc = find(live, "Service", name, namespace)
    if svc is None:
        return Endpoints(None)
    spec = svc.get("spec") or {}
    sport = next((p for p in spec.get("ports") or [] if isinstance(p, dict) and p.get("port") == port), None)
    out = Endpoints(svc, pods=selected_pods(live, namespace, spec.get("selector")))
    if sport is None:
        return out
    out.port_name = sport.get("name") or None
    out.target_port = sport.get("targetPort", port)
    for es in _index(live, "EndpointSlice").by_service.get((namespace, name), []):
        numbers = [
            p.get("port")
            for p in es.get("ports") or []
            if isinstance(p, dict)
            and ((p.get("name") or "") == (out.port_name or "") or p.get("port") == out.target_port)
        ]
        if not numbers:
            continue
        for ep in es.get("endpoints") or []:
            if not isinstance(ep, dict):
                continue
            ready = (ep.get("conditions") or {}).get("ready")
            for addr in ep.get("addresses") or []:
                entry = f"{addr}:{numbers[0]}"
                # the API: a nil `ready` is to be read as ready
                (out.ready if ready is not False else out.not_ready).append(entry)
    return out


def days_left(cert: CertSummary, now: datetime | None = None) -> float | None:
    if not cert.not_after:
        return None
    end = datetime.fromisoformat(cert.not_after)
    return (end - (now or datetime.now(UTC))).total_seconds() / 86400


def cert_problem(cert: CertSummary, identity: str, trusted_by: str) -> str | None:
    """Why the certificate is not valid for `identity` (None: valid), as `linkerd check` decides it."""
    left = days_left(cert)
    if left is not None and left <= 0:
        return f"the certificate in Secret {cert.secret} expired on {cert.not_after}"
    if identity not in cert.dns_names:
        names = ", ".join(cert.dns_names) or "none"
        return f"the certificate in Secret {cert.secret} is not valid for {identity} (its DNS names: {names})"
    if cert.signed_by_ca_bundle is False:
        return f"the certificate in Secret {cert.secret} is not signed by the caBundle of {trusted_by}"
    return None


def rbac_rule(
    group: str, resource: str, verbs: tuple[str, ...] = ("get", "list"), names: tuple[str, ...] = ()
) -> str:
    quoted = ", ".join(f'"{v}"' for v in verbs)
    rule = f'- apiGroups: ["{group}"]\n  resources: ["{resource}"]\n'
    if names:
        rule += "  resourceNames: [" + ", ".join(f'"{n}"' for n in names) + "]\n"
    return rule + f"  verbs: [{quoted}]"
