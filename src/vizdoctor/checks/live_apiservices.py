"""apiservice-unavailable: an APIService whose `Available` condition is not True, with its decoded cause.

Live only (`vizdoctor check`). The kube-aggregator's reasons (control-plane-reachability.md §9) are
structural (ServiceNotFound, ServicePortError, EndpointsNotFound, MissingEndpoints) or come from the
discovery probe (FailedDiscoveryCheck), whose message `vizdoctor.explainer.classify` decodes.
For Linkerd viz's `v1alpha1.tap.linkerd.io` the finding is `linkerd viz check`'s `tap API service is
running`, shown in the linkerd-viz category, as an error rather than the warning Linkerd gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vizdoctor.checks.context import Context
from vizdoctor.checks.live_util import (
    Obj,
    condition,
    find,
    name_of,
    namespace_of,
    pod_state,
    service_endpoints,
)
from vizdoctor.findings import Finding
from vizdoctor.knowledge import linkerd
from vizdoctor.knowledge.addons import consequence
from vizdoctor.model import LiveState, ObjectRef

if TYPE_CHECKING:  # the explainer and its error table load only when a live APIService is unavailable
    from vizdoctor.explainer import Explanation

CHECK_ID = "apiservice-unavailable"
CATEGORY = "aggregated APIs"
TAP_TITLE = "tap API service is running"

# Reasons whose cause needs no message parsing.
STRUCTURAL: dict[str, str] = {
    "ServiceNotFound": "service-not-found",
    "ServicePortError": "service-port-mismatch",
    "EndpointsNotFound": "no-ready-endpoints",
    "MissingEndpoints": "no-ready-endpoints",
}

REASON_MEANING: dict[str, str] = {
    "ServiceNotFound": "the Service it names does not exist",
    "ServicePortError": "the Service it names has no port equal to spec.service.port",
    "EndpointsNotFound": "the Service it names has no endpoints object",
    "MissingEndpoints": "the Service it names has no ready pod behind the port",
    "FailedDiscoveryCheck": "the kube-apiserver's probe of the API (GET /apis/<group>/<version>) failed",
    "ServiceAccessError": "the kube-apiserver could not look the Service up",
    "EndpointsAccessError": "the kube-apiserver could not look the endpoints up",
}


def _classify(reason: str, message: str) -> Explanation:
    from vizdoctor.explainer import classify

    explained = classify(message)
    if explained.cause == "unknown":
        explained = classify(f"{reason}: {message}")
    return explained


def _pod_for_ip(live: LiveState, ip: str | None) -> str | None:
    if not ip:
        return None
    for pod in live.objects.get("Pod", []):
        if (pod.get("status") or {}).get("podIP") == ip:
            node = (pod.get("spec") or {}).get("nodeName")
            where = f" on node {node}" if node else ""
            provider = _provider_id(live, node)
            if provider:
                where += f" ({provider})"
            return f"{ip} is pod {namespace_of(pod)}/{name_of(pod)}{where}, {pod_state(pod)}"
    return None


def _provider_id(live: LiveState, node: Any) -> str | None:
    if not node:
        return None
    obj = find(live, "Node", str(node))
    pid = ((obj or {}).get("spec") or {}).get("providerID")
    return str(pid) if pid else None


def _details(live: LiveState, svc: Obj, cause: str, port: int) -> str:
    ns, name = str(svc.get("namespace", "")), str(svc.get("name", ""))
    if cause == "service-not-found":
        return f"Service {ns}/{name} does not exist in the cluster."
    if cause == "service-port-mismatch":
        obj = find(live, "Service", name, ns)
        have = [
            p.get("port") for p in ((obj or {}).get("spec") or {}).get("ports") or [] if isinstance(p, dict)
        ]
        return f"Service {ns}/{name} has ports {have or 'none'}, not {port}."
    if cause == "no-ready-endpoints" and "EndpointSlice" in live.objects:
        eps = service_endpoints(live, ns, name, port)
        if eps.service is not None and not eps.ready:
            return eps.describe_not_ready() + "."
    return ""


def _platform(live: LiveState) -> str | None:
    ids = {
        str((n.get("spec") or {}).get("providerID", "")).split(":", 1)[0]
        for n in live.objects.get("Node", [])
    }
    return "EKS" if ids == {"aws"} else "GKE" if ids == {"gce"} else None


def _hint(cause: str, explained: Explanation, live: LiveState) -> str:
    # vizdoctor already read the condition: drop the step that says how to read it, and the steps for
    # other platforms when the nodes say which one this is
    platform = _platform(live)
    steps = [
        s.text
        for s in explained.steps
        if s.role != "inspect" and not (platform and s.platform and s.platform != platform)
    ]
    if not steps and cause == "no-ready-endpoints":
        steps = ["Make the pods behind the Service Running and Ready (kubectl describe pod; its events)."]
    return "\n".join(steps[:5]) or "kubectl get apiservice -o yaml shows the condition."


def check(ctx: Context) -> list[Finding]:
    live = ctx.inventory.live
    if live is None:
        return []
    ports = {p.target.name: p.target_port for p in ctx.paths if p.target.kind == "APIService"}
    out: list[Finding] = []
    for obj in live.objects.get("APIService", []):
        svc = (obj.get("spec") or {}).get("service")
        if not isinstance(svc, dict):
            continue  # Local: served by the kube-apiserver itself
        cond = condition(obj, "Available")
        if cond is not None and cond.get("status") == "True":
            continue
        out.append(unavailable(live, obj, svc, cond, ports.get(name_of(obj))))
    return out


def unavailable(live: LiveState, obj: Obj, svc: Obj, cond: Obj | None, target_port: int | None) -> Finding:
    name = name_of(obj)
    reason = str((cond or {}).get("reason") or "NoCondition")
    message = str((cond or {}).get("message") or "the APIService has no Available condition yet")
    explained = _classify(reason, message)
    cause = STRUCTURAL.get(reason) or explained.cause
    if cause == "unknown" and reason in ("FailedDiscoveryCheck", "NoCondition", "NotFound"):
        cause = "apiservice-unavailable"
    port = explained.port or target_port
    svc_port = int(svc.get("port") or 443)
    svc_ref = f"{svc.get('namespace')}/{svc.get('name')}:{svc_port}"
    meaning = REASON_MEANING.get(reason, "")
    parts = [
        f"APIService {name} -> {svc_ref} is not Available: {reason}: {message}",
        f"Cause: {cause}"
        + (f": {explained.summary}" if explained.summary else "")
        + (f" ({meaning})" if meaning and cause in ("unknown", "apiservice-unavailable") else ""),
    ]
    where = _pod_for_ip(live, explained.ip)
    if where:
        parts.append(where)
    details = _details(live, svc, cause, svc_port)
    if details:
        parts.append(details)
    what = consequence(
        "APIService",
        name,
        None,
        None,
        None,
        f"{svc.get('name')}.{svc.get('namespace')}",
        discovery_timeout=reason == "FailedDiscoveryCheck",
    )
    parts.append(what.message)
    tap = name == linkerd.TAP_APISERVICE and live.viz_namespace == svc.get("namespace")
    extra = {"cause": cause, "reason": reason}
    if port:
        extra["port"] = str(port)
    if explained.ip:
        extra["ip"] = str(explained.ip)
    return Finding(
        CHECK_ID,
        "error",
        "linkerd-viz" if tap else CATEGORY,
        TAP_TITLE if tap else f"APIService {name} is Available",
        "\n".join(p.rstrip(".") + "." for p in parts if p),
        _hint(cause, explained, live),
        object=ObjectRef("APIService", None, name),
        hint_url=what.hint_url,
        extra=extra,
    )
