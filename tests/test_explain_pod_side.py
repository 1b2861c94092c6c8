"""explain: the causes of the pod side and the wording variants of known causes, on recorded texts."""

from __future__ import annotations

import pytest

from vizdoctor import explain
from vizdoctor.knowledge.errors import CAUSES

CASES = [
    (
        "webhook-timeout",
        'Error from server (Timeout): error when creating "certificate.yaml": Timeout: request did not complete '
        "within requested timeout - context deadline exceeded",
    ),
    (
        "kubelet-port-conflict",
        'Internal error occurred: failed calling webhook "webhook.cert-manager.io": Post '
        "https://cert-manager-webhook.cert-manager.svc:443/mutate?timeout=10s: x509: certificate is valid for "
        "ec2-1-2-3-4.us-west-2.compute.amazonaws.com, ip-10-0-1-5.us-west-2.compute.internal, not "
        "cert-manager-webhook.cert-manager.svc",
    ),
    (
        "tls-client-rejected",
        "E0524 01:37:36.055326 1 authentication.go:65] Unable to authenticate the request due to an error: "
        "x509: certificate signed by unknown authority",
    ),
    (
        "webhook-protocol-error",
        'failed calling webhook "mutate.example.com": failed to call webhook: Post '
        '"https://example.default.svc:443/mutate?timeout=10s": http: server gave HTTP response to HTTPS client',
    ),
    (
        "tunnel-unavailable",
        'Get "https://10.97.131.110:443/apis/metrics.k8s.io/v1beta1": No agent available',
    ),
    (
        "dashboard-websocket-not-proxied",
        "WebSocket connection to 'wss://linkerd.example.com/api/tap' failed: Error during WebSocket handshake: "
        "Unexpected response code: 400",
    ),
    (
        "pod-cannot-reach-apiserver",
        'Error: error building admission chain: Get "https://10.96.0.1:443/api": dial tcp 10.96.0.1:443: i/o '
        "timeout",
    ),
    (
        "network-blocked",
        'Post "https://kyverno-svc.kyverno.svc:443/validate?timeout=10s": dial tcp 10.244.1.17:9443: connect: '
        "connection timed out",
    ),
    ("network-blocked", "dial tcp 10.0.1.23:8089: getsockopt: connection timed out"),
    (
        "network-blocked",
        'failed to call webhook: Post "https://metallb-webhook-service.metallb-system.svc:443/validate?timeout=10s":'
        " proxy error from 127.0.0.1:6443 while dialing 10.42.3.16:9443, code 503: 503 Service Unavailable",
    ),
    (
        "http-proxy",
        'failed calling webhook "validate.kyverno.svc": failed to call webhook: Post '
        '"https://kyverno-svc.kyverno.svc:443/validate?timeout=10s": Gateway Timeout',
    ),
    (
        "http-proxy",
        'failed to call webhook: Post "https://x.y.svc:443/v?timeout=10s": Service Unavailable',
    ),
]


@pytest.mark.parametrize(("cause", "text"), CASES)
def test_each_text_gets_its_cause_and_its_own_steps(cause: str, text: str) -> None:
    e = explain(text)
    assert e.cause == cause, (e.cause, e.matched)
    assert CAUSES[cause].explanation in e.summary
    assert e.steps and all(s.text for s in e.steps)


def test_the_apiservice_503_banner_is_not_a_proxy_status() -> None:
    text = (
        "Websocket close error [1011: Internal Error] : HTTP error, status Code [503] (unexpected API response: "
        "service unavailable )"
    )
    assert explain(text).cause == "apiservice-unavailable"


def test_a_kubelet_certificate_is_not_a_cabundle_problem() -> None:
    e = explain(CASES[1][1])
    assert not any("caBundle" in s.text for s in e.steps)
    assert any("10260" in s.text for s in e.steps)


def test_pod_to_apiserver_never_advises_opening_the_node_security_group() -> None:
    e = explain(CASES[6][1])
    assert any("do not open ports on the nodes' security group" in s.text for s in e.steps)
    assert not any("authorize-security-group-ingress" in s.text for s in e.steps)


def test_http_proxy_says_svc_in_no_proxy_covers_webhooks() -> None:
    e = explain(CASES[10][1])
    assert "`.svc` in NO_PROXY" in e.summary
    assert any("`.svc` in NO_PROXY covers them" in s.text for s in e.steps)


LINKERD_CHECK_RUN = """linkerd-webhooks-and-apisvc-tls
-------------------------------
√ proxy-injector webhook has valid cert
√ proxy-injector cert is valid for at least 60 days

linkerd-viz
-----------
√ linkerd-viz Namespace exists
‼ tap API service is running
    FailedDiscoveryCheck: failing or missing response from https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1: Get "https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1": dial tcp 10.0.1.23:8089: i/o timeout
    see https://linkerd.io/2/checks/#l5d-tap-api for hints
× metrics API is available
    MissingEndpoints: endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"
    see https://linkerd.io/2/checks/#l5d-viz-metrics-api for hints
√ viz extension self-check

Status check results are ×
"""


def test_a_check_run_with_two_failures_gives_two_results(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from vizdoctor.cli import main
    from vizdoctor.explain_blocks import split_failures

    blocks = split_failures(LINKERD_CHECK_RUN)
    assert len(blocks) == 2 and blocks[0].startswith("‼ tap API service")
    first, second = (explain(b) for b in blocks)
    assert (first.cause, first.port, first.ip) == ("network-blocked", 8089, "10.0.1.23")
    assert second.cause == "no-ready-endpoints" and second.port is None
    rc = main(["explain", LINKERD_CHECK_RUN, "-o", "json"])
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert rc == 0 and [d["cause"] for d in docs] == ["network-blocked", "no-ready-endpoints"]
    # a single failure stays one pretty-printed document
    rc = main(["explain", blocks[0], "-o", "json"])
    assert json.loads(capsys.readouterr().out)["cause"] == "network-blocked"
