"""`vizdoctor explain`: real recorded error messages, their causes and what is extracted from them, the pattern
table's own consistency, and the command as a user runs it (subprocess, stdin, JSON, exit codes)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from typing import NamedTuple

import pytest

from conftest import ROOT, SHARED
from vizdoctor.explainer import Explanation, classify, match, normalize
from vizdoctor.knowledge.errors import CAUSES, PATTERNS, TAP_APISERVICE

TAP = f"APIService {TAP_APISERVICE}"


class Case(NamedTuple):
    message: str
    cause: str
    port: int | None
    source: str
    ip: str | None = None
    obj: str | None = None  # "Kind name" or "Service namespace/name"; None: the text names no object
    status: int | None = None
    verbatim: bool = True  # copied verbatim from a sheet or the seed (checked below where ../shared exists)


_SEED_BLOCK = (
    "‼ tap API service is running\n"
    'FailedDiscoveryCheck: failing or missing response from https://<REDCATED>:8089/apis/tap.linkerd.io/v1alpha1: Get "https://<REDCATED>:8089/apis/tap.linkerd.io/v1alpha1": dial tcp <REDCATED>:8089: i/o timeout\n'
    "see https://linkerd.io/2.15/tasks/troubleshooting/#l5d-tap-api for hints"
)
_CHECK_BLOCK = (
    "‼ tap API service is running\n"
    '    FailedDiscoveryCheck: failing or missing response from https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1: Get "https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1": dial tcp 10.0.1.23:8089: i/o timeout\n'
    "    see https://linkerd.io/2/checks/#l5d-tap-api for hints"
)

# fmt: off
CASES: list[Case] = [
    # --- the seed write-up (shared/seed/000_d2708e0bb4fe6cf0.txt) ---
    Case("Websocket close error [1011: Internal Error] : HTTP error, status Code [503] (unexpected API response: service unavailable )", "apiservice-unavailable", None, "seed: dashboard banner", obj=TAP, status=503),
    Case(_SEED_BLOCK, "network-blocked", 8089, "seed: linkerd check block (IP redacted)", obj=TAP),
    # --- linkerd-viz.md ---
    Case(_CHECK_BLOCK, "network-blocked", 8089, "linkerd-viz.md §5.3 (format-derived linkerd check block)", ip="10.0.1.23", obj=TAP),
    Case(r"Error: HTTP error, status Code [503] (unexpected API response: service unavailable\n)", "apiservice-unavailable", None, "linkerd/linkerd2#3319", obj=TAP, status=503),
    Case("FailedDiscoveryCheck: failing or missing response from https://192.168.200.144:8089/apis/tap.linkerd.io/v1alpha1: Get https://192.168.200.144:8089/apis/tap.linkerd.io/v1alpha1: Address is not allowed", "address-not-allowed", 8089, "linkerd/linkerd2#5576", ip="192.168.200.144", obj=TAP),
    Case("E1205 09:13:52.814803    6521 memcache.go:287] couldn't get resource list for tap.linkerd.io/v1alpha1: the server is currently unable to handle the request", "apiservice-unavailable", None, "linkerd/linkerd2#11698", obj=TAP),
    Case(r'loading OpenAPI spec for "v1alpha1.tap.linkerd.io" failed with: failed to retrieve openAPI spec, http error: ResponseCode: 503, Body: service unavailable\n, Header: map[Content-Type:[text/plain; charset=utf-8] X-Content-Type-Options:[nosniff]]', "apiservice-unavailable", None, "linkerd/linkerd2#3353", obj=TAP, status=503),
    Case("v1alpha1.tap.linkerd.io failed with: Get https://10.32.0.2:8089: Address is not allowed", "address-not-allowed", 8089, "linkerd/linkerd2#3353, #4337", ip="10.32.0.2", obj=TAP),
    Case("tap.linkerd.io/v1alpha1: the server is currently unable to handle the request", "apiservice-unavailable", None, "linkerd/linkerd2#10341", obj=TAP),
    Case("FailedDiscoveryCheck: failing or missing response from https://10.96.0.39:443: Get https://10.96.0.39:443: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)", "network-blocked", 443, "linkerd/linkerd2#4301", ip="10.96.0.39"),
    Case("× FailedDiscoveryCheck: no response from https://10.233.31.133:443: Get https://10.233.31.133:443: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)", "network-blocked", 443, "Linkerd troubleshooting l5d-tap-api; linkerd/linkerd2#4296", ip="10.233.31.133"),
    Case('FailedDiscoveryCheck: failing or missing response from https://10.96.74.20:443/apis/tap.linkerd.io/v1alpha1: Get "https://10.96.74.20:443/apis/tap.linkerd.io/v1alpha1": context deadline exceeded (Client.Timeout exceeded while awaiting headers)', "network-blocked", 443, "linkerd/linkerd2#8806 (kind)", ip="10.96.74.20", obj=TAP),
    Case('FailedDiscoveryCheck: failing or missing response from https://172.19.0.87:8089/apis/tap.linkerd.io/v1alpha1: Get "https://172.19.0.87:8089/apis/tap.linkerd.io/v1alpha1": read tcp 169.254.128.90:40336->172.19.0.87:8089: read: connection reset by peer', "connection-reset", 8089, "linkerd/linkerd2#7301 (TKE)", ip="172.19.0.87", obj=TAP),
    Case("v1alpha1.tap.linkerd.io  linkerd-viz/tap  False (FailedDiscoveryCheck)", "apiservice-unavailable", None, "linkerd/linkerd2#10260", obj=TAP),
    Case("MissingEndpoints: …", "no-ready-endpoints", None, "linkerd/linkerd2#7970"),
    Case("websocket: 'Origin' header value not allowed", "dashboard-origin-rejected", None, "linkerd/website#211, linkerd/linkerd2#2427"),
    Case('level=error msg="websocket: request origin not allowed by Upgrader.CheckOrigin"', "dashboard-origin-rejected", None, "linkerd-viz.md §4.2 (web pod log)"),
    Case("Websocket error: undefined", "dashboard-origin-rejected", None, "linkerd/linkerd2#5264, #5897"),
    Case("WebSocket connection to 'ws://…/api/tap' failed: ", "dashboard-origin-rejected", None, "linkerd/linkerd2#10824 (Chrome console)"),
    Case("It appears that you are trying to reach this service with a host of '<host>'.\nThis does not match /<regex>/ and has been denied for security reasons.", "dashboard-host-rejected", None, "linkerd/linkerd2#4929 (body template)"),
    Case('Cannot connect to Linkerd Viz: namespaces is forbidden: User "XXXX" cannot list resource "namespaces" in API group "" at the cluster scope', "rbac-forbidden", None, "securing-linkerd-tap docs"),
    Case("HTTP error, status Code [403] (unexpected API response)", "rbac-forbidden", None, "linkerd/linkerd2#8613, #11394", status=403),
    Case("missing authorization, visit https://linkerd.io/tap-rbac to remedy", "rbac-forbidden", None, "viz/tap/pkg/reader.go TapRbacURL", obj=TAP),
    Case("Error during WebSocket handshake: Unexpected response code: 400", "dashboard-websocket-not-proxied", None, "linkerd/linkerd2#2143 (upgrade not passed)", status=400),
    # --- control-plane-reachability.md §7, §9, §11.1 ---
    Case('failed calling webhook "validate.nginx.ingress.kubernetes.io": Post "https://ingress-ingress-nginx-controller-admission.kube-system.svc:443/networking/v1/ingresses?timeout=10s": dial tcp 10.1.103.106:8443: i/o timeout', "network-blocked", 8443, "terraform-aws-eks#1748", ip="10.1.103.106", obj="ValidatingWebhook validate.nginx.ingress.kubernetes.io"),
    Case('Post "https://aws-load-balancer-webhook-service.kube-system.svc:443/mutate-elbv2-k8s-aws-v1beta1-targetgroupbinding?timeout=10s": dial tcp 10.0.202.48:9443: i/o timeout', "network-blocked", 9443, "terraform-aws-eks PR #2270", ip="10.0.202.48", obj="Service kube-system/aws-load-balancer-webhook-service"),
    Case('Failed calling webhook, failing closed vingress.elbv2.k8s.aws: failed calling webhook "vingress.elbv2.k8s.aws": Post "https://aws-load-balancer-webhook-service.kube-system.svc:443/validate-networking-v1beta1-ingress?timeout=10s": context deadline exceeded', "network-blocked", None, "aws-load-balancer-controller#2208, #2460", obj="ValidatingWebhook vingress.elbv2.k8s.aws"),
    Case('Failed calling webhook, failing closed vingress.elbv2.k8s.aws: failed calling webhook "vingress.elbv2.k8s.aws": Post "https://aws-load-balancer-webhook-service.kube-system.svc:443/validate-networking-v1beta1-ingress?timeout=10s": context deadline exceeded\ndialer.go:35] [...: 10.212.128.231:9443] Dialing...', "network-blocked", 9443, "aws-load-balancer-controller#2208 with its next log line", ip="10.212.128.231", obj="ValidatingWebhook vingress.elbv2.k8s.aws", verbatim=False),
    Case("Failed calling webhook, failing closed validate.nginx.ingress.kubernetes.io: … context deadline exceeded", "network-blocked", None, "terraform-aws-eks#1744", obj="ValidatingWebhook validate.nginx.ingress.kubernetes.io"),
    Case('Internal error occurred: failed calling webhook "mutate.runnerdeployment.actions.summerwind.dev": failed to call webhook: Post "https://actions-runner-controller-webhook.actions-runner-system.svc:443/...?timeout=10s": context deadline exceeded', "network-blocked", None, "actions-runner-controller#1527", obj="MutatingWebhook mutate.runnerdeployment.actions.summerwind.dev"),
    Case("v1beta1.metrics.k8s.io kube-system/metrics-server False (FailedDiscoveryCheck)", "apiservice-unavailable", None, "metrics-server#1010", obj="APIService v1beta1.metrics.k8s.io"),
    Case('failing or missing response from https://10.0.1.218:4443/apis/metrics.k8s.io/v1beta1: Get "https://10.0.1.218:4443/apis/metrics.k8s.io/v1beta1": dial tcp 10.0.1.218:4443: i/o timeout', "network-blocked", 4443, "metrics-server#1010, terraform-aws-eks#1809", ip="10.0.1.218", obj="APIService v1beta1.metrics.k8s.io"),
    Case('Internal error occurred: failed calling webhook "webhook-server.webhook-demo.svc": Post https://webhook-server.webhook-demo.svc:443/mutate?timeout=30s: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)', "network-blocked", None, "stackrox/admission-controller-webhook-demo#6", obj="MutatingWebhook webhook-server.webhook-demo.svc"),
    Case("Internal error occurred: failed calling admission webhook ... the server is currently unable to handle the request", "apiservice-unavailable", None, "cert-manager docs (GKE private cluster)"),
    Case('… failed to call webhook: Post "https://aws-load-balancer-controller-webhook-service.aws-load-balancer-controller.svc:443/mutate-v1-service?timeout=10s": no endpoints available for service "aws-load-balancer-controller-webhook-service"', "no-ready-endpoints", None, "maddevsio/aws-eks-base PR #359", obj="Service aws-load-balancer-controller/aws-load-balancer-controller-webhook-service"),
    Case('… linkerd-proxy-injector.linkerd.svc:443/?timeout=10s": no endpoints available for service "linkerd-proxy-injector"', "no-ready-endpoints", None, "Linkerd report (no issue number)", obj="Service linkerd/linkerd-proxy-injector"),
    Case('Post "https://cert-manager-webhook.cert-manager.svc:443/mutate?timeout=10s": dial tcp 10.152.183.134:443: connect: connection refused', "connection-refused", 443, "cert-manager#4453", ip="10.152.183.134", obj="Service cert-manager/cert-manager-webhook"),
    Case('… failed to call webhook: Post "https://cluster-operator-webhook-service.rabbitmq-system.svc:443/...?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority', "tls-untrusted", None, "rabbitmq/cluster-operator#2237", obj="Service rabbitmq-system/cluster-operator-webhook-service"),
    Case('x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" …)', "tls-untrusted", None, "kyverno/kyverno#3300"),
    Case("FailedDiscoveryCheck: failing or missing response from https://192.168.200.144:8089/apis/tap.linkerd.io/v1alpha1: … Address is not allowed", "address-not-allowed", 8089, "linkerd/linkerd2#5576 (§11.1 form)", ip="192.168.200.144", obj=TAP),
    Case("read tcp 169.254.128.90:40336->172.19.0.87:8089: read: connection reset by peer", "connection-reset", 8089, "linkerd/linkerd2#7301 (§11.1 form)", ip="172.19.0.87"),
    Case('Internal error occurred: failed calling webhook "mutate.kyverno.svc-fail": failed to call webhook: Post "https://...svc:443/mutate/fail?timeout=10s": write unix @->/tunnel-uds/proxysocket: write: broken pipe', "connection-reset", None, "AKS tunnel (control-plane-reachability.md §7)", obj="MutatingWebhook mutate.kyverno.svc-fail"),
    Case("Error from server (ServiceUnavailable): the server is currently unable to handle the request (get nodes.metrics.k8s.io)", "apiservice-unavailable", None, "metrics-server#1024, #543", obj="APIService v1beta1.metrics.k8s.io"),
    Case("error: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request", "apiservice-unavailable", None, "metrics-server#1024, #543", obj="APIService v1beta1.metrics.k8s.io"),
    Case("dial tcp 10.0.202.48:9443: i/o timeout", "network-blocked", 9443, "terraform-aws-eks PR #2270 (§1 form)", ip="10.0.202.48"),
    # --- the brief's composites and the kube-aggregator's formats with values filled in ---
    Case('Error from server (InternalError): Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io": failed to call webhook: Post "https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s": dial tcp 10.1.103.106:8443: i/o timeout', "network-blocked", 8443, "kubectl form of terraform-aws-eks#1748", ip="10.1.103.106", obj="ValidatingWebhook validate.nginx.ingress.kubernetes.io", verbatim=False),
    Case(r"Websocket close error [1011: Internal Error] : HTTP error, status Code [503] (unexpected API response: service unavailable\n)", "apiservice-unavailable", None, "linkerd-viz.md §4.7 (banner with the literal \\n)", obj=TAP, status=503, verbatim=False),
    Case(r"It appears that you are trying to reach this service with a host of 'dashboard.example.com'. This does not match /^(localhost|127\.0\.0\.1|web\.linkerd-viz\.svc\.cluster\.local|web\.linkerd-viz\.svc|\[::1\])(:\d+)?$/ and has been denied for security reasons.", "dashboard-host-rejected", None, "linkerd/linkerd2#4929 template, default regex", verbatim=False),
    Case('ServiceNotFound: service/tap in "linkerd-viz" is not present', "service-not-found", None, "kube-aggregator format", obj=TAP, verbatim=False),
    Case('ServicePortError: service/tap in "linkerd-viz" is not listening on port 443', "service-port-mismatch", None, "kube-aggregator format", obj=TAP, verbatim=False),
    Case('EndpointsNotFound: cannot find endpoints for service/tap in "linkerd-viz"', "no-ready-endpoints", None, "kube-aggregator format", obj=TAP, verbatim=False),
    Case('MissingEndpoints: endpoints for service/tap in "linkerd-viz" have no addresses with port name "apiserver"', "no-ready-endpoints", None, "kube-aggregator format", obj=TAP, verbatim=False),
    Case("FailedDiscoveryCheck: timed out waiting for https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1", "network-blocked", 8089, "kube-aggregator format", ip="10.0.1.23", obj=TAP, verbatim=False),
    Case("FailedDiscoveryCheck: bad status from https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1: 403", "rbac-forbidden", 8089, "kube-aggregator format", ip="10.0.1.23", obj=TAP, status=403, verbatim=False),
    Case("FailedDiscoveryCheck: no response from https://10.233.31.133:443: Get https://10.233.31.133:443: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers); kube-apiserver has HTTPS_PROXY=http://proxy.corp:3128 and NO_PROXY=.cluster.local", "http-proxy", 443, "linkerd/linkerd2#4296 as the user describes it", ip="10.233.31.133", verbatim=False),
    Case('conversion webhook for cert-manager.io/v1alpha2, Kind=Certificate failed: Post "https://cert-manager-webhook.cert-manager.svc:443/convert?timeout=30s": x509: certificate has expired or is not yet valid', "tls-expired", None, "k8s.io/apiserver conversion format with a Go x509 error", obj="CRDConversion cert-manager.io/v1alpha2, Kind=Certificate", verbatim=False),
    Case('Post "https://my-webhook.example.internal/validate?timeout=10s": dial tcp: lookup my-webhook.example.internal on 10.0.0.2:53: no such host', "dns", None, "Go DNSError through the webhook dispatcher", verbatim=False),
    # recorded from a real kube-apiserver v1.37.2 (tests/test_live_apiserver.py; 198.51.100.0/24 is its test host)
    Case('failing or missing response from https://198.51.100.82:8089/apis/tap.linkerd.io/v1alpha1: Get "https://198.51.100.82:8089/apis/tap.linkerd.io/v1alpha1": context deadline exceeded', "network-blocked", 8089, "kube-aggregator v1.37.2, dropping endpoint", ip="198.51.100.82", obj=TAP, verbatim=False),
    Case('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"error trying to reach service: dial tcp 198.51.100.82:8089: i/o timeout","reason":"ServiceUnavailable","code":503}', "network-blocked", 8089, "kube-apiserver v1.37.2 pod proxy, dropping endpoint", ip="198.51.100.82", verbatim=False),
    Case('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"error trying to reach service: net/http: TLS handshake timeout","reason":"ServiceUnavailable","code":503}', "connection-reset", None, "kube-apiserver v1.37.2 pod proxy, hung server", verbatim=False),
]
# fmt: on

SHEETS = [
    SHARED / "knowledge" / "linkerd-viz.md",
    SHARED / "knowledge" / "control-plane-reachability.md",
    SHARED / "knowledge" / "dashboard-exposure.md",
    SHARED / "seed" / "000_d2708e0bb4fe6cf0.txt",
]


def _obj(spec: str | None) -> dict[str, str] | None:
    if spec is None:
        return None
    kind, name = spec.split(" ", 1)
    if kind == "Service":
        ns, svc = name.split("/", 1)
        return {"kind": kind, "namespace": ns, "name": svc}
    return {"kind": kind, "name": name}


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{c.cause}" for i, c in enumerate(CASES)])
def test_recorded_message(case: Case) -> None:
    e = classify(case.message)
    assert e.cause == case.cause, (case.source, e.matched)
    assert e.port == case.port
    assert e.ip == case.ip
    assert e.object == _obj(case.obj)
    assert e.http_status == case.status
    assert e.next_steps and all(step.strip() for step in e.next_steps)
    if case.cause == "unknown":
        assert e.matched is None and e.source is None
    else:
        assert e.matched and e.matched in normalize(case.message)
        assert e.source
        assert CAUSES[case.cause].text() in e.summary


def test_enough_real_messages_are_tested() -> None:
    assert sum(c.verbatim for c in CASES) >= 25


def test_verbatim_messages_really_are_in_the_sheets() -> None:
    if not all(p.is_file() for p in SHEETS):
        pytest.skip(f"needs the knowledge sheets under {SHARED}")
    corpus = normalize("\n".join(p.read_text(encoding="utf-8") for p in SHEETS))
    missing = [c.message for c in CASES if c.verbatim and normalize(c.message) not in corpus]
    assert missing == []


def test_the_whole_seed_write_up() -> None:
    seed = SHARED / "seed" / "000_d2708e0bb4fe6cf0.txt"
    if not seed.is_file():
        pytest.skip(f"needs {seed}")
    e = classify(seed.read_text(encoding="utf-8"))
    assert (e.cause, e.port, e.ip, e.http_status) == ("network-blocked", 8089, None, 503)
    assert e.object == {"kind": "APIService", "name": TAP_APISERVICE}
    assert "1011" in e.summary and "consequence" in e.summary


# --- the pattern table -----------------------------------------------------------------------------------


def test_cause_ids_are_exactly_the_stable_set() -> None:
    assert set(CAUSES) == {
        "network-blocked", "connection-refused", "no-ready-endpoints", "service-not-found",
        "service-port-mismatch", "tls-untrusted", "tls-expired", "address-not-allowed", "http-proxy",
        "connection-reset", "rbac-forbidden", "dns", "apiservice-unavailable", "dashboard-host-rejected",
        "dashboard-origin-rejected", "unknown",
        # the pod side (issue 14)
        "webhook-timeout", "kubelet-port-conflict", "tls-client-rejected", "webhook-protocol-error",
        "tunnel-unavailable", "dashboard-websocket-not-proxied", "pod-cannot-reach-apiserver",
    }  # fmt: skip
    assert {row.cause for row in PATTERNS} == set(CAUSES) - {"unknown"}


@pytest.mark.parametrize("index", range(len(PATTERNS)))
def test_every_row_matches_its_own_recorded_example(index: int) -> None:
    row = PATTERNS[index]
    text = normalize(row.example)
    assert row.regex.search(text), row.example
    assert row.requires is None or row.requires.search(text)
    assert row.source
    assert classify(row.example).cause == row.cause


def test_specific_cause_beats_the_generic_unavailable_rows() -> None:
    text = normalize(_CHECK_BLOCK)
    rows = [r for r in PATTERNS if r.regex.search(text)]
    assert {r.cause for r in rows} >= {"network-blocked", "apiservice-unavailable"}
    found = match(text)
    assert found is not None
    assert found[0].cause == "network-blocked" and found[1].group(0) == "i/o timeout"


def test_a_proxy_mention_without_a_direct_dial_error_is_http_proxy_but_not_with_one() -> None:
    assert classify("dial tcp 10.0.1.23:8089: i/o timeout; HTTPS_PROXY is set").cause == "network-blocked"
    assert classify("proxyconnect tcp: dial tcp 10.0.0.10:3128: i/o timeout").cause == "http-proxy"
    # the proxy's own address is not the pod's
    assert classify("proxyconnect tcp: dial tcp 10.0.0.10:3128: i/o timeout").port is None


def test_odd_input_never_raises() -> None:
    for text in ("\x00\x01\xff", "\x1b[31m‼\x1b[0m tap API service is running", "::::", "[]()"):
        e = classify(text)
        assert e.cause in CAUSES
    assert classify("\x1b[33m‼\x1b[0m tap API service is running").cause == "apiservice-unavailable"


def test_long_pastes_stay_linear() -> None:
    # a label-shaped regex retried from every character took minutes on these before the lookbehinds
    start = time.perf_counter()
    for text in (
        "x" * 200_000,
        "4" * 200_000,
        "v1.a" * 50_000,
        "/api/tap " + "4" * 100_000,
        ("a-" * 1000 + ".") * 100,
    ):
        assert classify(text).cause == "unknown"
    assert time.perf_counter() - start < 20


# --- what the next steps say ---------------------------------------------------------------------------


def test_tap_timeout_gives_the_port_to_open_on_eks_and_gke() -> None:
    steps = "\n".join(classify(_CHECK_BLOCK).next_steps)
    assert "FromPort=8089,ToPort=8089" in steps and "aws ec2 authorize-security-group-ingress" in steps
    assert "node_security_group_additional_rules" in steps and "from_port                     = 8089" in steps
    assert "source_cluster_security_group = true" in steps and "ingress_linkerd_viz_tap_8089 = {" in steps
    assert "gcloud compute firewall-rules create" in steps and "--allow tcp:8089" in steps
    assert "--source-ranges MASTER_CIDR" in steps and "--target-tags TAG" in steps
    assert "kubectl get apiservice v1alpha1.tap.linkerd.io" in steps


def test_the_503_banner_points_to_the_tap_apiservice_and_vizdoctor_check() -> None:
    e = classify(CASES[0].message)
    steps = "\n".join(e.next_steps)
    assert "kubectl get apiservice v1alpha1.tap.linkerd.io -o yaml" in steps
    assert "vizdoctor check" in steps
    assert "v1alpha1.tap.linkerd.io is not Available" in e.summary


def test_webhook_timeout_without_the_dial_part_still_names_the_default_port() -> None:
    steps = "\n".join(
        classify(
            CASES[[c.source for c in CASES].index("aws-load-balancer-controller#2208, #2460")].message
        ).next_steps
    )
    assert "FromPort=9443,ToPort=9443" in steps and "--allow tcp:9443" in steps


def test_clusterip_routing_mentions_kube_proxy_and_the_apiserver_proxy() -> None:
    e = classify(CASES[10].message)
    assert e.routing == "cluster-ip"
    assert "NO_PROXY" in "\n".join(e.next_steps)


def test_host_rejection_proposes_a_regex_for_the_external_host() -> None:
    e = classify(
        "It appears that you are trying to reach this service with a host of 'dashboard.example.com:443'."
    )
    steps = "\n".join(e.next_steps)
    # Helm's --set parser takes `\` as an escape: the command doubles each backslash of the regex.
    m = re.search(r"--set-string dashboard.enforcedHostRegexp='([^']*)'", steps)
    assert m, steps
    regex = m.group(1).replace("\\\\", "\\")
    assert regex == r"^dashboard\.example\.com(:\d+)?$"
    assert re.search(regex, "dashboard.example.com:443") and not re.search(regex, "dashboardxexample.com")


def test_forbidden_user_gives_the_matching_can_i() -> None:
    e = classify(CASES[20].message)
    assert "kubectl auth can-i list namespaces --as XXXX" in "\n".join(e.next_steps)


def test_connection_refused_on_a_clusterip_points_to_endpoints() -> None:
    e = classify(
        'Post "https://cert-manager-webhook.cert-manager.svc:443/mutate?timeout=10s": dial tcp 10.152.183.134:443: connect: connection refused'
    )
    assert e.routing == "cluster-ip"
    assert (
        "kubectl get endpointslices -n cert-manager -l kubernetes.io/service-name=cert-manager-webhook"
        in e.next_steps[0]
    )


# The documented `explain -o json` shape, in order (README, issue text).
JSON_KEYS = [
    "schema",
    "command",
    "cause",
    "summary",
    "port",
    "ip",
    "http_status",
    "object",
    "routing",
    "next_steps",
    "steps",
    "matched",
    "source",
    "docs",
]


def test_json_shape_is_exact() -> None:
    d = classify(_CHECK_BLOCK).to_dict()
    assert list(d) == JSON_KEYS
    assert json.loads(json.dumps(d)) == d


def test_explanation_is_frozen() -> None:
    e = classify("Websocket error: undefined")
    with pytest.raises(AttributeError):
        e.cause = "x"  # type: ignore[misc]
    assert isinstance(e, Explanation)


# --- the command -------------------------------------------------------------------------------------------


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizdoctor", "explain", *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_cli_text_from_arguments() -> None:
    r = run("dial", "tcp", "10.0.1.23:8089:", "i/o", "timeout")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("cause: network-blocked")
    assert "port" in r.stdout and "8089 (pod port the kube-apiserver dials)" in r.stdout
    assert re.search(r"^ 1\. ", r.stdout, re.MULTILINE) and "FromPort=8089" in r.stdout
    assert r.stderr == ""


def test_cli_stdin_json() -> None:
    r = run("-", "--format", "json", stdin=_SEED_BLOCK)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert list(doc) == JSON_KEYS
    assert doc["cause"] == "network-blocked" and doc["port"] == 8089 and doc["ip"] is None
    assert doc["object"] == {"kind": "APIService", "name": "v1alpha1.tap.linkerd.io"}
    assert doc["routing"] == "endpoint" and doc["matched"] == "i/o timeout"


def test_cli_unknown_exits_1() -> None:
    r = run("-o", "json", "something completely different")
    assert r.returncode == 1
    assert json.loads(r.stdout)["cause"] == "unknown"


def test_cli_empty_input_exits_2_with_one_line() -> None:
    for args, stdin in (((), None), (("-",), "  \n\t"), (("",), None)):
        r = run(*args, stdin=stdin)
        assert r.returncode == 2, (args, r.stdout)
        assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1 and "nothing to explain" in r.stderr


def test_cli_undecodable_stdin_is_read() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "vizdoctor", "explain", "-"], input=b"\xff\xfe Address is not allowed",
        capture_output=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0 and b"address-not-allowed" in r.stdout


def test_cli_help_lists_explain() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "vizdoctor", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 0 and "explain" in r.stdout
