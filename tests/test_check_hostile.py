"""`check` against hostile conditions on loopback: killed mid-run (SIGTERM), an API server that answers
lists with `{}`, 404 or 429, a server that trickles its body, a hanging exec credential plugin, and a
proxy's HTML page where AWS should answer."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import ROOT
from hostile import Conn, HostileServer, answer
from kube_server import TOKEN, FakeKube, _cert, _pem, kubeconfig, load


def _tls_files(tmp_path: Path) -> tuple[tuple[Path, Path], tuple[bytes, bytes]]:
    """A server certificate for the fake API server, and a client certificate and key for the kubeconfig."""
    from cryptography.hazmat.primitives import serialization

    def key_pem(key: object) -> bytes:
        data: bytes = key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return data

    server_cert, server_key = _cert("127.0.0.1", ["localhost"], None, 1, False)
    crt, key = tmp_path / "server.crt", tmp_path / "server.key"
    crt.write_bytes(_pem(server_cert))
    key.write_bytes(key_pem(server_key))
    client_cert, client_key = _cert("vizdoctor", [], None, 1, False)
    return (crt, key), (_pem(client_cert), key_pem(client_key))


def test_sigterm_leaves_no_key_material_on_disk(tmp_path: Path) -> None:
    server_tls, client_pem = _tls_files(tmp_path)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and k != "KUBECONFIG"}
    env["TMPDIR"] = str(tmpdir)  # where the kubernetes client puts its copies of the client key
    with FakeKube(load(), tls=server_tls, delays={"pods": 30.0}) as server:
        config = kubeconfig(tmp_path, server.url, client_pem=client_pem, insecure=True)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vizdoctor",
                "check",
                "--kubeconfig",
                str(config),
                "--no-aws",
                "--timeout",
                "60s",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            t0 = time.monotonic()
            while not any(r.path.endswith("/pods") for r in server.requests) and time.monotonic() - t0 < 30:
                time.sleep(0.05)
            assert any(r.path.endswith("/pods") for r in server.requests), "check never reached the server"
            assert list(tmpdir.iterdir()) == []  # the key was loaded (TLS works) but never written
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM
    assert err.strip() == "vizdoctor: terminated by SIGTERM"
    assert list(tmpdir.iterdir()) == []


# ------------------------------------------------------------------------- 10. no false healthy, 8. deadline


def _check(tmp_path: Path, server: FakeKube, *args: str, **kc: Any) -> tuple[int, str, str, float]:
    config = kubeconfig(tmp_path, server.url, **kc)
    t0 = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "vizdoctor", "check", "--kubeconfig", str(config), "--no-aws", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in r.stderr
    return r.returncode, r.stdout, r.stderr, time.monotonic() - t0


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and k != "KUBECONFIG"}


def _cannot_read(out: str) -> dict[str, Any]:
    doc = json.loads(out)
    return {c["resource"]: c for c in doc["live"]["cannot_read"]}


def test_empty_object_and_404_lists_are_cannot_read_never_healthy(tmp_path: Path) -> None:
    answers: dict[str, list[tuple[int, Any, dict[str, str]]]] = {
        "apiservices": [(200, {}, {})],
        "validatingwebhookconfigurations": [(404, {"kind": "Status", "code": 404}, {})],
    }
    with FakeKube(load(), answers=answers) as server:
        _, out, _, _ = _check(tmp_path, server, "-o", "json")
        not_read = _cannot_read(out)
        assert set(not_read) == {"apiservices", "validatingwebhookconfigurations"}, not_read
        assert "no items" in not_read["apiservices"]["message"]
        assert not_read["validatingwebhookconfigurations"]["status"] == 404
        server.answers.update(
            {
                "apiservices": [(200, {}, {})],
                "validatingwebhookconfigurations": [(404, {"kind": "Status", "code": 404}, {})],
            }
        )
        _, out, _, _ = _check(tmp_path, server, "--color", "never")
    last = out.rstrip().splitlines()[-1]
    assert not last.startswith("Status check results are √"), last
    assert "could not read: apiservices, validatingwebhookconfigurations" in last


def test_nothing_readable_is_exit_2(tmp_path: Path) -> None:
    from vizdoctor.sources.kube import KINDS, NETWORK_KINDS, exposure_kinds

    answers = {
        k.resource: [(200, b"<html>a proxy's page</html>", {})] * 3
        for k in (*KINDS, *exposure_kinds(), *NETWORK_KINDS)
    }
    answers["configmaps"] = [(200, {}, {})] * 3
    with FakeKube(load(), answers=answers) as server:
        rc, out, err, _ = _check(tmp_path, server)
    assert rc == 2, out
    assert err.startswith("vizdoctor: could not read anything from the API server") and err.count("\n") == 1


def test_429_is_retried_after_retry_after_within_the_deadline(tmp_path: Path) -> None:
    answers: dict[str, list[tuple[int, Any, dict[str, str]]]] = {
        "pods": [(429, {"kind": "Status", "code": 429}, {"Retry-After": "1"})],
        "services": [(429, {"kind": "Status", "code": 429}, {"Retry-After": "3600"})],
    }
    with FakeKube(load(), answers=answers) as server:
        _, out, _, elapsed = _check(tmp_path, server, "-o", "json", "--timeout", "20s")
        pod_lists = [r for r in server.requests if r.path == "/api/v1/pods"]
    not_read = _cannot_read(out)
    assert "pods" not in not_read and len(pod_lists) >= 2  # retried once, after 1 s, and read
    assert not_read["services"]["status"] == 429  # a wait beyond the deadline is not waited for
    assert elapsed < 15


def test_trickling_server_stops_at_the_deadline(tmp_path: Path) -> None:
    with FakeKube(load(), trickle={"pods": 0.2}) as server:
        _, out, _, elapsed = _check(tmp_path, server, "-o", "json", "--timeout", "3s")
    assert elapsed < 3 + 4  # interpreter start and the report included
    not_read = _cannot_read(out)
    assert "deadline exceeded" in not_read["pods"]["message"]
    assert json.loads(out)["live"]["objects"]["APIService"] > 0  # read before it: kept


HANGING_PLUGIN = """import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open({pids!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped) is not alive either
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def test_hanging_exec_plugin_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    with FakeKube(load()) as server:
        config = kubeconfig(tmp_path, server.url, exec_token=TOKEN)
        (tmp_path / "get-token.py").write_text(HANGING_PLUGIN.format(pids=str(pids)))
        t0 = time.monotonic()
        r = subprocess.run(
            [sys.executable, "-m", "vizdoctor", "check", "--kubeconfig", str(config), "--timeout", "2s"],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - t0
    assert r.returncode == 2 and "did not finish within the --timeout of 2s" in r.stderr
    assert elapsed < 2 + 4
    plugin, child = (int(p) for p in pids.read_text().split())
    deadline = time.monotonic() + 3
    while (_alive(plugin) or _alive(child)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(plugin) and not _alive(child)


COUNTING_PLUGIN = """import datetime, json
open({runs!r}, "a").write("run\\n")
expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=90)
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {{"token": {token!r}, "expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}}}}))
"""


def test_exec_plugin_token_is_cached_not_rerun_per_request(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with FakeKube(load()) as server:
        config = kubeconfig(tmp_path, server.url, exec_token=TOKEN)
        (tmp_path / "get-token.py").write_text(COUNTING_PLUGIN.format(runs=str(runs), token=TOKEN))
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
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        requests = len(server.requests)
    assert r.returncode in (0, 1), r.stderr
    assert requests > 10
    assert runs.read_text().count("run") == 1  # a token valid for 90 s serves the whole run


# ---------------------------------------------------------------------------- 8, 11. AWS behind a proxy


def _aws_env() -> dict[str, str]:
    env = _env()
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true")
    env.pop("AWS_PROFILE", None)
    return env


def _check_aws(tmp_path: Path, aws: HostileServer, timeout: str) -> tuple[int, dict[str, Any], float]:
    with FakeKube(load()) as server:
        config = kubeconfig(tmp_path, server.url)
        t0 = time.monotonic()
        r = subprocess.run(
            [
                sys.executable, "-m", "vizdoctor", "check", "--kubeconfig", str(config), "--aws",
                "--region", "eu-west-1", "--cluster-name", "seed", "--aws-endpoint-url", aws.origin,
                "--timeout", timeout, "-o", "json",
            ],
            cwd=ROOT,
            env=_aws_env(),
            capture_output=True,
            text=True,
            timeout=90,
        )  # fmt: skip
        elapsed = time.monotonic() - t0
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout), elapsed


def test_aws_answering_with_a_proxy_page_is_cannot_read_and_the_cluster_results_stay(tmp_path: Path) -> None:
    def portal(c: Conn) -> None:
        c.read_head()
        c.send(answer("200 OK", {"Content-Type": "text/html"}, b"<html><body>Please sign in</body></html>"))

    with HostileServer(portal) as aws:
        rc, doc, _ = _check_aws(tmp_path, aws, "20s")
        assert aws.requests  # AWS was asked
    not_read = [f for f in doc["findings"] if f["check"] == "aws-network-not-read"]
    assert not_read and all("not an AWS API answer" in f["message"] for f in not_read)
    assert all(f["message"].count("\n") == 0 for f in not_read)
    assert doc["live"]["objects"]["APIService"] > 0 and rc in (0, 1)
    assert any(f["check"] == "apiservice-unavailable" for f in doc["findings"]) or doc["paths"]


def test_hanging_aws_endpoint_stops_at_the_deadline(tmp_path: Path) -> None:
    def hang(c: Conn) -> None:
        c.read_head()
        time.sleep(60)

    with HostileServer(hang) as aws:
        rc, doc, elapsed = _check_aws(tmp_path, aws, "4s")
    assert elapsed < 4 + 4
    not_read = [f for f in doc["findings"] if f["check"] == "aws-network-not-read"]
    assert len(not_read) == 1 and "deadline exceeded (--timeout 4s)" in not_read[0]["message"]
    assert doc["live"]["objects"]["APIService"] > 0 and rc in (0, 1)
