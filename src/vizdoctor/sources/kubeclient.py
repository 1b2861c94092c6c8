"""A lean Kubernetes API client for `check`: the connection settings of a kubeconfig context (or of the
pod's service account) and GET requests over urllib3 that return the raw answer. It loads no API or
model class: importing any `kubernetes.*` module runs `kubernetes/__init__`, which imports every one of
them (about 0.25 s of CPU and 30 MB per run), while `check` only ever reads raw JSON.

What it follows, and from where:
- Loading and merging (client-go `tools/clientcmd` loading rules, and
  https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/): the files of
  `$KUBECONFIG` (or `--kubeconfig`) in order; missing files are skipped; the first file to define a
  cluster, user or context name wins (entries are not merged field by field); `current-context` comes from
  the first file that sets it. Relative file paths in an entry (`certificate-authority`,
  `client-certificate`, `client-key`, `tokenFile`, and an exec `command` that contains a `/`) are
  resolved against the folder of the file that defined the entry.
- Credentials, in the order the official Python client tried them (what `check` used until now): `token`,
  `tokenFile` (re-read once a minute, as client-go's cached file token source does), an exec plugin,
  `username`/`password` (HTTP basic). A client certificate from the kubeconfig or the plugin is sent with
  any of them.
- Exec plugins (client.authentication.k8s.io v1 / v1beta1, `ExecCredential`): `command`, `args`, `env`,
  `KUBERNETES_EXEC_INFO` with `spec.interactive` and, with `provideClusterInfo`, `spec.cluster` (server,
  certificate-authority-data, tls-server-name, insecure-skip-tls-verify, proxy-url and the
  `client.authentication.k8s.io/exec` extension as `config`); `interactiveMode` (`Never`: stdin is not
  given; `Always` without a terminal is an error, as in client-go); the answer's `token`,
  `clientCertificateData`, `clientKeyData` and `expirationTimestamp`.
- In-cluster (client-go `rest.InClusterConfig`): `KUBERNETES_SERVICE_HOST` / `_PORT`, the service account
  token (re-read once a minute) and its `ca.crt`.
- `auth-provider` users (the legacy oidc, gcp and azure plugins) are not handled here: `Settings.auth_provider`
  names it, and the caller uses the official client for them.

Key material never reaches a disk: `*-data` certificates and keys, and an exec plugin's, are handed to
`ssl` as anonymous memory files (memfd, opened through /proc/self/fd).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # imported when a client is made: `check --help` does without them
    import ssl

    import urllib3

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
TOKEN_FILE_REFRESH = 60.0  # seconds: client-go re-reads token files once a minute (NewCachedFileTokenSource)
EXEC_EXPIRY_SKEW = 300.0  # the official client re-runs a plugin whose token expires within 5 minutes
EXEC_MIN_REFRESH = 60.0  # ... but here at most once per this many seconds (check's tokens serve the run)
EXEC_INFO_API_VERSIONS = (
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
    "client.authentication.k8s.io/v1alpha1",  # removed in Kubernetes 1.24; the official client ran it
)
EXEC_EXTENSION = "client.authentication.k8s.io/exec"  # cluster extension handed to the plugin as `config`
POOL_SIZE = 8  # connections kept per host; above the list pool of 4, so none is discarded
DEFAULT_CONFIG = "~/.kube/config"


class KubeConfigError(Exception):
    """The kubeconfig or the in-cluster settings cannot be used; the message says why (one line)."""


class NoKubeconfig(KubeConfigError):
    pass


class UnknownContext(KubeConfigError):
    pass


class ApiError(Exception):
    """A non-2xx answer of the API server (the attributes of the official client's ApiException)."""

    def __init__(self, status: int, reason: str, body: bytes, headers: Mapping[str, str]) -> None:
        super().__init__(f"{status} {reason}".strip())
        self.status = status
        self.reason = reason
        self.body = body
        self.headers = headers


@dataclass
class ExecConfig:
    api_version: str
    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    provide_cluster_info: bool = False
    interactive_mode: str = "IfAvailable"
    cwd: str | None = None  # the kubeconfig's folder, where the official client ran plugins
    # `installHint`: shown when the command is not found, as client-go does (plugin/pkg/client/auth/exec/exec.go)
    install_hint: str | None = None


@dataclass
class Settings:
    """One context's connection: where, how TLS is checked, who we are."""

    server: str
    context: str
    ca_file: str | None = None
    ca_data: bytes | None = None  # PEM
    insecure: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    cert_data: bytes | None = None  # PEM
    key_data: bytes | None = None  # PEM
    token: str | None = None
    token_file: str | None = None
    username: str | None = None
    password: str | None = None
    exec: ExecConfig | None = None
    auth_provider: str | None = None  # legacy plugin name: the caller falls back to the official client
    cluster_info: dict[str, Any] = field(default_factory=dict)  # KUBERNETES_EXEC_INFO spec.cluster


# --- loading --------------------------------------------------------------------------------------------


def kubeconfig_paths(explicit: str | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """The files to merge: --kubeconfig, else $KUBECONFIG (a list), else ~/.kube/config; duplicates once."""
    env = os.environ if env is None else env
    raw = explicit or env.get("KUBECONFIG") or DEFAULT_CONFIG
    out: list[str] = []
    for part in raw.split(os.pathsep):
        if part and part not in out:
            out.append(part)
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KubeConfigError(f"{path}: cannot be read ({exc})") from exc
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise KubeConfigError(f"{path}{where}: not valid YAML ({problem})") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise KubeConfigError(f"{path}: not a kubeconfig (a {type(doc).__name__}, not a mapping)")
    return doc


@dataclass
class _Merged:
    clusters: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    users: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    contexts: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    current: str | None = None
    files: list[Path] = field(default_factory=list)


def _merge(paths: list[str]) -> _Merged:
    merged = _Merged()
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            continue  # clientcmd skips missing files of the list
        doc = _read_yaml(path)
        merged.files.append(path)
        folder = path.resolve().parent
        for key, inner, into in (
            ("clusters", "cluster", merged.clusters),
            ("users", "user", merged.users),
            ("contexts", "context", merged.contexts),
        ):
            entries = doc.get(key) or []
            if not isinstance(entries, list):
                raise KubeConfigError(f"{path}: `{key}` is not a list")
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    raise KubeConfigError(f"{path}: an entry of `{key}` has no name")
                body = entry.get(inner)
                if body is None:
                    body = {}
                if not isinstance(body, dict):
                    raise KubeConfigError(f"{path}: {inner} {entry['name']!r} is not a mapping")
                into.setdefault(entry["name"], (body, folder))  # the first file to set a name wins
        current = doc.get("current-context")
        if merged.current is None and isinstance(current, str) and current:
            merged.current = current
    return merged


def _resolve(value: Any, folder: Path) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value if os.path.isabs(value) else str(folder / value)


def _b64(value: Any, what: str) -> bytes | None:
    if value is None or value == "":
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KubeConfigError(f"{what} is not valid base64") from exc


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _exec(raw: Any, folder: Path, user: str) -> ExecConfig:
    if not isinstance(raw, dict):
        raise KubeConfigError(f"user {user!r}: `exec` is not a mapping")
    command, api_version = raw.get("command"), raw.get("apiVersion")
    if not isinstance(command, str) or not command:
        raise KubeConfigError(f"user {user!r}: exec has no command")
    if not isinstance(api_version, str) or not api_version:
        raise KubeConfigError(f"user {user!r}: exec has no apiVersion")
    if "/" in command and not os.path.isabs(command):
        command = str(folder / command)  # clientcmd resolves a relative command path, not a bare name
    env: dict[str, str] = {}
    for item in raw.get("env") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            env[item["name"]] = str(item.get("value") if item.get("value") is not None else "")
    return ExecConfig(
        api_version,
        command,
        [str(a) for a in raw.get("args") or []],
        env,
        bool(raw.get("provideClusterInfo")),
        str(raw.get("interactiveMode") or "IfAvailable"),
        str(folder),
        _str(raw.get("installHint")),
    )


def load_kubeconfig(paths: list[str], context: str | None = None) -> Settings:
    """The settings of `context` (else the current context) from the merged files."""
    merged = _merge(paths)
    if not merged.files:
        raise NoKubeconfig(
            f"kubeconfig {paths[0] if paths else DEFAULT_CONFIG} does not exist "
            "(use --kubeconfig, KUBECONFIG, or run inside a pod)"
        )
    where = os.pathsep.join(str(p) for p in merged.files)
    name = context or merged.current
    if not name:
        raise UnknownContext(f"{where} sets no current-context (pass --context)")
    if name not in merged.contexts:
        have = ", ".join(merged.contexts) or "none"
        raise UnknownContext(f"context {name!r} is not in {where} (it has {have})")
    ctx, _ = merged.contexts[name]
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    if not isinstance(cluster_name, str) or cluster_name not in merged.clusters:
        raise KubeConfigError(f"context {name!r} names cluster {cluster_name!r}, which is not in {where}")
    cluster, cfolder = merged.clusters[cluster_name]
    server = _str(cluster.get("server"))
    if not server:
        raise KubeConfigError(f"cluster {cluster_name!r} has no server")
    s = Settings(
        server=server.rstrip("/"),
        context=name,
        ca_file=_resolve(cluster.get("certificate-authority"), cfolder),
        ca_data=_b64(
            cluster.get("certificate-authority-data"), f"cluster {cluster_name!r} certificate-authority-data"
        ),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        tls_server_name=_str(cluster.get("tls-server-name")),
        proxy_url=_str(cluster.get("proxy-url")),
    )
    s.cluster_info = _exec_cluster_info(cluster, s)
    if user_name in (None, ""):
        return s  # no credentials: anonymous
    if not isinstance(user_name, str) or user_name not in merged.users:
        raise KubeConfigError(f"context {name!r} names user {user_name!r}, which is not in {where}")
    user, ufolder = merged.users[user_name]
    what = f"user {user_name!r}"
    provider = user.get("auth-provider")
    if isinstance(provider, dict):
        s.auth_provider = str(provider.get("name") or "?")
    s.cert_file = _resolve(user.get("client-certificate"), ufolder)
    s.key_file = _resolve(user.get("client-key"), ufolder)
    s.cert_data = _b64(user.get("client-certificate-data"), f"{what} client-certificate-data")
    s.key_data = _b64(user.get("client-key-data"), f"{what} client-key-data")
    s.token = _str(user.get("token"))
    s.token_file = _resolve(user.get("tokenFile"), ufolder)
    s.username, s.password = _str(user.get("username")), _str(user.get("password"))
    if user.get("exec") is not None:
        s.exec = _exec(user.get("exec"), ufolder, user_name)
    return s


def _exec_cluster_info(cluster: dict[str, Any], s: Settings) -> dict[str, Any]:
    """ExecCredential `spec.cluster` (client.authentication.k8s.io Cluster: the kubeconfig's key names;
    the CA as data even when the kubeconfig names a file)."""
    info: dict[str, Any] = {"server": s.server}
    ca = s.ca_data
    if ca is None and s.ca_file:
        with contextlib.suppress(OSError):
            ca = Path(s.ca_file).read_bytes()
    if ca:
        info["certificate-authority-data"] = base64.b64encode(ca).decode()
    if s.tls_server_name:
        info["tls-server-name"] = s.tls_server_name
    if s.insecure:
        info["insecure-skip-tls-verify"] = True
    if s.proxy_url:
        info["proxy-url"] = s.proxy_url
    for ext in cluster.get("extensions") or []:
        if isinstance(ext, dict) and ext.get("name") == EXEC_EXTENSION:
            info["config"] = ext.get("extension")
            break
    return info


def in_cluster(env: Mapping[str, str] | None = None, folder: Path = SERVICE_ACCOUNT_DIR) -> Settings:
    """The pod's service account (client-go rest.InClusterConfig)."""
    env = os.environ if env is None else env
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise KubeConfigError("not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
    token = folder / "token"
    if not token.is_file():
        raise KubeConfigError(f"in a pod, but the service account token {token} does not exist")
    hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    ca = folder / "ca.crt"
    return Settings(
        server=f"https://{hostport}",
        context="in-cluster",
        ca_file=str(ca) if ca.is_file() else None,
        token_file=str(token),
    )


# --- key material in memory -----------------------------------------------------------------------------

_MEMORY_FILES: dict[bytes, str] = {}  # content -> /proc/self/fd path, for the life of the process
_MEMORY_LOCK = threading.Lock()


def memory_file(content: str | bytes) -> str | None:
    """A path `ssl` can open that holds `content` in anonymous memory (memfd); None where there is none."""
    if not (hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir()):
        return None
    data = content.encode() if isinstance(content, str) else bytes(content)
    with _MEMORY_LOCK:
        if data in _MEMORY_FILES:
            return _MEMORY_FILES[data]
        fd = os.memfd_create("vizdoctor-kubeconfig", os.MFD_CLOEXEC)
        os.write(fd, data)
        path = f"/proc/self/fd/{fd}"
        _MEMORY_FILES[data] = path
        return path


@contextlib.contextmanager
def _key_paths(cert: bytes, key: bytes) -> Iterator[tuple[str, str]]:
    """Paths to the certificate and key while `ssl` loads them: memfd, else a private temporary folder
    removed as soon as they are loaded (ssl keeps them in memory)."""
    import tempfile

    c, k = memory_file(cert), memory_file(key)
    if c and k:
        yield c, k
        return
    with tempfile.TemporaryDirectory(prefix="vizdoctor-") as tmp:
        cpath, kpath = Path(tmp, "client.crt"), Path(tmp, "client.key")
        for p, data in ((cpath, cert), (kpath, key)):
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        yield str(cpath), str(kpath)


# --- exec credential plugins ----------------------------------------------------------------------------


@dataclass
class Credential:
    token: str | None
    cert: bytes | None
    key: bytes | None
    expires: float | None  # epoch seconds
    fetched: float  # time.monotonic() of the run


Popen = Callable[..., "subprocess.Popen[str]"]


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


PLUGIN_ERROR_CHARS = 400


def _one_line(stderr: str) -> str:
    """A plugin's error on one line: real plugins write several (gke-gcloud-auth-plugin ends with the line
    `)` after gcloud's advice), so the whole text is folded rather than its last line kept; long ones are
    cut, with an ellipsis."""
    text = " ".join(stderr.split())
    return text if len(text) <= PLUGIN_ERROR_CHARS else text[: PLUGIN_ERROR_CHARS - 1] + "…"


def run_exec_plugin(cfg: ExecConfig, cluster_info: dict[str, Any], popen: Popen) -> Credential:
    """Run the plugin once and read its ExecCredential. Raises KubeConfigError with its stderr."""
    interactive = cfg.interactive_mode != "Never" and sys.stdin is not None and sys.stdin.isatty()
    if cfg.interactive_mode == "Always" and not interactive:
        raise KubeConfigError(
            f"exec plugin {cfg.command} wants a terminal (interactiveMode: Always), and standard input is not one"
        )
    spec: dict[str, Any] = {"interactive": interactive}
    if cfg.provide_cluster_info:
        spec["cluster"] = cluster_info
    info = {"apiVersion": cfg.api_version, "kind": "ExecCredential", "spec": spec}
    env = {**os.environ, **cfg.env, "KUBERNETES_EXEC_INFO": json.dumps(info)}
    try:
        proc = popen(
            [cfg.command, *cfg.args],
            stdout=subprocess.PIPE,
            stderr=None if interactive else subprocess.PIPE,
            stdin=None if interactive else subprocess.DEVNULL,
            cwd=cfg.cwd if cfg.cwd and os.path.isdir(cfg.cwd) else None,
            env=env,
            text=True,
        )
    except OSError as exc:
        hint = ""
        if isinstance(exc, FileNotFoundError) and cfg.install_hint:
            hint = " (" + " ".join(cfg.install_hint.split()) + ")"  # the kubeconfig's own hint, on one line
        raise KubeConfigError(
            f"exec plugin {cfg.command} cannot be started: {exc.strerror or exc}{hint}"
        ) from exc
    out, err = proc.communicate()
    if proc.returncode != 0:
        said = _one_line(err or "")
        raise KubeConfigError(
            f"exec plugin {cfg.command} exited with status {proc.returncode}" + (f": {said}" if said else "")
        )
    try:
        doc = json.loads(out)
    except ValueError as exc:
        raise KubeConfigError(
            f"exec plugin {cfg.command} did not print an ExecCredential (not JSON)"
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("status"), dict):
        raise KubeConfigError(f"exec plugin {cfg.command} printed no ExecCredential status")
    if doc.get("apiVersion") != cfg.api_version:
        raise KubeConfigError(
            f"exec plugin {cfg.command} answered with apiVersion {doc.get('apiVersion')!r}, not {cfg.api_version!r}"
        )
    status = doc["status"]
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if bool(cert) != bool(key):
        raise KubeConfigError(
            f"exec plugin {cfg.command} gave clientCertificateData or clientKeyData without the other"
        )
    token = _str(status.get("token"))
    if not token and not cert:
        raise KubeConfigError(f"exec plugin {cfg.command} gave neither a token nor a client certificate")
    return Credential(
        token,
        str(cert).encode() if cert else None,
        str(key).encode() if key else None,
        _parse_time(status.get("expirationTimestamp")),
        time.monotonic(),
    )


# --- the client -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: Mapping[str, str]
    data: bytes


def default_retries() -> urllib3.Retry:
    """One quick retry for a dropped connection; none for read timeouts (the deadline must hold); 429 and
    Retry-After are the caller's, within its deadline."""
    import urllib3

    return urllib3.Retry(
        total=1, connect=1, read=0, status=0, redirect=0, other=0, respect_retry_after_header=False
    )


def _env_proxy(server: str) -> str | None:
    """HTTPS_PROXY / HTTP_PROXY / ALL_PROXY unless NO_PROXY exempts the host (as the official client did)."""
    import urllib.request

    proxies = urllib.request.getproxies()
    parts = urlsplit(server)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    if urllib.request.proxy_bypass_environment(parts.netloc, proxies):  # type: ignore[attr-defined]
        return None
    return proxy


class Client:
    """GETs to one API server. Thread-safe: the list calls share it."""

    def __init__(
        self,
        settings: Settings,
        *,
        retries: urllib3.Retry | None = None,
        popen: Popen = subprocess.Popen,
        exec_min_refresh: float | None = None,
    ) -> None:
        self.settings = settings
        self.host = settings.server.rstrip("/")  # `https://h:6443/` + `/api/...` would send `//api/...`
        self.retries = retries if retries is not None else default_retries()
        self.popen = popen
        self.exec_min_refresh = EXEC_MIN_REFRESH if exec_min_refresh is None else exec_min_refresh
        self._lock = threading.Lock()
        self._credential: Credential | None = None
        self._file_token: tuple[str, float] | None = None  # token, monotonic time read
        self._pools: list[urllib3.PoolManager] = []
        self._pool: urllib3.PoolManager | None = None
        self._pool_cert: bytes | None = None
        scheme = urlsplit(self.host).scheme
        if scheme not in ("http", "https"):
            raise KubeConfigError(f"server {self.host!r} is not an http(s) URL")
        if settings.exec is not None and not (settings.token or settings.token_file):
            self._credential = run_exec_plugin(settings.exec, settings.cluster_info, popen)
        self._pool = self._make_pool()  # at once: a bad certificate or CA is a configuration error

    # -- TLS and the connection pool

    def _ssl_context(self) -> ssl.SSLContext:
        import ssl

        s = self.settings
        import urllib3.util.ssl_

        reqs = ssl.CERT_NONE if s.insecure else ssl.CERT_REQUIRED
        ctx: ssl.SSLContext = urllib3.util.ssl_.create_urllib3_context(cert_reqs=reqs)
        if not s.insecure:
            try:
                if s.ca_data:
                    ctx.load_verify_locations(cadata=s.ca_data.decode("ascii", "replace"))
                elif s.ca_file:
                    ctx.load_verify_locations(cafile=s.ca_file)
                else:
                    ctx.load_default_certs()
            except (ssl.SSLError, OSError, ValueError) as exc:
                what = s.ca_file or "certificate-authority-data"
                raise KubeConfigError(
                    f"the cluster's certificate authority ({what}) cannot be loaded: {exc}"
                ) from exc
        cred = self._credential
        cert, key = (cred.cert, cred.key) if cred and cred.cert and cred.key else (s.cert_data, s.key_data)
        try:
            if cert is not None or key is not None:
                if cert is None and s.cert_file:
                    cert = Path(s.cert_file).read_bytes()
                if key is None and s.key_file:
                    key = Path(s.key_file).read_bytes()
                if cert is None or key is None:
                    raise KubeConfigError("a client certificate needs both the certificate and its key")
                with _key_paths(cert, key) as (cpath, kpath):
                    ctx.load_cert_chain(cpath, kpath)
            elif s.cert_file or s.key_file:
                if not (s.cert_file and s.key_file):
                    raise KubeConfigError("a client certificate needs both client-certificate and client-key")
                ctx.load_cert_chain(s.cert_file, s.key_file)
        except (ssl.SSLError, OSError) as exc:
            raise KubeConfigError(f"the client certificate cannot be loaded: {exc}") from exc
        return ctx

    def _make_pool(self) -> urllib3.PoolManager:
        import urllib3

        s = self.settings
        kw: dict[str, Any] = {"maxsize": POOL_SIZE, "retries": self.retries}
        if urlsplit(self.host).scheme == "https":
            kw["ssl_context"] = self._ssl_context()
            kw["cert_reqs"] = "CERT_NONE" if s.insecure else "CERT_REQUIRED"
            if s.tls_server_name:
                kw["server_hostname"] = s.tls_server_name
        proxy = s.proxy_url or _env_proxy(self.host)
        pool: urllib3.PoolManager
        if proxy and urlsplit(proxy).scheme.startswith("socks"):
            try:
                from urllib3.contrib.socks import SOCKSProxyManager
            except ImportError as exc:
                raise KubeConfigError(
                    f"proxy {proxy} is a SOCKS proxy, which needs PySocks (pip install pysocks)"
                ) from exc
            pool = SOCKSProxyManager(proxy, **kw)
        elif proxy:
            pool = urllib3.ProxyManager(proxy, **kw)
        else:
            pool = urllib3.PoolManager(**kw)
        self._pools.append(pool)
        self._pool_cert = self._credential.cert if self._credential else None
        return pool

    # -- credentials

    def _exec_credential(self) -> Credential | None:
        s = self.settings
        if s.exec is None:
            return None
        with self._lock:
            cred = self._credential
            now = time.monotonic()
            stale = cred is None or (
                cred.expires is not None and cred.expires - time.time() < EXEC_EXPIRY_SKEW
            )
            if stale and (cred is None or now - cred.fetched >= self.exec_min_refresh):
                try:
                    cred = self._credential = run_exec_plugin(s.exec, s.cluster_info, self.popen)
                except KubeConfigError:
                    if cred is None or (cred.expires is not None and cred.expires <= time.time()):
                        raise
                    cred.fetched = now  # keep the token that still holds; try again later
            if cred is not None and cred.cert != self._pool_cert:
                self._pool = self._make_pool()
            return cred

    def _token_from_file(self, path: str) -> str:
        with self._lock:
            now = time.monotonic()
            if self._file_token is None or now - self._file_token[1] >= TOKEN_FILE_REFRESH:
                try:
                    token = Path(path).read_text(encoding="utf-8").strip()
                except (OSError, UnicodeDecodeError) as exc:
                    if self._file_token is None:
                        raise KubeConfigError(f"the token file {path} cannot be read: {exc}") from exc
                    token = self._file_token[0]
                self._file_token = (token, now)
            return self._file_token[0]

    def authorization(self) -> str | None:
        """The Authorization header, in the official Python client's order of precedence."""
        s = self.settings
        if s.token:
            return f"Bearer {s.token}"
        if s.token_file:
            return f"Bearer {self._token_from_file(s.token_file)}"
        if s.exec is not None:
            cred = self._exec_credential()
            return f"Bearer {cred.token}" if cred and cred.token else None
        if s.username is not None:
            pair = f"{s.username}:{s.password or ''}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return None

    # -- requests

    def get(self, path: str, query: Mapping[str, str | int] | None = None, timeout: float = 10.0) -> Response:
        """One GET of `path` (sent as given) with `query`; any status is returned, transport errors raise
        urllib3's exceptions."""
        import urllib3

        headers = {"Accept": "application/json", "User-Agent": "vizdoctor"}
        auth = self.authorization()
        if auth:
            headers["Authorization"] = auth
        with self._lock:
            pool = self._pool
        assert pool is not None
        fields = {k: str(v) for k, v in (query or {}).items()}
        r = pool.request(
            "GET",
            self.host + path,
            fields=fields or None,
            headers=headers,
            timeout=urllib3.Timeout(total=timeout),
            retries=self.retries,
        )
        return Response(int(r.status), str(r.reason or ""), r.headers, bytes(r.data or b""))

    def close(self) -> None:
        for pool in self._pools:
            pool.clear()


class OfficialClient:
    """The same `get` through the official `kubernetes` client, for kubeconfigs whose user has a legacy
    `auth-provider` (oidc, gcp, azure), which this module does not implement."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.host = str(api.configuration.host)

    def get(self, path: str, query: Mapping[str, str | int] | None = None, timeout: float = 10.0) -> Response:
        from urllib.parse import urlencode

        import urllib3
        from kubernetes.client import ApiException

        full = path + (f"?{urlencode({k: str(v) for k, v in query.items()})}" if query else "")
        try:
            if hasattr(self.api, "param_serialize"):  # kubernetes >= 31: the raw response, any status
                method, url, headers, body, post = self.api.param_serialize(
                    "GET", full, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
                )
                resp: Any = self.api.call_api(method, url, headers, body, post, _request_timeout=timeout)
                data = resp.read() if hasattr(resp, "read") else resp.data
            else:  # older clients raise ApiException for non-2xx answers
                resp = self.api.call_api(
                    full,
                    "GET",
                    header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"],
                    _preload_content=False,
                    _request_timeout=timeout,
                    _return_http_data_only=True,
                )
                data = resp.data
            headers_out = getattr(resp, "headers", None) or getattr(resp, "getheaders", dict)()
            return Response(
                int(resp.status), str(getattr(resp, "reason", "") or ""), headers_out, bytes(data or b"")
            )
        except ApiException as exc:
            if not exc.status:  # the client's wrapper for TLS errors
                raise urllib3.exceptions.SSLError(" ".join(str(exc.reason).split())) from exc
            raw = exc.body or b""
            return Response(
                int(exc.status),
                str(exc.reason or ""),
                exc.headers or {},
                raw.encode() if isinstance(raw, str) else bytes(raw),
            )

    def close(self) -> None:
        self.api.close()
