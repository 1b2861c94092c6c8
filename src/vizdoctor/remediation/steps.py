"""Next steps for each cause that `explain` recognises, the one text every command shows for it.

`next_steps(cause, facts, text)` returns typed steps: `role` says what a step does (inspect the object,
fix, verify) and `platform` which cloud it is for, so a caller that already read the object, or knows the
platform, drops steps by field rather than by their wording. The Terraform, AWS CLI and gcloud commands
come from the builders in `remediation.security_group` and `remediation.gcloud`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from vizdoctor.evidence import Facts
from vizdoctor.knowledge.errors import TAP_APISERVICE, TAP_NAMESPACE
from vizdoctor.knowledge.ingress import WEB_PORT
from vizdoctor.remediation.dashboard import STRIP_ORIGIN_HINT, helm_set_host, host_regex, rewrite_hint
from vizdoctor.remediation.gcloud import MASTER_CIDR_LOOKUP, NODE_TAG_LOOKUP, firewall_rule_cli
from vizdoctor.remediation.security_group import (
    NODE_SG_LOOKUP,
    RuleSpec,
    authorize_ingress_cli,
    module_rules_hcl,
    rule_key,
)

Role = Literal["inspect", "fix", "verify", "info"]


@dataclass(frozen=True)
class Step:
    text: str
    role: Role = "fix"
    platform: str | None = None  # "EKS", "GKE", "AKS": the step applies on that platform only


_PORT_NOT_LISTENING = re.compile(r"is not listening on port (\d+)")
_HOST_CHECK = re.compile(r"with a host of '(?P<host>[^']*)'")
_HOST_REGEX = re.compile(r"This does not match /(?P<re>.*?)/ and has been denied")
_LOOKUP = re.compile(r"lookup (?P<host>[^\s:]+)")
_FORBIDDEN = re.compile(
    r"User \"(?P<user>[^\"]*)\" cannot (?P<verb>\w+) resource \"(?P<resource>[^\"]*)\""
    r"(?: in API group \"(?P<group>[^\"]*)\")?"
)

# --------------------------------------------------------------------------------------------------------------
# next steps


def _port_for_rules(f: Facts) -> str:
    if f.port and f.routing == "endpoint":
        return str(f.port)
    default = f.default_port
    return str(default[0]) if default else "<pod-port>"


def _inspect(f: Facts) -> Step:
    """The command that shows the object the text names, with its status."""
    return Step(_inspect_text(f), "inspect")


def _inspect_text(f: Facts) -> str:
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


def _network_blocked_steps(f: Facts) -> list[Step | str]:
    p = _port_for_rules(f)
    steps: list[Step | str] = [_inspect(f)]
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
    desc = f"kube-apiserver to {f.target}"
    named = (
        f"{f.service_ns or ''}_{f.service_name}"
        if f.service_name
        else (f.apiservice or f.webhook or "webhook")
    )
    rules: list[RuleSpec] = [((p, p), rule_key(p, p, [named]), desc)]  # the key `scan` proposes too
    if "aks" not in f.platforms:
        cli = authorize_ingress_cli(
            "<node-security-group-id>",
            "<cluster-security-group-id>",
            rules,
            f"terraform output node_security_group_id, or the groups of a node: {NODE_SG_LOOKUP}",
        )
        steps.append(
            Step(
                "EKS: allow it in the node security group from the cluster security group, now with the AWS "
                f"CLI:\n{cli}",
                platform="EKS",
            )
        )
        steps.append(
            Step(
                "EKS with terraform-aws-eks: add the rule to the module so Terraform keeps it, then terraform "
                f"apply:\n{module_rules_hcl('eks', rules)}",
                platform="EKS",
            )
        )
        steps.append(
            Step(
                "GKE private cluster: allow the control-plane range to the nodes on that port "
                f"(MASTER_CIDR: {MASTER_CIDR_LOOKUP}; TAG: the target tag of the gke-<cluster>-*-master rule, "
                f"{NODE_TAG_LOOKUP}):\n{firewall_rule_cli(f.service_name or 'webhook', p)}",
                platform="GKE",
            )
        )
    else:
        steps.append(
            Step(
                "AKS: the kube-apiserver reaches pods through the Konnectivity tunnel: check kubectl get pods -n "
                "kube-system -l app=konnectivity-agent and that NetworkPolicies admit those pods to the target "
                "port.",
                platform="AKS",
            )
        )
    ns = f.service_ns or "<namespace>"
    steps.append(
        f"If a NetworkPolicy selects the pod: kubectl get networkpolicy -n {ns}; it must allow TCP {p} from the "
        "control plane (an ipBlock for the control-plane or VPC CIDR: the kube-apiserver is not a pod)."
    )
    steps.append(
        Step(
            "Check the path end to end: `vizdoctor scan <terraform-and-manifests-dir>` before applying, "
            "`vizdoctor check` against the live cluster after."
            + (
                f" kubectl get apiservice {f.apiservice} should turn True within about 30 s."
                if f.apiservice
                else ""
            ),
            "verify",
        )
    )
    return steps


def _connection_refused_steps(f: Facts) -> list[Step | str]:
    steps: list[Step | str] = []
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


def _reset_steps(f: Facts) -> list[Step | str]:
    steps: list[Step | str] = []
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


def _tls_steps(f: Facts, expired: bool) -> list[Step | str]:
    steps: list[Step | str] = []
    if f.is_tap:
        steps += [
            "Run `linkerd viz check`: `tap API server has valid cert` compares APIService "
            f"{TAP_APISERVICE} spec.caBundle with Secret {TAP_NAMESPACE}/tap-k8s-tls, which must be valid for "
            f"tap.{TAP_NAMESPACE}.svc.",
            f"Inspect the serving certificate: kubectl get secret -n {TAP_NAMESPACE} tap-k8s-tls -o "
            "jsonpath='{.data.tls\\.crt}' | base64 -d | openssl x509 -noout -subject -issuer -dates -ext "
            "subjectAltName",
            f"Regenerate both together: helm upgrade linkerd-viz linkerd/linkerd-viz -n {TAP_NAMESPACE} --reuse-values "
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


def _rbac_steps(f: Facts, text: str) -> list[Step | str]:
    steps: list[Step | str] = []
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


def _endpoints_steps(f: Facts) -> list[Step | str]:
    ns = f.service_ns or "<namespace>"
    steps: list[Step | str] = [
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


def _service_not_found_steps(f: Facts) -> list[Step | str]:
    ns = f.service_ns or "<namespace>"
    steps: list[Step | str] = [
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


def _port_mismatch_steps(f: Facts, text: str) -> list[Step | str]:
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


def _address_steps(f: Facts) -> list[Step | str]:
    return [
        "Check the CNI: kubectl get ds -n kube-system (calico-node, weave-net vs aws-node) and whether the pod IP "
        f"{f.ip or '<pod-ip>'} is inside the VPC CIDR (aws ec2 describe-vpcs --query 'Vpcs[].CidrBlockAssociationSet').",
        "Give the pods VPC IPs: run the Amazon VPC CNI (Calico can stay for NetworkPolicy only), or use "
        "EKS Auto Mode / Fargate for the namespace.",
        "For a webhook you control, hostNetwork: true with a port not used on the node is the usual workaround; "
        "it does not apply to Linkerd's tap, which must be meshed (linkerd/linkerd2#11698).",
    ]


def _proxy_steps(f: Facts) -> list[Step | str]:
    return [
        "Read the kube-apiserver's proxy settings: on a kubeadm control plane grep -i proxy "
        "/etc/kubernetes/manifests/kube-apiserver.yaml (or kubectl -n kube-system get pod -l "
        "component=kube-apiserver -o yaml | grep -i -A1 proxy).",
        "Exempt in-cluster destinations: admission and conversion webhooks are dialled by host name "
        "(`<service>.<namespace>.svc`), so `.svc` in NO_PROXY covers them; aggregated APIs are dialled by IP, so "
        "NO_PROXY (and no_proxy) must also list the Service CIDR and the pod CIDR, e.g. "
        "NO_PROXY=10.96.0.0/12,10.244.0.0/16,.svc,.cluster.local,localhost,127.0.0.1 (linkerd/linkerd2#4296).",
        "Restart the kube-apiserver so it reads the new environment, then check: "
        + (f"kubectl get apiservice {f.apiservice}" if f.apiservice else "retry the request"),
    ]


def _dns_steps(f: Facts, text: str) -> list[Step | str]:
    m = _LOOKUP.search(text)
    host = m.group("host") if m else "<host>"
    return [
        f"Resolve {host} from where the kube-apiserver runs (a control-plane node, or nslookup from a node with "
        "the same resolver); a managed control plane does not use the cluster's CoreDNS.",
        "If a webhook uses clientConfig.url with an in-cluster name, switch it to clientConfig.service "
        "(namespace, name, port): the kube-apiserver resolves Services itself.",
        "If the name is a proxy's, fix HTTP(S)_PROXY on the kube-apiserver.",
    ]


def _unavailable_steps(f: Facts) -> list[Step | str]:
    steps: list[Step | str] = []
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


def _host_steps(text: str) -> list[Step | str]:
    m = _HOST_CHECK.search(text)
    host = m.group("host") if m else "<external-host>"
    regex = host_regex(host) if m else r"^<external-host>(:\d+)?$"
    rm = _HOST_REGEX.search(text)
    steps: list[Step | str] = [
        Step(
            f"The web pod compared Host {host!r} with "
            f"{('/' + rm.group('re') + '/') if rm else 'its -enforced-host regex'}: see it with kubectl get "
            f"deploy -n {TAP_NAMESPACE} web -o jsonpath='{{.spec.template.spec.containers[0].args}}'",
            "inspect",
        ),
        "Either accept the external host (no rewrite needed, and the Origin check passes too): "
        f"{helm_set_host(regex)} (CLI installs: linkerd viz install --set-string "
        f"dashboard.enforcedHostRegexp='{regex.replace(chr(92), chr(92) * 2)}' | kubectl apply -f -)",
        f"Or rewrite Host in the proxy ({rewrite_hint()}) and then also remove the Origin header "
        f"({STRIP_ORIGIN_HINT}), or Tap fails with a 403; with a non-default clusterDomain use that domain "
        "instead of cluster.local.",
        "Reaching it by IP (linkerd viz dashboard --address 0.0.0.0, a NodePort or LoadBalancer IP) fails the "
        "same way: use linkerd viz dashboard (localhost port-forward) or add the address to the regex.",
    ]
    return steps


def _origin_steps(text: str) -> list[Step | str]:
    steps: list[Step | str] = []
    if re.search(r"Websocket error: undefined|WebSocket connection to", text, re.IGNORECASE):
        steps.append(
            "Open the browser's developer tools, Network tab, filter on api/tap and retry Tap: 403 is the Origin "
            "check (steps below); 400 means the Upgrade/Connection headers were dropped or the Host check failed; "
            f"404, 502 or 503 means the proxy does not route /api/tap to web:{WEB_PORT}."
        )
    steps += [
        f"Confirm in the web pod's log: kubectl logs -n {TAP_NAMESPACE} deploy/web -c web --tail=200 | grep -i origin "
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


def _unknown_steps(f: Facts) -> list[Step | str]:
    return [
        "Paste the whole message: the part after the last colon (`dial tcp IP:PORT: i/o timeout`, `x509: ...`, "
        "`connection refused`) is what decides the cause.",
        "List what is unavailable: kubectl get apiservice | grep -v True, and read each condition with kubectl get "
        "apiservice <name> -o yaml; paste a Reason: Message pair here.",
        "Run `vizdoctor check` against the cluster (or `vizdoctor scan` on the manifests and Terraform) to follow "
        "every webhook and APIService path.",
    ]


def _webhook_timeout_steps(f: Facts) -> list[Step | str]:
    return [
        Step(
            "Find the webhooks that wait 30 s or more: kubectl get mutatingwebhookconfigurations,"
            "validatingwebhookconfigurations -o custom-columns=NAME:.metadata.name,TIMEOUT:.webhooks[*].timeoutSeconds",
            "inspect",
        ),
        "Lower their timeoutSeconds (v1 default 10) in the configuration or the chart value that renders it; the "
        "next failure then shows the webhook's own error.",
        "Then explain that error: a blocked pod port (`vizdoctor scan` / `vizdoctor check`) is the usual cause.",
    ]


def _kubelet_port_steps(f: Facts) -> list[Step | str]:
    return [
        Step(
            f"Check the webhook pod: kubectl -n {f.service_ns or '<namespace>'} get pod -o wide (hostNetwork, or a "
            "fargate-ip-... node) and its container port (10250 is the kubelet's).",
            "inspect",
        ),
        "Move the server to a free port and the Service's targetPort with it, through the chart's value "
        "(cert-manager: webhook.securePort=10260; external-secrets: webhook.port; metrics-server: containerPort).",
        Step(
            "Allow the new port from the cluster security group to the nodes.",
            "fix",
            "EKS",
        ),
    ]


def _client_rejected_steps(f: Facts) -> list[Step | str]:
    return [
        Step(
            "Compare the request-header CA the server trusts with the control plane's: kubectl -n kube-system get "
            "configmap extension-apiserver-authentication -o jsonpath='{.data.requestheader-client-ca-file}'",
            "inspect",
        ),
        "Restart the aggregated API server so it reloads that CA (kubectl -n linkerd-viz rollout restart deploy/tap, "
        "or kubectl -n kube-system rollout restart deploy/metrics-server); its serving certificate and the "
        "APIService's caBundle are not the problem.",
        "If the control plane's front-proxy certificates were re-issued, make sure the server's auth-reader "
        "RoleBinding still lets it read that ConfigMap.",
    ]


def _protocol_steps(f: Facts) -> list[Step | str]:
    return [
        Step(
            "Compare the Service's targetPort with the port the webhook serves HTTPS on: kubectl -n "
            f"{f.service_ns or '<namespace>'} get svc,endpoints -o wide and the container's args/ports.",
            "inspect",
        ),
        "Point targetPort at the HTTPS webhook port (not metrics or health), and make the server answer "
        "admission.k8s.io/v1 AdmissionReview with the request's uid.",
    ]


def _tunnel_steps(f: Facts) -> list[Step | str]:
    return [
        Step("kubectl -n kube-system get pods -l k8s-app=konnectivity-agent -o wide", "inspect"),
        "Get the konnectivity-agent pods running and connected (their logs name the control-plane address they dial); "
        "a NetworkPolicy or firewall that blocks their egress to the control plane also causes this.",
        "Firewall rules from the control plane to the nodes are not on this path: do not add them for this error.",
    ]


def _websocket_steps(f: Facts) -> list[Step | str]:
    return [
        "Let the proxy in front of the dashboard pass websockets on /api/tap: forward the Upgrade and Connection "
        "headers over HTTP/1.1 (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
        'proxy_set_header Connection "upgrade"; ingress-nginx does this by itself).',
        "Check with: curl -i -N -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' "
        "-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' https://<dashboard-host>/api/tap (101 means it passes).",
    ]


def _pod_to_apiserver_steps(f: Facts) -> list[Step | str]:
    return [
        "This is a pod calling the kube-apiserver, not the control plane calling a pod: do not open ports on the "
        "nodes' security group for it.",
        Step(
            "Look at the pod's egress: kubectl get networkpolicy -A (egress rules on the pod's namespace must allow "
            "the kubernetes Service's endpoints on 443), kubectl get endpoints kubernetes",
            "inspect",
        ),
        Step(
            "On EKS: the cluster endpoint's access (private endpoint on, public-only with CIDR limits), and security "
            "groups for pods, decide whether pods reach the control plane.",
            "info",
            "EKS",
        ),
    ]


_Builder = Callable[[Facts, str], list[Step | str]]
# cause id (knowledge.errors.CAUSES) -> its steps; causes not listed get the steps for an unknown message
STEPS: dict[str, _Builder] = {
    "network-blocked": lambda f, _: _network_blocked_steps(f),
    "connection-refused": lambda f, _: _connection_refused_steps(f),
    "connection-reset": lambda f, _: _reset_steps(f),
    "tls-untrusted": lambda f, _: _tls_steps(f, expired=False),
    "tls-expired": lambda f, _: _tls_steps(f, expired=True),
    "rbac-forbidden": _rbac_steps,
    "no-ready-endpoints": lambda f, _: _endpoints_steps(f),
    "service-not-found": lambda f, _: _service_not_found_steps(f),
    "service-port-mismatch": _port_mismatch_steps,
    "address-not-allowed": lambda f, _: _address_steps(f),
    "http-proxy": lambda f, _: _proxy_steps(f),
    "dns": _dns_steps,
    "apiservice-unavailable": lambda f, _: _unavailable_steps(f),
    "dashboard-host-rejected": lambda _, text: _host_steps(text),
    "dashboard-origin-rejected": lambda _, text: _origin_steps(text),
    "webhook-timeout": lambda f, _: _webhook_timeout_steps(f),
    "kubelet-port-conflict": lambda f, _: _kubelet_port_steps(f),
    "tls-client-rejected": lambda f, _: _client_rejected_steps(f),
    "webhook-protocol-error": lambda f, _: _protocol_steps(f),
    "tunnel-unavailable": lambda f, _: _tunnel_steps(f),
    "dashboard-websocket-not-proxied": lambda f, _: _websocket_steps(f),
    "pod-cannot-reach-apiserver": lambda f, _: _pod_to_apiserver_steps(f),
}


def _unknown(f: Facts, _: str) -> list[Step | str]:
    return _unknown_steps(f)


def next_steps(cause: str, facts: Facts, text: str) -> list[Step]:
    """The next steps for a cause (an id of knowledge.errors.CAUSES), tailored to what the text shows."""
    return [s if isinstance(s, Step) else Step(s) for s in STEPS.get(cause, _unknown)(facts, text)]
