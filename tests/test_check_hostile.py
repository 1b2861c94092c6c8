"""`check` against hostile conditions on loopback: killed mid-run (SIGTERM), an API server that answers
lists with `{}`, 404 or 429, a server that trickles its body, a hanging exec credential plugin, and a
proxy's HTML page where AWS should answer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT
from kube_server import FakeKube, _cert, _pem, kubeconfig, load


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
