"""The parts of `linkerd viz check` (category linkerd-viz) and of `linkerd check`'s webhook TLS checks
(category linkerd-webhooks) that can be decided from the Kubernetes API, with the same names.

Live only. Passing checks become √ lines (`Context.passed`); failures are findings `viz-*` and
`linkerd-webhook-*`. `tap API service is running` fails through apiservice-unavailable (an error with its
cause, where Linkerd only warns) and the webhooks' endpoints through webhook-no-endpoints.
Sources: shared/knowledge/linkerd-viz.md §5.1, linkerd/linkerd2 viz/pkg/healthcheck/healthcheck.go.
"""

from __future__ import annotations

from vizdoctor.checks.context import Context, Passed
from vizdoctor.checks.live_apiservices import TAP_TITLE, unavailable
from vizdoctor.checks.live_util import (
    Obj,
    cert_problem,
    condition,
    days_left,
    find,
    in_namespace,
    labels_of,
    name_of,
    pod_ready,
    pod_state,
    readable,
)
from vizdoctor.findings import Finding, Severity
from vizdoctor.knowledge import linkerd
from vizdoctor.model import CertState, CertSummary, LiveState, ObjectRef

VIZ = "linkerd-viz"
WEBHOOKS = "linkerd-webhooks"
EXPIRY_DAYS = 60


def _finding(
    check: str,
    severity: Severity,
    category: str,
    title: str,
    message: str,
    hint: str,
    anchor: str | None = None,
    obj: ObjectRef | None = None,
) -> Finding:
    return Finding(
        check,
        severity,
        category,
        title,
        message,
        hint,
        object=obj,
        hint_url=linkerd.HINTS + anchor if anchor else None,
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def check(ctx: Context) -> list[Finding]:
    live = ctx.inventory.live
    if live is None:
        return []
    return [*_viz(ctx, live), *_webhooks(ctx, live)]


def _pass(ctx: Context, category: str, title: str) -> None:
    ctx.passed.append(Passed(category, title))


def _missing(live: LiveState, kind: str, names: list[str]) -> list[str]:
    return [n for n in names if find(live, kind, n) is None]


def _pods(live: LiveState, ns: str) -> list[Obj]:
    return [
        p
        for p in in_namespace(live, "Pod", ns)
        if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def _tap_certificate(live: LiveState, ns: str) -> CertSummary | None:
    for name in linkerd.TAP_SECRETS:
        cert = live.certificates.get(f"{ns}/{name}")
        if cert is not None:
            return cert
    return None


def _certificate_checks(
    ctx: Context,
    cert: CertSummary | None,
    identity: str,
    trusted_by: str,
    category: str,
    titles: tuple[str, str],
    ids: tuple[str, str],
    anchors: tuple[str, str],
    obj: ObjectRef,
) -> list[Finding]:
    """`<x> has valid cert` and `<x> cert is valid for at least 60 days`."""
    if cert is None:
        return []
    if cert.state in (CertState.NOT_READ, CertState.NO_PARSER, CertState.INVALID):
        if cert.state is CertState.NOT_READ:
            return []  # cannot-read says so
        return [
            _finding(
                ids[0],
                "info",
                category,
                titles[0],
                f"Not checked: {cert.unreadable}.",
                "Install `cryptography` in vizdoctor's environment to check the certificates."
                if cert.state is CertState.NO_PARSER
                else "",
                anchors[0],
                obj,
            )
        ]
    if cert.missing:
        return [
            _finding(
                ids[0],
                "error",
                category,
                titles[0],
                f"{_sentence(cert.unreadable or '')}: the server has no certificate the kube-apiserver can trust.",
                "Reinstall or upgrade the component so its chart creates the Secret (or create it, when the "
                "certificate is managed outside the chart).",
                anchors[0],
                obj,
            )
        ]
    out: list[Finding] = []
    problem = cert_problem(cert, identity, trusted_by)
    if problem:
        out.append(
            _finding(
                ids[0],
                "error",
                category,
                titles[0],
                f"{problem[0].upper()}{problem[1:]}. The kube-apiserver refuses the TLS handshake (x509 errors in "
                "the APIService condition or the webhook call).",
                "Renew the certificate and the caBundle together (helm upgrade, or cert-manager), then restart "
                "the pod so it loads the new certificate.",
                anchors[0],
                obj,
            )
        )
    else:
        _pass(ctx, category, titles[0])
    left = days_left(cert)
    if left is not None and left < EXPIRY_DAYS:
        out.append(
            _finding(
                ids[1],
                "warning",
                category,
                titles[1],
                f"The certificate in Secret {cert.secret} expires on {cert.not_after} ({max(left, 0):.0f} days "
                f"left).",
                "Renew it before it expires (helm upgrade regenerates chart-made certificates; cert-manager "
                "renews its own).",
                anchors[1],
                obj,
            )
        )
    elif left is not None:
        _pass(ctx, category, titles[1])
    return out


def _viz(ctx: Context, live: LiveState) -> list[Finding]:
    ns = live.viz_namespace
    if ns is None:
        return [
            _finding(
                "viz-namespace-exists",
                "info",
                VIZ,
                "linkerd-viz Namespace exists",
                "No Linkerd viz namespace found (labelled linkerd.io/extension=viz, named linkerd-viz, or given "
                "with --viz-namespace): the linkerd-viz checks were skipped.",
                "Pass --viz-namespace when viz runs in a namespace of another name.",
                "l5d-viz-ns-exists",
            )
        ]
    out: list[Finding] = []
    _pass(ctx, VIZ, "linkerd-viz Namespace exists")
    for kind, title, check_id, anchor, names in (
        (
            "ClusterRole",
            "linkerd-viz ClusterRoles exist",
            "viz-cluster-roles-exist",
            "l5d-viz-cr-exists",
            linkerd.viz_cluster_roles(ns),
        ),
        (
            "ClusterRoleBinding",
            "linkerd-viz ClusterRoleBindings exist",
            "viz-cluster-role-bindings-exist",
            "l5d-viz-crb-exists",
            linkerd.viz_cluster_role_bindings(ns),
        ),
    ):
        if not readable(live, kind):
            continue
        missing = _missing(live, kind, names)
        if not missing:
            _pass(ctx, VIZ, title)
            continue
        out.append(
            _finding(
                check_id,
                "error",
                VIZ,
                title,
                f"missing {kind}s: {', '.join(missing)}. Without them tap cannot authorize requests "
                "(auth-delegator) and the dashboard cannot use tap.",
                "Reinstall or upgrade linkerd-viz (linkerd viz install | kubectl apply -f -, or helm upgrade); "
                "check that no other namespace carries the label linkerd.io/extension=viz.",
                anchor,
            )
        )
    # tap API server certificate, verified against the APIService's caBundle
    apiservice = find(live, "APIService", linkerd.TAP_APISERVICE)
    out += _certificate_checks(
        ctx,
        _tap_certificate(live, ns),
        linkerd.tap_identity(ns),
        f"APIService {linkerd.TAP_APISERVICE}",
        VIZ,
        ("tap API server has valid cert", "tap API server cert is valid for at least 60 days"),
        ("viz-tap-cert-valid", "viz-tap-cert-not-expiring-soon"),
        ("l5d-tap-cert-valid", "l5d-tap-cert-not-expiring-soon"),
        ObjectRef("APIService", None, linkerd.TAP_APISERVICE),
    )
    # tap API service is running: failures come from apiservice-unavailable
    if readable(live, "APIService"):
        if apiservice is None:
            out.append(
                unavailable(
                    live,
                    {"metadata": {"name": linkerd.TAP_APISERVICE}},
                    {"namespace": ns, "name": "tap", "port": 443},
                    {
                        "reason": "NotFound",
                        "message": f"APIService {linkerd.TAP_APISERVICE} does not exist, so the tap API is not served",
                    },
                    linkerd.TAP_APISERVER_PORT,
                )
            )
        else:
            cond = condition(apiservice, "Available")
            if cond is not None and cond.get("status") == "True":
                _pass(ctx, VIZ, TAP_TITLE)
    if readable(live, "Pod"):
        out += _pods_checks(ctx, live, ns)
    out += _prometheus(ctx, live, ns)
    return out


def _pods_checks(ctx: Context, live: LiveState, ns: str) -> list[Finding]:
    out: list[Finding] = []
    pods = _pods(live, ns)
    uninjected = [
        name_of(p)
        for p in pods
        if not any(
            isinstance(c, dict) and c.get("name") == linkerd.PROXY_CONTAINER
            for c in ((p.get("spec") or {}).get("containers") or [])
            + ((p.get("spec") or {}).get("initContainers") or [])
        )
    ]
    if pods and not uninjected:
        _pass(ctx, VIZ, "linkerd-viz pods are injected")
    else:
        out.append(
            _finding(
                "viz-pods-injected",
                "warning",
                VIZ,
                "linkerd-viz pods are injected",
                f"pods without the {linkerd.PROXY_CONTAINER} container in {ns}: {', '.join(uninjected)}."
                if pods
                else f"there are no pods in namespace {ns}.",
                f"The namespace must carry the annotation linkerd.io/inject: enabled and the proxy injector must "
                f"be reachable when the pods are created; then kubectl -n {ns} rollout restart deploy.",
                "l5d-viz-pods-injection",
            )
        )
    problems: list[str] = []
    for component in linkerd.VIZ_COMPONENTS:
        mine = [p for p in pods if labels_of(p).get("component") == component]
        if not mine:
            problems.append(f"no {component} pod")
        elif not any(pod_ready(p) for p in mine):
            problems.append("; ".join(f"pod {name_of(p)}: {pod_state(p)}" for p in mine[:3]))
    if not problems:
        _pass(ctx, VIZ, "viz extension pods are running")
    else:
        out.append(
            _finding(
                "viz-pods-running",
                "warning",
                VIZ,
                "viz extension pods are running",
                "; ".join(problems) + ".",
                f"kubectl -n {ns} describe pod (events, probes); kubectl -n {ns} logs deploy/<name> -c <container>.",
                "l5d-viz-pods-running",
            )
        )
    return out


def _arg(obj: Obj | None, flag: str) -> str | None:
    template = ((obj or {}).get("spec") or {}).get("template") or {}
    for c in (template.get("spec") or {}).get("containers") or []:
        for a in (c.get("args") or []) if isinstance(c, dict) else []:
            if isinstance(a, str) and a.startswith(flag + "="):
                return a.split("=", 1)[1]
    return None


def _prometheus(ctx: Context, live: LiveState, ns: str) -> list[Finding]:
    title = "prometheus is installed and configured correctly"
    if not readable(live, "Deployment"):
        return []
    url = _arg(find(live, "Deployment", "metrics-api", ns), "-prometheus-url")
    if url and f"prometheus.{ns}.svc" not in url:
        _pass(ctx, VIZ, title)  # an external Prometheus: Linkerd skips the check too
        return []
    missing: list[str] = []
    if find(live, "Deployment", "prometheus", ns) is None:
        missing.append(f"Deployment {ns}/prometheus")
    for kind in ("ClusterRole", "ClusterRoleBinding"):
        if readable(live, kind):
            missing += [f"{kind} {n}" for n in _missing(live, kind, [f"linkerd-{ns}-prometheus"])]
    if readable(live, "Pod") and not any(
        labels_of(p).get("component") == "prometheus" for p in _pods(live, ns)
    ):
        missing.append("a prometheus pod")
    if not missing:
        _pass(ctx, VIZ, title)
        return []
    return [
        _finding(
            "viz-prometheus",
            "warning",
            VIZ,
            title,
            f"missing: {', '.join(missing)}"
            + (f"; metrics-api reads {url}" if url else "; metrics-api has no -prometheus-url")
            + ". The dashboard shows no metrics.",
            "Install viz with its Prometheus, or set prometheusUrl to the Prometheus that scrapes the proxies.",
            "l5d-viz-prometheus",
        )
    ]


def _webhooks(ctx: Context, live: LiveState) -> list[Finding]:
    ns = live.linkerd_namespace
    if ns is None:
        return [
            _finding(
                "linkerd-namespace-exists",
                "info",
                WEBHOOKS,
                "linkerd control plane namespace exists",
                "No Linkerd control-plane namespace found (labelled linkerd.io/is-control-plane=true, named "
                "linkerd, or given with --linkerd-namespace): the linkerd-webhooks checks were skipped.",
                "Pass --linkerd-namespace when Linkerd runs in a namespace of another name.",
            )
        ]
    out: list[Finding] = []
    for hook in linkerd.CONTROL_PLANE_WEBHOOKS:
        if (
            readable(live, hook.configuration_kind)
            and find(live, hook.configuration_kind, hook.configuration) is None
        ):
            continue  # not installed (older releases have no policy validator)
        out += _certificate_checks(
            ctx,
            live.certificates.get(f"{ns}/{hook.secret()}"),
            hook.identity(ns),
            f"{hook.configuration_kind} {hook.configuration}",
            WEBHOOKS,
            (
                f"{hook.component} webhook has valid cert",
                f"{hook.component} cert is valid for at least 60 days",
            ),
            ("linkerd-webhook-cert-valid", "linkerd-webhook-cert-not-expiring-soon"),
            (
                f"l5d-{hook.component}-webhook-cert-valid",
                f"l5d-{hook.component}-webhook-cert-not-expiring-soon",
            ),
            ObjectRef(hook.configuration_kind, None, hook.configuration),
        )
    return out
