"""`vizdoctor check` against a fake API server (tests/kube_server.py): check's real client, a real
HTTP server on 127.0.0.1, objects recorded from examples/seed-eks with the status a live cluster adds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from kube_server import KEY_MARKER, FakeKube, Objects, Request, add_certificates, find, kubeconfig, load
from vizdoctor.cli import main
from vizdoctor.commands.check import parse_duration
from vizdoctor.sources import kube

pytest.importorskip("cryptography")

SEED_MESSAGE = (
    "failing or missing response from https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1: Get "
    '"https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1": dial tcp 10.0.1.23:8089: i/o timeout'
)
TAP_POD = "tap-6d8b7f9c5-t3y6j"
ALL_REQUESTS: list[Request] = []  # every request of every scenario: (f) every one is a GET


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client honours *_PROXY; the fake server is on 127.0.0.1."""
    for k in list(os.environ):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "kubeconfig"):
            monkeypatch.delenv(k)


def clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "kubeconfig")
    }


def cluster(**cert_options: Any) -> tuple[Objects, dict[tuple[str, str], dict[str, Any]]]:
    objects = load()
    return objects, add_certificates(objects, **cert_options).secrets


def tap_unavailable(objects: Objects, reason: str, message: str) -> None:
    cond = find(objects, "APIService", "v1alpha1.tap.linkerd.io")["status"]["conditions"][0]
    cond.update(status="False", reason=reason, message=message)


@contextmanager
def served(objects: Objects, secrets: dict[tuple[str, str], dict[str, Any]], **kw: Any) -> Iterator[FakeKube]:
    with FakeKube(objects, secrets, **kw) as server:
        yield server
    ALL_REQUESTS.extend(server.requests)
    assert server.methods() <= {"GET"}, server.methods()


def check(
    capsys: pytest.CaptureFixture[str], server: FakeKube, tmp_path: Path, *args: str, **kc: Any
) -> tuple[int, str, str]:
    config = kubeconfig(tmp_path, server.url, **kc)
    # The seed's nodes are on AWS (aws:// provider ids); the AWS read has its own test against moto
    # (test_check_aws.py), so these never reach for AWS.
    rc = main(["check", "--kubeconfig", str(config), "--no-aws", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert KEY_MARKER not in out + err
    return rc, out, err


def check_json(
    capsys: pytest.CaptureFixture[str], server: FakeKube, tmp_path: Path, *args: str, **kc: Any
) -> tuple[int, dict[str, Any]]:
    rc, out, _ = check(capsys, server, tmp_path, "-o", "json", *args, **kc)
    doc: dict[str, Any] = json.loads(out)
    return rc, doc


def findings(doc: dict[str, Any], check_id: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["check"] == check_id]


def passed(doc: dict[str, Any], category: str) -> list[str]:
    return [p["title"] for p in doc["passed"] if p["category"] == category]


# (a) the seed ---------------------------------------------------------------------------------------------


def test_seed_tap_apiservice_failed_discovery_is_an_error_with_cause_network_blocked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()
    tap_unavailable(objects, "FailedDiscoveryCheck", SEED_MESSAGE)
    with served(objects, secrets) as server:
        rc, doc = check_json(capsys, server, tmp_path)
    assert rc == 1
    [tap] = findings(doc, "apiservice-unavailable")
    assert tap["severity"] == "error" and tap["category"] == "linkerd-viz"
    assert tap["title"] == "tap API service is running"
    assert tap["extra"]["cause"] == "network-blocked" and tap["extra"]["port"] == "8089"
    assert tap["extra"]["ip"] == "10.0.1.23" and tap["extra"]["reason"] == "FailedDiscoveryCheck"
    msg = tap["message"]
    assert "FailedDiscoveryCheck: failing or missing response" in msg
    assert f"10.0.1.23 is pod linkerd-viz/{TAP_POD}" in msg
    assert "aws:///ap-northeast-2a/i-0123456789abcdef0" in msg
    assert "Websocket close error [1011: Internal Error]" in msg and "only warns" in msg
    assert "8089" in tap["hint"] and "GKE" not in tap["hint"]  # the nodes are on AWS
    assert tap["hint_url"].endswith("#l5d-tap-api")
    assert doc["summary"]["error"] == 1
    assert doc["live"]["context"] == "fake-eks" and doc["live"]["viz_namespace"] == "linkerd-viz"
    assert doc["live"]["cannot_read"] == []
    # everything else of linkerd viz check passes
    assert "tap API service is running" not in passed(doc, "linkerd-viz")
    assert "viz extension pods are running" in passed(doc, "linkerd-viz")
    assert findings(doc, "aws-network-not-read") == []  # --no-aws
    # the live Pods carry node and IP into the inventory, and the path resolves to pod port 8089
    tap_path = next(p for p in doc["paths"] if p["name"] == "v1alpha1.tap.linkerd.io")
    assert tap_path["target_port"] == 8089 and f"Pod linkerd-viz/{TAP_POD}" in tap_path["workloads"]


def test_each_kind_is_listed_once_in_pages_and_only_the_tls_secrets_are_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()
    with served(objects, secrets, page_size=4) as server:
        rc, _, _ = check(capsys, server, tmp_path)
    assert rc == 0
    firsts = [r.path for r in server.requests if "continue" not in r.query and "/secrets/" not in r.path]
    # one list per kind (the control-plane kinds and the dashboard routes), never one call per object
    assert (
        len(firsts)
        == len(set(firsts))
        == len(kube.KINDS) + len(kube.exposure_kinds()) + len(kube.NETWORK_KINDS)
    )
    assert not [p for p in firsts if p.endswith("/configmaps")]  # no ingress-nginx here: no ConfigMap read
    assert all(r.query.get("limit") == ["500"] for r in server.requests if "/secrets/" not in r.path)
    pods = [r for r in server.requests if r.path == "/api/v1/pods"]
    assert len(pods) == 3 and "continue" in pods[1].query  # 9 pods in pages of 4
    assert sorted(r.path for r in server.requests if "/secrets/" in r.path) == [
        "/api/v1/namespaces/linkerd-viz/secrets/tap-k8s-tls",
        "/api/v1/namespaces/linkerd/secrets/linkerd-policy-validator-k8s-tls",
        "/api/v1/namespaces/linkerd/secrets/linkerd-proxy-injector-k8s-tls",
        "/api/v1/namespaces/linkerd/secrets/linkerd-sp-validator-k8s-tls",
    ]


def test_the_secret_key_never_reaches_the_inventory(tmp_path: Path) -> None:
    objects, secrets = cluster()
    with served(objects, secrets) as server:
        inv = kube.read_cluster(kube.KubeOptions(str(kubeconfig(tmp_path, server.url))))
    assert inv.live is not None
    assert KEY_MARKER not in repr(inv.live)
    cert = inv.live.certificates["linkerd-viz/tap-k8s-tls"]
    assert cert.dns_names == ("tap.linkerd-viz.svc",) and cert.signed_by_ca_bundle is True
    assert "Secret" not in inv.live.objects


# (b) MissingEndpoints -------------------------------------------------------------------------------------


def test_missing_endpoints_with_the_tap_pod_not_ready(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()
    tap_unavailable(
        objects,
        "MissingEndpoints",
        'endpoints for service/tap in "linkerd-viz" have no addresses with port name "apiserver"',
    )
    pod = find(objects, "Pod", TAP_POD)
    pod["status"]["conditions"][-1]["status"] = "False"
    tap_status = next(c for c in pod["status"]["containerStatuses"] if c["name"] == "tap")
    tap_status.update(ready=False, state={"waiting": {"reason": "CrashLoopBackOff"}})
    for ep in next(s for s in objects["EndpointSlice"] if s["metadata"]["name"].startswith("tap-5"))[
        "endpoints"
    ]:
        ep["conditions"]["ready"] = False
    with served(objects, secrets) as server:
        rc, doc = check_json(capsys, server, tmp_path)
    assert rc == 1
    [tap] = findings(doc, "apiservice-unavailable")
    assert tap["extra"]["cause"] == "no-ready-endpoints"
    assert "MissingEndpoints" in tap["message"]
    assert f"pod {TAP_POD}" in tap["message"] and "container tap: CrashLoopBackOff" in tap["message"]
    [running] = findings(doc, "viz-pods-running")
    assert running["severity"] == "warning" and "CrashLoopBackOff" in running["message"]


# (c) a 403 on one kind ------------------------------------------------------------------------------------


def test_forbidden_kind_becomes_cannot_read_with_the_rule_and_the_rest_still_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()
    tap_unavailable(objects, "FailedDiscoveryCheck", SEED_MESSAGE)
    with served(objects, secrets, forbidden=("clusterroles",)) as server:
        rc, doc = check_json(capsys, server, tmp_path)
    assert rc == 1
    [denied] = findings(doc, "cannot-read")
    assert denied["severity"] == "warning" and denied["title"] == "can list clusterroles"
    assert "403" in denied["message"] and "linkerd-viz ClusterRoles exist" in denied["message"]
    assert (
        '- apiGroups: ["rbac.authorization.k8s.io"]\n  resources: ["clusterroles"]\n  verbs: ["get", "list"]'
        in (denied["hint"])
    )
    assert doc["live"]["cannot_read"][0]["status"] == 403
    viz = passed(doc, "linkerd-viz")
    assert "linkerd-viz ClusterRoles exist" not in viz and "linkerd-viz ClusterRoleBindings exist" in viz
    assert findings(doc, "apiservice-unavailable")[0]["extra"]["cause"] == "network-blocked"
    assert not findings(doc, "viz-cluster-roles-exist")


def test_forbidden_secrets_name_the_rule_with_resource_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()
    with served(objects, secrets, forbidden=("secrets",)) as server:
        rc, doc = check_json(capsys, server, tmp_path)
    assert rc == 0
    denied = {f["title"]: f for f in findings(doc, "cannot-read")}
    tap = denied["can read Secret linkerd-viz/tap-k8s-tls"]
    assert 'resourceNames: ["tap-k8s-tls"]' in tap["hint"] and 'verbs: ["get"]' in tap["hint"]
    assert "tap API server has valid cert" not in passed(doc, "linkerd-viz")
    assert not findings(doc, "viz-tap-cert-valid")


# (d) the deadline -----------------------------------------------------------------------------------------


def test_a_slow_server_hits_the_deadline_and_the_run_ends_in_bounded_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()
    tap_unavailable(objects, "FailedDiscoveryCheck", SEED_MESSAGE)
    with served(objects, secrets, delays={"pods": 6.0}) as server:
        start = time.monotonic()
        rc, out, err = check(capsys, server, tmp_path, "--timeout", "2s")
        elapsed = time.monotonic() - start
    assert elapsed < 2 + 3
    assert rc == 1, err  # what was read before the deadline is still checked
    assert "× tap API service is running" in out
    assert "‼ can list pods" in out and "deadline exceeded (--timeout 2s)" in out
    assert "Raise --timeout" in out
    # the list calls run concurrently: a kind listed after the slow one is read, not held up by it
    assert "/apis/rbac.authorization.k8s.io/v1/clusterroles" in server.paths()
    assert "‼ can list clusterroles" not in out


def test_list_calls_run_concurrently_within_a_small_pool(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Six slowed kinds: the server sees several of their list calls at once, never more than the pool."""
    from vizdoctor.sources.kube import LIST_CONCURRENCY

    objects, secrets = cluster()
    slow = ("pods", "services", "nodes", "namespaces", "deployments", "endpointslices")
    with served(objects, secrets, delays=dict.fromkeys(slow, 0.4)) as server:
        rc, doc = check_json(capsys, server, tmp_path)
    assert rc in (0, 1)
    assert not findings(doc, "cannot-read")  # all of them were read
    assert 2 <= server.max_delayed_in_flight <= LIST_CONCURRENCY


def test_connection_refused_is_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = kubeconfig(tmp_path, f"http://127.0.0.1:{port}")
    rc = main(["check", "--kubeconfig", str(config)])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "cannot reach the API server" in err
    assert "Connection refused" in err or "refused" in err.lower()


def test_missing_kubeconfig_and_unknown_context_are_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["check", "--kubeconfig", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    config = kubeconfig(tmp_path, "http://127.0.0.1:1")
    assert main(["check", "--kubeconfig", str(config), "--context", "prod"]) == 2
    err = capsys.readouterr().err
    assert "context 'prod'" in err and "fake-eks" in err and len(err.strip().splitlines()) == 1


# (e) a healthy cluster ------------------------------------------------------------------------------------


VIZ_CHECKS = [
    "linkerd-viz Namespace exists",
    "linkerd-viz ClusterRoles exist",
    "linkerd-viz ClusterRoleBindings exist",
    "tap API server has valid cert",
    "tap API server cert is valid for at least 60 days",
    "tap API service is running",
    "linkerd-viz pods are injected",
    "viz extension pods are running",
    "prometheus is installed and configured correctly",
]


def test_healthy_cluster_exit_0_with_the_linkerd_viz_check_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()
    with served(objects, secrets) as server:
        rc, out, err = check(capsys, server, tmp_path, "--color", "never")
    assert rc == 0, out
    assert err == ""
    assert out.startswith(f"vizdoctor check: cluster fake-eks ({server.url})")
    for title in VIZ_CHECKS:
        assert f"√ {title}\n" in out
    for component in ("proxy-injector", "sp-validator", "policy-validator"):
        assert f"√ {component} webhook has ready endpoints" in out
        assert f"√ {component} webhook has valid cert" in out
        assert f"√ {component} cert is valid for at least 60 days" in out
    assert "×" not in out
    # no AWS read: the network leg is undecided, which is never shown as a pass (exit stays 0)
    assert out.rstrip().splitlines()[-1].startswith("Status check results are ‼")


def test_exec_credential_plugin(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    objects, secrets = cluster()
    with served(objects, secrets, token="from-the-plugin") as server:
        rc, doc = check_json(capsys, server, tmp_path, exec_token="from-the-plugin")
    assert rc == 0
    assert {r.authorization for r in server.requests} == {"Bearer from-the-plugin"}
    assert "tap API service is running" in passed(doc, "linkerd-viz")


def test_rejected_credentials_are_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    objects, secrets = cluster()
    with served(objects, secrets) as server:
        config = kubeconfig(tmp_path, server.url, exec_token="stale")
        rc = main(["check", "--kubeconfig", str(config)])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert "rejected the credentials (401 Unauthorized)" in err and len(err.strip().splitlines()) == 1


# webhooks and certificates --------------------------------------------------------------------------------


def test_webhooks_without_ready_endpoints(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    objects, secrets = cluster()
    next(s for s in objects["EndpointSlice"] if s["metadata"]["name"].startswith("linkerd-proxy-injector-"))[
        "endpoints"
    ] = []
    vault = find(objects, "MutatingWebhookConfiguration", "vault-agent-injector-cfg")
    vault["webhooks"][0]["failurePolicy"] = "Fail"
    for ep in next(s for s in objects["EndpointSlice"] if s["metadata"]["name"].startswith("vault-"))[
        "endpoints"
    ]:
        ep["conditions"]["ready"] = False
    with served(objects, secrets) as server:
        rc, doc = check_json(capsys, server, tmp_path)
    assert rc == 1
    by_title = {f["title"]: f for f in findings(doc, "webhook-no-endpoints")}
    injector = by_title["proxy-injector webhook has ready endpoints"]
    assert injector["severity"] == "warning" and injector["category"] == "linkerd-webhooks"  # Ignore
    assert "linkerd-proxy-injector" in injector["message"] and "silently stop" in injector["message"]
    vault_f = next(f for t, f in by_title.items() if "vault.hashicorp.com" in t)
    assert vault_f["severity"] == "error" and vault_f["category"] == "webhooks"
    assert "not ready: 10.0.1.60:8080" in vault_f["message"]
    assert 'no endpoints available for service "vault-agent-injector-svc"' in vault_f["message"]
    assert "sp-validator webhook has ready endpoints" in passed(doc, "linkerd-webhooks")


@pytest.mark.parametrize(
    ("options", "check_id", "severity", "text"),
    [
        ({"viz_days": 30}, "viz-tap-cert-not-expiring-soon", "warning", "days left"),
        (
            {"viz_identity": "tap.other.svc"},
            "viz-tap-cert-valid",
            "error",
            "not valid for tap.linkerd-viz.svc",
        ),
        ({"viz_signed_by_bundle": False}, "viz-tap-cert-valid", "error", "not signed by the caBundle"),
    ],
)
def test_tap_certificate_problems(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    options: dict[str, Any],
    check_id: str,
    severity: str,
    text: str,
) -> None:
    objects, secrets = cluster(**options)
    with served(objects, secrets) as server:
        _, doc = check_json(capsys, server, tmp_path)
    [f] = findings(doc, check_id)
    assert f["severity"] == severity and text in f["message"] and f["category"] == "linkerd-viz"


def test_tap_certificate_fallback_secret_and_missing_secret(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster(tap_secret="linkerd-tap-tls")
    with served(objects, secrets) as server:
        rc, doc = check_json(capsys, server, tmp_path)
    assert rc == 0 and "tap API server has valid cert" in passed(doc, "linkerd-viz")
    assert "/api/v1/namespaces/linkerd-viz/secrets/linkerd-tap-tls" in server.paths()
    del secrets[("linkerd-viz", "linkerd-tap-tls")]
    with served(objects, secrets) as server:
        rc, doc = check_json(capsys, server, tmp_path)
    [f] = findings(doc, "viz-tap-cert-valid")
    assert (
        rc == 1
        and "Neither Secret linkerd-viz/tap-k8s-tls nor Secret linkerd-viz/linkerd-tap-tls" in f["message"]
    )


def test_without_cryptography_the_certificates_are_not_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kube, "have_x509", lambda: False)
    objects, secrets = cluster()
    with served(objects, secrets) as server:
        rc, doc = check_json(capsys, server, tmp_path)
    assert rc == 0
    assert not [p for p in server.paths() if "/secrets/" in p]
    [f] = findings(doc, "viz-tap-cert-valid")
    assert f["severity"] == "info" and "cryptography" in f["message"]


def test_no_viz_namespace_skips_the_category_with_one_info_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()
    with served(objects, secrets) as server:
        rc, doc = check_json(capsys, server, tmp_path, "--viz-namespace", "observability")
    assert rc == 0
    viz = [f for f in doc["findings"] if f["category"] == "linkerd-viz"]
    assert [(f["check"], f["severity"]) for f in viz] == [("viz-namespace-exists", "info")]
    assert passed(doc, "linkerd-viz") == []


# (g) --wait -----------------------------------------------------------------------------------------------


def test_wait_rechecks_until_the_apiservice_is_available(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()

    def becomes_available(kind: str, n: int, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if kind == "APIService" and n == 1:
            for a in items:
                if a["metadata"]["name"] == "v1alpha1.tap.linkerd.io":
                    a["status"]["conditions"][0].update(
                        status="False", reason="FailedDiscoveryCheck", message=SEED_MESSAGE
                    )
        return items

    with served(objects, secrets, mutate=becomes_available) as server:
        rc, out, err = check(capsys, server, tmp_path, "--wait", "30s", "--interval", "50ms")
    assert rc == 0, out
    assert server.list_calls["APIService"] == 2
    assert "attempt 1: 1 error; checking again" in err
    assert out.count("Status check results are") == 1 and "√ tap API service is running" in out


def test_wait_gives_up_when_time_runs_out(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    objects, secrets = cluster()
    tap_unavailable(objects, "FailedDiscoveryCheck", SEED_MESSAGE)
    with served(objects, secrets) as server:
        rc, out, _ = check(capsys, server, tmp_path, "--wait", "1s", "--interval", "50ms")
    assert rc == 1 and server.list_calls["APIService"] >= 2
    assert out.count("Status check results are ×") == 1


# the command as a user runs it ----------------------------------------------------------------------------


def test_cli_subprocess_json(tmp_path: Path) -> None:
    objects, secrets = cluster()
    tap_unavailable(objects, "FailedDiscoveryCheck", SEED_MESSAGE)
    with served(objects, secrets) as server:
        config = kubeconfig(tmp_path, server.url)
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "vizdoctor",
                "check",
                "--kubeconfig",
                str(config),
                "--no-aws",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=clean_env(),
            timeout=60,
        )
    assert r.returncode == 1, r.stderr
    assert r.stderr == "" and KEY_MARKER not in r.stdout
    doc = json.loads(r.stdout)
    assert doc["command"] == "check"
    assert [f["extra"]["cause"] for f in findings(doc, "apiservice-unavailable")] == ["network-blocked"]


def test_duration_parsing() -> None:
    assert parse_duration("60s") == 60 and parse_duration("5m") == 300 and parse_duration("1m30s") == 90
    assert parse_duration("250ms") == 0.25 and parse_duration("2") == 2
    with pytest.raises(Exception, match="not a duration"):
        parse_duration("soon")


def test_docs_cluster_role_grants_exactly_what_check_reads() -> None:
    import yaml

    text = (ROOT / "docs" / "live.md").read_text()
    docs = list(yaml.safe_load_all(text.split("```yaml", 1)[1].split("```", 1)[0]))
    roles = {d["metadata"]["name"]: d["rules"] for d in docs if d and d["kind"] == "ClusterRole"}
    read, tls = roles["vizdoctor-read"], roles["vizdoctor-read-tls"]
    ingress_config = roles["vizdoctor-read-ingress-config"]
    granted = {(g, r) for rule in read for g in rule["apiGroups"] for r in rule["resources"]}
    assert granted == {
        (k.group, k.resource) for k in (*kube.KINDS, *kube.exposure_kinds(), *kube.NETWORK_KINDS)
    }
    assert all(rule["verbs"] == ["get", "list"] for rule in read)
    assert ingress_config == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
    [secrets] = tls
    assert secrets["resources"] == ["secrets"] and secrets["verbs"] == ["get"]
    assert set(secrets["resourceNames"]) == {
        "tap-k8s-tls",
        "linkerd-tap-tls",
        "linkerd-proxy-injector-k8s-tls",
        "linkerd-sp-validator-k8s-tls",
        "linkerd-policy-validator-k8s-tls",
    }


# (f) ------------------------------------------------------------------------------------------------------


def test_the_server_fails_a_scenario_that_writes() -> None:
    """The read-only guard in FakeKube itself: a write makes the server's exit fail."""
    import contextlib
    import urllib.request

    server = FakeKube(load(), {})
    with pytest.raises(AssertionError, match=r"other than GET: \['POST /api/v1/namespaces'\]"), server:
        req = urllib.request.Request(f"{server.url}/api/v1/namespaces", data=b"{}", method="POST")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(req, timeout=5)
    assert [r.method for r in server.requests] == ["POST"]


# (g) one row per Linkerd check that a broken cluster trips, named by its check id ---------------------------


def _drop(objects: Objects, kind: str, name: str) -> None:
    objects[kind] = [o for o in objects.get(kind, []) if o["metadata"]["name"] != name]


LINKERD_FAILURES: list[tuple[str, Any, tuple[str, ...], str, str]] = [
    # (check id, how to break the cluster, extra args, severity, text in the message)
    ("linkerd-namespace-exists", None, ("--linkerd-namespace", "nope"), "info", "skipped"),
    (
        "viz-prometheus",
        lambda objects, secrets: _drop(objects, "Deployment", "prometheus"),
        (),
        "warning",
        "prometheus",
    ),
    (
        "linkerd-webhook-cert-valid",
        lambda objects, secrets: secrets.pop(("linkerd", "linkerd-proxy-injector-k8s-tls")),
        (),
        "error",
        "linkerd-proxy-injector-k8s-tls",
    ),
]


@pytest.mark.parametrize(
    ("check_id", "breaks", "args", "severity", "text"), LINKERD_FAILURES, ids=[r[0] for r in LINKERD_FAILURES]
)
def test_linkerd_check_table(
    check_id: str,
    breaks: Any,
    args: tuple[str, ...],
    severity: str,
    text: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    objects, secrets = cluster()
    if breaks is not None:
        breaks(objects, secrets)
    with served(objects, secrets) as server:
        _, doc = check_json(capsys, server, tmp_path, *args)
    found = findings(doc, check_id)
    assert len(found) == 1, [f["check"] for f in doc["findings"]]
    assert found[0]["severity"] == severity and text in found[0]["message"], found[0]
