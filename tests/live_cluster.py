"""A real etcd and kube-apiserver on 127.0.0.1 for the live-check tests (tests/test_live_apiserver.py).

The binaries come from tests/apiserver/build.sh (built from their published Go modules into a cache outside
the work tree, reused when present). The apiserver runs with client-certificate users, RBAC, and
`--enable-aggregator-routing=true`, so that the aggregator and the admission webhooks dial endpoint IPs as
on EKS. Every process and folder is removed when the `LiveCluster` context ends, also on failure.

No kube-controller-manager and no kubelet run: the tests write the EndpointSlices and the Pod statuses that
those would write, through the real API.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "tests" / "apiserver" / "build.sh"
BUILD_TIMEOUT = 75 * 60  # seconds: a first build on 2 shared cores; CI's limit is 90 minutes
ADMIN = "vizdoctor-admin"
LIMITED = "vizdoctor-limited"
SERVICE_CIDR = "10.96.0.0/16"  # allocated ClusterIPs are never dialled: aggregator routing uses endpoints


class Unavailable(Exception):
    """The real apiserver cannot be had here; the message says why (the tests skip with it)."""


def build_binaries() -> Path:
    """The folder with `etcd` and `kube-apiserver`: build.sh reuses the cache, else builds (Go needed)."""
    try:
        proc = subprocess.run(
            ["bash", str(BUILD)], capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise Unavailable(f"building kube-apiserver took more than {BUILD_TIMEOUT} s") from exc
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])[-600:]
        raise Unavailable(f"tests/apiserver/build.sh failed (exit {proc.returncode}): {tail}")
    return Path(proc.stdout.strip().splitlines()[-1])


# --- certificates ---------------------------------------------------------------------------------------


@dataclass
class Issued:
    cert: Path
    key: Path

    def pem(self) -> bytes:
        return self.cert.read_bytes()


@dataclass
class CA:
    """A certificate authority in a folder; `issue` writes a leaf signed by it."""

    folder: Path
    name: str
    _key: Any = None
    _cert: Any = None
    files: Issued | None = None

    def __post_init__(self) -> None:
        self._key, self._cert = _make(self.name, None, [], [], ca=True)
        self.files = _write(self.folder, self.name, self._key, self._cert)

    @property
    def cert_file(self) -> Path:
        assert self.files is not None
        return self.files.cert

    def issue(
        self,
        name: str,
        cn: str,
        *,
        orgs: tuple[str, ...] = (),
        dns: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
    ) -> Issued:
        key, cert = _make(cn, (self._key, self._cert), list(dns), list(ips), orgs=orgs)
        return _write(self.folder, name, key, cert)


def _make(
    cn: str,
    issuer: tuple[Any, Any] | None,
    dns: list[str],
    ips: list[str],
    *,
    ca: bool = False,
    orgs: tuple[str, ...] = (),
) -> tuple[Any, Any]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    name = x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[1].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(issuer[0] if issuer else key, hashes.SHA256())
    return key, cert


def _write(folder: Path, name: str, key: Any, cert: Any) -> Issued:
    from cryptography.hazmat.primitives import serialization

    c, k = folder / f"{name}.crt", folder / f"{name}.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    k.chmod(0o600)
    (folder / f"{name}.pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return Issued(c, k)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the cluster ----------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:500]}")
        self.status = status
        self.body = body


@dataclass
class LiveCluster:
    """etcd + kube-apiserver; use as a context manager. `admin` calls the API as system:masters."""

    binaries: Path
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="vizdoctor-apiserver-")))
    url: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    startup_seconds: float = 0.0

    def __enter__(self) -> LiveCluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- processes

    def _start(self) -> None:
        began = time.monotonic()
        pki = self.folder / "pki"
        pki.mkdir()
        self.ca = CA(pki, "ca")
        self.front_proxy_ca = CA(pki, "front-proxy-ca")
        serving = self.ca.issue(
            "apiserver", "kube-apiserver", dns=("localhost", "kubernetes"), ips=("127.0.0.1",)
        )
        proxy_client = self.front_proxy_ca.issue("front-proxy-client", "front-proxy-client")
        sa = self.ca.issue("service-accounts", "service-accounts")
        self.users = {
            ADMIN: self.ca.issue(ADMIN, ADMIN, orgs=("system:masters",)),
            LIMITED: self.ca.issue(LIMITED, LIMITED),
        }
        client_port, peer_port, port = free_port(), free_port(), free_port()
        self._spawn(
            "etcd",
            [
                str(self.binaries / "etcd"),
                "--name=vizdoctor-test",
                f"--data-dir={self.folder / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{client_port}",
                f"--advertise-client-urls=http://127.0.0.1:{client_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=vizdoctor-test=http://127.0.0.1:{peer_port}",
                "--log-level=warn",
            ],
        )
        self._spawn(
            "kube-apiserver",
            [
                str(self.binaries / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{client_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self.folder / 'certs'}",
                f"--tls-cert-file={serving.cert}",
                f"--tls-private-key-file={serving.key}",
                f"--client-ca-file={self.ca.cert_file}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={sa.key.with_suffix('.pub')}",
                f"--service-account-signing-key-file={sa.key}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # As on EKS: the aggregator (and the webhook client) dial the endpoint IP, not the ClusterIP.
                "--enable-aggregator-routing=true",
                # No kubernetes Endpoints for 127.0.0.1 (a loopback address is not a valid endpoint).
                "--endpoint-reconciler-type=none",
                f"--requestheader-client-ca-file={self.front_proxy_ca.cert_file}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={proxy_client.cert}",
                f"--proxy-client-key-file={proxy_client.key}",
                "--profiling=false",
                "--v=1",
            ],
        )
        self.url = f"https://127.0.0.1:{port}"
        self._wait_ready(deadline=time.monotonic() + 120)
        self.startup_seconds = time.monotonic() - began

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        # Own process group: stop() ends the process and anything it started, and nothing else.
        self.procs.append(
            subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.folder
            )
        )

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.folder / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _wait_ready(self, deadline: float) -> None:
        last = ""
        while time.monotonic() < deadline:
            for p, name in zip(self.procs, ("etcd", "kube-apiserver"), strict=False):
                if p.poll() is not None:
                    raise Unavailable(f"{name} exited with {p.returncode}: {self.log_tail(name)}")
            try:
                if self.request("GET", "/readyz", raw=True) == "ok":
                    return
            except (ApiError, OSError) as exc:
                last = str(exc)
            time.sleep(0.5)
        raise Unavailable(f"kube-apiserver not ready in time ({last}): {self.log_tail('kube-apiserver')}")

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=5)  # a throwaway cluster: no need to wait for a graceful shutdown
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
        self.procs.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- clients

    def kubeconfig(self, path: Path, user: str = ADMIN) -> Path:
        issued = self.users[user]
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "real",
                    "cluster": {"server": self.url, "certificate-authority": str(self.ca.cert_file)},
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {"client-certificate": str(issued.cert), "client-key": str(issued.key)},
                }
            ],
            "contexts": [{"name": "real-apiserver", "context": {"cluster": "real", "user": user}}],
            "current-context": "real-apiserver",
        }
        path.write_text(json.dumps(config))  # JSON is YAML
        return path

    def _context(self, user: str) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca.cert_file))
        issued = self.users[user]
        ctx.load_cert_chain(str(issued.cert), str(issued.key))
        return ctx

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str = ADMIN,
        raw: bool = False,
        timeout: float = 30,
        content_type: str = "application/json",
    ) -> Any:
        """One call; JSON in and out (raw: the body text). Raises ApiError with the server's answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self._context(user))
        )
        try:
            with opener.open(req, timeout=timeout) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, exc.read().decode(errors="replace")) from exc
        return text if raw else json.loads(text)

    def create(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = self.request("POST", path, obj)
        return out

    def apply_status(self, path: str, patch: dict[str, Any]) -> None:
        self.request("PATCH", path + "/status", patch, content_type="application/merge-patch+json")

    def delete(self, path: str) -> None:
        try:
            self.request("DELETE", path)
        except ApiError as exc:
            if exc.status != 404:
                raise
