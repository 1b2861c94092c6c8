"""Corrected manifest fragments, in the controller the user already runs.

The preferred fix needs no snippet: the web pod's `-enforced-host` accepts the public host
(`dashboard.enforcedHostRegexp`), the route keeps the Host the browser sent (no rewrite), so the
Origin host equals Host and the websocket passes too (dashboard-exposure.md §1.1). The default
alternatives (localhost, 127.0.0.1, web.<ns>.svc...) stay in the pattern, so `linkerd viz dashboard`
(a port-forward to localhost) keeps working.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from vizdoctor.exposure.evaluate import HostVerdict
from vizdoctor.exposure.objects import as_dict, as_list, text
from vizdoctor.exposure.route import Route
from vizdoctor.knowledge.ingress import (
    ALB_PREFIX,
    HELM_REGEX_VALUE,
    SNIPPET_ANNOTATIONS,
    TAP_TIMEOUT_S,
    WEB_PORT,
)
from vizdoctor.remediation.dashboard import go_escape, host_alternative

AUTH_SECRET = "web-ingress-auth"  # the Linkerd docs' name (linkerd-viz.md §6.3)
PLACEHOLDER_HOST = "dashboard.example.com"


def _envoy_basic_auth(route: Route) -> dict[str, Any]:
    """Envoy Gateway's basic-auth policy for the dashboard route (Secret key `.htpasswd`)."""
    return {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "SecurityPolicy",
        "metadata": {"name": "web-basic-auth", "namespace": route.namespace},
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route.name}],
            "basicAuth": {"users": {"name": AUTH_SECRET}},
        },
    }


def enforced_host_for(route: Route) -> str:
    ns = go_escape(route.target.namespace)
    domain = go_escape(route.target.cluster_domain)
    hosts = route.hosts or [PLACEHOLDER_HOST]
    alternatives = [host_alternative(h) for h in hosts] + [
        "localhost",
        r"127\.0\.0\.1",
        rf"web\.{ns}\.svc\.{domain}",
        rf"web\.{ns}\.svc",
        r"\[::1\]",
    ]
    return "^(" + "|".join(alternatives) + r")(:\d+)?$"


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=1000).rstrip()


def viz_fragment(route: Route) -> str:
    regex = enforced_host_for(route)
    t = route.target
    quoted = regex.replace("'", "''")
    values = f"dashboard:\n  enforcedHostRegexp: '{quoted}'"
    where = f"{t.workload}" if t.workload is not None else f"Deployment {t.namespace}/web"
    lines = [
        "# linkerd-viz: let the web pod accept the public host (values file: --set would eat the backslashes)",
        "#   helm upgrade linkerd-viz linkerd/linkerd-viz --reuse-values -f viz-dashboard-host.yaml",
        f"# or edit the arg of {where}, container web:",
        f"#   - -enforced-host={regex}",
    ]
    if not route.hosts:
        lines.insert(0, f"# the route has no host: give it one ({PLACEHOLDER_HOST} below is a stand-in)")
    return "\n".join([*lines, "# viz-dashboard-host.yaml", values])


def _tls_secret(route: Route) -> str:
    host = (route.hosts or [PLACEHOLDER_HOST])[0].lstrip("*.")
    return host.replace(".", "-") + "-tls"


def _metadata(route: Route, annotations: dict[str, str] | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": route.name, "namespace": route.namespace}
    if annotations:
        meta["annotations"] = annotations
    return meta


def _needs_auth(route: Route) -> bool:
    return route.internal is None and route.auth is None and route.allowlist is None


def corrected(route: Route, verdict: HostVerdict | None) -> str:
    """The corrected route (and viz values when the public host does not pass the current regex)."""
    parts: list[str] = []
    needs_regex = verdict is not None and (
        route.rewrite is not None or any(c.ok is False for c in verdict.cases)
    )
    # without the rewrite the pod sees the public host: does the current pattern already accept it?
    if (
        needs_regex
        and verdict is not None
        and verdict.pattern.compiled is not None
        and route.hosts
        and not any(h.startswith("*.") for h in route.hosts)
        and all(verdict.pattern.search(h) for h in route.hosts)
    ):
        needs_regex = False
    if needs_regex:
        parts.append(viz_fragment(route))
    kind = route.kind
    if kind == "Ingress":
        parts.append(_ingress(route))
    elif kind == "HTTPRoute":
        parts.append(_httproute(route))
    elif kind == "IngressRoute":
        parts.append(_ingressroute(route))
    elif kind == "HTTPProxy":
        parts.append(_httpproxy(route))
    elif kind == "Mapping":
        parts.append(_mapping(route))
    return "\n---\n".join(parts) + "\n"


def _ingress(route: Route) -> str:
    doc = route.obj.doc
    annotations = dict(route.obj.annotations)
    spec = copy.deepcopy(as_dict(doc.get("spec")))
    comments: list[str] = []
    impl = route.implementation
    if impl == "ingress-nginx":
        prefix = (route.nginx.prefix if route.nginx else "nginx.ingress.kubernetes.io") + "/"
        for a in ("upstream-vhost", *SNIPPET_ANNOTATIONS):
            annotations.pop(prefix + a, None)
        annotations[prefix + "proxy-read-timeout"] = str(TAP_TIMEOUT_S)
        annotations[prefix + "proxy-send-timeout"] = str(TAP_TIMEOUT_S)
        if _needs_auth(route):
            annotations[prefix + "auth-type"] = "basic"
            annotations[prefix + "auth-secret"] = AUTH_SECRET
            annotations[prefix + "auth-realm"] = "Authentication Required"
            comments.append(
                f"# basic auth: kubectl -n {route.namespace} create secret generic {AUTH_SECRET} --from-file=auth "
                "(an htpasswd file; the key must be `auth`)"
            )
    elif impl == "alb":
        attrs = annotations.get(f"{ALB_PREFIX}/load-balancer-attributes", "")
        attrs = re.sub(r"idle_timeout\.timeout_seconds\s*=\s*\d+", "", attrs).strip(", ")
        annotations[f"{ALB_PREFIX}/load-balancer-attributes"] = ",".join(
            x for x in (attrs, f"idle_timeout.timeout_seconds={TAP_TIMEOUT_S}") if x
        )
        if route.tls is None:
            annotations[f"{ALB_PREFIX}/certificate-arn"] = "<acm-certificate-arn>"
            annotations[f"{ALB_PREFIX}/listen-ports"] = '[{"HTTPS": 443}]'
        if _needs_auth(route):
            annotations[f"{ALB_PREFIX}/auth-type"] = "oidc"
            annotations[f"{ALB_PREFIX}/auth-idp-oidc"] = (
                '{"issuer": "<issuer>", "authorizationEndpoint": "<url>", "tokenEndpoint": "<url>", '
                '"userInfoEndpoint": "<url>", "secretName": "<oidc-client-secret>"}'
            )
    elif impl == "traefik" and _needs_auth(route):
        key = "traefik.ingress.kubernetes.io/router.middlewares"
        existing = [m for m in annotations.get(key, "").split(",") if m.strip()]
        annotations[key] = ",".join([*existing, f"{route.namespace}-web-basic-auth@kubernetescrd"])
        comments.append(_traefik_auth_middleware(route))
    if route.tls is None and impl != "alb" and route.hosts:
        spec["tls"] = [{"hosts": list(route.hosts), "secretName": _tls_secret(route)}]
    out = {
        "apiVersion": str(doc.get("apiVersion", "networking.k8s.io/v1")),
        "kind": "Ingress",
        "metadata": _metadata(route, annotations),
        "spec": spec,
    }
    body = _dump(out)
    if impl == "gce":
        body += "\n---\n" + _backend_config(route)
    return "\n".join([*comments, body]) if comments else body


def _traefik_auth_middleware(route: Route) -> str:
    mw = {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "Middleware",
        "metadata": {"name": "web-basic-auth", "namespace": route.namespace},
        "spec": {"basicAuth": {"secret": AUTH_SECRET}},
    }
    return _dump(mw) + "\n---"


def _backend_config(route: Route) -> str:
    bc: dict[str, Any] = {
        "apiVersion": "cloud.google.com/v1",
        "kind": "BackendConfig",
        "metadata": {"name": "web-dashboard", "namespace": route.target.namespace},
        "spec": {"timeoutSec": TAP_TIMEOUT_S},
    }
    if _needs_auth(route):
        bc["spec"]["iap"] = {"enabled": True, "oauthclientCredentials": {"secretName": "<iap-oauth-client>"}}
    return (
        f"# and on Service {route.target.namespace}/{route.target.service}: "
        f'cloud.google.com/backend-config: \'{{"default": "web-dashboard"}}\'\n' + _dump(bc)
    )


def _strip_host_filters(filters: list[Any]) -> list[Any]:
    out = []
    for f in filters:
        f = copy.deepcopy(as_dict(f))
        if f.get("type") == "URLRewrite":
            rw = as_dict(f.get("urlRewrite"))
            rw.pop("hostname", None)
            if not rw:
                continue
            f["urlRewrite"] = rw
        elif f.get("type") == "RequestHeaderModifier":
            mod = as_dict(f.get("requestHeaderModifier"))
            for op in ("set", "add"):
                kept = [
                    h for h in as_list(mod.get(op)) if (text(as_dict(h).get("name")) or "").lower() != "host"
                ]
                if kept:
                    mod[op] = kept
                else:
                    mod.pop(op, None)
            if not mod:
                continue
            f["requestHeaderModifier"] = mod
        out.append(f)
    return out


def _httproute(route: Route) -> str:
    spec = copy.deepcopy(route.obj.spec)
    for rule in as_list(spec.get("rules")):
        rule = as_dict(rule)
        if "filters" in rule:
            rule["filters"] = _strip_host_filters(as_list(rule["filters"]))
            if not rule["filters"]:
                del rule["filters"]
        for b in as_list(rule.get("backendRefs")):
            b = as_dict(b)
            if "filters" in b:
                b["filters"] = _strip_host_filters(as_list(b["filters"]))
                if not b["filters"]:
                    del b["filters"]
    doc = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": _metadata(route, None),
        "spec": spec,
    }
    parts = [_dump(doc)]
    parts.extend(_gateway_extras(route))
    return "\n---\n".join(parts)


def _gateway_extras(route: Route) -> list[str]:
    parts: list[str] = []
    gw = route.gateways[0] if route.gateways else None
    gw_name, gw_ns = (gw.name, gw.namespace) if gw else ("<gateway>", "<gateway-namespace>")
    if route.tls is None:
        listener = {
            "name": "https-dashboard",
            "protocol": "HTTPS",
            "port": 443,
            "hostname": (route.hosts or [PLACEHOLDER_HOST])[0],
            "tls": {"mode": "Terminate", "certificateRefs": [{"name": _tls_secret(route)}]},
            "allowedRoutes": {"namespaces": {"from": "All"}},
        }
        parts.append(
            f"# add to Gateway {gw_ns}/{gw_name} spec.listeners:\n" + _dump({"listeners": [listener]})
        )
    envoy = route.implementation in ("envoy-gateway", None)
    if _needs_auth(route):
        if envoy:
            parts.append(
                "# Envoy Gateway: basic auth (Secret key `.htpasswd`); other implementations have their own policy\n"
                + _dump(_envoy_basic_auth(route))
            )
        else:
            parts.append(
                f"# put authentication in front: {route.implementation_label} has its own policy for it"
            )
    if route.idle is not None and route.idle.seconds is not None and route.idle.seconds < TAP_TIMEOUT_S:
        if route.implementation == "envoy-gateway":
            parts.append(
                _dump(
                    {
                        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
                        "kind": "ClientTrafficPolicy",
                        "metadata": {"name": "dashboard-stream-idle", "namespace": gw_ns},
                        "spec": {
                            "targetRefs": [
                                {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gw_name}
                            ],
                            "timeout": {"http": {"streamIdleTimeout": "1h"}},
                        },
                    }
                )
            )
        else:
            parts.append(f"# idle timeout: {route.idle.knob}")
    return parts


def _ingressroute(route: Route) -> str:
    spec = copy.deepcopy(route.obj.spec)
    extra: list[str] = []
    rewrite_via = route.rewrite.via if route.rewrite else ""
    for r in as_list(spec.get("routes")):
        r = as_dict(r)
        mws = [m for m in as_list(r.get("middlewares")) if f"/{as_dict(m).get('name')} " not in rewrite_via]
        if _needs_auth(route):
            mws.append({"name": "web-basic-auth"})
        if mws:
            r["middlewares"] = mws
        else:
            r.pop("middlewares", None)
    if _needs_auth(route):
        extra.append(_traefik_auth_middleware(route).removesuffix("\n---"))
    if route.tls is None:
        spec["tls"] = {"secretName": _tls_secret(route)}
    doc = {
        "apiVersion": str(route.obj.doc.get("apiVersion", "traefik.io/v1alpha1")),
        "kind": "IngressRoute",
        "metadata": _metadata(route, None),
        "spec": spec,
    }
    if route.rewrite is not None:
        mw = route.rewrite.via.rsplit(" headers", 1)[0]
        extra.append(f"# the route no longer uses {mw} (it set Host); keep it only without its Host header")
    return "\n---\n".join([_dump(doc), *extra])


def _httpproxy(route: Route) -> str:
    spec = copy.deepcopy(route.obj.spec)
    for r in as_list(spec.get("routes")):
        r = as_dict(r)
        if not any(as_dict(s).get("name") == route.target.service for s in as_list(r.get("services"))):
            continue
        for holder in [r, *[as_dict(s) for s in as_list(r.get("services"))]]:
            policy = as_dict(holder.get("requestHeadersPolicy"))
            if policy.get("set"):
                kept = [
                    h
                    for h in as_list(policy["set"])
                    if (text(as_dict(h).get("name")) or "").lower() != "host"
                ]
                if kept:
                    policy["set"] = kept
                else:
                    policy.pop("set")
            if "requestHeadersPolicy" in holder and not policy:
                holder.pop("requestHeadersPolicy")
        r["enableWebsockets"] = True
        r["timeoutPolicy"] = {**as_dict(r.get("timeoutPolicy")), "idle": "1h"}
    vhost = as_dict(spec.get("virtualhost"))
    if vhost and route.tls is None:
        vhost["tls"] = {"secretName": _tls_secret(route)}
    doc = {
        "apiVersion": "projectcontour.io/v1",
        "kind": "HTTPProxy",
        "metadata": _metadata(route, None),
        "spec": spec,
    }
    body = _dump(doc)
    if _needs_auth(route):
        body = (
            "# authentication: virtualhost.authorization with an ExtensionService (e.g. contour-authserver htpasswd)\n"
            + body
        )
    return body


def _mapping(route: Route) -> str:
    spec = {k: v for k, v in as_dict(route.obj.doc.get("spec")).items() if k != "host_rewrite"}
    if not spec:
        spec = {
            "hostname": (route.hosts or [PLACEHOLDER_HOST])[0],
            "prefix": "/",
            "service": f"{route.target.service}.{route.target.namespace}:{WEB_PORT}",
        }
    doc = {
        "apiVersion": "getambassador.io/v3alpha1",
        "kind": "Mapping",
        "metadata": _metadata(route, None),
        "spec": spec,
    }
    return "# no host_rewrite: the web pod then sees the public host, and Origin matches it\n" + _dump(doc)


def gateway_equivalent(route: Route) -> str:
    """ingress-nginx retired: the same exposure as a Gateway API HTTPRoute, with no snippet and no rewrite."""
    hosts = route.hosts or [PLACEHOLDER_HOST]
    port: int | str = route.service_port if isinstance(route.service_port, int) else WEB_PORT
    doc = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": route.name, "namespace": route.namespace},
        "spec": {
            "parentRefs": [
                {"name": "<gateway>", "namespace": "<gateway-namespace>", "sectionName": "https-dashboard"}
            ],
            "hostnames": hosts,
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": route.target.service, "port": port}],
                }
            ],
        },
    }
    listener = {
        "name": "https-dashboard",
        "protocol": "HTTPS",
        "port": 443,
        "hostname": hosts[0],
        "tls": {"mode": "Terminate", "certificateRefs": [{"name": _tls_secret(route)}]},
        "allowedRoutes": {
            "namespaces": {
                "from": "Selector",
                "selector": {"matchLabels": {"kubernetes.io/metadata.name": route.namespace}},
            }
        },
    }
    parts = [
        viz_fragment(route),
        "# Gateway API equivalent of this Ingress: no snippet, no Host rewrite (the web pod sees the public host,\n"
        "# so Origin matches), and the Gateway's HTTPS listener for TLS\n" + _dump(doc),
        "# on your Gateway, spec.listeners:\n" + _dump({"listeners": [listener]}),
        "# authentication and the websocket idle timeout are implementation policies, e.g. Envoy Gateway:\n"
        + _dump(_envoy_basic_auth(route))
        + "\n---\n"
        + _dump(
            {
                "apiVersion": "gateway.envoyproxy.io/v1alpha1",
                "kind": "ClientTrafficPolicy",
                "metadata": {"name": "dashboard-stream-idle", "namespace": "<gateway-namespace>"},
                "spec": {
                    "targetRefs": [
                        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "<gateway>"}
                    ],
                    "timeout": {"http": {"streamIdleTimeout": "1h"}},
                },
            }
        ),
    ]
    return "\n---\n".join(parts) + "\n"


def fix_note(route: Route) -> str:
    regex = enforced_host_for(route)
    return (
        f"Set {HELM_REGEX_VALUE} (or the web arg -enforced-host) to {regex}, drop the Host rewrite and any snippet "
        f"from {route}; the corrected manifest follows."
    )
