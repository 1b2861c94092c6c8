"""Ingress controllers and Gateway API implementations in front of the Linkerd viz dashboard.

What decides whether `web:8084` and its `/api/tap` websocket work behind a proxy: the web pod's Host and
Origin checks, ingress-nginx's snippet and risk-level defaults by release, and the idle timeouts that cut
a quiet Tap stream. Sources are cited per table:

- `dashboard-exposure.md` = shared/knowledge/dashboard-exposure.md (checked 2026-11; ingress-nginx
  `dbb11b92`, linkerd2 `b24cd405`, gateway-api `4564255a`, envoyproxy/gateway `d32f2829`, contour
  `31c4bb38`, traefik `fd5a576d`, aws-load-balancer-controller `225f4456`, ingress2gateway v1.1.0),
- `linkerd-viz.md` = shared/knowledge/linkerd-viz.md §4 (web server) and §6.3 (exposing recipes).

Facts not in those sheets name their own source. Nothing here is guessed: where a sheet marks a value
[unverified], the table leaves it out and the check decides nothing from it.
"""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int, int]

# ---------------------------------------------------------------------------------------------------
# Linkerd viz web (linkerd-viz.md §4.1, §4.2, §4.6)

WEB_PORT = 8084
WEB_PORT_NAME = "http"
VIZ_EXTENSION_LABEL = ("linkerd.io/extension", "viz")
DEFAULT_VIZ_NAMESPACE = "linkerd-viz"
DEFAULT_CLUSTER_DOMAIN = "cluster.local"
# templates/web.yaml when `dashboard.enforcedHostRegexp` is empty (same in 2.10 ... edge-26.8.3)
DEFAULT_ENFORCED_HOST = r"^(localhost|127\.0\.0\.1|web\.{ns}\.svc\.{domain}|web\.{ns}\.svc|\[::1\])(:\d+)?$"
HELM_REGEX_VALUE = "dashboard.enforcedHostRegexp"  # viz/charts/linkerd-viz/values.yaml, default ""
# Body of the 400 on every path when Host does not match (web/srv/server.go, linkerd/linkerd2#4929).
HOST_400_BODY = (
    "It appears that you are trying to reach this service with a host of '{host}'. "
    "This does not match /{regex}/ and has been denied for security reasons."
)
# gorilla/websocket CheckOrigin failure (web/srv/check_same_origin.go): 403 `Forbidden`; server log:
ORIGIN_403_LOG = "websocket: request origin not allowed by Upgrader.CheckOrigin"
# What the dashboard shows for any failed websocket handshake (Tap.jsx / TopModule.jsx onerror).
UI_WEBSOCKET_ERROR = "Websocket error: undefined"
# web/main.go: `regexp.Compile(*enforcedHost)`; on error `log.Fatalf("invalid --enforced-host parameter: %s")`
# (linkerd/linkerd2 web/main.go), so a pattern RE2 rejects stops the web container at start-up.
WEB_FATAL_BAD_REGEX = "invalid --enforced-host parameter"
DOCS_EXPOSING = "https://linkerd.io/2/tasks/exposing-dashboard/"  # linkerd-viz.md §6.3


def default_enforced_host(namespace: str, cluster_domain: str) -> str:
    """The chart's -enforced-host for a viz namespace and cluster domain (dots escaped as the template does)."""
    return DEFAULT_ENFORCED_HOST.format(
        ns=namespace.replace(".", r"\."), domain=cluster_domain.replace(".", r"\.")
    )


# ---------------------------------------------------------------------------------------------------
# ingress-nginx (dashboard-exposure.md §2)

NGINX_PREFIX = "nginx.ingress.kubernetes.io"  # `--annotations-prefix` default
NGINX_CONTROLLER_CLASS = "k8s.io/ingress-nginx"  # `--controller-class` default, IngressClass spec.controller
NGINX_IMAGE = "ingress-nginx/controller"  # registry.k8s.io/ingress-nginx/controller:vX.Y.Z@sha256:...
NGINX_WEBHOOK = "validate.nginx.ingress.kubernetes.io"

RISK_LEVELS = ("Low", "Medium", "High", "Critical")  # §2.2: annotations above the level are rejected

# §2.1: risk level per annotation (internal/ingress/annotations/*/main.go).
NGINX_ANNOTATION_RISK: dict[str, str] = {
    "proxy-read-timeout": "Low",
    "proxy-send-timeout": "Low",
    "upstream-vhost": "Low",
    "proxy-http-version": "Low",
    "backend-protocol": "Low",
    "configuration-snippet": "Critical",
    "server-snippet": "Critical",
    "auth-snippet": "Critical",
    "modsecurity-snippet": "Critical",
    "stream-snippet": "Critical",
    "auth-url": "High",
    "auth-signin": "High",
}
SNIPPET_ANNOTATIONS = (
    "configuration-snippet",
    "server-snippet",
    "auth-snippet",
    "modsecurity-snippet",
    "stream-snippet",
)
# §2.4: the annotation group named in the risk-level denial (only this one is quoted in the sheet).
NGINX_RISK_GROUP = {"configuration-snippet": "ConfigurationSnippet"}


@dataclass(frozen=True)
class NginxEra:
    """Releases of ingress-nginx whose snippet defaults are the same (§2.2, §2.3)."""

    since: Version  # first controller release
    chart: str | None  # first chart release
    allow_snippet_annotations: bool  # ConfigMap `allow-snippet-annotations` default
    risk_level: str | None  # ConfigMap `annotations-risk-level` default; None: no risk levels yet
    source: str  # the ingress-nginx pull request that set these defaults


NGINX_ERAS: tuple[NginxEra, ...] = (
    NginxEra(
        (1, 0, 1),
        None,
        True,
        None,
        "PR #7670",  # rename of enable-snippet, commit 4fc57dcc4 (CVE-2021-25742 mitigation)
    ),
    NginxEra(
        (1, 9, 0),
        "4.8.0",
        False,
        "Critical",
        "PR #10393 (snippets off), PR #9673 (risk levels)",  # commits cf889c6c4, c5f348ea2
    ),
    NginxEra(
        (1, 12, 0),
        "4.12.0",
        False,
        "High",
        "PR #10393 (snippets off), PR #11819 (risk level High)",  # 7b4e4e2fa "Enable security features by default"
    ),
)


def nginx_era(version: Version) -> NginxEra | None:
    era = None
    for e in NGINX_ERAS:
        if version >= e.since:
            era = e
    return era


NGINX_DEFAULT_TIMEOUT_S = 60  # §2.1: proxy-read-timeout / proxy-send-timeout default (seconds, unitless)
TAP_TIMEOUT_S = 3600  # §2.1: docs/user-guide/miscellaneous.md "Websockets": raise both to one hour or more

# §2.4: what the user gets when snippets are not allowed.
NGINX_DENIED_SNIPPET = (
    "{prefix}/{annotation} annotation cannot be used. Snippet directives are disabled by the Ingress "
    "administrator"
)
NGINX_DENIED_RISK = "annotation group {group} contains risky annotation based on ingress configuration"
NGINX_DROP_LOG = (
    "Ingress {ingress} tried to use {annotation} and the annotation is disabled by the admin. "
    "Removing the annotation"
)

# §2.5
CVE_SNIPPETS = (
    "CVE-2021-25742"  # ingress-nginx#7837: snippets can read the controller's token and all Secrets
)
CVE_SNIPPET_INJECTION = "CVE-2023-5043"

# §2.6
NGINX_RETIRED = "March 2026"
NGINX_LAST_RELEASES = "v1.15.1 / v1.14.5 / v1.13.9 (chart 4.15.1), 2026-03-19"
NGINX_RETIREMENT_POST = 'Kubernetes blog "Ingress NGINX Retirement: What You Need to Know" (2025-11-11)'

# Annotations that put authentication or a source allowlist in front (annotations.md; §2.1 for auth-url).
NGINX_ALLOWLIST_ANNOTATIONS = ("whitelist-source-range", "allowlist-source-range")
NGINX_GLOBAL_AUTH_KEYS = ("global-auth-url",)  # ConfigMap: external auth for every Ingress
NGINX_GLOBAL_ALLOWLIST_KEYS = ("whitelist-source-range", "allowlist-source-range")

# ---------------------------------------------------------------------------------------------------
# Idle timeouts that cut a quiet Tap stream (dashboard-exposure.md §1, §3.4, §4). The web pod sends no
# websocket pings and the browser sends nothing after its first message (linkerd-viz.md §4.4).


@dataclass(frozen=True)
class IdleDefault:
    implementation: str  # as the user knows it
    seconds: int | None  # None: nothing cuts an established websocket by default
    max_lifetime: bool  # True: the limit is the connection's whole life, idle or not
    knob: str  # where to raise it
    source: str


IDLE_DEFAULTS: dict[str, IdleDefault] = {
    "ingress-nginx": IdleDefault(
        "ingress-nginx",
        60,
        False,
        f'{NGINX_PREFIX}/proxy-read-timeout and proxy-send-timeout: "3600"',
        "§2.1 (ConfigMap proxy-read-timeout: 60; nginx.org websocket docs)",
    ),
    "alb": IdleDefault(
        "AWS Load Balancer Controller (ALB)",
        60,
        False,
        "alb.ingress.kubernetes.io/load-balancer-attributes: idle_timeout.timeout_seconds=3600",
        "§4 (valid 1-4000 s; HTTP/2 PINGs do not reset it)",
    ),
    "gce": IdleDefault(
        "GCE / GKE Ingress",
        30,
        True,
        "BackendConfig spec.timeoutSec: 3600, on the Service via cloud.google.com/backend-config",
        "§4 (cloud.google.com/kubernetes-engine/docs/concepts/ingress-xlb)",
    ),
    "envoy-gateway": IdleDefault(
        "Envoy Gateway",
        300,
        False,
        "ClientTrafficPolicy spec.timeout.http.streamIdleTimeout (or timeouts.request on the route)",
        "§3.4 (HCM stream_idle_timeout 5 min; with timeouts.request the route idle_timeout is max(1h, request))",
    ),
    "contour": IdleDefault(
        "Contour",
        300,
        False,
        "HTTPProxy routes[].timeoutPolicy.idle: 1h (or global timeouts.stream-idle-timeout)",
        "§3.4, §4 (timeouts.stream-idle-timeout 5m)",
    ),
    "cilium": IdleDefault(
        "Cilium",
        300,
        False,
        "Helm envoy.streamIdleTimeoutDurationSeconds",
        "§3.4",
    ),
    "istio": IdleDefault("Istio", None, False, "", "§3.4 (StreamIdleTimeout = 0, disabled)"),
    "traefik": IdleDefault(
        "Traefik",
        None,
        False,
        "",
        "§4 (Go clears deadlines on Hijack; none found for established connections)",
    ),
    "nginx-gateway-fabric": IdleDefault(
        "NGINX Gateway Fabric",
        60,
        False,
        "ProxySettingsPolicy (gateway.nginx.org/v1alpha1) spec.timeout.read / send",
        "§3.4 (nginx proxy_read_timeout 60 s; rules[].timeouts ignored)",
    ),
    "kong": IdleDefault(
        "Kong",
        60,
        False,
        'Service annotations konghq.com/read-timeout and konghq.com/write-timeout: "3600000" (ms)',
        "§3.4, §4 (kong/db/schema/entities/services.lua: 60000 ms)",
    ),
    "nginx-inc": IdleDefault(
        "F5 NGINX Ingress Controller", 60, False, 'nginx.org/proxy-read-timeout: "3600s"', "§4"
    ),
    "haproxy": IdleDefault(
        "HAProxy Ingress", 3600, False, "ConfigMap timeout-tunnel", "§4 (timeout-tunnel 1 h)"
    ),
    "aws-gateway": IdleDefault(
        "AWS Load Balancer Controller (Gateway API)",
        60,
        False,
        "the ALB idle_timeout.timeout_seconds attribute",
        "§3.4, §4",
    ),
}

# ---------------------------------------------------------------------------------------------------
# Which implementation a class names. IngressClass `spec.controller` and GatewayClass `controllerName`
# values as each project documents them (matched by substring, so versions and suffixes do not matter);
# bare class names are the usual Helm defaults. Not in the sheets: the projects' install docs.

INGRESS_CONTROLLER_MARKERS: tuple[tuple[str, str], ...] = (
    ("ingress-nginx", "ingress-nginx"),
    ("ingress.k8s.aws", "alb"),
    ("traefik", "traefik"),
    ("projectcontour", "contour"),
    ("nginx.org", "nginx-inc"),
    ("haproxy", "haproxy"),
    ("konghq", "kong"),
    ("getambassador", "emissary"),
)
INGRESS_CLASS_NAMES: dict[str, str] = {
    "nginx": "ingress-nginx",
    "alb": "alb",
    "gce": "gce",
    "gce-internal": "gce",
    "traefik": "traefik",
    "contour": "contour",
    "kong": "kong",
    "haproxy": "haproxy",
    "ambassador": "emissary",
    "emissary": "emissary",
}
GATEWAY_CONTROLLER_MARKERS: tuple[tuple[str, str], ...] = (
    ("envoyproxy.io", "envoy-gateway"),
    ("istio.io", "istio"),
    ("cilium", "cilium"),
    ("projectcontour", "contour"),
    ("nginx.org", "nginx-gateway-fabric"),
    ("traefik", "traefik"),
    ("konghq", "kong"),
    ("gke.io", "gke-gateway"),
    ("k8s.aws", "aws-gateway"),
)
# GKE GatewayClasses for internal (VPC-only) load balancers ("rilb" = regional internal).
INTERNAL_GATEWAY_CLASS_MARKERS = ("rilb", "internal")

# Cloud annotations that make a Service of type LoadBalancer internal (each provider's docs).
INTERNAL_LB_ANNOTATIONS: dict[str, tuple[str, ...]] = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
}

# AWS Load Balancer Controller, docs/guide/ingress/annotations.md: `scheme` defaults to `internal`,
# `inbound-cidrs` to 0.0.0.0/0, `auth-type` none|oidc|cognito.
ALB_PREFIX = "alb.ingress.kubernetes.io"
ALB_DEFAULT_SCHEME = "internal"
ALB_DEFAULT_IDLE_S = 60

# Gateway API (§3.3): URLRewrite hostname is a PreciseHostname (no port); Envoy Gateway refuses a Host
# set through RequestHeaderModifier.
ENVOY_GATEWAY_HOST_HEADER_ERROR = (
    "The RequestHeaderModifier filter cannot set the Host header ... To modify the Host header use the "
    "URLRewrite or the HTTPRouteFilter filter"
)


# (kind, API group, version, plural) of every kind the dashboard exposure checks read, for `check` to list
# (docs/exposure.md "What vizdoctor reads").
ROUTE_KINDS: list[tuple[str, str, str, str]] = [
    ("Namespace", "", "v1", "namespaces"),
    ("Service", "", "v1", "services"),
    ("ConfigMap", "", "v1", "configmaps"),
    ("Deployment", "apps", "v1", "deployments"),
    ("DaemonSet", "apps", "v1", "daemonsets"),
    (
        "ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
    ),
    ("Ingress", "networking.k8s.io", "v1", "ingresses"),
    ("IngressClass", "networking.k8s.io", "v1", "ingressclasses"),
    ("IngressClassParams", "elbv2.k8s.aws", "v1beta1", "ingressclassparams"),
    ("BackendConfig", "cloud.google.com", "v1", "backendconfigs"),
    ("HTTPRoute", "gateway.networking.k8s.io", "v1", "httproutes"),
    ("Gateway", "gateway.networking.k8s.io", "v1", "gateways"),
    ("GatewayClass", "gateway.networking.k8s.io", "v1", "gatewayclasses"),
    ("SecurityPolicy", "gateway.envoyproxy.io", "v1alpha1", "securitypolicies"),
    ("ClientTrafficPolicy", "gateway.envoyproxy.io", "v1alpha1", "clienttrafficpolicies"),
    ("IngressRoute", "traefik.io", "v1alpha1", "ingressroutes"),
    ("Middleware", "traefik.io", "v1alpha1", "middlewares"),
    ("IngressRoute", "traefik.containo.us", "v1alpha1", "ingressroutes"),
    ("Middleware", "traefik.containo.us", "v1alpha1", "middlewares"),
    ("HTTPProxy", "projectcontour.io", "v1", "httpproxies"),
    ("Mapping", "getambassador.io", "v3alpha1", "mappings"),
    ("AuthService", "getambassador.io", "v3alpha1", "authservices"),
    ("Host", "getambassador.io", "v3alpha1", "hosts"),
    ("TLSContext", "getambassador.io", "v3alpha1", "tlscontexts"),
]


# --- redirect-only routes and Traefik 1.x annotations ---------------------------------------------------
# Traefik v2+ middlewares that answer with a redirect instead of proxying (doc.traefik.io/traefik/
# middlewares/http/redirectscheme/, redirectregex/): redirectScheme redirects only requests whose scheme
# differs from `scheme` (so on a TLS router a redirect to https passes through); redirectRegex only
# requests whose URL matches `regex`.
TRAEFIK_REDIRECT_MIDDLEWARES = ("redirectScheme", "redirectRegex")
# Entry point redirections in Traefik's static configuration (doc.traefik.io/traefik/routing/entrypoints/
# #redirection): `--entryPoints.<name>.http.redirections.entryPoint.to=<other>`; every router on <name>
# only redirects.
TRAEFIK_ENTRYPOINT_REDIRECT_ARG = (
    r"--entry[pP]oints\.([A-Za-z0-9_-]+)\.http\.redirections\.entry[pP]oint\.to="
)
TRAEFIK_INGRESS_ENTRYPOINTS_ANNOTATION = "traefik.ingress.kubernetes.io/router.entrypoints"
# ingress-nginx annotations that answer every request with a redirect (docs/user-guide/nginx-configuration/
# annotations.md "Permanent Redirect", "Temporal Redirect").
NGINX_REDIRECT_ANNOTATIONS = ("permanent-redirect", "temporal-redirect")
# Traefik 2+ reads only `traefik.ingress.kubernetes.io/router.*` and `.../service.*` on an Ingress
# (doc.traefik.io/traefik/routing/providers/kubernetes-ingress/#annotations); the Traefik 1.x forms below
# (docs.traefik.io/v1.7/configuration/backends/kubernetes/#annotations) are ignored, auth included.
TRAEFIK_V2_INGRESS_PREFIXES = (
    "traefik.ingress.kubernetes.io/router.",
    "traefik.ingress.kubernetes.io/service.",
)
TRAEFIK_V1_INGRESS_PREFIXES = (
    "ingress.kubernetes.io/",
    "traefik.ingress.kubernetes.io/",
    "traefik.frontend.",
)
