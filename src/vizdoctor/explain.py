"""`vizdoctor explain`: classify a pasted error message, offline, and say what to do next.

`classify(text)` normalises the text, takes the first row of `knowledge.errors.PATTERNS` that matches (the table
is ordered by specificity), extracts what the text gives (pod IP and port, the APIService, webhook or Service,
the HTTP status, endpoint or ClusterIP routing) and builds the explanation and next steps from both.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from dataclasses import dataclass
from typing import IO, Any

from vizdoctor.knowledge.errors import (
    CAUSES,
    DEFAULT_POD_PORTS,
    PATTERNS,
    SINGLE_VERSION_GROUPS,
    TAP_APISERVICE,
    TAP_NAMESPACE,
    ErrorPattern,
)
from vizdoctor.render.escape import safe_block


@dataclass(frozen=True)
class Explanation:
    cause: str
    summary: str
    next_steps: list[str]
    port: int | None
    ip: str | None
    http_status: int | None
    object: dict[str, str] | None
    routing: str | None  # "endpoint" (pod IP + target port) | "cluster-ip" (port 443)
    matched: str | None  # the substring of the (normalised) text that decided the cause
    source: str | None  # the recorded message / upstream reference the deciding rule is built from

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "summary": self.summary,
            "port": self.port,
            "ip": self.ip,
            "http_status": self.http_status,
            "object": self.object,
            "routing": self.routing,
            "next_steps": list(self.next_steps),
            "matched": self.matched,
            "source": self.source,
        }


# --------------------------------------------------------------------------------------------------------------
# normalisation and extraction

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def normalize(text: str) -> str:
    """One line: ANSI colours removed, literal `\\n` (as in `service unavailable\\n)`) and line breaks made spaces."""
    text = _ANSI.sub("", text).replace("\\n", " ")
    return re.sub(r"\s+", " ", text).strip()


_IP4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_HOST = rf"(?P<ip>{_IP4}|\[[0-9A-Fa-f:.]+\]|<[^<>\s]{{1,40}}>)"  # IPv4, [IPv6], or a <REDACTED> placeholder
_PORT = r"(?P<port>\d{1,5})\b"
# Where the real destination shows, most reliable first. `proxyconnect tcp: dial tcp` is the proxy, not the pod.
_ADDRESS_FORMS = (
    re.compile(rf"(?<!proxyconnect tcp: )dial tcp {_HOST}:{_PORT}"),
    re.compile(rf"(?:read|write) tcp \S+->{_HOST}:{_PORT}"),
    re.compile(rf"https://{_HOST}:{_PORT}"),
    re.compile(rf"{_HOST}:{_PORT}\] Dialing"),
)
_STATUS_FORMS = (
    re.compile(r"status Code \[(\d{3})\]", re.IGNORECASE),
    re.compile(r"ResponseCode: (\d{3})"),
    re.compile(r"bad status from \S+: (\d{3})\b"),
    re.compile(r"Unexpected response code: (\d{3})"),
)
_WEBHOOK = re.compile(r"failed calling (?:admission )?webhook \"(?P<name>[^\"]+)\"")
_FAILING = re.compile(r"failing (?:closed|open) (?P<name>[A-Za-z0-9][\w.-]*\w):")
_CONVERSION = re.compile(r"conversion webhook for (?P<name>[^\s,]+(?:, Kind=\w+)?) failed")
_URL_PATH = re.compile(r"(?:Post|Get) \"?https://[^/\s\"]+(?P<path>/[^\s\"?]*)")
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_VERSION = r"v\d+(?:(?:alpha|beta)\d+)?"
_APISERVICE_NAME = re.compile(rf"(?<![\w./-])(?P<name>{_VERSION}\.[a-z][a-z0-9-]*(?:\.{_LABEL})+)(?![\w-])")
_GROUP = rf"{_LABEL}(?:\.{_LABEL})+"
_GROUP_VERSION = (
    re.compile(rf"/apis/(?P<group>{_GROUP})/(?P<version>{_VERSION})\b"),
    re.compile(rf"(?<![\w./-])(?P<group>{_GROUP})/(?P<version>{_VERSION}):"),
)
_GET_RESOURCE = re.compile(rf"\(get [a-z0-9-]+\.(?P<group>{_GROUP})\)")
_TAP_HINTS = re.compile(
    r"Websocket close error \[1011|unexpected API response: service unavailable|tap API service|l5d-tap-api|"
    r"tap API server|linkerd\.io/tap-rbac|\btap\.linkerd\.io\b",
    re.IGNORECASE,
)
_APISERVICE_ROW = re.compile(
    rf"(?<!\S)(?P<name>{_VERSION}\.\S+)\s+(?P<ns>{_LABEL})/(?P<svc>{_LABEL})\s+(?:False|Unknown|True)\b"
)
# The lookbehinds make every match start at a token boundary: without them a long run of letters or digits is
# retried from each of its characters, which is quadratic.
_SERVICE_URL = re.compile(
    rf"(?<![a-z0-9-])(?P<name>{_LABEL})\.(?P<ns>{_LABEL})\.svc(?:\.cluster\.local)?(?::\d+)?/"
)
_SERVICE_IN = re.compile(rf"service/(?P<name>{_LABEL}) in \"(?P<ns>{_LABEL})\"")
_SERVICE_NAMED = re.compile(rf"(?:for service|services?) \"(?P<name>{_LABEL})\"")
_PORT_NOT_LISTENING = re.compile(r"is not listening on port (\d+)")
_HOST_CHECK = re.compile(r"with a host of '(?P<host>[^']*)'")
_HOST_REGEX = re.compile(r"This does not match /(?P<re>.*?)/ and has been denied")
_LOOKUP = re.compile(r"lookup (?P<host>[^\s:]+)")
_FORBIDDEN = re.compile(
    r"User \"(?P<user>[^\"]*)\" cannot (?P<verb>\w+) resource \"(?P<resource>[^\"]*)\""
    r"(?: in API group \"(?P<group>[^\"]*)\")?"
)
_PLATFORMS = {
    "eks": re.compile(r"\beks\b|amazonaws|elbv2\.k8s\.aws|terraform-aws-eks", re.IGNORECASE),
    "gke": re.compile(r"\bgke\b|googleapis|gcloud", re.IGNORECASE),
    "aks": re.compile(r"tunnel-uds|konnectivity|azmk8s|\baks\b", re.IGNORECASE),
}


@dataclass(frozen=True)
class Facts:
    """What the text itself says, before any cause is chosen."""

    ip: str | None
    port: int | None
    routing: str | None
    http_status: int | None
    webhook: str | None
    webhook_kind: str | None
    conversion: str | None
    apiservice: str | None
    service_ns: str | None
    service_name: str | None
    tap_banner: bool
    platforms: frozenset[str]

    @property
    def object(self) -> dict[str, str] | None:
        if self.webhook and self.webhook_kind:
            return {"kind": self.webhook_kind, "name": self.webhook}
        if self.conversion:
            return {"kind": "CRDConversion", "name": self.conversion}
        if self.apiservice:
            return {"kind": "APIService", "name": self.apiservice}
        if self.service_name:
            obj = {"kind": "Service"}
            if self.service_ns:
                obj["namespace"] = self.service_ns
            obj["name"] = self.service_name
            return obj
        return None

    @property
    def target(self) -> str:
        """How to name the call in prose and in rule descriptions."""
        obj = self.object
        if obj is None:
            return "the webhook or aggregated API"
        if obj["kind"] == "Service":
            return f"Service {self.service_ref}"
        return f"{obj['kind']} {obj['name']}"

    @property
    def service_ref(self) -> str:
        if self.service_name:
            return f"{self.service_ns}/{self.service_name}" if self.service_ns else self.service_name
        return "<namespace>/<service>"

    @property
    def is_tap(self) -> bool:
        return self.apiservice == TAP_APISERVICE

    @property
    def default_port(self) -> tuple[int, str] | None:
        for name in (self.webhook, self.apiservice):
            if name and name in DEFAULT_POD_PORTS:
                return DEFAULT_POD_PORTS[name]
        return None


def _webhook_kind(name: str, path: str | None) -> str:
    for hint in (name.lower(), (path or "").lower()):
        if "validat" in hint:
            return "ValidatingWebhook"
        if "mutat" in hint or "inject" in hint:
            return "MutatingWebhook"
    return "AdmissionWebhook"  # the message does not say which configuration kind holds it


def _address(text: str) -> tuple[str | None, int | None, str | None]:
    for form in _ADDRESS_FORMS:
        for m in form.finditer(text):
            port = int(m.group("port"))
            if not 0 < port < 65536:
                continue
            raw = m.group("ip")
            ip = None if raw.startswith("<") else raw.strip("[]")
            return ip, port, "cluster-ip" if port == 443 else "endpoint"
    return None, None, None


def _http_status(text: str) -> int | None:
    """Only a number the text shows: `Error from server (InternalError)` is the client's answer, not the call's."""
    for form in _STATUS_FORMS:
        m = form.search(text)
        if m:
            return int(m.group(1))
    return None


def _apiservice(text: str) -> str | None:
    m = _APISERVICE_NAME.search(text)
    if m:
        return m.group("name")
    for form in _GROUP_VERSION:
        m = form.search(text)
        if m:
            return f"{m.group('version')}.{m.group('group')}"
    m = _GET_RESOURCE.search(text)
    if m and m.group("group") in SINGLE_VERSION_GROUPS:
        return f"{SINGLE_VERSION_GROUPS[m.group('group')]}.{m.group('group')}"
    return None


def extract(text: str) -> Facts:
    """Everything the (normalised) text gives, independent of the cause."""
    ip, port, routing = _address(text)
    webhook = None
    m = _WEBHOOK.search(text) or _FAILING.search(text)
    if m:
        webhook = m.group("name")
    path_m = _URL_PATH.search(text)
    path = path_m.group("path") if path_m else None
    conv = _CONVERSION.search(text)
    tap_banner = bool(
        re.search(
            r"Websocket close error \[1011[^\]]{0,200}\] : HTTP error, status Code \[503\]|"
            r"status Code \[503\] \(unexpected API response: service unavailable",
            text,
            re.IGNORECASE,
        )
    )
    apiservice = _apiservice(text)
    if apiservice is None and not webhook and _TAP_HINTS.search(text):
        apiservice = TAP_APISERVICE
    service_ns = service_name = None
    for form in (_SERVICE_URL, _SERVICE_IN):
        sm = form.search(text)
        if sm:
            service_ns, service_name = sm.group("ns"), sm.group("name")
            break
    else:
        row = _APISERVICE_ROW.search(text)
        if row:
            service_ns, service_name = row.group("ns"), row.group("svc")
    named = _SERVICE_NAMED.search(text)
    if named and named.group("name") != service_name:
        service_ns, service_name = None, named.group("name")
    if service_name is None and apiservice == TAP_APISERVICE:
        service_ns, service_name = TAP_NAMESPACE, "tap"
    if apiservice is None and not webhook and (service_ns, service_name) == (TAP_NAMESPACE, "tap"):
        apiservice = TAP_APISERVICE  # Service linkerd-viz/tap serves only the tap APIService
    return Facts(
        ip=ip,
        port=port,
        routing=routing,
        http_status=_http_status(text),
        webhook=webhook,
        webhook_kind=_webhook_kind(webhook, path) if webhook else None,
        conversion=conv.group("name") if conv else None,
        apiservice=apiservice,
        service_ns=service_ns,
        service_name=service_name,
        tap_banner=tap_banner,
        platforms=frozenset(p for p, rx in _PLATFORMS.items() if rx.search(text)),
    )


def match(text: str) -> tuple[ErrorPattern, re.Match[str]] | None:
    """The first (most specific) row that matches the normalised text."""
    for row in PATTERNS:
        m = row.regex.search(text)
        if m and (row.requires is None or row.requires.search(text)):
            return row, m
    return None


# --------------------------------------------------------------------------------------------------------------
# next steps


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


def _plain(s: str) -> str:
    """A description the AWS CLI shorthand and HCL take without escaping."""
    return re.sub(r"[,'\"{}\[\]$]", " ", s)


def _port_for_rules(f: Facts) -> str:
    if f.port and f.routing == "endpoint":
        return str(f.port)
    default = f.default_port
    return str(default[0]) if default else "<pod-port>"


def _inspect(f: Facts) -> str:
    """The command that shows the object the text names, with its status."""
    if f.apiservice:
        return (
            f"Read the APIService's condition: kubectl get apiservice {f.apiservice} -o jsonpath="
            '\'{.status.conditions[?(@.type=="Available")].reason}: '
            '{.status.conditions[?(@.type=="Available")].message}{"\\n"}\' '
            f"(full object: kubectl get apiservice {f.apiservice} -o yaml); paste the message into "
            "`vizdoctor explain -` if it names another cause."
        )
    if f.webhook:
        kinds = {
            "ValidatingWebhook": "validatingwebhookconfigurations",
            "MutatingWebhook": "mutatingwebhookconfigurations",
        }.get(f.webhook_kind or "", "validatingwebhookconfigurations,mutatingwebhookconfigurations")
        return (
            f"See where webhook {f.webhook} sends its calls: kubectl get {kinds} -o jsonpath="
            f'\'{{range .items[*].webhooks[?(@.name=="{f.webhook}")]}}{{.clientConfig}} '
            f'failurePolicy={{.failurePolicy}} timeoutSeconds={{.timeoutSeconds}}{{"\\n"}}{{end}}\''
        )
    return "Find the failing call: kubectl get apiservice | grep -v True, then kubectl get apiservice <name> -o yaml"


def _endpoints_cmd(f: Facts) -> str:
    ns = f.service_ns or "<namespace>"
    name = f.service_name or "<service>"
    return f"kubectl get endpointslices -n {ns} -l kubernetes.io/service-name={name} -o wide"


def _network_blocked_steps(f: Facts) -> list[str]:
    p = _port_for_rules(f)
    steps = [_inspect(f)]
    if f.routing == "endpoint" and f.port:
        where = f"{f.ip}:{f.port}" if f.ip else f"port {f.port}"
        steps.append(
            f"Open TCP {f.port} from the control plane to the nodes (or pods): the kube-apiserver dials the pod "
            f"({where}) on its container port, not the Service port 443, so opening 443 is not enough."
        )
    elif f.routing == "cluster-ip":
        steps.append(
            f"The kube-apiserver dialled a ClusterIP ({f.ip}:443), so it routes through a Service VIP, as on "
            "kind/kubeadm control planes: kube-proxy on the control-plane node must forward it to "
            f"pod:targetPort ({_endpoints_cmd(f)} shows the pod IPs and ports). Check that the control-plane "
            "node runs kube-proxy and the CNI, that node-to-pod traffic on the target port is allowed, and that "
            "the kube-apiserver has no HTTP(S)_PROXY that NO_PROXY fails to exempt for the Service CIDR "
            "(linkerd/linkerd2#4296). On kind a timeout right after install can be transient (linkerd/linkerd2#8806)."
        )
    else:
        default = f.default_port
        hint = f" ({default[0]} by default for {f.target})" if default else ""
        steps.append(
            f"Find the pod port the kube-apiserver dials{hint}: {_endpoints_cmd(f)} (PORTS column). That port, "
            "not the Service port 443, is the one to open from the control plane."
        )
    desc = _plain(f"kube-apiserver to {f.target}")
    named = (
        f"{f.service_ns or ''}_{f.service_name}"
        if f.service_name
        else (f.apiservice or f.webhook or "webhook")
    )
    key = (
        f"ingress_{_slug(named)}_{p}"  # the same key `vizdoctor scan` proposes: ingress_linkerd_viz_tap_8089
    )
    if "aks" not in f.platforms:
        steps.append(
            "EKS: allow it in the node security group from the cluster security group, now with the AWS CLI:\n"
            "# <cluster-security-group-id>: aws eks describe-cluster --name <cluster-name> "
            "--query cluster.resourcesVpcConfig.clusterSecurityGroupId --output text\n"
            "# <node-security-group-id>: terraform output node_security_group_id, or the groups of a node: "
            "aws ec2 describe-instances --instance-ids <node-instance-id> "
            "--query 'Reservations[].Instances[].SecurityGroups'\n"
            "aws ec2 authorize-security-group-ingress \\\n"
            "  --group-id <node-security-group-id> \\\n"
            f"  --ip-permissions 'IpProtocol=tcp,FromPort={p},ToPort={p},"
            f'UserIdGroupPairs=[{{GroupId=<cluster-security-group-id>,Description="{desc}"}}]\''
        )
        steps.append(
            "EKS with terraform-aws-eks: add the rule to the module so Terraform keeps it, then terraform apply:\n"
            'module "eks" {\n'
            "  # ...\n"
            "  node_security_group_additional_rules = {\n"
            f"    {key} = {{\n"
            f'      description                   = "{desc}"\n'
            '      protocol                      = "tcp"\n'
            f"      from_port                     = {p}\n"
            f"      to_port                       = {p}\n"
            '      type                          = "ingress"\n'
            "      source_cluster_security_group = true\n"
            "    }\n"
            "  }\n"
            "}"
        )
        steps.append(
            "GKE private cluster: allow the control-plane range to the nodes on that port "
            "(MASTER_CIDR: gcloud container clusters describe <cluster> --format "
            "'value(privateClusterConfig.masterIpv4CidrBlock)'; TAG: the target tag of the gke-<cluster>-*-master "
            "rule, gcloud compute firewall-rules list --filter 'name~^gke-<cluster>-.*-master$' "
            "--format 'value(targetTags.list())'):\n"
            f"gcloud compute firewall-rules create gke-to-{_slug(f.service_name or 'webhook').replace('_', '-')}-{p} "
            f"--network <network> --direction INGRESS --allow tcp:{p} --source-ranges MASTER_CIDR "
            "--target-tags TAG --priority 1000"
        )
    else:
        steps.append(
            "AKS: the kube-apiserver reaches pods through the Konnectivity tunnel: check kubectl get pods -n "
            "kube-system -l app=konnectivity-agent and that NetworkPolicies admit those pods to the target port."
        )
    ns = f.service_ns or "<namespace>"
    steps.append(
        f"If a NetworkPolicy selects the pod: kubectl get networkpolicy -n {ns}; it must allow TCP {p} from the "
        "control plane (an ipBlock for the control-plane or VPC CIDR: the kube-apiserver is not a pod)."
    )
    steps.append(
        "Check the path end to end: `vizdoctor scan <terraform-and-manifests-dir>` before applying, "
        "`vizdoctor check` against the live cluster after."
        + (
            f" kubectl get apiservice {f.apiservice} should turn True within about 30 s."
            if f.apiservice
            else ""
        )
    )
    return steps


def _connection_refused_steps(f: Facts) -> list[str]:
    steps = []
    if f.routing == "cluster-ip":
        steps.append(
            f"The kube-apiserver dialled the ClusterIP {f.ip}:443 and was refused. kube-proxy refuses "
            f"connections to a Service with no ready endpoints: {_endpoints_cmd(f)}"
        )
    elif f.ip:
        steps.append(
            f"Find the pod at {f.ip}: kubectl get pods -A -o wide --field-selector status.podIP={f.ip}; "
            f"then check it listens on {f.port}: kubectl get pod -n <namespace> <pod> -o "
            "jsonpath='{.spec.containers[*].ports}' and its logs (kubectl logs -n <namespace> <pod> --all-containers)."
        )
    steps.append(
        f"Compare the Service's targetPort with the container port: kubectl get svc -n {f.service_ns or '<namespace>'} "
        f"{f.service_name or '<service>'} -o jsonpath='{{.spec.ports}}' and {_endpoints_cmd(f)}; a named "
        "targetPort must match a named containerPort."
    )
    steps.append(
        "If the server just restarted or crashes: kubectl get pods -n "
        f"{f.service_ns or '<namespace>'} -o wide and kubectl describe pod for restarts and failing probes."
    )
    steps.append(_inspect(f))
    return steps


def _reset_steps(f: Facts) -> list[str]:
    steps = []
    if "aks" in f.platforms:
        steps += [
            "AKS: check the tunnel: kubectl get pods -n kube-system -l app=konnectivity-agent -o wide and "
            "kubectl logs -n kube-system -l app=konnectivity-agent --tail=50",
            "NetworkPolicies on the webhook's namespace must admit traffic from the konnectivity-agent pods "
            "(the kube-apiserver's calls enter the cluster through them).",
        ]
    if f.is_tap or f.service_ns == TAP_NAMESPACE:
        steps += [
            "Linkerd policy on the tap pod must admit the kube-apiserver: kubectl get server,authorizationpolicy,"
            f"networkauthentication -n {TAP_NAMESPACE} must show Server tap-api, AuthorizationPolicy tap and "
            "NetworkAuthentication kube-api-server (0.0.0.0/0, ::/0); a stricter cluster default inbound policy "
            "refuses the unmeshed kube-apiserver.",
            f"See what the tap pod's proxy did with the connection: kubectl logs -n {TAP_NAMESPACE} deploy/tap "
            "-c linkerd-proxy --tail=100 | grep -iE 'unauthorized|forbidden|tls'",
        ]
    steps += [
        "Check the server's certificate and caBundle (a TLS mismatch can end in a reset or EOF): "
        + (
            "`linkerd viz check` (tap API server has valid cert)"
            if f.is_tap
            else "compare the caBundle with the serving certificate"
        ),
        "Look for a middlebox between the control plane and the pod (firewall with IPS, proxy, service mesh "
        "sidecar on the webhook pod) that closes connections it does not recognise.",
        _inspect(f),
    ]
    return steps


def _tls_steps(f: Facts, expired: bool) -> list[str]:
    steps = []
    if f.is_tap:
        steps += [
            "Run `linkerd viz check`: `tap API server has valid cert` compares APIService "
            f"{TAP_APISERVICE} spec.caBundle with Secret {TAP_NAMESPACE}/tap-k8s-tls, which must be valid for "
            f"tap.{TAP_NAMESPACE}.svc.",
            f"Inspect the serving certificate: kubectl get secret -n {TAP_NAMESPACE} tap-k8s-tls -o "
            "jsonpath='{.data.tls\\.crt}' | base64 -d | openssl x509 -noout -subject -issuer -dates -ext "
            "subjectAltName",
            "Regenerate both together: helm upgrade linkerd-viz linkerd/linkerd-viz -n linkerd-viz --reuse-values "
            "(the chart issues a new cert and caBundle), or with the CLI: linkerd viz install | kubectl apply -f -; "
            "with cert-manager (tap.injectCaFrom) check the Certificate and the cainjector.",
        ]
    else:
        what = (
            f"apiservice {f.apiservice}"
            if f.apiservice
            else (
                "validatingwebhookconfigurations,mutatingwebhookconfigurations" if f.webhook else "<object>"
            )
        )
        steps += [
            f"Compare the caBundle with the serving certificate: kubectl get {what} -o yaml | grep caBundle "
            "(decode with base64 -d | openssl x509 -noout -subject -dates) and the Secret the server mounts "
            f"(kubectl get secret -n {f.service_ns or '<namespace>'} <tls-secret> -o jsonpath='{{.data.tls\\.crt}}' "
            "| base64 -d | openssl x509 -noout -issuer -subject -dates -ext subjectAltName).",
            f"The certificate must be valid for {f.service_name or '<service>'}.{f.service_ns or '<namespace>'}.svc "
            "and signed by the CA in caBundle.",
            "With cert-manager injecting the CA (annotation cert-manager.io/inject-ca-from): kubectl get "
            "certificate -A, and kubectl logs -n cert-manager deploy/cert-manager-cainjector --tail=50.",
        ]
    if expired:
        steps.insert(
            0,
            "Check the dates (notBefore/notAfter) of the serving certificate and of its CA, and the clocks of the "
            "nodes (a clock in the past gives `not yet valid`).",
        )
    return steps


def _rbac_steps(f: Facts, text: str) -> list[str]:
    steps = []
    m = _FORBIDDEN.search(text)
    if m:
        group = m.group("group")
        resource = f"{m.group('resource')}.{group}" if group else m.group("resource")
        steps.append(
            f"Confirm the missing permission: kubectl auth can-i {m.group('verb')} {resource} --as "
            f"{m.group('user')} (add -n <namespace> or --all-namespaces as in the message)."
        )
    if re.search(r"bad status from", text, re.IGNORECASE):
        steps += [
            "The server refused the kube-aggregator itself: check its delegated authentication bindings: kubectl "
            "get rolebinding -n kube-system | grep auth-reader and kubectl get clusterrolebinding | grep "
            "auth-delegator (Linkerd viz: linkerd-linkerd-viz-tap-auth-reader, linkerd-linkerd-viz-tap-auth-delegator).",
            "Then the server's logs: "
            + (
                f"kubectl logs -n {TAP_NAMESPACE} deploy/tap -c tap --tail=100"
                if f.is_tap
                else "kubectl logs -n <namespace> <pod>"
            ),
        ]
        return steps
    steps += [
        "Dashboard (Tap/Top): the web pod's ServiceAccount needs watch on tap: kubectl auth can-i watch "
        f"pods.tap.linkerd.io --all-namespaces --as system:serviceaccount:{TAP_NAMESPACE}:web. It is granted by "
        "ClusterRoleBinding linkerd-linkerd-viz-web-admin, which dashboard.restrictPrivileges=true leaves out: "
        "helm upgrade linkerd-viz linkerd/linkerd-viz -n linkerd-viz --reuse-values --set "
        "dashboard.restrictPrivileges=false",
        "CLI (linkerd viz tap/top): kubectl auth can-i watch deployments.tap.linkerd.io -n <namespace>; grant it "
        "with kubectl create clusterrolebinding $(whoami)-tap-admin --clusterrole=linkerd-linkerd-viz-tap-admin "
        "--user=$(whoami) (on GKE check with --as $(gcloud config get-value account)).",
    ]
    return steps


def _endpoints_steps(f: Facts) -> list[str]:
    ns = f.service_ns or "<namespace>"
    steps = [
        f"See which endpoints exist: {_endpoints_cmd(f)}",
        f"See why the pods are not Ready: kubectl get pods -n {ns} -o wide, then kubectl describe pod -n {ns} "
        "<pod> (Events: Pending, failing readiness probe, image pull, crash).",
        f"Check that the Service selects them: kubectl get svc -n {ns} {f.service_name or '<service>'} -o "
        "jsonpath='{.spec.selector} {.spec.ports}' against the pods' labels; a named targetPort must exist as a "
        "named containerPort (MissingEndpoints ... with port name).",
    ]
    if f.is_tap or f.service_ns == TAP_NAMESPACE:
        steps.append(
            f"Linkerd viz: kubectl get pods -n {TAP_NAMESPACE} -l component=tap; tap is Ready only when its "
            "readiness probe on :9998 passes and its proxy has started (config.linkerd.io/proxy-await), so a "
            "proxy that cannot start (identity, proxy-init) keeps it out of the endpoints (linkerd/linkerd2#7970)."
        )
    steps.append(
        "A webhook with failurePolicy: Fail whose own pods cannot be created (they match the webhook) blocks "
        "itself: check the ReplicaSet's events for `failed calling webhook`."
    )
    return steps


def _service_not_found_steps(f: Facts) -> list[str]:
    ns = f.service_ns or "<namespace>"
    steps = [
        f"Check the Service: kubectl get svc -n {ns} {f.service_name or '<service>'} (and kubectl get svc -A | "
        f"grep {f.service_name or '<service>'} in case it lives in another namespace)."
    ]
    if f.apiservice:
        steps.append(
            f"See what the APIService expects: kubectl get apiservice {f.apiservice} -o jsonpath='{{.spec.service}}'"
        )
    steps.append(
        "If the add-on was removed, delete its leftover registration (kubectl delete apiservice <name>, or the "
        "webhook configuration): a dangling APIService makes discovery fail for every client. If it should be "
        "there, reinstall or upgrade the add-on"
        + (
            " (Linkerd viz: linkerd viz install | kubectl apply -f -, or helm upgrade linkerd-viz)."
            if f.is_tap
            else "."
        )
    )
    return steps


def _port_mismatch_steps(f: Facts, text: str) -> list[str]:
    m = _PORT_NOT_LISTENING.search(text)
    port = m.group(1) if m else "<port>"
    name = f.apiservice or "<apiservice>"
    return [
        f"Compare the port the APIService names ({port}) with the Service's ports: kubectl get apiservice {name} -o "
        f"jsonpath='{{.spec.service}}' and kubectl get svc -n {f.service_ns or '<namespace>'} "
        f"{f.service_name or '<service>'} -o jsonpath='{{.spec.ports[*].port}}'",
        "Make them agree: set spec.service.port on the APIService (default 443) or add that port to the Service; "
        "Linkerd viz's Service tap exposes 443 -> apiserver (8089).",
    ]


def _address_steps(f: Facts) -> list[str]:
    return [
        "Check the CNI: kubectl get ds -n kube-system (calico-node, weave-net vs aws-node) and whether the pod IP "
        f"{f.ip or '<pod-ip>'} is inside the VPC CIDR (aws ec2 describe-vpcs --query 'Vpcs[].CidrBlockAssociationSet').",
        "Give the pods VPC IPs: run the Amazon VPC CNI (Calico can stay for NetworkPolicy only), or use "
        "EKS Auto Mode / Fargate for the namespace.",
        "For a webhook you control, hostNetwork: true with a port not used on the node is the usual workaround; "
        "it does not apply to Linkerd's tap, which must be meshed (linkerd/linkerd2#11698).",
    ]


def _proxy_steps(f: Facts) -> list[str]:
    return [
        "Read the kube-apiserver's proxy settings: on a kubeadm control plane grep -i proxy "
        "/etc/kubernetes/manifests/kube-apiserver.yaml (or kubectl -n kube-system get pod -l "
        "component=kube-apiserver -o yaml | grep -i -A1 proxy).",
        "Exempt in-cluster addresses: NO_PROXY (and no_proxy) must list the Service CIDR and the pod CIDR as CIDRs, "
        "e.g. NO_PROXY=10.96.0.0/12,10.244.0.0/16,.svc,.cluster.local,localhost,127.0.0.1; `.cluster.local` alone "
        "does not cover the IPs the aggregator and webhook dispatcher dial (linkerd/linkerd2#4296).",
        "Restart the kube-apiserver so it reads the new environment, then check: "
        + (f"kubectl get apiservice {f.apiservice}" if f.apiservice else "retry the request"),
    ]


def _dns_steps(f: Facts, text: str) -> list[str]:
    m = _LOOKUP.search(text)
    host = m.group("host") if m else "<host>"
    return [
        f"Resolve {host} from where the kube-apiserver runs (a control-plane node, or nslookup from a node with "
        "the same resolver); a managed control plane does not use the cluster's CoreDNS.",
        "If a webhook uses clientConfig.url with an in-cluster name, switch it to clientConfig.service "
        "(namespace, name, port): the kube-apiserver resolves Services itself.",
        "If the name is a proxy's, fix HTTP(S)_PROXY on the kube-apiserver.",
    ]


def _unavailable_steps(f: Facts) -> list[str]:
    steps = []
    if f.tap_banner:
        steps.append(
            "The dashboard and the browser are fine; the web pod got HTTP 503 from the kube-apiserver for the tap "
            f"API. Confirm: kubectl get apiservice {TAP_APISERVICE} (AVAILABLE False (<reason>))."
        )
    steps.append(_inspect(f))
    steps.append(
        "Run `vizdoctor check` against the cluster: it follows "
        + (f"APIService {f.apiservice}" if f.apiservice else "every APIService and webhook")
        + " from the object to the Service, the pod port and the node's security group, and names the hop "
        "that breaks."
    )
    if f.is_tap:
        steps.append(
            "`linkerd viz check` reports the same condition as `‼ tap API service is running` (a warning, so "
            "the run can still end with `Status check results are √`)."
        )
    default = f.default_port
    port = str(default[0]) if default else "the pod port"
    steps.append(
        f"Most common reason on EKS and GKE: the control plane cannot reach {port} on the nodes (security group "
        "or firewall); the condition message then ends in `i/o timeout` or `Client.Timeout exceeded`."
    )
    return steps


def _host_steps(text: str) -> list[str]:
    m = _HOST_CHECK.search(text)
    host = m.group("host") if m else "<external-host>"
    bare = re.sub(r":\d+$", "", host) if host else host
    regex = "^" + re.escape(bare).replace("\\-", "-") + r"(:\d+)?$" if m else r"^<external-host>(:\d+)?$"
    rm = _HOST_REGEX.search(text)
    steps = [
        f"The web pod compared Host {host!r} with {('/' + rm.group('re') + '/') if rm else 'its -enforced-host regex'}"
        ": see it with kubectl get deploy -n linkerd-viz web -o jsonpath='{.spec.template.spec.containers[0].args}'",
        "Either accept the external host (no rewrite needed, and the Origin check passes too): helm upgrade "
        f"linkerd-viz linkerd/linkerd-viz -n linkerd-viz --reuse-values --set-string "
        f"dashboard.enforcedHostRegexp='{regex}' (CLI installs: linkerd viz install --set "
        f"dashboard.enforcedHostRegexp='{regex}' | kubectl apply -f -)",
        "Or rewrite Host in the proxy to web.linkerd-viz.svc.cluster.local:8084 (ingress-nginx annotation "
        "nginx.ingress.kubernetes.io/upstream-vhost: $service_name.$namespace.svc.cluster.local:8084; Gateway API "
        "URLRewrite hostname web.linkerd-viz.svc.cluster.local) and then also remove the Origin header, or Tap "
        "fails with a 403; with a non-default clusterDomain use that domain instead of cluster.local.",
        "Reaching it by IP (linkerd viz dashboard --address 0.0.0.0, a NodePort or LoadBalancer IP) fails the "
        "same way: use linkerd viz dashboard (localhost port-forward) or add the address to the regex.",
    ]
    return steps


def _origin_steps(text: str) -> list[str]:
    steps = []
    if re.search(r"Websocket error: undefined|WebSocket connection to", text, re.IGNORECASE):
        steps.append(
            "Open the browser's developer tools, Network tab, filter on api/tap and retry Tap: 403 is the Origin "
            "check (steps below); 400 means the Upgrade/Connection headers were dropped or the Host check failed; "
            "404, 502 or 503 means the proxy does not route /api/tap to web:8084."
        )
    steps += [
        "Confirm in the web pod's log: kubectl logs -n linkerd-viz deploy/web -c web --tail=200 | grep -i origin "
        "(websocket: request origin not allowed by Upgrader.CheckOrigin).",
        "ingress-nginx with the Linkerd recipe (upstream-vhost): the configuration-snippet `proxy_set_header Origin "
        '"";` must really be applied. Snippets are off by default since controller v1.9.0 '
        '(allow-snippet-annotations: "true" needed) and need annotations-risk-level: Critical since v1.12.0; '
        "without them the snippet is rejected or silently dropped.",
        "Simpler and snippet-free: do not rewrite Host at all and set dashboard.enforcedHostRegexp to the external "
        "host (e.g. '^dashboard\\.example\\.com(:\\d+)?$'); Origin then equals Host.",
        'Gateway API: add a RequestHeaderModifier filter with remove: ["Origin"] next to the URLRewrite hostname '
        "filter. Emissary/Ambassador: host_rewrite without Origin removal always fails (linkerd/linkerd2#5897); "
        "use the enforcedHostRegexp approach.",
        "Test the handshake directly: curl -si -o /dev/null -w '%{http_code}\\n' -H 'Connection: Upgrade' -H "
        "'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H "
        "'Origin: https://<external-host>' https://<external-host>/api/tap (101 = works, 403 = Origin).",
    ]
    return steps


def _unknown_steps(f: Facts) -> list[str]:
    return [
        "Paste the whole message: the part after the last colon (`dial tcp IP:PORT: i/o timeout`, `x509: ...`, "
        "`connection refused`) is what decides the cause.",
        "List what is unavailable: kubectl get apiservice | grep -v True, and read each condition with kubectl get "
        "apiservice <name> -o yaml; paste a Reason: Message pair here.",
        "Run `vizdoctor check` against the cluster (or `vizdoctor scan` on the manifests and Terraform) to follow "
        "every webhook and APIService path.",
    ]


def _next_steps(cause: str, f: Facts, text: str) -> list[str]:
    if cause == "network-blocked":
        return _network_blocked_steps(f)
    if cause == "connection-refused":
        return _connection_refused_steps(f)
    if cause == "connection-reset":
        return _reset_steps(f)
    if cause in ("tls-untrusted", "tls-expired"):
        return _tls_steps(f, expired=cause == "tls-expired")
    if cause == "rbac-forbidden":
        return _rbac_steps(f, text)
    if cause == "no-ready-endpoints":
        return _endpoints_steps(f)
    if cause == "service-not-found":
        return _service_not_found_steps(f)
    if cause == "service-port-mismatch":
        return _port_mismatch_steps(f, text)
    if cause == "address-not-allowed":
        return _address_steps(f)
    if cause == "http-proxy":
        return _proxy_steps(f)
    if cause == "dns":
        return _dns_steps(f, text)
    if cause == "apiservice-unavailable":
        return _unavailable_steps(f)
    if cause == "dashboard-host-rejected":
        return _host_steps(text)
    if cause == "dashboard-origin-rejected":
        return _origin_steps(text)
    return _unknown_steps(f)


# --------------------------------------------------------------------------------------------------------------
# summary


def _lead(cause: str, f: Facts) -> str:
    """One or two sentences about this text in particular."""
    parts: list[str] = []
    dest = f"{f.ip}:{f.port}" if f.ip and f.port else (f"port {f.port}" if f.port else None)
    if cause == "network-blocked":
        if dest and f.routing == "endpoint":
            parts.append(
                f"The kube-apiserver's connection to {f.target} at {dest} timed out: open TCP {f.port} from the "
                "control plane to the pod."
            )
        elif dest:
            parts.append(f"The kube-apiserver's connection to {f.target} at ClusterIP {dest} timed out.")
        else:
            parts.append(f"The kube-apiserver's call to {f.target} timed out.")
    elif cause == "connection-refused" and dest:
        parts.append(f"{dest} refused the kube-apiserver's connection to {f.target}.")
    elif cause == "connection-reset" and dest:
        parts.append(f"The connection to {f.target} at {dest} was cut after it was established.")
    elif cause == "address-not-allowed" and dest:
        parts.append(f"The EKS control plane refused to dial {dest} ({f.target}).")
    elif cause in ("no-ready-endpoints", "service-not-found", "service-port-mismatch") and f.service_name:
        behind = "" if f.target.startswith("Service ") else f" behind {f.target}"
        parts.append(f"Service {f.service_ref}{behind}: {CAUSES[cause].title}.")
    elif cause == "apiservice-unavailable" and f.apiservice and not f.tap_banner:
        parts.append(f"APIService {f.apiservice} is not Available.")
    elif cause in ("tls-untrusted", "tls-expired", "rbac-forbidden", "http-proxy", "dns") and f.object:
        parts.append(f"{f.target}: {CAUSES[cause].title}.")
    if f.tap_banner and cause != "apiservice-unavailable":
        parts.append(
            "The dashboard's `1011 ... status Code [503]` banner is the consequence: the kube-aggregator marks "
            f"APIService {TAP_APISERVICE} unavailable because of this and answers the web pod with 503."
        )
    return " ".join(parts)


def classify(text: str) -> Explanation:
    """Classify one pasted error (any of the recorded forms); never raises on odd input."""
    norm = normalize(text)
    facts = extract(norm)
    found = match(norm)
    if found is None:
        row, cause, matched, source = None, "unknown", None, None
    else:
        row, m = found
        cause, matched, source = row.cause, m.group(0), row.source
    info = CAUSES[cause]
    summary = " ".join(p for p in (_lead(cause, facts), info.explanation, row.note if row else None) if p)
    return Explanation(
        cause=cause,
        summary=summary,
        next_steps=_next_steps(cause, facts, norm),
        port=facts.port,
        ip=facts.ip,
        http_status=facts.http_status,
        object=facts.object,
        routing=facts.routing,
        matched=matched,
        source=source,
    )


# --------------------------------------------------------------------------------------------------------------
# rendering


def render_json(e: Explanation) -> str:
    return json.dumps(e.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _object_text(obj: dict[str, str]) -> str:
    name = f"{obj['namespace']}/{obj['name']}" if "namespace" in obj else obj["name"]
    return f"{obj['kind']} {name}"


def render_text(e: Explanation, out: IO[str], width: int = 100) -> None:
    """The explanation as text; every line goes through render.escape (the pasted text is untrusted)."""
    buf = io.StringIO()
    _render_text(e, buf, width)
    out.write(safe_block(buf.getvalue()))


def _render_text(e: Explanation, out: IO[str], width: int = 100) -> None:
    title = CAUSES[e.cause].title
    out.write(f"cause: {e.cause} ({title})\n\n")
    out.write(textwrap.fill(e.summary, width=width, break_on_hyphens=False, break_long_words=False) + "\n\n")
    facts: list[tuple[str, str]] = []
    if e.object:
        facts.append(("object", _object_text(e.object)))
    if e.ip:
        facts.append(("ip", e.ip))
    if e.port is not None:
        what = (
            "pod port the kube-apiserver dials"
            if e.routing == "endpoint"
            else "port the kube-apiserver dials"
        )
        facts.append(("port", f"{e.port} ({what})"))
    if e.routing:
        facts.append(
            (
                "routing",
                "endpoint (pod IP and target port)"
                if e.routing == "endpoint"
                else "cluster-ip (Service IP, port 443)",
            )
        )
    if e.http_status is not None:
        facts.append(("http status", str(e.http_status)))
    if e.matched:
        facts.append(("matched", repr(e.matched)))
    if e.source:
        facts.append(("source", e.source))
    if facts:
        out.write("extracted\n---------\n")
        pad = max(len(k) for k, _ in facts)
        for k, v in facts:
            out.write(f"  {k.ljust(pad)}  {v}\n")
        out.write("\n")
    out.write("next steps\n----------\n")
    for i, step in enumerate(e.next_steps, 1):
        # Steps are not wrapped: they hold commands that must survive copy and paste.
        first, *rest = step.split("\n")
        prefix = f"{i:>2}. "
        out.write(prefix + first + "\n")
        for line in rest:
            out.write(" " * (len(prefix) + 2) + line + "\n")
