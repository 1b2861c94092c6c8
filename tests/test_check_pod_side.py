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
