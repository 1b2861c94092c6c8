"""`vizdoctor check` and `explain` against a real kube-apiserver (tests/live_cluster.py) whose aggregator and
webhook client dial test hosts in a network namespace this test creates (tests/netns_host.py).

The incident is reproduced for real: the APIService's `Available` condition, the admission error, the
service/pod proxy answers and the RBAC 403 bodies are what kube-apiserver itself writes. vizdoctor runs
unchanged (its CLI in a subprocess, or `main()` where a test must shrink the page size). What a bare
apiserver cannot produce (EKS provider ids, security groups) stays with the recorded objects of
tests/test_check.py and moto (tests/test_check_aws.py).

Setup writes to this throwaway cluster as system:masters; vizdoctor itself only reads.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from live_cluster import ADMIN, CA, LIMITED, ROOT, ApiError, LiveCluster, Unavailable, build_binaries
from netns_host import TestHost, unavailable_reason

pytest.importorskip("cryptography")

VIZ = "linkerd-viz"
TEST_NS = "vizdoctor-test"
WEBHOOK_NS = "webhook-test"
TAP = "v1alpha1.tap.linkerd.io"
METRICS = "v1beta1.metrics.k8s.io"  # its pod refuses the connection
ADAPTER = "v1beta1.custom.metrics.k8s.io"  # its Service has no ready endpoint
HEALTHY = "v1alpha1.healthy.vizdoctor.test"  # answers the discovery request
HUNG = "v1alpha1.hung.vizdoctor.test"  # accepts the connection and never answers
TAP_INJECTOR = "tap-injector.linkerd.io"
# The condition the kube-aggregator writes when its 5 s discovery request times out: three forms were
# recorded from the same kube-apiserver against the same dropping endpoint (which of its five parallel
# attempts reports last decides).
DEADLINE = (
    r'failing or missing response from {url}: Get "{url}": '
    r"(context deadline exceeded|net/http: request canceled while waiting for connection)"
    r"( \(Client\.Timeout exceeded while awaiting headers\))?"
)
SETTLE = 90.0  # seconds for the aggregator to write a condition (it re-checks at most every 30 s)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def apiserver() -> Iterator[LiveCluster]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"real kube-apiserver scenarios: {reason}")
    try:
        binaries = build_binaries()
    except Unavailable as exc:
        pytest.skip(f"real kube-apiserver scenarios: {exc}")
    cluster = LiveCluster(binaries)
    try:
        cluster.__enter__()
    except Unavailable as exc:
        pytest.skip(f"real kube-apiserver scenarios: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass
class World:
    api: LiveCluster
    host: TestHost
    tap_ip: str
    metrics_ip: str
    injector_ip: str
    healthy_ip: str
    hung_ip: str
    tap_pod: str
    kubeconfig: Path
    limited_kubeconfig: Path


def _pod(
    name: str, ns: str, labels: dict[str, str], ports: list[tuple[str, int]], proxy: bool
) -> dict[str, Any]:
    containers: list[dict[str, Any]] = [
        {
            "name": labels.get("component", name),
            "image": "example.invalid/test:1",
            "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports],
        }
    ]
    if proxy:
        containers.append({"name": "linkerd-proxy", "image": "example.invalid/proxy:1"})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"nodeName": "node-a", "containers": containers, "automountServiceAccountToken": False},
    }


def _run_pod(api: LiveCluster, pod: dict[str, Any], ip: str) -> None:
    """Create the Pod and write the status its kubelet would: Running, Ready, at `ip`."""
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    api.create(f"/api/v1/namespaces/{ns}/pods", pod)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    api.apply_status(
        f"/api/v1/namespaces/{ns}/pods/{name}",
        {
            "status": {
                "phase": "Running",
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "hostIP": "198.51.100.1",
                "startTime": now,
                "conditions": [
                    {"type": t, "status": "True", "lastTransitionTime": now}
                    for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
                ],
                "containerStatuses": [
                    {
                        "name": c["name"],
                        "ready": True,
                        "restartCount": 0,
                        "image": c["image"],
                        "imageID": "",
                        "state": {"running": {"startedAt": now}},
                    }
                    for c in pod["spec"]["containers"]
                ],
            }
        },
    )


def _service(
    api: LiveCluster,
    ns: str,
    name: str,
    selector: dict[str, str],
    port_name: str,
    target: int,
    ready: list[tuple[str, str]],
) -> None:
    """A Service on 443 -> `port_name`, and the EndpointSlice the endpointslice controller would write
    (`ready`: (pod, ip) pairs; none gives the empty slice a selector without ready pods gets)."""
    api.create(
        f"/api/v1/namespaces/{ns}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "selector": selector,
                "ports": [{"name": port_name, "port": 443, "targetPort": port_name}],
            },
        },
    )
    api.create(
        f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{name}-test",
                "namespace": ns,
                "labels": {
                    "kubernetes.io/service-name": name,
                    "endpointslice.kubernetes.io/managed-by": "vizdoctor-tests",
                },
            },
            "addressType": "IPv4",
            "endpoints": [
                {
                    "addresses": [ip],
                    "conditions": {"ready": True, "serving": True, "terminating": False},
                    "nodeName": "node-a",
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": pod},
                }
                for pod, ip in ready
            ],
            "ports": [{"name": port_name, "port": target, "protocol": "TCP"}],
        },
    )


def _apiservice(api: LiveCluster, name: str, ns: str, svc: str, ca: bytes) -> None:
    version, group = name.split(".", 1)
    api.create(
        "/apis/apiregistration.k8s.io/v1/apiservices",
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": name},
            "spec": {
                "group": group,
                "version": version,
                "service": {"namespace": ns, "name": svc, "port": 443},
                "caBundle": _b64(ca),
                "groupPriorityMinimum": 1000,
                "versionPriority": 100,
            },
        },
    )


def _namespace(api: LiveCluster, name: str, labels: dict[str, str] | None = None) -> None:
    api.create(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}},
    )
    _service_account(api, name)


def _service_account(api: LiveCluster, name: str) -> None:
    """The `default` ServiceAccount that kube-controller-manager would create (Pod admission needs it)."""
    api.create(
        f"/api/v1/namespaces/{name}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}},
    )


def condition(api: LiveCluster, name: str) -> dict[str, Any]:
    obj = api.request("GET", f"/apis/apiregistration.k8s.io/v1/apiservices/{name}")
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Available":
            return dict(cond)
    return {}


def wait_for(what: str, probe: Callable[[], bool], timeout: float = SETTLE) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if probe():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout:g}s: {what}")


@pytest.fixture(scope="module")
def world(apiserver: LiveCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    api = apiserver
    folder = tmp_path_factory.mktemp("live")
    try:
        host = TestHost(5).__enter__()
    except Unavailable as exc:
        pytest.skip(f"real kube-apiserver scenarios: {exc}")
    try:
        tap_ip, metrics_ip, injector_ip, healthy_ip, hung_ip = host.hosts[:5]
        # One CA for the test backends, one serving certificate naming every Service they stand in for.
        ca = CA(folder, "backends-ca")
        names = (f"tap.{VIZ}.svc", f"tap-injector.{VIZ}.svc", f"healthy-api.{TEST_NS}.svc")
        leaf = ca.issue("backends", names[0], dns=names)
        host.serve_tls(leaf.cert, leaf.key, [(tap_ip, 8089), (injector_ip, 8443), (healthy_ip, 9443)])
        # the seed: tap's 8089 and the injector's 8443 drop packets, as a security group without the rule
        host.drop(tap_ip, 8089)
        host.drop(injector_ip, 8443)
        host.serve_silent(hung_ip, 9443)

        api.create("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}})
        _namespace(api, VIZ, {"linkerd.io/extension": "viz"})
        _namespace(api, TEST_NS)
        _service_account(
            api, "kube-system"
        )  # the namespace exists; its ServiceAccount comes from a controller
        _namespace(api, "monitoring")
        _namespace(api, WEBHOOK_NS, {"vizdoctor.test/tap-injector": "on"})

        tap_pod = "tap-6d8b7f9c5-t3y6j"
        tap_labels = {"linkerd.io/extension": "viz", "component": "tap"}
        _run_pod(api, _pod(tap_pod, VIZ, tap_labels, [("apis", 8089)], proxy=True), tap_ip)
        _service(api, VIZ, "tap", {"component": "tap"}, "apis", 8089, [(tap_pod, tap_ip)])
        api.create(
            f"/api/v1/namespaces/{VIZ}/secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {"name": "tap-k8s-tls", "namespace": VIZ},
                "data": {"tls.crt": _b64(leaf.pem()), "tls.key": _b64(leaf.key.read_bytes())},
            },
        )
        for kind in ("clusterroles", "clusterrolebindings"):
            for n in (f"linkerd-{VIZ}-tap", f"linkerd-{VIZ}-metrics-api", "linkerd-tap-injector"):
                _rbac(api, kind, n)
        _rbac(api, "clusterroles", f"linkerd-{VIZ}-tap-admin")
        _rbac(api, "clusterrolebindings", f"linkerd-{VIZ}-tap-auth-delegator")
        _apiservice(api, TAP, VIZ, "tap", ca.cert_file.read_bytes())

        injector_pod = "tap-injector-5c9f7d8b6-x2x7q"
        _run_pod(
            api,
            _pod(
                injector_pod,
                VIZ,
                {"linkerd.io/extension": "viz", "component": "tap-injector"},
                [("tap-injector", 8443)],
                True,
            ),
            injector_ip,
        )
        _service(
            api,
            VIZ,
            "tap-injector",
            {"component": "tap-injector"},
            "tap-injector",
            8443,
            [(injector_pod, injector_ip)],
        )
        api.create(
            "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "MutatingWebhookConfiguration",
                "metadata": {"name": "linkerd-tap-injector-webhook-config"},
                "webhooks": [
                    {
                        "name": TAP_INJECTOR,
                        "clientConfig": {
                            "service": {"namespace": VIZ, "name": "tap-injector", "path": "/", "port": 443},
                            "caBundle": _b64(ca.cert_file.read_bytes()),
                        },
                        "rules": [
                            {
                                "operations": ["CREATE"],
                                "apiGroups": [""],
                                "apiVersions": ["v1"],
                                "resources": ["pods"],
                            }
                        ],
                        # only the namespace the test writes to: the setup's own Pods are not held up
                        "namespaceSelector": {"matchLabels": {"vizdoctor.test/tap-injector": "on"}},
                        "failurePolicy": "Fail",
                        "sideEffects": "None",
                        "admissionReviewVersions": ["v1"],
                        "timeoutSeconds": 3,
                    }
                ],
            },
        )

        metrics_pod = "metrics-server-7cd5fcb6b7-4wv9l"
        _run_pod(
            api,
            _pod(metrics_pod, "kube-system", {"k8s-app": "metrics-server"}, [("https", 10250)], False),
            metrics_ip,
        )
        _service(
            api,
            "kube-system",
            "metrics-server",
            {"k8s-app": "metrics-server"},
            "https",
            10250,
            [(metrics_pod, metrics_ip)],
        )
        _apiservice(api, METRICS, "kube-system", "metrics-server", ca.cert_file.read_bytes())

        _service(api, "monitoring", "prometheus-adapter", {"app": "prometheus-adapter"}, "https", 6443, [])
        _apiservice(api, ADAPTER, "monitoring", "prometheus-adapter", ca.cert_file.read_bytes())

        healthy_pod = "healthy-api-0"
        _run_pod(
            api, _pod(healthy_pod, TEST_NS, {"app": "healthy-api"}, [("https", 9443)], False), healthy_ip
        )
        _service(
            api, TEST_NS, "healthy-api", {"app": "healthy-api"}, "https", 9443, [(healthy_pod, healthy_ip)]
        )
        _apiservice(api, HEALTHY, TEST_NS, "healthy-api", ca.cert_file.read_bytes())

        _run_pod(api, _pod("hung-api-0", TEST_NS, {"app": "hung-api"}, [("https", 9443)], False), hung_ip)
        _service(api, TEST_NS, "hung-api", {"app": "hung-api"}, "https", 9443, [("hung-api-0", hung_ip)])
        _apiservice(api, HUNG, TEST_NS, "hung-api", ca.cert_file.read_bytes())

        _limited_user(api)
        world = World(
            api,
            host,
            tap_ip,
            metrics_ip,
            injector_ip,
            healthy_ip,
            hung_ip,
            tap_pod,
            api.kubeconfig(folder / "admin.kubeconfig", ADMIN),
            api.kubeconfig(folder / "limited.kubeconfig", LIMITED),
        )
        wait_for(
            "every APIService has its condition",
            lambda: (
                condition(api, TAP).get("reason") == "FailedDiscoveryCheck"
                and condition(api, METRICS).get("reason") == "FailedDiscoveryCheck"
                and condition(api, ADAPTER).get("reason") == "MissingEndpoints"
                and condition(api, HEALTHY).get("status") == "True"
            ),
        )
        yield world
    finally:
        host.close()


def _rbac(api: LiveCluster, kind: str, name: str) -> None:
    if kind == "clusterroles":
        body: dict[str, Any] = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": [],
        }
    else:
        body = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": "tap", "namespace": VIZ}],
        }
    api.create(f"/apis/rbac.authorization.k8s.io/v1/{kind}", body)


# What the limited user may not list: Pods and Nodes. Everything else comes from docs/live.md's read-only
# ClusterRoles, so that this also tests that the documented role is enough for the rest.
LIMITED_DENIED = {("", "pods"), ("", "nodes")}


def documented_rules() -> list[dict[str, Any]]:
    import yaml

    text = (ROOT / "docs" / "live.md").read_text()
    block = text.split("## Permissions", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    rules: list[dict[str, Any]] = []
    for doc in yaml.safe_load_all(block):
        if (
            doc
            and doc.get("kind") == "ClusterRole"
            and doc["metadata"]["name"] in ("vizdoctor-read", "vizdoctor-read-tls")
        ):
            rules += doc["rules"]
    return rules


def _limited_user(api: LiveCluster) -> None:
    rules = []
    for rule in documented_rules():
        resources = [r for r in rule["resources"] if (rule["apiGroups"][0], r) not in LIMITED_DENIED]
        if resources:
            rules.append({**rule, "resources": resources})
    api.create(
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "vizdoctor-partial"},
            "rules": rules,
        },
    )
    api.create(
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "vizdoctor-partial"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "vizdoctor-partial",
            },
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": LIMITED}],
        },
    )


# --- running vizdoctor -----------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    drop = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "kubeconfig")
    return {k: v for k, v in os.environ.items() if k.lower() not in drop}


def vizdoctor(*args: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "vizdoctor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def check_json(config: Path, *args: str) -> tuple[int, dict[str, Any]]:
    rc, out, err = vizdoctor("check", "--kubeconfig", str(config), "--no-aws", "-o", "json", *args)
    assert rc in (0, 1), err
    doc: dict[str, Any] = json.loads(out)
    return rc, doc


def findings(doc: dict[str, Any], check_id: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        f
        for f in doc["findings"]
        if f["check"] == check_id and (name is None or (f.get("object") or {}).get("name") == name)
    ]


# --- scenarios -------------------------------------------------------------------------------------------


def test_seed_the_real_aggregator_times_out_on_8089_and_check_names_network_blocked(world: World) -> None:
    cond = condition(world.api, TAP)
    # What the real kube-aggregator writes when the endpoint drops packets
    assert cond["status"] == "False" and cond["reason"] == "FailedDiscoveryCheck"
    # kube-apiserver 1.37 writes the bare deadline of its 5 s discovery client, not the seed's (EKS) form
    # `dial tcp <ip>:8089: i/o timeout`; the pod proxy below still shows the dial timeout.
    url = f"https://{world.tap_ip}:8089/apis/tap.linkerd.io/v1alpha1"
    assert re.fullmatch(DEADLINE.format(url=re.escape(url)), cond["message"]), cond["message"]

    rc, doc = check_json(world.kubeconfig)
    assert rc == 1
    [tap] = findings(doc, "apiservice-unavailable", TAP)
    assert tap["category"] == "linkerd-viz" and tap["title"] == "tap API service is running"
    assert tap["extra"]["cause"] == "network-blocked", tap["message"]
    assert tap["extra"]["port"] == "8089" and tap["extra"]["ip"] == world.tap_ip
    assert cond["message"] in tap["message"]  # the real text, quoted whole
    assert f"{world.tap_ip} is pod {VIZ}/{world.tap_pod} on node node-a, Running and ready" in tap["message"]
    assert "8089" in tap["hint"] and "not the Service port 443" in tap["hint"]
    # and says what the text cannot decide (a hung server reads the same), and what decides it
    assert (
        "does not tell the two apart" in tap["message"] and "pods/https:<pod>:<port>/proxy/" in tap["message"]
    )
    assert doc["live"]["viz_namespace"] == VIZ and doc["live"]["cannot_read"] == []
    # the tap certificate in the real Secret is trusted by the APIService's caBundle
    passed = {p["title"] for p in doc["passed"] if p["category"] == "linkerd-viz"}
    assert {
        "tap API server has valid cert",
        "linkerd-viz ClusterRoles exist",
        "linkerd-viz pods are injected",
    } <= passed


def test_text_output_of_the_seed_shows_the_cause_and_fix(world: World) -> None:
    rc, out, _ = vizdoctor("check", "--kubeconfig", str(world.kubeconfig), "--no-aws", "--color", "never")
    assert rc == 1
    assert f"vizdoctor check: cluster real-apiserver ({world.api.url})" in out
    assert "× tap API service is running" in out
    assert "Cause: network-blocked" in out and f"at {world.tap_ip}:8089 timed out" in out


def test_hung_server_reads_like_a_drop_in_the_condition(world: World) -> None:
    """A server that accepts the connection and never answers gets the same condition text as a dropped
    connection: vizdoctor's finding must say that the text cannot tell them apart."""
    cond = condition(world.api, HUNG)
    url = f"https://{world.hung_ip}:9443/apis/hung.vizdoctor.test/v1alpha1"
    assert re.fullmatch(DEADLINE.format(url=re.escape(url)), cond["message"]), cond["message"]
    _, doc = check_json(world.kubeconfig)
    [hung] = findings(doc, "apiservice-unavailable", HUNG)
    assert hung["extra"]["port"] == "9443" and "does not tell the two apart" in hung["message"]
    assert "`net/http: TLS handshake timeout` after 10 s when the server hangs" in hung["message"]


def test_refused_port_is_connection_refused(world: World) -> None:
    cond = condition(world.api, METRICS)
    assert cond["reason"] == "FailedDiscoveryCheck"
    assert f"dial tcp {world.metrics_ip}:10250: connect: connection refused" in cond["message"]
    _, doc = check_json(world.kubeconfig)
    [metrics] = findings(doc, "apiservice-unavailable", METRICS)
    assert metrics["extra"]["cause"] == "connection-refused" and metrics["extra"]["port"] == "10250"
    assert f"{world.metrics_ip} is pod kube-system/metrics-server-7cd5fcb6b7-4wv9l" in metrics["message"]


def test_service_without_endpoints_is_missing_endpoints(world: World) -> None:
    cond = condition(world.api, ADAPTER)
    assert cond["reason"] == "MissingEndpoints"
    assert (
        'endpointslices for service/prometheus-adapter in "monitoring" have no addresses' in cond["message"]
    )
    _, doc = check_json(world.kubeconfig)
    [adapter] = findings(doc, "apiservice-unavailable", ADAPTER)
    assert (
        adapter["extra"]["cause"] == "no-ready-endpoints" and adapter["extra"]["reason"] == "MissingEndpoints"
    )


def test_healthy_backend_is_available_and_not_reported(world: World) -> None:
    cond = condition(world.api, HEALTHY)
    assert cond["status"] == "True" and cond["reason"] == "Passed"
    # the aggregator really proxies to it
    doc = world.api.request("GET", "/apis/healthy.vizdoctor.test/v1alpha1")
    assert doc["kind"] == "APIResourceList"
    _, report = check_json(world.kubeconfig)
    assert findings(report, "apiservice-unavailable", HEALTHY) == []
    assert {f["object"]["name"] for f in findings(report, "apiservice-unavailable")} == {
        TAP,
        METRICS,
        ADAPTER,
        HUNG,
    }


def test_webhook_behind_a_dropping_endpoint_fails_the_create_and_explain_decodes_it(world: World) -> None:
    pod = _pod("app", WEBHOOK_NS, {"app": "demo"}, [], False)
    with pytest.raises(ApiError) as err:
        world.api.create(f"/api/v1/namespaces/{WEBHOOK_NS}/pods", pod)
    status = json.loads(err.value.body)
    message = status["message"]
    assert err.value.status == 500 and status["reason"] == "InternalError"
    # the URL keeps the Service's name; the connection goes to the endpoint (aggregator routing)
    assert message == (
        f'Internal error occurred: failed calling webhook "{TAP_INJECTOR}": failed to call webhook: Post '
        f'"https://tap-injector.{VIZ}.svc:443/?timeout=3s": context deadline exceeded'
    )
    rc, out, err_text = vizdoctor("explain", "-o", "json", message)
    assert rc == 0, err_text  # a known cause (1: no pattern matched)
    doc = json.loads(out)
    assert doc["cause"] == "network-blocked"
    assert doc["object"] == {"kind": "MutatingWebhook", "name": TAP_INJECTOR}
    # It was the dropped endpoint that timed out (not a name lookup): with the port open, the call reaches
    # the test backend, which has no admission handler.
    world.host.lift(world.injector_ip, 8443)
    try:
        with pytest.raises(ApiError) as err:
            world.api.create(f"/api/v1/namespaces/{WEBHOOK_NS}/pods", pod)
    finally:
        world.host.drop(world.injector_ip, 8443)
    reached = json.loads(err.value.body)["message"]
    assert f'failed calling webhook "{TAP_INJECTOR}"' in reached and "deadline" not in reached, reached


def _proxy(api: LiveCluster, path: str) -> tuple[int, str]:
    try:
        return 200, str(api.request("GET", path, raw=True, timeout=90))
    except ApiError as exc:
        return exc.status, exc.body


def test_service_and_pod_proxy_answers_open_and_blocked(world: World) -> None:
    """The control-plane probe through the apiserver's proxy: what the real apiserver answers."""
    paths = {
        "svc-open": f"/api/v1/namespaces/{TEST_NS}/services/https:healthy-api:443/proxy/",
        "pod-open": f"/api/v1/namespaces/{TEST_NS}/pods/https:healthy-api-0:9443/proxy/",
        "svc-blocked": f"/api/v1/namespaces/{VIZ}/services/https:tap:443/proxy/",
        "pod-blocked": f"/api/v1/namespaces/{VIZ}/pods/https:{world.tap_pod}:8089/proxy/",
        "svc-hung": f"/api/v1/namespaces/{TEST_NS}/services/https:hung-api:443/proxy/",
        "pod-hung": f"/api/v1/namespaces/{TEST_NS}/pods/https:hung-api-0:9443/proxy/",
        "pod-refused": "/api/v1/namespaces/kube-system/pods/https:metrics-server-7cd5fcb6b7-4wv9l:10250/proxy/",
    }
    answers: dict[str, tuple[int, str]] = {}

    def one(key: str) -> None:
        answers[key] = _proxy(world.api, paths[key])

    threads = [threading.Thread(target=one, args=(k,)) for k in paths]  # the blocked ones wait for the dial
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert answers["svc-open"] == (200, f"vizdoctor test backend on {world.healthy_ip}:9443\n")
    assert answers["pod-open"] == (200, f"vizdoctor test backend on {world.healthy_ip}:9443\n")
    expected = {
        # the proxy's own dial gives up after 30 s: the network drops the connection
        "svc-blocked": (f"dial tcp {world.tap_ip}:8089: i/o timeout", "network-blocked"),
        "pod-blocked": (f"dial tcp {world.tap_ip}:8089: i/o timeout", "network-blocked"),
        # connected, then no TLS answer within 10 s: the port is open, the server hangs
        "svc-hung": ("net/http: TLS handshake timeout", "connection-reset"),
        "pod-hung": ("net/http: TLS handshake timeout", "connection-reset"),
        "pod-refused": (
            f"dial tcp {world.metrics_ip}:10250: connect: connection refused",
            "connection-refused",
        ),
    }
    for key, (text, cause) in expected.items():
        status, body = answers[key]
        assert status == 503, (key, status, body)
        doc = json.loads(body)
        assert (
            doc["reason"] == "ServiceUnavailable"
            and doc["message"] == f"error trying to reach service: {text}"
        )
        rc, out, _ = vizdoctor("explain", "-o", "json", body)
        assert rc == 0, (key, out)
        explained = json.loads(out)
        assert explained["cause"] == cause, (key, explained)
    blocked = json.loads(vizdoctor("explain", "-o", "json", answers["pod-blocked"][1])[1])
    assert blocked["port"] == 8089 and blocked["ip"] == world.tap_ip


def test_user_without_list_rights_gets_cannot_read_and_the_rest_is_checked(world: World) -> None:
    rc, doc = check_json(world.limited_kubeconfig)
    assert rc == 1
    denied = {(c["group"], c["resource"]): c for c in doc["live"]["cannot_read"]}
    assert set(denied) == LIMITED_DENIED, denied
    assert denied[("", "pods")]["status"] == 403
    assert denied[("", "pods")]["message"] == (
        f'pods is forbidden: User "{LIMITED}" cannot list resource "pods" in API group "" at the cluster scope'
    )
    by_title = {f["title"]: f for f in findings(doc, "cannot-read")}
    assert set(by_title) == {"can list pods", "can list nodes"}
    pods = by_title["can list pods"]
    assert pods["severity"] == "warning"
    assert f'403 pods is forbidden: User "{LIMITED}" cannot list resource "pods"' in pods["message"]
    assert '- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["get", "list"]' in pods["hint"]
    # the rest is still checked: the tap APIService is still decoded from its real condition
    [tap] = findings(doc, "apiservice-unavailable", TAP)
    assert tap["extra"]["cause"] == "network-blocked" and tap["extra"]["port"] == "8089"


def test_pagination_of_the_real_apiserver(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pages of 2 with the real continue tokens give the same objects as pages of 500."""
    from vizdoctor.cli import main
    from vizdoctor.sources import kube

    for k in list(os.environ):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "kubeconfig"):
            monkeypatch.delenv(k)
    main(["check", "--kubeconfig", str(world.kubeconfig), "--no-aws", "-o", "json"])
    whole = json.loads(capsys.readouterr().out)["live"]["objects"]
    monkeypatch.setattr(kube, "PAGE_SIZE", 2)
    main(["check", "--kubeconfig", str(world.kubeconfig), "--no-aws", "-o", "json"])
    paged = json.loads(capsys.readouterr().out)["live"]["objects"]
    assert paged == whole
    assert whole["APIService"] > 2 and whole["Namespace"] > 2 and whole["Pod"] == 5


def test_wait_turns_green_when_the_drop_rule_is_lifted(world: World) -> None:
    """Last: it repairs the cluster. The other broken APIServices go, then the rule is lifted mid-run."""
    api = world.api
    for name in (METRICS, ADAPTER, HUNG):
        api.delete(f"/apis/apiregistration.k8s.io/v1/apiservices/{name}")
    api.delete(
        "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/linkerd-tap-injector-webhook-config"
    )
    assert condition(api, TAP)["status"] == "False"
    timer = threading.Timer(8.0, world.host.lift, args=(world.tap_ip, 8089))
    timer.start()
    try:
        began = time.monotonic()
        rc, out, err = vizdoctor(
            "check",
            "--kubeconfig",
            str(world.kubeconfig),
            "--no-aws",
            "--wait",
            "150s",
            "--interval",
            "3s",
            "--color",
            "never",
            timeout=240,
        )
    finally:
        timer.cancel()
        timer.join()
    took = time.monotonic() - began
    assert "attempt 1: " in err and "checking again" in err  # it was red first
    assert rc == 0, out
    assert "√ tap API service is running" in out
    assert took < 150
    assert condition(api, TAP)["status"] == "True"
