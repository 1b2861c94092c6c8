"""Inventory -> control-plane paths: APIService/webhook -> Service port -> pod port -> network verdict."""

from __future__ import annotations

from dataclasses import dataclass, replace

from vizdoctor.knowledge.addons import RUNTIME_WEBHOOKS
from vizdoctor.model import CallTarget, Inventory, ObjectRef, Service, ServicePort, ServiceRef, Workload
from vizdoctor.network.decide import Decider, Status, Verdict


@dataclass(slots=True)
class ControlPlanePath:
    target: CallTarget
    service: Service | None
    service_port: ServicePort | None
    target_port: int | None
    workloads: list[Workload]
    host_network: bool
    status: Status
    reason: str
    verdict: Verdict | None = None


class _WorkloadIndex:
    """Workloads by namespace and by (namespace, label, value), built once per `build_paths`, so that a
    Service selector is matched against the workloads carrying its rarest label only: O(objects + paths)
    instead of every workload of the namespace for every path."""

    def __init__(self, by_namespace: dict[str, list[Workload]]) -> None:
        self.by_namespace = by_namespace
        self._by_label: dict[tuple[str, str, str], list[Workload]] = {}
        for ns, workloads in by_namespace.items():
            for w in workloads:
                for k, v in w.pod_labels.items():
                    self._by_label.setdefault((ns, k, v), []).append(w)

    def selected(self, namespace: str, selector: dict[str, str]) -> list[Workload]:
        # every bucket keeps the namespace's order, so the result is the same as a full scan's
        smallest = min((self._by_label.get((namespace, k, v), []) for k, v in selector.items()), key=len)
        return [w for w in smallest if all(w.pod_labels.get(k) == v for k, v in selector.items())]


def _selected(svc: Service, index: _WorkloadIndex) -> list[Workload]:
    if not svc.selector:
        return []
    return index.selected(svc.namespace, svc.selector)


def _resolve_port(
    svc: Service, ref: ServiceRef, selected: list[Workload]
) -> tuple[ServicePort | None, int | None, str]:
    """(service port, pod port, why-unknown)."""
    sp = next((p for p in svc.ports if p.port == ref.port), None)
    if sp is None:
        have = ", ".join(str(p.port) for p in svc.ports) or "none"
        return (
            None,
            None,
            (
                f"Service {svc.namespace}/{svc.name} has no port {ref.port} (it has {have}), so the "
                "kube-apiserver cannot call it at all (APIService reason ServicePortError)"
            ),
        )
    if sp.target_port is None:
        return sp, sp.port, ""
    if isinstance(sp.target_port, int):
        return sp, sp.target_port, ""
    if not svc.selector:
        return (
            sp,
            None,
            (
                f"targetPort {sp.target_port!r} is a name and Service {svc.namespace}/{svc.name} "
                "has no selector to find the pods that define it"
            ),
        )
    if not selected:
        return (
            sp,
            None,
            (
                f"targetPort {sp.target_port!r} is a name, and no workload in the inputs matches "
                f"the selector of Service {svc.namespace}/{svc.name}"
            ),
        )
    numbers = {p.port for w in selected for p in w.ports if p.name == sp.target_port}
    if len(numbers) == 1:
        return sp, numbers.pop(), ""
    if not numbers:
        names = ", ".join(f"{w.kind} {w.name}" for w in selected)
        return (
            sp,
            None,
            (
                f"no container of {names} declares a port named {sp.target_port!r}, so the Service "
                "has no endpoints on it (APIService reason MissingEndpoints)"
            ),
        )
    return (
        sp,
        None,
        (f"targetPort {sp.target_port!r} means {sorted(numbers)} in different selected workloads"),
    )


def _inferred_targets(inv: Inventory) -> list[CallTarget]:
    named = {(t.service.namespace, t.service.name) for t in inv.targets if t.service}
    out: list[CallTarget] = []
    for hook in RUNTIME_WEBHOOKS:
        for (ns, name), svc in inv.services.items():
            if name != hook.service or (ns, name) in named:
                continue
            kind = (
                "MutatingWebhookConfiguration"
                if hook.kind == "MutatingWebhook"
                else "ValidatingWebhookConfiguration"
            )
            out.append(
                CallTarget(
                    hook.kind,
                    hook.webhook,
                    ObjectRef(kind, None, hook.configuration),
                    ServiceRef(ns, name, hook.port),
                    failure_policy=hook.failure_policy,
                    timeout_seconds=10,
                    operations=hook.operations,
                    inferred=True,
                    inferred_from=f"registered at run time by the add-on behind Service {ns}/{name} "
                    f"({hook.source})",
                    location=svc.location,
                )
            )
    return out


def _namespace_less(
    ref: ServiceRef, by_namespace: dict[str, list[Workload]], by_name: dict[str, list[Service]]
) -> tuple[Service, _WorkloadIndex, str] | None:
    """A Service that named no namespace (`helm template` without -n, manifests for `kubectl apply -n X`)
    is the one a webhook or APIService names in X when it is the only Service of that name without one.
    Its namespace-less workloads go with it."""
    candidates = [s for s in by_name.get(ref.name, []) if s.namespace_defaulted]
    if len(candidates) != 1:
        return None
    found = candidates[0]
    svc = replace(found, namespace=ref.namespace)
    moved = [
        replace(w, namespace=ref.namespace)
        for w in by_namespace.get(found.namespace, [])
        if w.namespace_defaulted
    ]
    scope = _WorkloadIndex({ref.namespace: [*by_namespace.get(ref.namespace, []), *moved]})
    where = f" ({found.location})" if found.location else ""
    note = (
        f"Service {ref.name}{where} names no namespace; taken as {ref.namespace}/{ref.name}, the namespace the "
        f"caller names (namespace inferred: apply it with -n {ref.namespace})"
    )
    return svc, scope, note


def _undecided(t: CallTarget, reason: str) -> ControlPlanePath:
    """A path that ends before any Service is resolved."""
    return ControlPlanePath(t, None, None, None, [], False, "unknown", reason)


def build_paths(inv: Inventory) -> list[ControlPlanePath]:
    paths: list[ControlPlanePath] = []
    decider = Decider(inv.network)
    by_namespace: dict[str, list[Workload]] = {}
    for w in inv.workloads:
        by_namespace.setdefault(w.namespace, []).append(w)
    index = _WorkloadIndex(by_namespace)
    by_name: dict[str, list[Service]] = {}
    for s in inv.services.values():
        by_name.setdefault(s.name, []).append(s)
    for t in [*inv.targets, *_inferred_targets(inv)]:
        if t.service is None:
            where = f"the URL {t.url}" if t.url else "no Service and no URL"
            paths.append(
                _undecided(t, f"it calls {where}, not a Service: where that lands is outside the inputs")
            )
            continue
        ref = t.service
        svc = inv.services.get((ref.namespace, ref.name))
        scope = index
        if svc is None:
            found = _namespace_less(ref, by_namespace, by_name)
            if found is None:
                paths.append(_undecided(t, f"Service {ref.namespace}/{ref.name} is not among the inputs"))
                continue
            svc, scope, note = found
            t = replace(t, inferred=True, inferred_from="; ".join(x for x in (t.inferred_from, note) if x))
        selected = _selected(svc, scope)
        sp, port, why = _resolve_port(svc, ref, selected)
        host_network = any(w.host_network for w in selected)
        if port is None:
            paths.append(ControlPlanePath(t, svc, sp, None, selected, host_network, "unknown", why))
            continue
        labels = selected[0].pod_labels if selected else dict(svc.selector or {})
        nodes = frozenset(w.node_name for w in selected if w.node_name)
        verdict = decider.decide(port, svc.namespace, labels, nodes or None)
        reason = verdict.reason
        if host_network:
            reason = (
                f"the pods use hostNetwork, so the call lands on the node's own address, port {port}; "
                + reason
            )
        paths.append(
            ControlPlanePath(t, svc, sp, port, selected, host_network, verdict.status, reason, verdict)
        )
    return paths


def describe(path: ControlPlanePath) -> str:
    t = path.target
    svc = f"{t.service.namespace}/{t.service.name}:{t.service.port}" if t.service else (t.url or "?")
    port = f" -> pod port {path.target_port}" if path.target_port is not None else ""
    return f"{t.kind} {t.name} -> {svc}{port}"
