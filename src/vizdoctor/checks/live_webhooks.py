"""webhook-no-endpoints: a webhook (admission or CRD conversion) whose Service has no ready endpoint.

Live only. The kube-apiserver resolves a webhook's Service to its ready endpoints on the port the
webhook names; with none it fails at once with `no endpoints available for service "<name>"`. Error for
failurePolicy Fail and conversion webhooks, warning for Ignore (the webhook is then silently skipped).
Linkerd's own control-plane webhooks are reported in the linkerd-webhooks category.
"""

from __future__ import annotations

from vizdoctor.checks.context import Context, Passed
from vizdoctor.checks.control_plane import object_ref
from vizdoctor.checks.live_util import readable, service_endpoints
from vizdoctor.findings import Finding, Severity
from vizdoctor.knowledge import linkerd
from vizdoctor.model import CallTarget, LiveState
from vizdoctor.paths import ControlPlanePath, describe

CHECK_ID = "webhook-no-endpoints"
CATEGORY = "webhooks"
LINKERD_CATEGORY = "linkerd-webhooks"


def linkerd_component(live: LiveState, t: CallTarget) -> str | None:
    """`proxy-injector` etc. when t is one of Linkerd's control-plane webhooks in its namespace."""
    if t.service is None or live.linkerd_namespace is None or t.service.namespace != live.linkerd_namespace:
        return None
    return next((h.component for h in linkerd.CONTROL_PLANE_WEBHOOKS if h.webhook == t.name), None)


def endpoints_title(component: str) -> str:
    return f"{component} webhook has ready endpoints"


def _effect(t: CallTarget) -> str:
    assert t.service is not None
    svc = t.service
    err = (
        f'failed calling webhook "{t.name}": failed to call webhook: Post "https://{svc.name}.{svc.namespace}.svc:'
        f'{svc.port}{svc.path or "/"}?timeout={t.timeout_seconds or 10}s": no endpoints available for service '
        f'"{svc.name}"'
    )
    if t.kind == "CRDConversion":
        return (
            f"Reading or writing {t.name} objects in any version other than the stored one fails at once "
            f"(conversion webhook ... {err.split(': ', 1)[1]})."
        )
    what = t.operations or "the requests it matches"
    if t.failure_policy == "Ignore":
        verb = "mutations" if t.kind == "MutatingWebhook" else "validation"
        return (
            f"Matching requests ({what}) go ahead without this webhook (failurePolicy: Ignore): its {verb} "
            f"silently stop; the kube-apiserver logs `{err}`."
        )
    return f"Every matching request ({what}) is rejected at once with `Internal error occurred: {err}`."


def _severity(t: CallTarget) -> Severity:
    return "warning" if t.kind != "CRDConversion" and t.failure_policy == "Ignore" else "error"


def check(ctx: Context) -> list[Finding]:
    live = ctx.inventory.live
    if live is None or not readable(live, "Service") or not readable(live, "EndpointSlice"):
        return []
    out: list[Finding] = []
    for path in ctx.paths:
        finding = _check_path(live, path, ctx)
        if finding is not None:
            out.append(finding)
    return out


def _check_path(live: LiveState, path: ControlPlanePath, ctx: Context) -> Finding | None:
    t = path.target
    if t.kind == "APIService" or t.service is None or t.inferred:
        return None  # APIServices: apiservice-unavailable reads the aggregator's own verdict
    svc = t.service
    component = linkerd_component(live, t)
    eps = service_endpoints(live, svc.namespace, svc.name, svc.port)
    cause = "no-ready-endpoints"
    if eps.service is None:
        why = f"Service {svc.namespace}/{svc.name} does not exist"
        cause = "service-not-found"
    elif eps.port_name is None and eps.target_port is None:
        have = [
            p.get("port") for p in (eps.service.get("spec") or {}).get("ports") or [] if isinstance(p, dict)
        ]
        why = f"Service {svc.namespace}/{svc.name} has no port {svc.port} (it has {have or 'none'})"
        cause = "service-port-mismatch"
    elif eps.ready:
        if component:
            ctx.passed.append(Passed(LINKERD_CATEGORY, endpoints_title(component)))
        return None
    else:
        why = eps.describe_not_ready()
    policy = f" (failurePolicy: {t.failure_policy})" if t.failure_policy else ""
    return Finding(
        CHECK_ID,
        _severity(t),
        LINKERD_CATEGORY if component else CATEGORY,
        endpoints_title(component) if component else f"{describe(path)} has a ready endpoint{policy}",
        f"{why}. {_effect(t)}",
        "Make the pods behind the Service Running and Ready (kubectl -n "
        f"{svc.namespace} describe pod; kubectl -n {svc.namespace} get endpointslices -l "
        f"kubernetes.io/service-name={svc.name}), or fix the Service's selector and targetPort.",
        object=object_ref(path),
        location=t.location,
        extra={"cause": cause},
    )
