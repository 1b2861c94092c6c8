"""`check` on a terminal and in CI logs: a kubeconfig that skips TLS verification makes urllib3 warn on
every request; vizdoctor shows that warning once, as one line. A real TLS endpoint (a TLS-terminating
proxy on 127.0.0.1 in front of the test API server) produces the real warnings."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlparse

from conftest import ROOT
from kube_server import KEY_MARKER, kubeconfig
from test_check import SEED_MESSAGE, clean_env, cluster, served, tap_unavailable
from tls_files import self_signed


def _pipe(a: socket.socket, b: socket.socket) -> None:
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


@contextmanager
def tls_proxy(backend: str, tmp_path: Path) -> Iterator[str]:
    """https://127.0.0.1:PORT in front of the plain-HTTP test API server."""
    target = urlparse(backend)
    cert, key = self_signed(tmp_path, common_name="127.0.0.1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                conn = ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            up = socket.create_connection((target.hostname or "127.0.0.1", target.port or 80))
            threading.Thread(target=_pipe, args=(conn, up), daemon=True).start()
            threading.Thread(target=_pipe, args=(up, conn), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        stop.set()
        listener.close()


def test_insecure_request_warning_is_one_line(tmp_path: Path) -> None:
    objects, secrets = cluster()
    tap_unavailable(objects, "FailedDiscoveryCheck", SEED_MESSAGE)
    with served(objects, secrets) as server, tls_proxy(server.url, tmp_path) as url:
        config = kubeconfig(tmp_path, url)
        doc = json.loads(config.read_text())
        doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True
        config.write_text(json.dumps(doc))
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "vizdoctor",
                "check",
                "--kubeconfig",
                str(config),
                "--no-aws",
                "--compact",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=clean_env(),
            timeout=120,
        )
    assert r.returncode == 1, r.stderr
    assert "[apiservice-unavailable]" in r.stdout and KEY_MARKER not in r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("vizdoctor check: warning: InsecureRequestWarning: Unverified HTTPS request")
    assert "requests)" in lines[0]  # one line for all of them, with the count


def test_progress_on_a_terminal_goes_to_stderr_only(tmp_path: Path) -> None:
    """stderr on a pseudo-terminal gets the spinner while the (slow) cluster answers; stdout, a pipe,
    gets only the report, and a pipe for stderr gets no spinner at all."""
    import os
    import pty
    import select

    objects, secrets = cluster()
    with served(objects, secrets, delays={"apiservices": 0.6}) as server:
        config = kubeconfig(tmp_path, server.url)
        cmd = [
            sys.executable,
            "-m",
            "vizdoctor",
            "check",
            "--kubeconfig",
            str(config),
            "--no-aws",
            "-o",
            "json",
        ]
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=follower, cwd=ROOT, env=clean_env(), text=True
        )
        os.close(follower)
        err = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
        out, _ = proc.communicate(timeout=60)
        os.close(leader)
        piped = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=clean_env(), timeout=60)
    assert proc.returncode == 0
    assert json.loads(out)["command"] == "check"  # the report is untouched by the progress
    text = err.decode()
    assert "reading the cluster (the current context; up to 30s)" in text
    assert text.endswith("\x1b[K")  # the spinner line is cleared at the end
    assert piped.returncode == 0 and piped.stderr == ""


def test_check_reads_the_config_of_the_working_directory(tmp_path: Path) -> None:
    objects, secrets = cluster()
    tap_unavailable(objects, "FailedDiscoveryCheck", SEED_MESSAGE)
    work = tmp_path / "work"
    work.mkdir()
    (work / ".git").mkdir()
    (work / ".vizdoctor.yaml").write_text(
        "checks:\n  disable: [apiservice-unavailable]  # the tap API is reached another way here\n"
    )
    with served(objects, secrets) as server:
        config = kubeconfig(tmp_path, server.url)
        cmd = [
            sys.executable,
            "-m",
            "vizdoctor",
            "check",
            "--kubeconfig",
            str(config),
            "--no-aws",
            "-o",
            "json",
        ]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=work, env=clean_env(), timeout=120)
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert [s["check"] for s in doc["suppressed"]] == ["apiservice-unavailable"]
        assert doc["suppressed"][0]["suppression"]["where"] == f"{work / '.vizdoctor.yaml'}:2"
        (work / ".vizdoctor.yaml").write_text("context: no-such-context\n")
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=work, env=clean_env(), timeout=120)
    assert r.returncode == 2 and "no-such-context" in r.stderr
