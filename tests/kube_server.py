"""A fake Kubernetes API server for `vizdoctor check` tests: a real HTTP server on 127.0.0.1 (stdlib
ThreadingHTTPServer in a thread) that serves recorded objects, so check's real client (sources/kubeclient.py)
runs end to end. Only the server side is fake.

It answers list calls (`limit` + `continue`, with a small server page size so that pagination is always
exercised), GETs of single Secrets, 401 without the expected bearer token, 403 for the kinds it is told
to forbid, 405 for anything but GET; it can delay answers and rewrite items per call (for `--wait`).
Every request is recorded.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from vizdoctor.sources.kube import KINDS, NETWORK_KINDS, KindSpec, exposure_kinds

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cluster"
TOKEN = "vizdoctor-test-token"
# Put into every Secret's tls.key: it must never appear in any output.
KEY_MARKER = "PRIVATE-KEY-MATERIAL-MUST-NOT-LEAK"

Objects = dict[str, list[dict[str, Any]]]
Mutator = Callable[[str, int, list[dict[str, Any]]], list[dict[str, Any]]]


def load(name: str = "seed-eks") -> Objects:
    data: Objects = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def find(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects[kind] if o["metadata"]["name"] == name)


# --- certificates ---------------------------------------------------------------------------------------


@dataclass
class Certs:
    ca_pem: bytes
    secrets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _pem(cert: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    data: bytes = cert.public_bytes(serialization.Encoding.PEM)
    return data


def _cert(
    subject: str, dns: list[str], issuer: tuple[Any, Any] | None, days: int, ca: bool
) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False
        )
    signer = issuer[1] if issuer else key
    return builder.sign(signer, hashes.SHA256()), key


def tls_secret(namespace: str, name: str, cert_pem: bytes, ca_pem: bytes) -> dict[str, Any]:
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"tls.crt": b64(cert_pem), "tls.key": b64(KEY_MARKER.encode()), "ca.crt": b64(ca_pem)},
    }


def add_certificates(
    objects: Objects,
    viz_days: int = 365,
    viz_identity: str = "tap.linkerd-viz.svc",
    viz_signed_by_bundle: bool = True,
    tap_secret: str = "tap-k8s-tls",
) -> Certs:
    """Make a CA and serving certificates for tap and Linkerd's webhooks; set the caBundles to the CA."""
    ca = _cert("webhook.linkerd.cluster.local", [], None, 3650, True)
    other_ca = _cert("someone-else", [], None, 3650, True)
    certs = Certs(_pem(ca[0]))
    bundle = base64.b64encode(certs.ca_pem).decode()
    leaf, _ = _cert(viz_identity, [viz_identity], ca if viz_signed_by_bundle else other_ca, viz_days, False)
    certs.secrets[("linkerd-viz", tap_secret)] = tls_secret(
        "linkerd-viz", tap_secret, _pem(leaf), certs.ca_pem
    )
    find(objects, "APIService", "v1alpha1.tap.linkerd.io")["spec"]["caBundle"] = bundle
    for component in ("proxy-injector", "sp-validator", "policy-validator"):
        identity = f"linkerd-{component}.linkerd.svc"
        leaf, _ = _cert(identity, [identity], ca, 365, False)
        secret = f"linkerd-{component}-k8s-tls"
        certs.secrets[("linkerd", secret)] = tls_secret("linkerd", secret, _pem(leaf), certs.ca_pem)
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for obj in objects[kind]:
            for hook in obj.get("webhooks") or []:
                hook["clientConfig"]["caBundle"] = bundle
    return certs


# --- the server -----------------------------------------------------------------------------------------


def _path(k: KindSpec) -> str:
    return f"/api/{k.version}/{k.resource}" if not k.group else f"/apis/{k.group}/{k.version}/{k.resource}"


ROUTES: dict[str, tuple[str, str]] = {
    _path(k): (k.kind, k.api_version)
    for k in (*KINDS, *(e for e in (*exposure_kinds(), *NETWORK_KINDS) if not e.optional))
}
# Custom resources are served only when the scenario has objects of that kind (their CRD is "installed").
OPTIONAL_ROUTES: dict[str, tuple[str, str]] = {
    _path(k): (k.kind, k.api_version) for k in (*exposure_kinds(), *NETWORK_KINDS) if k.optional
}
_ALL_ROUTES = [*ROUTES.values(), *OPTIONAL_ROUTES.values()]
SHARED_KINDS = {k for k, _ in _ALL_ROUTES if sum(1 for x, _ in _ALL_ROUTES if x == k) > 1}
CONFIGMAPS = re.compile(r"^/api/v1/namespaces/([^/]+)/configmaps$")


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None


class FakeKube:
    def __init__(
        self,
        objects: Objects,
        secrets: dict[tuple[str, str], dict[str, Any]] | None = None,
        *,
        token: str = TOKEN,
        page_size: int = 4,
        forbidden: tuple[str, ...] = (),  # resource plurals, e.g. ("clusterroles",)
        delays: dict[str, float] | None = None,  # resource plural -> seconds before answering
        mutate: Mutator | None = None,  # (kind, n-th list call of that kind, items) -> items
        # `check --probe`: request path of a proxy GET -> (status, body); a dict is sent as JSON, text as is
        proxy: dict[str, tuple[int, Any]] | None = None,
        tls: tuple[Path, Path] | None = None,  # (certificate, key) in PEM: serve https
        answers: dict[str, list[tuple[int, Any, dict[str, str]]]]
        | None = None,  # resource -> canned answers,
        # given first, one per request (status, JSON body or raw bytes, extra headers)
        trickle: dict[str, float] | None = None,  # resource -> seconds between two bytes of the answer
    ) -> None:
        self.proxy = proxy or {}
        self.answers = answers or {}
        self.trickle = trickle or {}
        self.objects = objects
        self.secrets = secrets or {}
        self.token = token
        self.page_size = page_size
        self.forbidden = forbidden
        self.delays = delays or {}
        self.mutate = mutate
        self.requests: list[Request] = []
        self.list_calls: dict[str, int] = {}
        self._lock = threading.Lock()
        # how many delayed calls were answered at the same time, at most (the reader's concurrency)
        self.delayed_in_flight = 0
        self.max_delayed_in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.tls = tls
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeKube:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        # vizdoctor is read-only: every request it ever sends must be a GET. Checked here, for each server,
        # so no scenario can pass with a write in it (an exception already on its way is left alone).
        writes = [f"{r.method} {r.path}" for r in self.requests if r.method != "GET"]
        if writes and exc[0] is None:
            raise AssertionError(f"vizdoctor sent requests other than GET: {writes}")

    # what the tests look at
    def methods(self) -> set[str]:
        return {r.method for r in self.requests}

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def _answer(self, req: Request) -> tuple[int, Any]:
        if req.method != "GET":
            return 405, _status(405, "MethodNotAllowed", f"{req.method} is not allowed here")
        if req.authorization != f"Bearer {self.token}":
            return 401, _status(401, "Unauthorized", "Unauthorized")
        if req.path.endswith("/proxy/") and "/namespaces/" in req.path:
            if req.path in self.proxy:
                return self.proxy[req.path]
            # the apiserver's own answer for an object it does not have: `services "tap" not found`
            kind, target = req.path.split("/")[5:7]
            name = target.split(":")[1] if ":" in target else target
            return 404, _status(404, "NotFound", f'{kind} "{name}" not found')
        parts = req.path.strip("/").split("/")
        if len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "secrets":
            ns, name = parts[3], parts[5]
            if "secrets" in self.forbidden:
                return 403, _status(
                    403,
                    "Forbidden",
                    f'secrets "{name}" is forbidden: User "system:serviceaccount:default:vizdoctor" cannot get '
                    f'resource "secrets" in API group "" in the namespace "{ns}"',
                )
            secret = self.secrets.get((ns, name))
            if secret is None:
                return 404, _status(404, "NotFound", f'secrets "{name}" not found')
            return 200, secret
        path = req.path.rstrip("/")
        route = ROUTES.get(path)
        optional = OPTIONAL_ROUTES.get(path)
        if route is None and optional is not None and optional[0] in self.objects:
            route = optional
        namespace = None
        if route is None and (m := CONFIGMAPS.match(path)):
            route, namespace = ("ConfigMap", "v1"), m.group(1)
        if route is None:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        kind, api_version = route
        resource = req.path.rstrip("/").rsplit("/", 1)[1]
        delay = self.delays.get(resource)
        if delay:
            with self._lock:
                self.delayed_in_flight += 1
                self.max_delayed_in_flight = max(self.max_delayed_in_flight, self.delayed_in_flight)
            time.sleep(delay)
            with self._lock:
                self.delayed_in_flight -= 1
        if resource in self.forbidden:
            group = api_version.split("/")[0] if "/" in api_version else ""
            return 403, _status(
                403,
                "Forbidden",
                f'{resource}{"." + group if group else ""} is forbidden: User "system:serviceaccount:default:'
                f'vizdoctor" cannot list resource "{resource}" in API group "{group}" at the cluster scope',
            )
        offset = int(base64.b64decode(req.query["continue"][0]).decode()) if "continue" in req.query else 0
        with self._lock:
            if offset == 0:
                self.list_calls[kind] = self.list_calls.get(kind, 0) + 1
            n = self.list_calls.get(kind, 1)
        items = copy.deepcopy(self.objects.get(kind, []))
        if kind in SHARED_KINDS:  # one kind in two API groups (NetworkPolicy, Calico's NetworkPolicy)
            items = [i for i in items if i.get("apiVersion", api_version) == api_version]
        if namespace is not None:
            items = [i for i in items if (i.get("metadata") or {}).get("namespace") == namespace]
        if self.mutate is not None:
            items = self.mutate(kind, n, items)
        limit = min(int(req.query.get("limit", ["500"])[0]), self.page_size)
        page = items[offset : offset + limit]
        for item in page:  # list items carry neither kind nor apiVersion
            item.pop("kind", None)
            item.pop("apiVersion", None)
        metadata: dict[str, Any] = {"resourceVersion": "4242"}
        if offset + limit < len(items):
            metadata["continue"] = base64.b64encode(str(offset + limit).encode()).decode()
        return 200, {"kind": f"{kind}List", "apiVersion": api_version, "metadata": metadata, "items": page}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urlsplit(self.path)
                req = Request(self.command, url.path, parse_qs(url.query), self.headers.get("Authorization"))
                with fake._lock:
                    fake.requests.append(req)
                resource = req.path.rstrip("/").rsplit("/", 1)[-1]
                extra: dict[str, str] = {}
                with fake._lock:
                    canned = fake.answers.get(resource)
                    answer = canned.pop(0) if canned else None
                if answer is not None:
                    code, raw, extra = answer
                    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
                else:
                    code, body = fake._answer(req)
                    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.end_headers()
                    pause = fake.trickle.get(resource)
                    if pause:
                        for i in range(len(data)):
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                            time.sleep(pause)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the client gave up (timeouts)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# --- kubeconfigs ----------------------------------------------------------------------------------------


def kubeconfig(
    tmp_path: Path,
    server: str,
    *,
    exec_token: str | None = None,
    token: str = TOKEN,
    client_pem: tuple[bytes, bytes] | None = None,  # (certificate, key): client-certificate-data / -key-data
    insecure: bool = False,
) -> Path:
    """A kubeconfig with context `fake-eks`: a static token, or an exec credential plugin printing one."""
    if exec_token is not None:
        plugin = tmp_path / "get-token.py"
        credential = {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "kind": "ExecCredential",
            "status": {"token": exec_token},
        }
        plugin.write_text(f"import json\nprint(json.dumps({credential!r}))\n")
        user: dict[str, Any] = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": sys.executable,
                "args": [str(plugin)],
                "interactiveMode": "Never",
            }
        }
    else:
        user = {"token": token}
    if client_pem is not None:
        user["client-certificate-data"] = base64.b64encode(client_pem[0]).decode()
        user["client-key-data"] = base64.b64encode(client_pem[1]).decode()
    cluster: dict[str, Any] = {"server": server}
    if insecure:
        cluster["insecure-skip-tls-verify"] = True
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": cluster}],
        "users": [{"name": "tester", "user": user}],
        "contexts": [{"name": "fake-eks", "context": {"cluster": "fake", "user": "tester"}}],
        "current-context": "fake-eks",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path
