"""What the pod-side checks (pod network, NetworkPolicy, kubelet port, mesh policy) share about a path."""

from __future__ import annotations

from vizdoctor.findings import Severity
from vizdoctor.paths import ControlPlanePath


def severity(path: ControlPlanePath) -> Severity:
    """Error, except for failurePolicy: Ignore webhooks, whose failures the API server skips."""
    t = path.target
    if t.kind in ("MutatingWebhook", "ValidatingWebhook") and t.failure_policy == "Ignore":
        return "warning"
    return "error"


def port_name(path: ControlPlanePath) -> str | None:
    """The name of the pod port the kube-apiserver dials (a named targetPort, or the container port's name)."""
    sp = path.service_port
    if sp is not None and isinstance(sp.target_port, str):
        return sp.target_port
    for w in path.workloads:
        for p in w.ports:
            if p.port == path.target_port and p.name:
                return p.name
    return None


def pod_paths(paths: list[ControlPlanePath]) -> list[ControlPlanePath]:
    """Paths that end at known pods on a known port."""
    return [p for p in paths if p.target_port is not None and p.workloads and p.target.service is not None]


def service_text(path: ControlPlanePath) -> str:
    svc = path.target.service
    assert svc is not None
    return f"{svc.namespace}/{svc.name}"
