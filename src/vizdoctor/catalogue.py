"""The check catalogue: one spec per check id, the single source for findings, docs and SARIF rules.

Modelled on linkerd2 `pkg/healthcheck` (a checker has a description, a hint anchor and a severity) and
kube-linter (checks as data in one registry, docs generated from it). Adding a check means: its logic
module under `vizdoctor.checks`, one `CheckSpec` below, its page `checkdocs/<id>.md`, and its tests;
`docs/checks.md`, the ClusterRole in `docs/live.md` and the SARIF rules follow from this table
(`python -m vizdoctor.docsgen` rewrites the generated files; a test fails when they are stale).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Literal

from vizdoctor import __version__

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
Command = Literal["scan", "check"]

# Where the documentation lives. Links are absolute and versioned, so that a link printed by an installed
# vizdoctor leads to the page of that release (linkerd2 prints https://linkerd.io/2/checks/#<anchor>).
PROJECT_URL = "https://github.com/vizdoctor/vizdoctor"
DOCS_BASE = f"{PROJECT_URL}/blob/v{__version__}/docs"

# Categories, in the order the text output prints them (`linkerd check` prints its categories in order).
CATEGORIES: tuple[str, ...] = (
    "internal errors",
    "inputs",
    "terraform",
    "control-plane paths",
    "pod network and policies",
    "aggregated APIs",
    "webhooks",
    "linkerd-viz",
    "linkerd-webhooks",
    "dashboard exposure",
)


def docs_url(page: str, anchor: str | None = None) -> str:
    """The absolute, versioned URL of a page under docs/ (and an anchor in it)."""
    return f"{DOCS_BASE}/{page}" + (f"#{anchor}" if anchor else "")


@dataclass(frozen=True)
class CheckSpec:
    id: str
    categories: tuple[
        str, ...
    ]  # the first is the usual one; Linkerd's own objects go to Linkerd's categories
    severities: tuple[Severity, ...]  # the first is the default
    title: str  # what the check verifies, as one line (SARIF shortDescription)
    summary: str  # what a finding means (SARIF fullDescription)
    remediation: str  # what to do, in one or two sentences (SARIF help)
    commands: tuple[Command, ...]
    live_kinds: tuple[
        str, ...
    ] = ()  # what `check` must be able to read for it (the ClusterRole in docs/live.md)
    tags: tuple[str, ...] = ()

    @property
    def category(self) -> str:
        return self.categories[0]

    @property
    def severity(self) -> Severity:
        return self.severities[0]

    @property
    def docs_url(self) -> str:
        return docs_url("checks.md", self.id)

    def page(self) -> str:
        """The check's documentation page, shipped inside the package (what `vizdoctor docs ID` prints);
        empty when the check has none (its summary and remediation are then the whole page)."""
        page = resources.files("vizdoctor.checkdocs").joinpath(f"{self.id}.md")
        return page.read_text(encoding="utf-8") if page.is_file() else ""


# What decides a control-plane path when read from a cluster (sources/kube.py KINDS).
_PATH_KINDS = (
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "CustomResourceDefinition",
    "Namespace",
    "Service",
    "EndpointSlice",
    "Pod",
    "Node",
    "Deployment",
    "DaemonSet",
    "StatefulSet",
)
# Routes to the dashboard and what decides them (docs/exposure.md "What vizdoctor reads").
_ROUTE_KINDS = (
    "Namespace",
    "Service",
    "ConfigMap",
    "Deployment",
    "DaemonSet",
    "ValidatingWebhookConfiguration",
    "Ingress",
    "IngressClass",
    "HTTPRoute",
    "Gateway",
    "GatewayClass",
    "SecurityPolicy",
    "ClientTrafficPolicy",
    "IngressRoute",
    "Middleware",
    "HTTPProxy",
    "Mapping",
    "AuthService",
    "Host",
    "TLSContext",
    "IngressClassParams",
    "BackendConfig",
)
_VIZ_KINDS = ("Namespace", "ClusterRole", "ClusterRoleBinding", "Pod", "Deployment", "APIService", "Secret")
_SG = ("security", "network", "terraform")
_NET = ("network", "kubernetes")
_LINKERD = ("linkerd", "kubernetes")
_DASH = ("linkerd", "ingress", "security")

_SPECS: tuple[CheckSpec, ...] = (
    # -- control-plane paths ------------------------------------------------------------------------------------
    CheckSpec(
        "control-plane-unreachable",
        ("control-plane paths",),
        ("error", "warning"),
        "The kube-apiserver reaches every webhook and aggregated API pod",
        "The network between the control plane and the nodes (security group, firewall) drops the TCP port "
        "of a webhook, aggregated API or conversion webhook pod: the API server cannot call it. Error for "
        "APIServices, conversion webhooks and failurePolicy: Fail webhooks; warning for failurePolicy: Ignore.",
        "Allow the pod port (not the Service port) from the cluster security group to the nodes' security "
        "group: a rule in the Terraform that owns the group, or the AWS CLI equivalent.",
        ("scan", "check"),
        _PATH_KINDS,
        _SG,
    ),
    CheckSpec(
        "control-plane-path-unknown",
        ("control-plane paths",),
        ("warning",),
        "Every control-plane path can be decided from the inputs",
        "The inputs cannot decide whether the kube-apiserver reaches a webhook or aggregated API pod; "
        "vizdoctor says why and which input would decide it, and never reports it as open.",
        "Add the missing input (the Service and workload manifests, the Terraform of the node security group, "
        "the .tfvars you deploy with) or pin what is ambiguous (the module version).",
        ("scan", "check"),
        _PATH_KINDS,
        _SG,
    ),
    CheckSpec(
        "pod-network-unreachable",
        ("pod network and policies",),
        ("error", "warning"),
        "Webhook pods on EKS have addresses the control plane can route to",
        "On EKS the control plane reaches pods through ENIs in the VPC, so it can dial only VPC addresses. With "
        "an overlay pod network (Calico VXLAN/IPIP, Cilium tunnel mode, Weave, Antrea encap, flannel) a webhook "
        "or APIService pod is unreachable whatever the security groups allow. Warning when the CNI is seen but "
        "its mode is not in the inputs.",
        "Run the webhook on the host network on a free port (never 10250) through its chart's values, and allow "
        "that port from the cluster security group.",
        ("scan", "check"),
        ("DaemonSet", "Installation", "Node", "Pod", "Service"),
        ("network", "eks", "cni"),
    ),
    CheckSpec(
        "network-policy-blocks-apiserver",
        ("pod network and policies",),
        ("error", "warning"),
        "NetworkPolicies admit the kube-apiserver to webhook pods",
        "A NetworkPolicy, CiliumNetworkPolicy or Calico policy isolates a webhook or APIService pod and admits "
        "nothing the kube-apiserver's connection comes from (a namespaceSelector or podSelector never matches "
        "it). Warning when the source range or the policy's enforcer is not in the inputs.",
        "Add the smallest policy that admits the control plane's source on the pod port (the fix's YAML).",
        ("scan", "check"),
        (
            "NetworkPolicy",
            "CiliumNetworkPolicy",
            "CiliumClusterwideNetworkPolicy",
            "GlobalNetworkPolicy",
            "DaemonSet",
            "Pod",
            "Service",
        ),
        ("network", "kubernetes", "networkpolicy"),
    ),
    CheckSpec(
        "kubelet-port-conflict",
        ("pod network and policies",),
        ("error", "warning"),
        "No webhook is served on the kubelet's port 10250 on the host network or Fargate",
        "A webhook or APIService pod serves on 10250 with hostNetwork or on Fargate: the kube-apiserver reaches "
        "the kubelet instead (`x509: certificate is valid for ip-...compute.internal, not <svc>.<ns>.svc`).",
        "Move the server to a free port (the chart value the fix names), and the Service's targetPort with it.",
        ("scan", "check"),
        ("Pod", "Node", "Service", "Deployment"),
        ("network", "kubelet", "eks"),
    ),
    CheckSpec(
        "mesh-policy-blocks-apiserver",
        ("pod network and policies",),
        ("error", "warning"),
        "Mesh policies admit the kube-apiserver to meshed webhook pods",
        "A meshed webhook or APIService pod refuses unauthenticated clients on its port (Linkerd "
        "default-inbound-policy deny / *-authenticated, a Server without an authorization for unmeshed clients, "
        "Istio PeerAuthentication STRICT): the kube-apiserver, which is not meshed, is refused.",
        "Admit unauthenticated clients on that port (Linkerd Server + AuthorizationPolicy + NetworkAuthentication, "
        "Istio portLevelMtls PERMISSIVE) or let the port skip the proxy.",
        ("scan", "check"),
        (
            "Server",
            "ServerAuthorization",
            "AuthorizationPolicy",
            "NetworkAuthentication",
            "PeerAuthentication",
            "Namespace",
            "Pod",
        ),
        ("linkerd", "istio", "mesh"),
    ),
    CheckSpec(
        "webhook-timeout",
        ("webhooks",),
        ("warning",),
        "Webhook timeouts are shorter than the API server's request timeout",
        "A webhook's timeoutSeconds is 30 or more (the admissionregistration v1beta1 default): when it does not "
        "answer, clients see the API server's own `Timeout: request did not complete within requested timeout "
        "30s` and never the webhook's error.",
        "Set timeoutSeconds well below 30 (the v1 default is 10).",
        ("scan", "check"),
        ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
        ("webhooks",),
    ),
    CheckSpec(
        "control-plane-probe",
        ("pod network and policies",),
        ("error", "warning"),
        "The kube-apiserver's own dial to each webhook pod succeeds (check --probe)",
        "Measured with `check --probe`: the kube-apiserver's proxy (GET .../services|pods/https:NAME:PORT/proxy/) "
        "dials the pod the way it dials webhooks. Error when the dial times out, is refused or cut, or the Service "
        "has no endpoint; warning when the probe could not measure (RBAC, timeout). A measured open path "
        "replaces the findings that could not decide it.",
        "Fix what the other findings about the path name, then probe again; grant get on services/proxy and "
        "pods/proxy to measure.",
        ("check",),
        ("Service", "Pod", "Node"),
        ("network", "probe"),
    ),
    # -- vizdoctor itself -------------------------------------------------------------------------------------
    CheckSpec(
        "internal-error",
        ("internal errors",),
        ("error",),
        "Every check ran to the end",
        "A check raised an exception: its findings are missing from the report; every other check ran.",
        "This is a bug in vizdoctor: report it with the inputs (the finding names the check and the exception).",
        ("scan", "check"),
        (),
        ("vizdoctor",),
    ),
    # -- inputs ----------------------------------------------------------------------------------------------
    CheckSpec(
        "input-unreadable",
        ("inputs",),
        ("warning",),
        "Every input file can be read",
        "A file, or part of it, could not be read or parsed; everything else was analysed.",
        "Fix the syntax at the line named (a YAML or HCL linter shows the same line), or what the hint names for "
        "other causes (a path, --max-file-size, a chart's required values or dependencies), or leave the file out.",
        ("scan",),
        (),
        ("inputs",),
    ),
    CheckSpec(
        "cannot-read",
        ("inputs",),
        ("warning",),
        "Every kind vizdoctor needs can be read from the cluster",
        "A list or get request of `vizdoctor check` was refused or failed, so the checks that need that kind "
        "were skipped or are incomplete.",
        "Grant the read-only rule the finding names (the whole ClusterRole is in docs/live.md), or run again.",
        ("check",),
        (),
        ("inputs", "rbac"),
    ),
    CheckSpec(
        "aws-network-not-read",
        ("inputs",),
        ("warning",),
        "The nodes' AWS network can be read",
        "An AWS Describe call failed, so the security groups of the nodes are unknown; what this leaves "
        "undecided is reported as unknown, never guessed.",
        "Grant the IAM actions in docs/aws.md (eks:DescribeCluster, ec2:DescribeInstances, "
        "ec2:DescribeSecurityGroups), or pass --region / --cluster-name.",
        ("check",),
        ("Node", "Pod"),
        ("inputs", "aws"),
    ),
    CheckSpec(
        "aws-network-note",
        ("inputs",),
        ("info",),
        "What the AWS network model assumed",
        "A fact about the nodes' network that changes how the paths are judged (security groups for pods, "
        "custom networking, Fargate, hostNetwork).",
        "Nothing to do unless the note is wrong for this cluster.",
        ("check",),
        ("Node", "Pod"),
        ("inputs", "aws"),
    ),
    CheckSpec(
        "gcp-network-not-read",
        ("inputs",),
        ("warning",),
        "The GKE cluster's firewall can be read",
        "A Google Cloud API call failed (no credentials, no permission, clients not installed, cluster not "
        "found), so the control-plane firewall of the GKE cluster is unknown; the paths stay unknown, never "
        "guessed.",
        "Use application-default credentials allowed to list clusters and firewalls (read-only), install "
        "vizdoctor[gcp], or pass --gcp-project / --gcp-location / --cluster-name.",
        ("check",),
        ("Node",),
        ("inputs", "gcp"),
    ),
    # -- terraform -------------------------------------------------------------------------------------------
    CheckSpec(
        "duplicate-rule-key",
        ("terraform",),
        ("warning",),
        "Every security-group rule key is declared once",
        "A key of node_security_group_additional_rules is written more than once; only one entry can take "
        "effect, so the ports of the others are not opened.",
        "Give every entry of node_security_group_additional_rules its own key.",
        ("scan",),
        (),
        ("terraform",),
    ),
    CheckSpec(
        "module-rules-ignored",
        ("terraform",),
        ("warning",),
        "Module rules are created",
        "node_security_group_additional_rules is set while create_node_security_group = false: the module "
        "creates none of those rules.",
        "Put the rules on the security group the nodes carry, or let the module create the node security group.",
        ("scan",),
        (),
        ("terraform",),
    ),
    # -- live: aggregated APIs and webhooks --------------------------------------------------------------------
    CheckSpec(
        "apiservice-unavailable",
        ("aggregated APIs", "linkerd-viz"),
        ("error",),
        "Every APIService is Available",
        "An APIService with a service is not Available: every request to its API group fails with 503. The "
        "finding decodes the kube-aggregator's reason and message into a cause (network-blocked, "
        "connection-refused, tls-untrusted, no-ready-endpoints, ...). For Linkerd viz's tap this is "
        "`linkerd viz check`'s `tap API service is running`.",
        "Follow the steps for the decoded cause; for network-blocked open the pod port from the control plane.",
        ("check",),
        ("APIService", "Service", "EndpointSlice", "Pod", "Node"),
        _NET,
    ),
    CheckSpec(
        "webhook-no-endpoints",
        ("webhooks", "linkerd-webhooks"),
        ("error", "warning"),
        "Every webhook's Service has a ready endpoint",
        "The Service a webhook calls has no ready endpoint on its target port, so every call fails. Error for "
        "failurePolicy: Fail webhooks, warning for failurePolicy: Ignore.",
        "Make the pods behind the Service Running and Ready, or fix the Service's selector and targetPort.",
        ("check",),
        ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Service", "EndpointSlice", "Pod"),
        _NET,
    ),
    # -- linkerd-viz (`linkerd viz check`'s names) -------------------------------------------------------------
    CheckSpec(
        "viz-namespace-exists",
        ("linkerd-viz",),
        ("info",),
        "linkerd-viz Namespace exists",
        "No Linkerd viz namespace was found, so the linkerd-viz checks were skipped.",
        "Pass --viz-namespace when viz runs in a namespace of another name.",
        ("check",),
        ("Namespace",),
        _LINKERD,
    ),
    CheckSpec(
        "viz-cluster-roles-exist",
        ("linkerd-viz",),
        ("error",),
        "linkerd-viz ClusterRoles exist",
        "A ClusterRole of Linkerd viz is missing: tap cannot authorize requests and the dashboard cannot use it.",
        "Reinstall or upgrade linkerd-viz (linkerd viz install | kubectl apply -f -, or helm upgrade).",
        ("check",),
        ("Namespace", "ClusterRole"),
        _LINKERD,
    ),
    CheckSpec(
        "viz-cluster-role-bindings-exist",
        ("linkerd-viz",),
        ("error",),
        "linkerd-viz ClusterRoleBindings exist",
        "A ClusterRoleBinding of Linkerd viz is missing: tap cannot authorize requests (auth-delegator).",
        "Reinstall or upgrade linkerd-viz (linkerd viz install | kubectl apply -f -, or helm upgrade).",
        ("check",),
        ("Namespace", "ClusterRoleBinding"),
        _LINKERD,
    ),
    CheckSpec(
        "viz-tap-cert-valid",
        ("linkerd-viz",),
        ("error", "info"),
        "tap API server has valid cert",
        "tap's serving certificate is missing, expired, for another name, or not signed by the APIService's "
        "caBundle: the kube-apiserver refuses the TLS handshake. Info when it cannot be checked.",
        "Renew the certificate and the caBundle together (helm upgrade, or cert-manager), then restart tap.",
        ("check",),
        ("APIService", "Secret"),
        _LINKERD,
    ),
    CheckSpec(
        "viz-tap-cert-not-expiring-soon",
        ("linkerd-viz",),
        ("warning",),
        "tap API server cert is valid for at least 60 days",
        "tap's serving certificate expires within 60 days.",
        "Renew it before it expires (helm upgrade regenerates chart-made certificates; cert-manager renews its own).",
        ("check",),
        ("Secret",),
        _LINKERD,
    ),
    CheckSpec(
        "viz-pods-injected",
        ("linkerd-viz",),
        ("warning",),
        "linkerd-viz pods are injected",
        "A pod of Linkerd viz runs without the linkerd-proxy sidecar.",
        "Restart the viz workloads once the proxy injector runs (kubectl rollout restart deploy -n linkerd-viz).",
        ("check",),
        ("Pod",),
        _LINKERD,
    ),
    CheckSpec(
        "viz-pods-running",
        ("linkerd-viz",),
        ("warning",),
        "viz extension pods are running",
        "A component of Linkerd viz (web, tap, metrics-api, tap-injector) has no running pod.",
        "kubectl -n linkerd-viz describe pod on the component: its events say why it does not run.",
        ("check",),
        ("Pod", "Deployment"),
        _LINKERD,
    ),
    CheckSpec(
        "viz-prometheus",
        ("linkerd-viz",),
        ("warning",),
        "viz extension prometheus is installed and running",
        "Linkerd viz's own Prometheus (or its RBAC) is missing and no external one is configured.",
        "Install viz with its Prometheus, or point it at yours (prometheusUrl).",
        ("check",),
        ("Pod", "Deployment", "ClusterRole", "ClusterRoleBinding"),
        _LINKERD,
    ),
    CheckSpec(
        "linkerd-namespace-exists",
        ("linkerd-webhooks",),
        ("info",),
        "Linkerd control-plane Namespace exists",
        "No Linkerd control-plane namespace was found, so the linkerd-webhooks checks were skipped.",
        "Pass --linkerd-namespace when the control plane runs in a namespace of another name.",
        ("check",),
        ("Namespace",),
        _LINKERD,
    ),
    CheckSpec(
        "linkerd-webhook-cert-valid",
        ("linkerd-webhooks",),
        ("error", "info"),
        "Linkerd webhook has valid cert",
        "A Linkerd webhook's serving certificate is missing, expired, for another name, or not signed by the "
        "webhook's caBundle. Info when it cannot be checked.",
        "Renew the certificate and the caBundle together (helm upgrade, or cert-manager), then restart the pod.",
        ("check",),
        ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Secret"),
        _LINKERD,
    ),
    CheckSpec(
        "linkerd-webhook-cert-not-expiring-soon",
        ("linkerd-webhooks",),
        ("warning",),
        "Linkerd webhook cert is valid for at least 60 days",
        "A Linkerd webhook's serving certificate expires within 60 days.",
        "Renew it before it expires (helm upgrade regenerates chart-made certificates; cert-manager renews its own).",
        ("check",),
        ("Secret",),
        _LINKERD,
    ),
    # -- dashboard exposure ----------------------------------------------------------------------------------
    CheckSpec(
        "dashboard-host-rejected",
        ("dashboard exposure",),
        ("error",),
        "The viz web pod accepts the Host the route sends",
        "The Host the route sends to the web pod does not match its -enforced-host regex: every page answers "
        "400 and the whole dashboard is down.",
        "Let the web pod accept the public host (dashboard.enforcedHostRegexp) and do not rewrite Host, as in "
        "the corrected manifest.",
        ("scan", "check"),
        _ROUTE_KINDS,
        _DASH,
    ),
    CheckSpec(
        "dashboard-origin-rejected",
        ("dashboard exposure",),
        ("error",),
        "The /api/tap websocket passes the Origin check",
        "The route rewrites Host but keeps the browser's Origin: the web pod's websocket upgrader answers 403 "
        "and Tap and Top fail while the pages load.",
        "Do not rewrite Host and allow the public host (dashboard.enforcedHostRegexp), or remove Origin in the "
        "proxy.",
        ("scan", "check"),
        _ROUTE_KINDS,
        _DASH,
    ),
    CheckSpec(
        "dashboard-snippet-disallowed",
        ("dashboard exposure",),
        ("error", "warning"),
        "The route's snippets are applied by the ingress controller",
        "The route relies on a snippet annotation that the ingress-nginx release refuses (error) or silently "
        "drops (warning; also when the controller version is unknown).",
        "Use the setup that needs no snippet: no Host rewrite and dashboard.enforcedHostRegexp.",
        ("scan", "check"),
        _ROUTE_KINDS,
        _DASH,
    ),
    CheckSpec(
        "dashboard-idle-timeout",
        ("dashboard exposure",),
        ("warning",),
        "Idle Tap streams outlive the proxy's idle timeout",
        "A proxy on the route cuts idle websockets after less than an hour, so idle Tap and Top streams close.",
        "Raise the route's read/send (idle) timeout to 3600 s for the dashboard, as in the corrected manifest.",
        ("scan", "check"),
        _ROUTE_KINDS,
        _DASH,
    ),
    CheckSpec(
        "dashboard-unauthenticated",
        ("dashboard exposure",),
        ("error",),
        "The dashboard is not open to the internet without authentication",
        "The dashboard is reachable from outside with no authentication; it can tap live traffic.",
        "Add authentication or a source allowlist in front of the dashboard, as in the corrected manifest.",
        ("scan", "check"),
        _ROUTE_KINDS,
        _DASH,
    ),
    CheckSpec(
        "dashboard-no-tls",
        ("dashboard exposure",),
        ("warning",),
        "The dashboard is served over TLS",
        "The dashboard route serves plain HTTP.",
        "Add TLS for the dashboard host, as in the corrected manifest.",
        ("scan", "check"),
        _ROUTE_KINDS,
        _DASH,
    ),
    CheckSpec(
        "ingress-nginx-retired",
        ("dashboard exposure",),
        ("info",),
        "The route's controller is maintained",
        "The dashboard is exposed through ingress-nginx, which its maintainers retired.",
        "Plan a move to a maintained controller; the finding carries the Gateway API equivalent of the route.",
        ("scan", "check"),
        _ROUTE_KINDS,
        ("ingress",),
    ),
)

CATALOGUE: dict[str, CheckSpec] = {s.id: s for s in _SPECS}


def spec(check_id: str) -> CheckSpec:
    """The spec of a check id; KeyError names the id (a check emitting an id the catalogue lacks is a bug)."""
    try:
        return CATALOGUE[check_id]
    except KeyError:
        raise KeyError(f"check id {check_id!r} is not in the catalogue (vizdoctor/catalogue.py)") from None
