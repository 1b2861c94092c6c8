"""`vizdoctor check` reads what decides the pod side of a path: CNI DaemonSets, NetworkPolicies (and the
optional Cilium, Calico and Linkerd kinds), and judges it as `scan` does. Against tests/kube_server.py with
the seed's recorded objects; every request stays a GET."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kube_server import FakeKube, Objects, find, kubeconfig, load
from vizdoctor import check as check_api
from vizdoctor.live import CheckOptions

FIX = Path(__file__).parent / "fixtures" / "pod_side"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "kubeconfig"):
            monkeypatch.delenv(k)


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((FIX / name).read_text()) if d]


def _add(objects: Objects, *docs: dict[str, Any]) -> None:
    for d in docs:
        objects.setdefault(d["kind"], []).append(copy.deepcopy(d))


def _run(tmp_path: Path, objects: Objects) -> tuple[dict[str, list[Any]], FakeKube]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    with FakeKube(objects) as server:
        config = kubeconfig(tmp_path, server.url)
        report = check_api(CheckOptions(kubeconfig=str(config), aws=False))
    assert server.methods() <= {"GET"}
    by: dict[str, list[Any]] = {}
    for f in report.findings:
        by.setdefault(f.check, []).append(f)
    return by, server


def _tap(findings: list[Any]) -> Any:
    hits = [f for f in findings if f.title.startswith("APIService v1alpha1.tap.linkerd.io")]
    assert len(hits) == 1, [f.title for f in findings]
    return hits[0]


def test_live_calico_overlay_and_default_deny_policy_in_linkerd_viz(tmp_path: Path) -> None:
    objects = load()
    _add(objects, *_docs("calico-vxlan.yaml"), *_docs("viz-default-deny.yaml"))
    by, server = _run(tmp_path, objects)
    tap = _tap(by["pod-network-unreachable"])
    assert tap.severity == "error" and "CALICO_IPV4POOL_VXLAN=Always" in tap.message
    assert "eks.amazonaws.com/ labels" in tap.message
    blocked = _tap(by["network-policy-blocks-apiserver"])
    assert blocked.severity == "error" and "Calico (DaemonSet kube-system/calico-node)" in blocked.message
    assert "/apis/networking.k8s.io/v1/networkpolicies" in server.paths()


def test_live_without_any_policy_enforcer_the_policies_do_not_bite(tmp_path: Path) -> None:
    """check read every DaemonSet, and none enforces NetworkPolicies: the deny policy is inert."""
    objects = load()
    _add(objects, *_docs("viz-default-deny.yaml"))
    objects.setdefault("DaemonSet", []).append(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "aws-node", "namespace": "kube-system"},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "aws-node", "image": "amazon-k8s-cni:v1.18.3"},
                            {
                                "name": "aws-network-policy-agent",
                                "args": ["--enable-network-policy=false"],
                            },
                        ]
                    }
                }
            },
        }
    )
    by, _ = _run(tmp_path, objects)
    assert "network-policy-blocks-apiserver" not in by
    # the same agent with network policy turned on enforces it
    agent = objects["DaemonSet"][-1]["spec"]["template"]["spec"]["containers"][1]
    agent["args"] = ["--enable-network-policy=true"]
    by, _ = _run(tmp_path / "on", objects)
    assert "--enable-network-policy=true" in _tap(by["network-policy-blocks-apiserver"]).message


def test_live_cilium_policy_is_read_when_its_crd_is_installed(tmp_path: Path) -> None:
    objects = load()
    _add(objects, *_docs("cilium.yaml"))
    _add(
        objects,
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "viz-from-cluster", "namespace": "linkerd-viz"},
            "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]},
        },
    )
    by, server = _run(tmp_path, objects)
    assert "/apis/cilium.io/v2/ciliumnetworkpolicies" in server.paths()
    tap = _tap(by["network-policy-blocks-apiserver"])
    assert "CiliumNetworkPolicy viz-from-cluster" in tap.message
    # the cilium-config ConfigMap is not read live: the overlay is undecided, reported as unknown
    assert _tap(by["pod-network-unreachable"]).severity == "warning"


def test_live_linkerd_proxy_default_policy_deny(tmp_path: Path) -> None:
    objects = load()
    pod = find(objects, "Pod", "tap-6d8b7f9c5-t3y6j")
    proxy = next(c for c in pod["spec"]["containers"] if c["name"] == "linkerd-proxy")
    proxy["env"] = [{"name": "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY", "value": "deny"}]
    by, _ = _run(tmp_path, objects)
    tap = _tap(by["mesh-policy-blocks-apiserver"])
    assert "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY" in tap.message
    proxy["env"][0]["value"] = "all-unauthenticated"
    by, _ = _run(tmp_path / "ok", objects)
    assert "mesh-policy-blocks-apiserver" not in by


def test_live_fargate_pod_serving_on_10250(tmp_path: Path) -> None:
    objects = load()
    node = copy.deepcopy(objects["Node"][0])
    node["metadata"]["name"] = "fargate-ip-10-0-2-9.ap-northeast-2.compute.internal"
    node["metadata"]["labels"] = {"eks.amazonaws.com/compute-type": "fargate"}
    objects["Node"].append(node)
    pod = find(objects, "Pod", "tap-6d8b7f9c5-t3y6j")
    pod["spec"]["nodeName"] = node["metadata"]["name"]
    for c in pod["spec"]["containers"]:
        for p in c.get("ports") or []:
            if p.get("name") == "apiserver":
                p["containerPort"] = 10250
    for d in objects["Deployment"]:
        if d["metadata"]["name"] == "tap":
            for c in d["spec"]["template"]["spec"]["containers"]:
                for p in c.get("ports") or []:
                    if p.get("name") == "apiserver":
                        p["containerPort"] = 10250
    by, _ = _run(tmp_path, objects)
    tap = _tap(by["kubelet-port-conflict"])
    assert "Fargate node fargate-ip-10-0-2-9" in tap.message, json.dumps(tap.message)


# -- check --probe ---------------------------------------------------------------------------------------------

# The kube-apiserver's proxy answers as it sends them (k8s.io/apimachinery pkg/util/proxy: a Status with
# `error trying to reach service: <dial error>`), and a backend's own answer (Go net/http's NotFound text).
TIMEOUT = (
    503,
    {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "error trying to reach service: dial tcp 10.0.1.23:8089: i/o timeout",
        "reason": "ServiceUnavailable",
        "code": 503,
    },
)
BACKEND_404 = (404, "404 page not found\n")
TAP_SVC = "/api/v1/namespaces/linkerd-viz/services/https:tap:443/proxy/"
TAP_POD = "/api/v1/namespaces/linkerd-viz/pods/https:tap-6d8b7f9c5-t3y6j:8089/proxy/"


def _probe(tmp_path: Path, objects: Objects, proxy: dict[str, tuple[int, Any]]) -> tuple[Any, FakeKube]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    with FakeKube(objects, proxy=proxy) as server:
        config = kubeconfig(tmp_path, server.url)
        report = check_api(CheckOptions(kubeconfig=str(config), aws=False, probe=True))
    assert server.methods() <= {"GET"}
    return report, server


def test_probe_measures_a_blocked_path_and_keeps_the_reason(tmp_path: Path) -> None:
    objects = load()
    _add(objects, *_docs("cilium.yaml"))  # cilium-config is not read live: the overlay is unknown
    report, server = _probe(tmp_path, objects, {TAP_SVC: TIMEOUT, TAP_POD: TIMEOUT})
    assert TAP_SVC in server.paths() and TAP_POD in server.paths()
    probe = [f for f in report.findings if f.check == "control-plane-probe" and "tap.linkerd.io" in f.title]
    assert len(probe) == 1 and probe[0].severity == "error"
    assert "i/o timeout" in probe[0].message and "eks.amazonaws.com/nodegroup=default" in probe[0].message
    # the unknown about the same path is settled by the measurement
    assert not [
        f for f in report.findings if f.check == "pod-network-unreachable" and "tap.linkerd.io" in f.title
    ]


def test_probe_measures_an_open_path_and_drops_what_could_not_decide_it(tmp_path: Path) -> None:
    objects = load()
    _add(objects, *_docs("cilium.yaml"))
    report, _ = _probe(tmp_path, objects, {TAP_SVC: BACKEND_404, TAP_POD: BACKEND_404})
    assert not [
        f for f in report.findings if "tap.linkerd.io" in f.title and f.check != "apiservice-unavailable"
    ]
    assert any("measured open" in p.title and "tap.linkerd.io" in p.title for p in report.passed)
    # the apiserver's own 404 for the tap-injector (no answer recorded here) measures nothing
    injector = [f for f in report.findings if f.check == "control-plane-probe" and "tap-injector" in f.title]
    assert [f.severity for f in injector] == ["warning"]


def test_probe_without_rbac_says_so(tmp_path: Path) -> None:
    forbidden = (
        403,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": 'services "https:tap:443" is forbidden: User "vizdoctor" cannot get resource '
            '"services/proxy" in API group "" in the namespace "linkerd-viz"',
            "reason": "Forbidden",
            "code": 403,
        },
    )
    report, _ = _probe(tmp_path, load(), {TAP_SVC: forbidden, TAP_POD: forbidden})
    f = next(f for f in report.findings if f.check == "control-plane-probe" and "tap.linkerd.io" in f.title)
    assert f.severity == "warning" and "services/proxy" in f.hint


def test_probe_classification() -> None:
    from vizdoctor.sources.proxy_probe import classify

    def status(code: int, message: str) -> bytes:
        return json.dumps({"kind": "Status", "message": message, "code": code}).encode()

    assert (
        classify(503, status(503, "error trying to reach service: dial tcp 10.0.1.23:8089: i/o timeout"))[0]
        == "blocked"
    )
    assert (
        classify(
            503,
            status(
                503, "error trying to reach service: dial tcp 10.0.1.23:8089: connect: connection refused"
            ),
        )[0]
        == "refused"
    )
    assert classify(503, status(503, 'no endpoints available for service "tap"'))[0] == "no-endpoints"
    assert (
        classify(
            502,
            status(
                502,
                "error trying to reach service: read tcp 1.2.3.4:1->5.6.7.8:8089: read: connection reset by peer",
            ),
        )[0]
        == "reset"
    )
    assert classify(503, b"upstream says no")[0] == "open"  # the backend's own 503
    assert classify(401, b"Unauthorized")[0] == "open"
    assert classify(404, status(404, 'services "tap" not found'))[0] == "no-answer"


def test_the_probe_role_grants_only_get_on_the_proxy_subresources() -> None:
    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "live.md").read_text()
    docs = list(yaml.safe_load_all(text.split("```yaml", 1)[1].split("```", 1)[0]))
    roles = {d["metadata"]["name"]: d["rules"] for d in docs if d and d["kind"] == "ClusterRole"}
    assert roles["vizdoctor-probe"] == [
        {"apiGroups": [""], "resources": ["services/proxy", "pods/proxy"], "verbs": ["get"]}
    ]
    assert not any(
        "proxy" in r for rules in (roles["vizdoctor-read"],) for rule in rules for r in rule["resources"]
    )
