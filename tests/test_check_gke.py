"""`check` on GKE: the cluster and its firewall rules from the Google Cloud APIs through the official clients
(REST transport, anonymous credentials) against a local server serving recorded answers; the cluster's objects
from tests/kube_server.py with the seed's workloads on GKE nodes."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kube_server import FakeKube, Objects, kubeconfig, load
from vizdoctor import check as check_api
from vizdoctor.live import CheckOptions

pytest.importorskip("google.cloud.container_v1")
pytest.importorskip("google.cloud.compute_v1")

API = json.loads((Path(__file__).parent / "fixtures" / "gke" / "api.json").read_text())


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "kubeconfig"):
            monkeypatch.delenv(k)


@contextmanager
def google(status: int = 200) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            seen.append((self.command, self.path))
            if status != 200:
                body: Any = {
                    "error": {
                        "code": status,
                        "message": "The caller does not have permission",
                        "status": "PERMISSION_DENIED",
                    }
                }
            elif "/clusters" in self.path:
                body = API["clusters"]
            elif self.path.startswith("/compute/v1/projects/example-project/global/firewalls"):
                body = API["firewalls"]
            else:
                body = {"error": {"code": 404, "message": "not found"}}
            data = json.dumps(body).encode()
            self.send_response(status if status != 200 or "error" not in body else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PATCH = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
    assert {m for m, _ in seen} <= {"GET"}  # read-only


def on_gke(objects: Objects) -> Objects:
    for i, node in enumerate(objects["Node"]):
        name = node["metadata"]["name"]
        node["metadata"]["labels"] = {
            "kubernetes.io/hostname": name,
            "cloud.google.com/gke-nodepool": "general",
            "topology.kubernetes.io/zone": "europe-west1-b",
        }
        node["spec"]["providerID"] = f"gce://example-project/europe-west1-b/gke-viz-private-general-{i}"
    return objects


def run(tmp_path: Path, endpoint: str, **kw: Any) -> Any:
    with FakeKube(on_gke(load())) as server:
        config = kubeconfig(tmp_path, server.url)
        return check_api(CheckOptions(kubeconfig=str(config), aws=False, gcp_endpoint_url=endpoint, **kw))


def test_live_gke_firewall_blocks_tap_and_opens_the_injector(tmp_path: Path) -> None:
    with google() as (url, seen):
        report = run(tmp_path, url)
    assert ("GET", "/compute/v1/projects/example-project/global/firewalls") in seen
    paths = {p.target.name: p for p in report.paths}
    assert paths["linkerd-proxy-injector.linkerd.io"].status == "open"
    assert "gke-viz-private-webhooks" in paths["linkerd-proxy-injector.linkerd.io"].reason
    tap = paths["v1alpha1.tap.linkerd.io"]
    assert tap.status == "blocked", tap.reason
    f = next(f for f in report.findings if f.check == "control-plane-unreachable" and "tap" in f.title)
    assert f.fix is not None and f.fix.aws_cli is not None
    assert (
        "--source-ranges 172.16.0.0/28 --target-tags gke-viz-private-1a2b3c4d-node --allow tcp:8089"
        in f.fix.aws_cli
    )
    assert "master_ipv4_cidr_block" in f.hint


def test_live_gke_without_permission_leaves_the_paths_unknown(tmp_path: Path) -> None:
    with google(status=403) as (url, _):
        report = run(tmp_path, url)
    [err] = [f for f in report.findings if f.check == "gcp-network-not-read"]
    assert err.severity == "warning" and "permission" in err.message.lower()
    assert {p.status for p in report.paths if p.target.service} <= {"unknown"}


def test_live_gke_names_the_cluster_when_node_pools_do_not_decide(tmp_path: Path) -> None:
    with google() as (url, _):
        report = run(tmp_path, url, cluster_name="nope")
    [err] = [f for f in report.findings if f.check == "gcp-network-not-read"]
    assert "viz-private, other" in err.message
