"""Error messages the kube-apiserver, kubectl, `linkerd check` and the viz dashboard print when a webhook or
an aggregated API cannot be reached, and the cause each one points to (`vizdoctor explain`).

Every row is built from a real recorded message; `example` holds it verbatim (or the part the row keys on)
and `source` names the issue or upstream code it comes from. The sheets are under shared/knowledge/:
control-plane-reachability.md §9-§11 (§11.1 recorded examples), linkerd-viz.md §4, §5, §7, §8 and
dashboard-exposure.md §1, §5; the seed write-up is shared/seed/000_d2708e0bb4fe6cf0.txt.

Rows are tried in order and the first match decides, so the table is ordered by specificity: a message that
names *why* (`i/o timeout`, `connection refused`, `x509: ...`) wins over one that only says *that* an
APIService is unavailable (`FailedDiscoveryCheck`, `the server is currently unable to handle the request`,
the dashboard's 1011/503 banner), and those generic rows come last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TAP_APISERVICE = "v1alpha1.tap.linkerd.io"
TAP_NAMESPACE = "linkerd-viz"


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    explanation: str  # one paragraph: what happened and why; `{The_text}` names the text explained

    def text(self, the_text: str = "The message you pasted") -> str:
        return self.explanation.replace("{The_text}", the_text)


@dataclass(frozen=True)
class ErrorPattern:
    """One row: `regex` (and `requires`, when set) found in the normalised text means `cause`."""

    cause: str
    regex: re.Pattern[str]
    example: str  # the recorded message (verbatim) this row is built from; the row must match it
    source: str  # where the message was recorded
    requires: re.Pattern[str] | None = None  # a second pattern that must also be present
    note: str | None = None  # what this particular message adds to the cause's explanation


def _row(
    cause: str,
    pattern: str,
    example: str,
    source: str,
    requires: str | None = None,
    note: str | None = None,
) -> ErrorPattern:
    return ErrorPattern(
        cause,
        re.compile(pattern, re.IGNORECASE),
        example,
        source,
        re.compile(requires, re.IGNORECASE) if requires else None,
        note,
    )


CAUSES: dict[str, Cause] = {
    c.id: c
    for c in (
        Cause(
            "network-blocked",
            "the network drops the kube-apiserver's connection",
            "The kube-apiserver opened a TCP connection to the webhook or aggregated API server and never got "
            "an answer: the packets were dropped on the way, which is what a security group, a firewall rule or "
            "a NetworkPolicy does when nothing allows the port (a refusing or crashed server answers at once). "
            "The pod itself may be healthy. With endpoint routing (EKS, GKE) the kube-apiserver dials the pod IP "
            "on the container port (8089 for Linkerd tap, 8443 or 9443 for most webhooks), not the Service port "
            "443, so the container port is the one the control plane must be allowed to reach.",
        ),
        Cause(
            "connection-refused",
            "nothing accepts connections on the port the kube-apiserver dials",
            "The connection reached its destination and was refused: the network is open, but nothing listens "
            "on that address and port. Either the Service's targetPort does not match the port the container "
            "listens on, the container has not started (or crashed), or, when the kube-apiserver dials a "
            "ClusterIP, kube-proxy refuses because the Service has no ready endpoints. A security group or "
            "firewall drops packets silently and never causes `connection refused`.",
        ),
        Cause(
            "no-ready-endpoints",
            "the Service has no ready pod behind it",
            "The Service the webhook or APIService names exists but has no ready endpoint, so the kube-apiserver "
            "has nowhere to send the call. This is a workload problem, not a network one: the pods are missing, "
            "not Ready (readiness probe, proxy not started, stuck Pending), or the Service's selector or named "
            "targetPort does not match them.",
        ),
        Cause(
            "service-not-found",
            "the Service the webhook or APIService names does not exist",
            "The webhook configuration or APIService points at a Service that does not exist in that namespace. "
            "Usually the add-on was uninstalled (or installed in another namespace) and left its registration "
            "behind, or the Service was renamed.",
        ),
        Cause(
            "service-port-mismatch",
            "the Service does not expose the port the APIService names",
            "The APIService names a Service port (443 unless `spec.service.port` says otherwise) that the "
            "Service does not expose, so the kube-aggregator marks it unavailable without trying to connect.",
        ),
        Cause(
            "tls-untrusted",
            "the kube-apiserver does not trust the server's certificate",
            "The connection worked but TLS verification failed: the serving certificate is not signed by the CA "
            "in the webhook's or APIService's `caBundle`, or it is not valid for the Service name the "
            "kube-apiserver uses (`<service>.<namespace>.svc`). Common after a certificate was rotated without "
            "updating `caBundle`, when cert-manager's CA injection did not run, or when a mesh proxy or "
            "middlebox presents its own certificate.",
        ),
        Cause(
            "tls-expired",
            "the server's certificate has expired (or is not yet valid)",
            "The connection worked but the serving certificate (or one in its chain) is outside its validity "
            "period. Helm-generated webhook and tap certificates last a fixed time (365 days for Linkerd viz's "
            "tap) and are only renewed by an upgrade; a clock far off on either side gives the same error.",
        ),
        Cause(
            "address-not-allowed",
            "the managed control plane cannot reach overlay pod IPs",
            "`Address is not allowed` comes from the EKS-managed kube-apiserver refusing to dial an address "
            "outside the VPC: the pods have overlay IPs (Calico or Weave Net as the CNI) that only the nodes can "
            "route. No security-group rule fixes this; the pod must get a VPC IP (Amazon VPC CNI) or run with "
            "`hostNetwork: true`, which Linkerd's tap cannot do because it must be meshed.",
        ),
        Cause(
            "http-proxy",
            "the kube-apiserver sends the call through an HTTP proxy",
            "The kube-apiserver has HTTP_PROXY/HTTPS_PROXY set and sends the call to the webhook or aggregated "
            "API through the proxy, which cannot reach (or refuses) in-cluster addresses. Admission and "
            "conversion webhooks are dialled by host name (`<service>.<namespace>.svc`), so `.svc` in NO_PROXY "
            "exempts them; the kube-aggregator dials aggregated APIs by IP (the ClusterIP or the pod IP), so for "
            "those NO_PROXY must list the Service (and pod) CIDRs.",
        ),
        Cause(
            "connection-reset",
            "the connection was cut after it was established",
            "The TCP connection was established and then torn down (reset, EOF, broken pipe) before an answer "
            "came back. Something on the path or the server itself closed it: a mesh proxy's authorization "
            "policy (Linkerd's tap needs `AuthorizationPolicy tap` admitting `NetworkAuthentication "
            "kube-api-server`), a TLS mismatch, a middlebox, or, on AKS, the Konnectivity tunnel the "
            "kube-apiserver uses to reach the nodes.",
        ),
        Cause(
            "rbac-forbidden",
            "Kubernetes RBAC refuses the request",
            "The request reached the kube-apiserver (or the tap server) and was refused for lack of permission. "
            "Tap is an aggregated API, so watching `*.tap.linkerd.io` needs a Kubernetes RBAC grant: the "
            "dashboard uses ServiceAccount `linkerd-viz:web` (ClusterRoleBinding `linkerd-linkerd-viz-web-admin`, "
            "absent with `dashboard.restrictPrivileges`), the CLI uses your own user.",
        ),
        Cause(
            "dns",
            "a name in the call does not resolve",
            "The kube-apiserver (or the client) could not resolve a host name: the webhook's `clientConfig.url` "
            "or a proxy names a host its resolver does not know. The kube-apiserver does not use the cluster's "
            "DNS, so in-cluster names (`*.svc.cluster.local`) in a `url` do not resolve there; use "
            "`clientConfig.service` instead.",
        ),
        Cause(
            "apiservice-unavailable",
            "the aggregated API is unavailable; the text does not say why",
            "The kube-aggregator has marked the APIService `Available=False`, so every request to its API group "
            "gets HTTP 503 `service unavailable` (the dashboard shows it as `Websocket close error [1011: "
            "Internal Error] : HTTP error, status Code [503]`, kubectl as `the server is currently unable to "
            "handle the request`). {The_text} only says that it is unavailable; the reason is in "
            "the APIService's `Available` condition. On EKS and GKE it is most often the firewall: the control "
            "plane cannot reach the pod port (8089 for Linkerd tap).",
        ),
        Cause(
            "dashboard-host-rejected",
            "the viz dashboard rejects the Host header (DNS-rebinding protection)",
            "The Linkerd viz `web` pod answers HTTP 400 to every request whose Host header does not match its "
            "`-enforced-host` regular expression; by default only localhost, 127.0.0.1, [::1] and "
            "`web.<namespace>.svc[.<cluster-domain>]` are accepted. Reaching the dashboard through an ingress, a "
            "LoadBalancer or an IP address therefore needs either a Host rewrite in the proxy or "
            "`dashboard.enforcedHostRegexp` set to the external host.",
        ),
        Cause(
            "dashboard-origin-rejected",
            "the viz dashboard rejects the Tap websocket (Origin does not match Host)",
            "The dashboard page loads, but the `/api/tap` websocket used by Tap and Top is refused: the `web` "
            "pod answers HTTP 403 when the Origin header's host differs from the Host header, which happens "
            "when an ingress rewrites Host (to pass the Host check) without removing Origin. The browser only "
            "reports `Websocket error: undefined`; the 403 is visible in the developer tools and the web pod "
            "logs `websocket: request origin not allowed by Upgrader.CheckOrigin`.",
        ),
        # -- the pod side (issue 14) -------------------------------------------------------------------------
        Cause(
            "webhook-timeout",
            "the request hit the kube-apiserver's own 30 s timeout",
            "`Timeout: request did not complete within requested timeout 30s` is the kube-apiserver giving up on "
            "the whole request, not a webhook's error: a webhook whose timeoutSeconds is 30 or more (the "
            "admissionregistration v1beta1 default) never answered in time, so its own error (often a blocked "
            "port) is hidden behind the API server's timeout. Lower the webhook's timeoutSeconds (v1 default 10) "
            "to see the real cause, then fix that.",
        ),
        Cause(
            "kubelet-port-conflict",
            "the call reached the kubelet on port 10250, not the webhook",
            "The serving certificate is the node's kubelet certificate (`ip-...compute.internal`): the webhook "
            "or aggregated API listens on 10250 on the host network or on Fargate, where the kubelet owns that "
            "port, so the kube-apiserver's connection lands on the kubelet. Move the server to another port "
            "(cert-manager `webhook.securePort: 10260`) and the Service's targetPort with it.",
        ),
        Cause(
            "tls-client-rejected",
            "the server rejects the kube-apiserver's client certificate",
            "The aggregated API server (Linkerd tap, metrics-server) refused the kube-apiserver's front-proxy "
            "client certificate: it still trusts the old request-header CA (from ConfigMap "
            "`kube-system/extension-apiserver-authentication`) after the control plane's CAs were rotated. The "
            "serving certificate and caBundle are fine; restart (or re-issue) the server so it reloads the client "
            "CA.",
        ),
        Cause(
            "webhook-protocol-error",
            "the webhook answered, but not with an AdmissionReview over HTTPS",
            "The connection and TLS worked, but the answer is not what the kube-apiserver expects: plain HTTP on "
            "the HTTPS port (`server gave HTTP response to HTTPS client`), an empty body, or a body that is not an "
            "AdmissionReview of the requested version with the request's uid. Usually the Service's targetPort "
            "points at the wrong container port (metrics, health) or the server speaks another API version.",
        ),
        Cause(
            "tunnel-unavailable",
            "the Konnectivity tunnel to the nodes has no agent",
            "`No agent available` comes from the Konnectivity server in the control plane (GKE, AKS, and "
            "clusters with an egress selector): it sends webhook, aggregated API, logs and exec traffic through "
            "`konnectivity-agent` pods in kube-system, and none is connected. Firewall rules toward the nodes are "
            "not on this path; the agents are (pods not running, or their egress to the control plane on 8132 / "
            "443 blocked).",
        ),
        Cause(
            "dashboard-websocket-not-proxied",
            "the proxy in front of the dashboard drops the websocket upgrade",
            "The dashboard's pages load, but the `/api/tap` websocket (Tap, Top) gets HTTP 400: a proxy or "
            "ingress on the way forwarded the request without its `Upgrade: websocket` and `Connection: Upgrade` "
            "headers (HTTP/2 or HTTP/1.0 to the backend, or a route that does not allow websockets), so the web "
            "pod's upgrader refuses it.",
        ),
        Cause(
            "pod-cannot-reach-apiserver",
            "a pod cannot reach the kube-apiserver (the reverse direction)",
            "Here a pod (metrics-server, a webhook or an operator) times out calling the kube-apiserver through "
            "the `kubernetes` Service (`https://10.96.0.1:443`, `10.100.0.1` or `172.20.0.1` on EKS): the path "
            "from the pod to the control plane is broken, not the control plane's path to the pod, so opening "
            "ports on the nodes' security group does not help. Check the pod's egress (NetworkPolicy egress "
            "rules, the CNI, kube-proxy on that node, security groups for pods) and the cluster endpoint's access "
            "settings.",
        ),
        Cause(
            "unknown",
            "no known pattern",
            "The text matches none of the recorded error patterns.",
        ),
    )
}

# Pod ports that well-known targets listen on by default: used to fill in next steps when the pasted text
# does not show the `dial tcp IP:PORT` part. The `port` field of an explanation is only ever what the text says.
DEFAULT_POD_PORTS: dict[str, tuple[int, str]] = {
    TAP_APISERVICE: (8089, "linkerd-viz.md §1.1: Service tap 443 -> apiserver 8089"),
    "tap-injector.linkerd.io": (8443, "linkerd-viz.md §1.1"),
    "linkerd-proxy-injector.linkerd.io": (8443, "linkerd-viz.md §1.1"),
    "linkerd-sp-validator.linkerd.io": (8443, "linkerd-viz.md §1.1"),
    "linkerd-policy-validator.linkerd.io": (9443, "linkerd-viz.md §1.1"),
    "validate.nginx.ingress.kubernetes.io": (
        8443,
        "control-plane-reachability.md §8: ingress-nginx admission",
    ),
    "vingress.elbv2.k8s.aws": (9443, "control-plane-reachability.md §8: AWS Load Balancer Controller"),
    "mtargetgroupbinding.elbv2.k8s.aws": (9443, "control-plane-reachability.md §8"),
    "vtargetgroupbinding.elbv2.k8s.aws": (9443, "control-plane-reachability.md §8"),
    "mpod.elbv2.k8s.aws": (9443, "control-plane-reachability.md §8"),
}

# Groups served in one version only, so `(get nodes.metrics.k8s.io)` names its APIService.
SINGLE_VERSION_GROUPS: dict[str, str] = {
    "metrics.k8s.io": "v1beta1",
    "tap.linkerd.io": "v1alpha1",
}

_1748 = (
    'failed calling webhook "validate.nginx.ingress.kubernetes.io": Post "https://ingress-ingress-nginx-'
    'controller-admission.kube-system.svc:443/networking/v1/ingresses?timeout=10s": dial tcp 10.1.103.106:8443: '
    "i/o timeout"
)

# Ordered: most specific first. Each row cites the message it is built from.
PATTERNS: tuple[ErrorPattern, ...] = (
    # --- the pod side (issue 14): texts more specific than any row below -------------------------------
    _row(
        "webhook-timeout",
        r"Timeout: request did not complete within (?:the )?(?:requested|allowed) timeout",
        'Error from server (Timeout): error when creating "issuer.yaml": Timeout: request did not complete '
        "within requested timeout 30s",
        "k8s.io/apiserver pkg/endpoints/handlers/finisher (`request did not complete within requested timeout %s`, "
        "status reason Timeout); the example is that format as kubectl prints it, not a recorded thread",
    ),
    _row(
        "kubelet-port-conflict",
        r"x509: certificate is valid for (?:[\w.-]+, )*(?:ip-[\w.-]+\.(?:compute|ec2)\.internal|fargate-ip-[\w.-]+|"
        r"gke-[\w.-]+)(?:, [\w.-]+)*, not \S+\.svc",
        'Internal error occurred: failed calling webhook "webhook.cert-manager.io": Post '
        "https://cert-manager-webhook.cert-manager.svc:443/mutate?timeout=10s: x509: certificate is valid for "
        "ec2-xxx-xxx-xxx-xxx.us-west-2.compute.amazonaws.com, ip-xxx-xxx-xxx-xxx.us-west-2.compute.internal, not "
        "cert-manager-webhook.cert-manager.svc",
        "cert-manager/cert-manager#3712 (EKS + Calico, webhook on the host network: the node's certificate); "
        "cert-manager PR #3113 (`webhook.hostNetwork`: the default port conflicts with the kubelet)",
    ),
    _row(
        "tls-client-rejected",
        r"Unable to authenticate the request due to an error: \[?x509|failed to verify client'?s certificate|"
        r"remote error: tls: unknown certificate authority",
        "E0908 23:23:15.369015       1 authentication.go:64] Unable to authenticate the request due to an error: "
        '[x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" '
        'while trying to verify candidate authority certificate "kube-apiserver-requestheader-ca"), x509: '
        "certificate signed by unknown authority]",
        "kubernetes/kubernetes#68439, kubernetes-sigs/metrics-server#474 and PR #533 (FAQ: incorrectly configured "
        "front-proxy certificate); Go crypto/tls server text `tls: failed to verify client's certificate`",
    ),
    _row(
        "webhook-protocol-error",
        r"server gave HTTP response to HTTPS client|webhook response was absent|"
        r"expected webhook response of \S+|expected response\.uid=|received invalid webhook response",
        'failed calling webhook "mutate.example.com": failed to call webhook: Post '
        '"https://example-webhook.default.svc:443/mutate?timeout=10s": http: server gave HTTP response to HTTPS '
        "client",
        "Go net/http client text; k8s.io/apiserver admission/plugin/webhook/request/admissionreview.go "
        "(`webhook response was absent`, `expected webhook response of %v, got %v`, `expected response.uid=%q`)",
    ),
    _row(
        "tunnel-unavailable",
        r"No agent available",
        "v1beta1.metrics.k8s.io failed with: failing or missing response from https://10.97.131.110:443/apis/"
        'metrics.k8s.io/v1beta1: Get "https://10.97.131.110:443/apis/metrics.k8s.io/v1beta1": No agent available',
        "k0sproject/k0s#5809, #5503; kubernetes-sigs/apiserver-network-proxy pkg/server/backend_manager.go (the "
        "user-visible `No agent available`, PR #450)",
    ),
    _row(
        "dashboard-websocket-not-proxied",
        r"/api/tap\S*\s.{0,120}?\b400\b|Unexpected response code: 400",
        "WebSocket connection to 'wss://linkerd.example.com/api/tap' failed: Error during WebSocket handshake: "
        "Unexpected response code: 400",
        "linkerd/linkerd2#5897, #10824 (ingresses that do not pass the Upgrade headers); gorilla/websocket "
        "Upgrader answers 400 without them (linkerd-viz.md §4.6)",
    ),
    _row(
        "pod-cannot-reach-apiserver",
        r"https://(?:10\.96\.0\.1|10\.100\.0\.1|172\.20\.0\.1|10\.0\.0\.1|10\.43\.0\.1|"
        r"kubernetes\.default(?:\.svc(?:\.cluster\.local)?)?)(?::443)?/(?:api|apis)\b",
        'Error: error building admission chain: Get "https://10.96.0.1:443/api": dial tcp 10.96.0.1:443: i/o timeout',
        "bitnami/charts#22760 (cert-manager webhook whose NetworkPolicy blocked its egress to the kube-apiserver); "
        "the kubernetes Service is the first address of the Service CIDR (10.96.0.1 kubeadm, 10.100.0.1 / "
        "172.20.0.1 EKS, 10.43.0.1 k3s)",
        requires=r"i/o timeout|timed out|deadline exceeded|no route to host",
    ),
    # --- wording variants of known causes -------------------------------------------------------------
    _row(
        "network-blocked",
        r"(?:connect|getsockopt): connection timed out",
        'Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": dial tcp 10.244.1.17:9443: '
        "connect: connection timed out",
        "Go syscall ETIMEDOUT text (`connect: connection timed out`; `getsockopt:` in Go < 1.12): SYNs "
        "unanswered, a silent drop",
    ),
    _row(
        "network-blocked",
        r"proxy error from 127\.0\.0\.1:\d+ while dialing \S+, code 50[23]",
        'failed to call webhook: Post "https://metallb-webhook-service.metallb-system.svc:443/validate-metallb-io-'
        'v1beta1-l2advertisement?timeout=10s": proxy error from 127.0.0.1:6443 while dialing 10.42.3.16:9443, code '
        "503: 503 Service Unavailable",
        "bitnami/charts#15094 (k3s, the chart's NetworkPolicy dropped the kube-apiserver); the k3s / RKE2 egress "
        "proxy tunnels the call to the pod's node and could not dial the pod",
        note="On k3s and RKE2 the server reaches pods through its own tunnel to the agent on the pod's node; "
        "the agent could not dial the pod: a NetworkPolicy on the pod, or the firewall between nodes (and the "
        "flannel VXLAN port 8472/udp), is where to look.",
    ),
    _row(
        "http-proxy",
        r"\"https?://[^\"\s]+\": (?:Gateway Timeout|Bad Gateway|Service Unavailable|Forbidden)(?:$|[^\w(])",
        'failed calling webhook "validate.kyverno.svc": failed to call webhook: Post '
        '"https://kyverno-svc.kyverno.svc:443/validate?timeout=10s": Gateway Timeout',
        "Go net/http Transport: a proxy's non-200 answer to CONNECT becomes an error of its bare status text",
    ),
    # --- the viz dashboard's own checks (texts no other component prints) -------------------------------
    _row(
        "dashboard-host-rejected",
        r"trying to reach this service with a host of '[^']*'|has been denied for security reasons|"
        r"linkerd\.io/dns-rebinding",
        "It appears that you are trying to reach this service with a host of 'dashboard.example.com'. This does "
        r"not match /^(localhost|127\.0\.0\.1|web\.linkerd-viz\.svc\.cluster\.local|web\.linkerd-viz\.svc|\[::1\])"
        r"(:\d+)?$/ and has been denied for security reasons.",
        "linkerd/linkerd2#4929 (body seen verbatim via curl); web/srv/server.go; linkerd-viz.md §4.1",
    ),
    _row(
        "dashboard-origin-rejected",
        r"request origin not allowed by Upgrader\.CheckOrigin",
        'level=error msg="websocket: request origin not allowed by Upgrader.CheckOrigin"',
        "gorilla/websocket server.go (Upgrader.CheckOrigin), web/srv/check_same_origin.go; linkerd-viz.md §4.2",
    ),
    _row(
        "dashboard-origin-rejected",
        r"'Origin' header value not allowed",
        "websocket: 'Origin' header value not allowed",
        "linkerd/website#211, linkerd/linkerd2#2427 (older gorilla/websocket text); linkerd-viz.md §4.2, §7",
    ),
    # --- authorization -----------------------------------------------------------------------------------
    _row(
        "rbac-forbidden",
        r"missing authorization, visit https?://linkerd\.io/tap-rbac",
        "missing authorization, visit https://linkerd.io/tap-rbac to remedy",
        "viz/tap/pkg/reader.go TapRbacURL (close 1008 reason); linkerd-viz.md §4.5",
    ),
    _row(
        "rbac-forbidden",
        r"status Code \[40[13]\]",
        "HTTP error, status Code [403] (unexpected API response)",
        "linkerd/linkerd2#8613, #11394; the 1011 form of a tap RBAC denial: linkerd-viz.md §4.8, §8",
        note="A 403 on the dashboard's `/api/tps-reports` (not Tap) is the web -> metrics-api hop: Linkerd "
        "policy `AuthorizationPolicy metrics-api` must admit ServiceAccount `web` (linkerd/linkerd2#8613).",
    ),
    _row(
        "rbac-forbidden",
        r"forbidden: User \"[^\"]*\" cannot",
        'Cannot connect to Linkerd Viz: namespaces is forbidden: User "XXXX" cannot list resource "namespaces" '
        'in API group "" at the cluster scope',
        "linkerd/website tasks/securing-linkerd-tap.md; linkerd-viz.md §6.4",
    ),
    _row(
        "rbac-forbidden",
        r"bad status from \S+: 40[13]\b",
        "bad status from https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1: 403",
        "kube-aggregator available_controller.go format `bad status from %v: %d`; linkerd-viz.md §8 "
        "(`bad status from` -> extension-apiserver-authentication, auth-reader RoleBinding)",
        note="Here it is the kube-aggregator's own discovery request that the server refused: the server "
        "cannot authenticate the kube-apiserver (it reads the client CA from ConfigMap "
        "`kube-system/extension-apiserver-authentication` through its auth-reader RoleBinding and checks "
        "requests through `system:auth-delegator`).",
    ),
    # --- TLS -----------------------------------------------------------------------------------------------
    _row(
        "tls-expired",
        r"x509: certificate has expired or is not yet valid",
        "x509: certificate has expired or is not yet valid",
        "Go crypto/x509 CertificateInvalidError (Expired); `linkerd viz check` `tap API server cert is valid "
        "for at least 60 days` (linkerd-viz.md §5.1)",
    ),
    _row(
        "tls-untrusted",
        r"x509: certificate signed by unknown authority",
        '… failed to call webhook: Post "https://cluster-operator-webhook-service.rabbitmq-system.svc:443/...'
        '?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority',
        "rabbitmq/cluster-operator#2237; kyverno/kyverno#3300 (older Go, no `tls:` prefix); "
        "control-plane-reachability.md §11.1",
    ),
    _row(
        "tls-untrusted",
        r"x509: certificate is (?:valid for \S.*?, not \S+|not valid for any names)",
        "x509: certificate is valid for tap.linkerd.svc, not tap.linkerd-viz.svc",
        "Go crypto/x509 HostnameError; `linkerd viz check` `tap API server has valid cert` requires identity "
        "`tap.<ns>.svc` (linkerd-viz.md §5.1)",
        note="The certificate names other hosts than the one the kube-apiserver dialled: its SANs must include "
        "`<service>.<namespace>.svc`.",
    ),
    _row(
        "tls-untrusted",
        r"\bx509: |tls: failed to verify certificate|tls: bad certificate|"
        r"(?:×|‼) (?:tap API server|proxy-injector webhook|sp-validator webhook|policy-validator webhook) "
        r"has valid cert|\bcaBundle\b (?:is )?(?:empty|invalid|missing|does not)",
        "tls: failed to verify certificate",
        "control-plane-reachability.md §11 (`x509: …` -> CA bundle / cert mismatch); linkerd-viz.md §5.1 "
        "(`linkerd viz check` `tap API server has valid cert`: caBundle vs secret tap-k8s-tls), §8",
    ),
    # --- managed control plane cannot route to the pod ---------------------------------------------------
    _row(
        "address-not-allowed",
        r"Address is not allowed",
        "FailedDiscoveryCheck: failing or missing response from https://192.168.200.144:8089/apis/tap.linkerd.io"
        "/v1alpha1: Get https://192.168.200.144:8089/apis/tap.linkerd.io/v1alpha1: Address is not allowed",
        "linkerd/linkerd2#5576 (EKS + Calico), #3353 / weaveworks/weave#3694 (EKS + Weave Net); "
        "control-plane-reachability.md §11.1",
    ),
    # --- the kube-apiserver's own HTTP proxy ---------------------------------------------------------------
    _row(
        "http-proxy",
        r"proxyconnect tcp",
        'Post "https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses'
        '?timeout=10s": proxyconnect tcp: dial tcp 10.0.0.10:3128: i/o timeout',
        "Go net/http Transport error op `proxyconnect` (the dial to the proxy failed); linkerd/linkerd2#4296",
    ),
    _row(
        "http-proxy",
        r"Proxy Authentication Required",
        "Proxy Authentication Required",
        "HTTP 407 from a proxy in front of the kube-apiserver's egress (Go net/http CONNECT response text)",
    ),
    _row(
        "http-proxy",
        r"\b(?:https?_proxy|no_proxy)\b",
        "FailedDiscoveryCheck: no response from https://10.233.31.133:443: Get https://10.233.31.133:443: "
        "net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers) "
        "kube-apiserver env: HTTPS_PROXY=http://proxy.example:3128 NO_PROXY=.cluster.local",
        "linkerd/linkerd2#4296: the kube-apiserver had HTTP(S)_PROXY and NO_PROXY covered `.cluster.local` but "
        "not the ClusterIP the aggregator dials (linkerd-viz.md §7)",
        # the aggregator dialled an IP (ClusterIP or pod IP) and the error is not a direct dial error: Go reports
        # `dial tcp IP:PORT` only when it dialled the target itself, not through the proxy
        requires=r"^(?!.*\bdial tcp \d)(?=.*https://\d{1,3}(?:\.\d{1,3}){3}:\d+)",
    ),
    # --- name resolution -----------------------------------------------------------------------------------
    _row(
        "dns",
        r"no such host|server misbehaving|dial tcp: lookup \S+",
        'Post "https://webhook.example.internal/validate?timeout=10s": dial tcp: lookup webhook.example.internal '
        "on 10.0.0.2:53: no such host",
        "Go net DNSError texts (`no such host`, `server misbehaving`) as wrapped by the webhook dispatcher "
        "(control-plane-reachability.md §10)",
    ),
    # --- the connection arrived and was refused or cut -----------------------------------------------------
    _row(
        "connection-refused",
        r"connection refused",
        'Post "https://cert-manager-webhook.cert-manager.svc:443/mutate?timeout=10s": dial tcp '
        "10.152.183.134:443: connect: connection refused",
        "cert-manager/cert-manager#4453; control-plane-reachability.md §11, §11.1",
    ),
    _row(
        "connection-reset",
        r"tunnel-uds/proxysocket",
        'Internal error occurred: failed calling webhook "mutate.kyverno.svc-fail": failed to call webhook: Post '
        '"https://...svc:443/mutate/fail?timeout=10s": write unix @->/tunnel-uds/proxysocket: write: broken pipe',
        "AKS tunnel (Konnectivity) failure; control-plane-reachability.md §7, §11",
        note="On AKS the kube-apiserver reaches pods through the Konnectivity tunnel (`konnectivity-agent` "
        "pods in kube-system); this broken pipe means that tunnel is down or a NetworkPolicy blocks the "
        "agent pods.",
    ),
    _row(
        "connection-reset",
        r"connection reset by peer|broken pipe|(?:\": |: )(?:unexpected )?EOF\b",
        "FailedDiscoveryCheck: failing or missing response from https://172.19.0.87:8089/apis/tap.linkerd.io"
        '/v1alpha1: Get "https://172.19.0.87:8089/apis/tap.linkerd.io/v1alpha1": read tcp '
        "169.254.128.90:40336->172.19.0.87:8089: read: connection reset by peer",
        "linkerd/linkerd2#7301 (TKE, endpoint routing); control-plane-reachability.md §11; linkerd-viz.md §2.2, §8",
    ),
    _row(
        "connection-reset",
        r"TLS handshake timeout",
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"error trying to reach '
        'service: net/http: TLS handshake timeout","reason":"ServiceUnavailable","code":503}',
        "kube-apiserver v1.37.2 service and pod proxy (10 s TLS handshake limit of its proxy transport), recorded "
        "against a server that accepts the connection and never answers in tests/test_live_apiserver.py",
        note="Here the TCP connection was opened, so no security group or firewall drops the port; the TLS "
        "handshake then got no answer for 10 s: the server accepted and hangs (deadlocked, overloaded, or not "
        "speaking TLS on that port), or a path MTU black hole drops the larger handshake packets.",
    ),
    # --- silent drops: SG / firewall / NetworkPolicy -------------------------------------------------------
    _row(
        "network-blocked",
        r"i/o timeout",
        _1748,
        "terraform-aws-eks#1748 (module 18.0.2, port 8443), PR #2270 (9443), metrics-server#1010 (4443), the "
        "seed write-up (8089); control-plane-reachability.md §11.1",
    ),
    _row(
        "network-blocked",
        r"failing or missing response from \S+: Get \"?[^\s\"]+\"?: "
        r"(?:context deadline exceeded|net/http: request canceled while waiting for connection)",
        "failing or missing response from https://198.51.100.82:8089/apis/tap.linkerd.io/v1alpha1: Get "
        '"https://198.51.100.82:8089/apis/tap.linkerd.io/v1alpha1": context deadline exceeded',
        "kube-apiserver v1.37.2's kube-aggregator (remote_available_controller.go: a 5 s discovery client), "
        "recorded against a dropping endpoint and a hung one in tests/test_live_apiserver.py",
        note="Recent kube-apiservers (1.37 recorded) end this message after 5 s with `context deadline exceeded` "
        "or `net/http: request canceled while waiting for connection` (either at times followed by "
        "`(Client.Timeout exceeded while awaiting headers)`), both when the network drops the connection and "
        "when a server accepts it and never answers, so this text alone does not tell the two "
        "apart. The kube-apiserver's pod proxy does: kubectl get --raw "
        "'/api/v1/namespaces/<namespace>/pods/https:<pod>:<port>/proxy/' answers `dial tcp <ip>:<port>: i/o "
        "timeout` after 30 s when the network drops it, `net/http: TLS handshake timeout` after 10 s when the "
        "server hangs.",
    ),
    _row(
        "network-blocked",
        r"context deadline exceeded",
        "Failed calling webhook, failing closed vingress.elbv2.k8s.aws: failed calling webhook "
        '"vingress.elbv2.k8s.aws": Post "https://aws-load-balancer-webhook-service.kube-system.svc:443/'
        'validate-networking-v1beta1-ingress?timeout=10s": context deadline exceeded',
        "kubernetes-sigs/aws-load-balancer-controller#2208, #2460; terraform-aws-eks#1744; "
        "actions-runner-controller#1527; linkerd/linkerd2#8806",
    ),
    _row(
        "network-blocked",
        r"Client\.Timeout exceeded while awaiting headers|request canceled while waiting for connection",
        "FailedDiscoveryCheck: failing or missing response from https://10.96.0.39:443: Get "
        "https://10.96.0.39:443: net/http: request canceled while waiting for connection (Client.Timeout "
        "exceeded while awaiting headers)",
        "linkerd/linkerd2#4301, the Linkerd troubleshooting page (l5d-tap-api), "
        "stackrox/admission-controller-webhook-demo#6",
    ),
    _row(
        "network-blocked",
        r"timed out waiting for",
        "timed out waiting for https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1",
        "kube-aggregator available_controller.go FailedDiscoveryCheck format `timed out waiting for %v`; "
        "control-plane-reachability.md §9",
    ),
    _row(
        "network-blocked",
        r"no route to host|network is unreachable",
        "dial tcp 10.0.1.23:8089: connect: no route to host",
        "Go syscall EHOSTUNREACH / ENETUNREACH text: a firewall rejecting with ICMP host-prohibited, or no route",
    ),
    # --- structural: the kube-aggregator's Available reasons and the webhook dispatcher --------------------
    _row(
        "no-ready-endpoints",
        r"no endpoints available for service",
        '… failed to call webhook: Post "https://aws-load-balancer-controller-webhook-service.'
        'aws-load-balancer-controller.svc:443/mutate-v1-service?timeout=10s": no endpoints available for '
        'service "aws-load-balancer-controller-webhook-service"',
        "maddevsio/aws-eks-base PR #359; k8s.io/apiserver util/proxy/proxy.go; control-plane-reachability.md §1, §11.1",
    ),
    _row(
        "no-ready-endpoints",
        r"\bMissingEndpoints\b|have no addresses",
        "‼ tap API service is running MissingEndpoints: …",
        "linkerd/linkerd2#7970 (k3s, viz pods Pending); kube-aggregator reason MissingEndpoints "
        "(control-plane-reachability.md §9)",
    ),
    _row(
        "no-ready-endpoints",
        r"\bEndpointsNotFound\b|cannot find endpoints for service",
        'EndpointsNotFound: cannot find endpoints for service/tap in "linkerd-viz"',
        "kube-aggregator reason EndpointsNotFound, format `cannot find endpoints for service/%s in %q` "
        "(control-plane-reachability.md §9)",
    ),
    _row(
        "service-not-found",
        r"\bServiceNotFound\b|service/\S+ in \"[^\"]+\" is not present|services? \"[^\"]+\" not found",
        'ServiceNotFound: service/tap in "linkerd-viz" is not present',
        "kube-aggregator reason ServiceNotFound, format `service/%s in %q is not present` "
        "(control-plane-reachability.md §9; linkerd-viz.md §5.4)",
    ),
    _row(
        "service-port-mismatch",
        r"\bServicePortError\b|is not listening on port \d+",
        'ServicePortError: service/tap in "linkerd-viz" is not listening on port 443',
        "kube-aggregator reason ServicePortError, format `service/%s in %q is not listening on port %d` "
        "(control-plane-reachability.md §9)",
    ),
    # --- unavailable, reason not in the text: least specific ---------------------------------------------
    _row(
        "apiservice-unavailable",
        r"Websocket close error \[1011[^\]]*\] : HTTP error, status Code \[503\]|"
        r"HTTP error, status Code \[503\] \(unexpected API response: service unavailable",
        "Websocket close error [1011: Internal Error] : HTTP error, status Code [503] (unexpected API response: "
        "service unavailable )",
        "the seed write-up (dashboard banner); linkerd/linkerd2#3319 (CLI form); kube-aggregator "
        "handler_proxy.go proxyError -> body `service unavailable\\n` (linkerd-viz.md §4.7)",
        note="The 503 comes from the kube-aggregator, not from the dashboard or an ingress: APIService "
        "v1alpha1.tap.linkerd.io is not Available, the same fault `linkerd viz check` reports as "
        "`‼ tap API service is running`.",
    ),
    _row(
        "apiservice-unavailable",
        r"ResponseCode: 503|status Code \[503\]",
        'loading OpenAPI spec for "v1alpha1.tap.linkerd.io" failed with: failed to retrieve openAPI spec, http '
        "error: ResponseCode: 503, Body: service unavailable\\n, Header: map[Content-Type:[text/plain; "
        "charset=utf-8] X-Content-Type-Options:[nosniff]]",
        "linkerd/linkerd2#3353, #4337 (kube-apiserver log, EKS + Weave Net); linkerd-viz.md §7",
    ),
    _row(
        "apiservice-unavailable",
        r"the server is currently unable to handle the request",
        "E1205 09:13:52.814803    6521 memcache.go:287] couldn't get resource list for tap.linkerd.io/v1alpha1: "
        "the server is currently unable to handle the request",
        "linkerd/linkerd2#11698, #10341; metrics-server#1024, #543; cert-manager docs (GKE private cluster); "
        "control-plane-reachability.md §9",
    ),
    _row(
        "apiservice-unavailable",
        r"\bServiceUnavailable\b|\bServiceAccessError\b|\bEndpointsAccessError\b|cannot be checked due to",
        "Error from server (ServiceUnavailable)",
        "kubectl's status reason for HTTP 503 from an aggregated API (metrics-server#1024); kube-aggregator "
        "reasons ServiceAccessError / EndpointsAccessError (control-plane-reachability.md §9)",
    ),
    _row(
        "apiservice-unavailable",
        r"\bFailedDiscoveryCheck\b|failing or missing response from|no response from https?://|bad status from",
        "v1alpha1.tap.linkerd.io  linkerd-viz/tap  False (FailedDiscoveryCheck)",
        "linkerd/linkerd2#10260, #3473, linkerd/website#524 (`kubectl get apiservice`); metrics-server#1010",
        note="`kubectl get apiservice` shows only the reason. FailedDiscoveryCheck means the kube-aggregator's "
        "probe of the server failed: a network or TLS problem, never a missing Service or endpoint.",
    ),
    _row(
        "apiservice-unavailable",
        r"tap API service is running|#l5d-tap-api\b",
        "‼ tap API service is running",
        "the seed write-up and linkerd/linkerd2#7970 (`linkerd check` / `linkerd viz check` output); "
        "linkerd-viz.md §5.1 check 7 (a warning)",
    ),
    # --- the dashboard's websocket handshake failed (weakest signals) --------------------------------------
    _row(
        "dashboard-origin-rejected",
        r"/api/tap\S*\s.{0,120}?\b403\b|Unexpected response code: 403",
        "Error during WebSocket handshake: Unexpected response code: 403",
        "linkerd/linkerd2#5897 (Ambassador logs 403 on /api/tap); gorilla Upgrader answers 403 on a failed "
        "Origin check (linkerd-viz.md §4.2)",
    ),
    _row(
        "dashboard-origin-rejected",
        r"Websocket error: undefined|WebSocket connection to '[^']*/api/tap' failed",
        "Websocket error: undefined",
        "linkerd/linkerd2#5264, #5897, #10824; web/app/js Tap.jsx onerror (linkerd-viz.md §4.6; "
        "dashboard-exposure.md §1, §5.2)",
        note="The browser hides the HTTP status of a failed websocket handshake, so this banner alone cannot "
        "tell which check failed. Behind an ingress the usual cause is the Origin check (403); a 400 means "
        "the Upgrade headers were dropped or the Host check failed, a 404/502/503 means the ingress does not "
        "route `/api/tap` to `web:8084` (linkerd/linkerd2#10824 sent it to `tap:8088`). Look at the status of "
        "`/api/tap` in the browser's developer tools (Network tab).",
    ),
)

CAUSE_IDS: tuple[str, ...] = tuple(CAUSES)
