"""A live cluster -> inventory, for `vizdoctor check`.

Talks to the API server through `kubeclient` (kubeconfig merged as kubectl does, client certificates,
tokens, token files, basic auth, exec credential plugins such as `aws eks get-token`; in-cluster service
account) with raw GETs over urllib3; only a user with a legacy `auth-provider` (oidc, gcp, azure) goes
through the official `kubernetes` client, imported for that case alone. Read-only: every request is a
GET. Each kind is listed once, in pages of 500 (`limit` + `continue`), as raw JSON, and fed to
`manifests.add_document`, so the inventory is the one `scan` builds and every check works unchanged;
the raw items stay in `LiveState.objects` for the live-only checks.

Of Secrets, only the TLS Secrets of the tap API server and Linkerd's webhooks are read, one GET each, and
only their public certificate (`tls.crt`) is parsed: subject, DNS names and notAfter are kept, and whether
the caBundle that must trust it does. Nothing else of a Secret is kept or printed.

A kind the credentials may not list (403) or that does not answer in time becomes a `CannotRead`; the run
goes on. An API server that cannot be reached at all (connection refused, DNS, TLS, rejected credentials)
raises `ClusterUnreachable` (exit 2, one line).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.utils
import functools
import importlib.util
import json
import logging
import os
import signal
import subprocess
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vizdoctor.errors import ClusterUnreachable as ClusterUnreachable  # re-exported
from vizdoctor.extras import AUTH_PROVIDER_EXTRA, installed
from vizdoctor.knowledge import linkerd
from vizdoctor.location import Location
from vizdoctor.model import CannotRead, CertState, CertSummary, Inventory, LiveState
from vizdoctor.sources import kubeclient
from vizdoctor.sources.kubeclient import EXEC_MIN_REFRESH as EXEC_MIN_REFRESH  # re-exported
from vizdoctor.sources.kubeclient import ApiError
from vizdoctor.sources.options import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT  # re-exported

Transport = kubeclient.Client | kubeclient.OfficialClient

PAGE_SIZE = 500
PER_CALL_TIMEOUT = 10.0  # seconds; never more than what is left of the overall deadline
DEADLINE_EXCEEDED = "deadline exceeded"
MAX_429_RETRIES = 5  # 429 Too Many Requests: retried after Retry-After while the deadline allows


def _retry_after(exc: Any) -> float:
    """Retry-After of a 429 in seconds (delta-seconds or an HTTP date, RFC 9110 10.2.3); 1 s without one."""
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return 1.0


@dataclass(frozen=True)
class KindSpec:
    kind: str
    group: str  # "" for the core group
    version: str
    resource: str  # plural, as RBAC names it
    optional: bool = False  # a custom resource whose CRD may not be installed: 404 means "none"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path: /api/v1/... for the core group, /apis/<group>/<version>/... for the others."""
        out = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace:
            out += f"/namespaces/{quote(namespace, safe='')}"
        out += f"/{self.resource}"
        if name:
            out += f"/{quote(name, safe='')}"
        return out


# In the order they are read: what decides the control-plane paths first, so that a deadline costs the
# least important kinds.
KINDS: tuple[KindSpec, ...] = (
    KindSpec("APIService", "apiregistration.k8s.io", "v1", "apiservices"),
    KindSpec(
        "MutatingWebhookConfiguration", "admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations"
    ),
    KindSpec(
        "ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
    ),
    KindSpec("Namespace", "", "v1", "namespaces"),
    KindSpec("Service", "", "v1", "services"),
    KindSpec("EndpointSlice", "discovery.k8s.io", "v1", "endpointslices"),
    KindSpec("Pod", "", "v1", "pods"),
    KindSpec("Node", "", "v1", "nodes"),
    KindSpec("Deployment", "apps", "v1", "deployments"),
    KindSpec("DaemonSet", "apps", "v1", "daemonsets"),
    KindSpec("StatefulSet", "apps", "v1", "statefulsets"),
    KindSpec("ClusterRole", "rbac.authorization.k8s.io", "v1", "clusterroles"),
    KindSpec("ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", "clusterrolebindings"),
    KindSpec("CustomResourceDefinition", "apiextensions.k8s.io", "v1", "customresourcedefinitions"),
)
SECRET = KindSpec("Secret", "", "v1", "secrets")
# ingress-nginx's ConfigMap, read only in the namespaces where a controller Deployment runs
CONFIGMAP = KindSpec("ConfigMap", "", "v1", "configmaps")
# route kinds served by Kubernetes itself (no CRD): a 404 is no "none" for them
_BUILTIN_ROUTES = frozenset({("Ingress", "networking.k8s.io"), ("IngressClass", "networking.k8s.io")})


def exposure_kinds() -> tuple[KindSpec, ...]:
    """The routes the dashboard exposure check reads (knowledge.ingress.ROUTE_KINDS), beyond KINDS:
    built-in kinds (always served) and custom resources (optional: no CRD, none of them)."""
    from vizdoctor.knowledge.ingress import ROUTE_KINDS

    have = {(k.kind, k.group) for k in KINDS}
    out: list[KindSpec] = []
    for kind, group, version, plural in ROUTE_KINDS:
        if (kind, group) in have or kind == "ConfigMap" or not group:
            continue
        out.append(KindSpec(kind, group, version, plural, optional=(kind, group) not in _BUILTIN_ROUTES))
    return tuple(out)


def _custom(kind: str, group: str, version: str, plural: str) -> KindSpec:
    return KindSpec(kind, group, version, plural, optional=True)


# What decides whether a policy or the pod network stands between the control plane and a webhook pod
# (checks network_policy, mesh_policy, pod_network). Custom resources are optional: no CRD, none of them.
NETWORK_KINDS: tuple[KindSpec, ...] = (
    KindSpec("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies"),
    _custom("CiliumNetworkPolicy", "cilium.io", "v2", "ciliumnetworkpolicies"),
    _custom("CiliumClusterwideNetworkPolicy", "cilium.io", "v2", "ciliumclusterwidenetworkpolicies"),
    _custom("NetworkPolicy", "crd.projectcalico.org", "v1", "networkpolicies"),
    _custom("GlobalNetworkPolicy", "crd.projectcalico.org", "v1", "globalnetworkpolicies"),
    _custom("Installation", "operator.tigera.io", "v1", "installations"),
    _custom("Server", "policy.linkerd.io", "v1beta1", "servers"),
    _custom("ServerAuthorization", "policy.linkerd.io", "v1beta1", "serverauthorizations"),
    _custom("AuthorizationPolicy", "policy.linkerd.io", "v1alpha1", "authorizationpolicies"),
    _custom("NetworkAuthentication", "policy.linkerd.io", "v1alpha1", "networkauthentications"),
    _custom("PeerAuthentication", "security.istio.io", "v1beta1", "peerauthentications"),
)


@dataclass
class KubeOptions:
    kubeconfig: str | None = None
    context: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    viz_namespace: str | None = None
    linkerd_namespace: str | None = None


class _Deadline(Exception):
    pass


class _LogCollector(logging.Handler):
    """The client reports exec-plugin failures through `logging.error`; keep them for the error message."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _in_cluster_only(opts: KubeOptions) -> bool:
    if opts.kubeconfig or opts.context or os.environ.get("KUBECONFIG"):
        return False
    return not Path("~/.kube/config").expanduser().exists() and bool(
        os.environ.get("KUBERNETES_SERVICE_HOST")
    )


def _memory_file(content: Any, temp_file_path: Any = None, force_recreate: bool = False) -> str:
    """Stands in for the official client's `_create_temp_file_with_content` (auth-provider users only), which
    writes the kubeconfig's client key, client certificate and CA to files in /tmp that stay there when the
    process is killed (SIGTERM from CI cancellation or `timeout`). Here they live in anonymous memory
    (memfd) and are opened by path through /proc/self/fd, so key material never reaches a disk."""
    path = kubeclient.memory_file(content if isinstance(content, str | bytes) else str(content))
    assert path is not None  # installed only where memfd exists
    return path


def _keep_key_material_in_memory() -> None:
    from kubernetes.config import kube_config

    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        kube_config._create_temp_file_with_content = _memory_file
    # Elsewhere the client's files stay; the CLI turns SIGTERM into a normal exit, so the client's atexit
    # hook removes them.


class _PluginProcesses:
    """Exec credential plugins (`aws eks get-token`, `gke-gcloud-auth-plugin`, ...) are started with a plain
    Popen and waited for without a timeout (by kubeclient, or by the official client for auth-provider users). Here each gets its own process group, so that a
    plugin that hangs is killed with everything it started when the deadline passes or the run ends."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[Any]] = []
        self.lock = threading.Lock()

    def popen(self, *args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        proc: subprocess.Popen[Any] = subprocess.Popen(*args, **{**kwargs, "start_new_session": True})
        with self.lock:
            self.procs.append(proc)
        return proc

    def kill_all(self) -> None:
        with self.lock:
            procs, self.procs = self.procs, []
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    proc.wait(timeout=1)


PLUGINS = _PluginProcesses()


def _track_plugins() -> None:
    from kubernetes.config import exec_provider

    shim = types.SimpleNamespace(
        **{k: getattr(subprocess, k) for k in dir(subprocess) if not k.startswith("__")}
    )
    shim.Popen = PLUGINS.popen
    setattr(exec_provider, "subprocess", shim)  # noqa: B010 (a module attribute the stubs do not declare)


def _cache_credentials(cfg: Any) -> None:
    """The client re-runs an exec plugin before a request when its token expires within 5 minutes
    (EXPIRY_SKEW_PREVENTION_DELAY), i.e. before *every* request for a token that lives less than that.
    The token is kept instead, and the plugin re-run at most once per EXEC_MIN_REFRESH seconds."""
    original = getattr(cfg, "refresh_api_key_hook", None)
    if original is None:
        return
    last = [time.monotonic()]  # the plugin has just run, while the kubeconfig was loaded

    def hook(c: Any) -> None:
        if time.monotonic() - last[0] < EXEC_MIN_REFRESH:
            return
        last[0] = time.monotonic()
        original(c)

    cfg.refresh_api_key_hook = hook


def _retries() -> Any:
    return kubeclient.default_retries()


def _connect(opts: KubeOptions) -> tuple[Transport, str]:
    """(client, context name). The kubeconfig is never written, and no key material is written anywhere
    (kubeclient.memory_file)."""
    try:
        if _in_cluster_only(opts):
            return kubeclient.Client(
                kubeclient.in_cluster(), retries=_retries(), popen=PLUGINS.popen
            ), "in-cluster"
        paths = kubeclient.kubeconfig_paths(opts.kubeconfig)
        settings = kubeclient.load_kubeconfig(paths, opts.context)
        if settings.auth_provider is not None:
            return _connect_official(opts, os.pathsep.join(paths), settings.auth_provider)
        client = kubeclient.Client(
            settings, retries=_retries(), popen=PLUGINS.popen, exec_min_refresh=EXEC_MIN_REFRESH
        )
        return client, settings.context
    except (kubeclient.NoKubeconfig, kubeclient.UnknownContext) as exc:
        raise ClusterUnreachable(str(exc)) from exc
    except kubeclient.KubeConfigError as exc:
        raise ClusterUnreachable(f"cannot load the cluster configuration: {exc}") from exc


def _connect_official(opts: KubeOptions, path: str, provider: str) -> tuple[Transport, str]:
    """A user with a legacy `auth-provider` (oidc, gcp, azure): the official client's loaders, as before."""
    if not installed("kubernetes"):
        raise ClusterUnreachable(
            f"the kubeconfig user authenticates with auth-provider {provider!r}, which vizdoctor reads through "
            f"the official Kubernetes client (the kubernetes package), not installed: {AUTH_PROVIDER_EXTRA}"
        )
    from kubernetes import client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException

    _keep_key_material_in_memory()
    _track_plugins()
    config: Any = k8s_config  # untyped functions in some releases of the client
    cfg = type.__call__(client.Configuration)  # a fresh one, not a copy of the process default
    cfg.retries = _retries()
    try:
        _contexts, active = config.list_kube_config_contexts(config_file=path)
        name = opts.context or (active or {}).get("name")
        api = config.new_client_from_config(
            config_file=path, context=opts.context, persist_config=False, client_configuration=cfg
        )
        _cache_credentials(cfg)
        return kubeclient.OfficialClient(api), str(name or "?")
    except ConfigException as exc:
        raise ClusterUnreachable(f"cannot load the cluster configuration: {exc}") from exc


def _with_deadline(
    fn: Callable[[], Any], seconds: float, what: str, timeout_error: type[Exception] | None = None
) -> Any:
    """Run fn in a thread so a hanging credential plugin or a trickling server cannot hang vizdoctor."""
    box: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            box.append((True, fn()))
        except BaseException as exc:
            box.append((False, exc))

    t = threading.Thread(target=target, name="vizdoctor-kubeconfig", daemon=True)
    t.start()
    t.join(max(seconds, 0.1))
    if not box:
        if timeout_error is not None:
            raise timeout_error
        raise ClusterUnreachable(f"{what} did not finish within the --timeout of {seconds:g}s")
    ok, value = box[0]
    if not ok:
        raise value
    return value


def _status_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if body:
        try:
            doc = json.loads(body)
            if isinstance(doc, dict) and doc.get("message"):
                return str(doc["message"])
        except (ValueError, TypeError):
            pass
    return f"{getattr(exc, 'status', '?')} {getattr(exc, 'reason', '') or ''}".strip()


class _Reader:
    def __init__(self, api: Transport, opts: KubeOptions, deadline: float, logs: _LogCollector) -> None:
        self.api = api
        self.opts = opts
        self.deadline = deadline
        self.logs = logs
        self.read_any = False

    def _timeout(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0.05:
            raise _Deadline
        return min(PER_CALL_TIMEOUT, remaining)

    def _call(self, spec: KindSpec, **kwargs: Any) -> Any:
        """One GET; returns the decoded JSON. Raises _Deadline, ClusterUnreachable or CannotRead-worthy errors.

        urllib3's timeout bounds each socket read, not the answer: a server that sends one byte every few
        seconds would keep it reading forever. So the request runs in a worker thread that is given only
        what is left of the deadline (and abandoned after it; it is a daemon)."""
        attempt = 0
        while True:
            timeout = self._timeout()
            try:
                return _with_deadline(
                    functools.partial(self._get, spec, timeout, kwargs),
                    timeout + 0.05,
                    "the request",
                    _Deadline,
                )
            except ApiError as exc:
                if exc.status == 429 and attempt < MAX_429_RETRIES:
                    wait = _retry_after(exc)
                    if time.monotonic() + wait < self.deadline - 0.05:
                        attempt += 1
                        time.sleep(wait)
                        continue
                raise

    def _get(self, spec: KindSpec, timeout: float, kwargs: dict[str, Any]) -> Any:
        query = {k: v for k, v in kwargs.items() if k in ("limit", "continue")}
        path = spec.path(kwargs.get("namespace"), kwargs.get("name"))
        try:
            resp = self.api.get(path, query, timeout)
        except kubeclient.KubeConfigError as exc:  # an exec plugin that failed to renew an expired token
            raise ClusterUnreachable(f"cannot load the cluster configuration: {exc}") from exc
        except Exception as exc:
            if self._is_timeout(exc):
                if self.deadline - time.monotonic() <= 0.05:
                    raise _Deadline from exc
                raise TimeoutError(f"no answer within {timeout:g}s") from exc
            if self._is_tls(exc):
                raise ClusterUnreachable(
                    f"cannot talk to the API server at {self.api.host}: {_short(getattr(exc, 'reason', None) or exc)}"
                ) from exc
            if self._is_transport(exc):
                reason = getattr(exc, "reason", None) or exc
                msg = f"cannot reach the API server at {self.api.host}: {_short(reason)}"
                if not self.read_any:
                    raise ClusterUnreachable(msg) from exc
                raise ConnectionError(msg) from exc
            raise
        if resp.status == 401:
            why = "; ".join(self.logs.messages[-2:])
            raise ClusterUnreachable(
                f"the API server at {self.api.host} rejected the credentials (401 Unauthorized)"
                + (f": {why}" if why else "")
            )
        if not 200 <= resp.status < 300:
            raise ApiError(resp.status, resp.reason, resp.data, resp.headers)
        try:
            return json.loads(resp.data)
        except (ValueError, RecursionError):
            raise ValueError(
                f"the answer to the {spec.resource} request is not JSON (a proxy's page, or not an API server)"
            ) from None

    @staticmethod
    def _is_timeout(exc: BaseException) -> bool:
        import urllib3

        reason = getattr(exc, "reason", None)
        return isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError) or isinstance(
            reason, urllib3.exceptions.ReadTimeoutError
        )

    @staticmethod
    def _is_tls(exc: BaseException) -> bool:
        import ssl

        import urllib3

        reason = getattr(exc, "reason", None)
        tls = (urllib3.exceptions.SSLError, ssl.SSLError)
        return isinstance(exc, tls) or isinstance(reason, tls)

    @staticmethod
    def _is_transport(exc: BaseException) -> bool:
        import urllib3

        return isinstance(exc, urllib3.exceptions.HTTPError | OSError)

    def list_kind(self, spec: KindSpec, **extra: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": PAGE_SIZE, **extra}
            if token:
                kwargs["continue"] = token
            doc = self._call(spec, **kwargs)
            if isinstance(doc, dict) and "items" not in doc:
                # `{}` is no empty list: an API server always sends `items` (a proxy or a stub does not)
                raise ValueError(f"the answer to the {spec.resource} list has no items (not a list object)")
            if not isinstance(doc, dict) or not isinstance(doc["items"], list | None):
                raise ValueError(f"the answer to the {spec.resource} list is not a list object")
            page = doc.get("items") or []
            items.extend(i for i in page if isinstance(i, dict))
            token = (doc.get("metadata") or {}).get("continue") or None
            if not token:
                break
        self.read_any = True
        for item in items:
            item["kind"] = spec.kind  # list items carry neither kind nor apiVersion
            item["apiVersion"] = spec.api_version
            meta = item.get("metadata")
            if isinstance(meta, dict):
                meta.pop("managedFields", None)
        return items

    def tls_certificate(self, namespace: str, name: str) -> bytes | None:
        """The public `tls.crt` of one Secret (None: no such Secret); nothing else of it leaves here."""
        try:
            doc = self._call(SECRET, name=name, namespace=namespace)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        data = doc.get("data") if isinstance(doc, dict) else None
        crt = data.get("tls.crt") if isinstance(data, dict) else None
        del doc, data  # drop the rest of the Secret at once
        if not isinstance(crt, str):
            return b""
        try:
            return base64.b64decode(crt, validate=True)
        except (binascii.Error, ValueError):
            return b""


def _short(reason: object) -> str:
    text = " ".join(str(reason).split())
    # urllib3 prefixes its errors with the connection object: keep the part after the last "): "
    if "Failed to establish a new connection: " in text:
        text = text.split("Failed to establish a new connection: ", 1)[1]
    return text[:300]


def _b64_pem(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


NO_X509 = (
    "the Python package `cryptography` is not installed, so vizdoctor cannot parse X.509 certificates "
    "(pip install cryptography)"
)


def have_x509() -> bool:
    return importlib.util.find_spec("cryptography") is not None


def summarize_certificate(secret: str, pem: bytes, ca_bundle: bytes | None) -> CertSummary:
    """Parse a PEM serving certificate (leaf first, then any intermediates) into its public facts."""
    try:
        from cryptography import x509
    except ImportError:
        return CertSummary(secret, unreadable=NO_X509, state=CertState.NO_PARSER)
    if not pem:
        return CertSummary(secret, unreadable="the Secret has no tls.crt", state=CertState.INVALID)
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        return CertSummary(
            secret, unreadable=f"tls.crt is not a PEM certificate ({exc})", state=CertState.INVALID
        )
    leaf = chain[0]
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        dns = ()
    not_after = leaf.not_valid_after_utc
    signed: bool | None = None
    if ca_bundle:
        try:
            anchors = x509.load_pem_x509_certificates(ca_bundle)
        except ValueError:
            anchors = []
        signed = _chains_to(leaf, chain[1:], anchors)
    return CertSummary(
        secret,
        subject=leaf.subject.rfc4514_string(),
        dns_names=dns,
        not_after=not_after.astimezone(UTC).isoformat(),
        signed_by_ca_bundle=signed,
    )


def _chains_to(leaf: Any, intermediates: list[Any], anchors: list[Any]) -> bool:
    """Whether the leaf is one of the anchors, or is signed (through the intermediates) by one."""
    current = leaf
    for _ in range(5):
        if any(current == a for a in anchors):
            return True
        for issuer in [*anchors, *intermediates]:
            if issuer == current:
                continue
            try:
                current.verify_directly_issued_by(issuer)
            except Exception:  # ValueError, TypeError, InvalidSignature: not this issuer
                continue
            if any(issuer == a for a in anchors):
                return True
            current = issuer
            break
        else:
            return False
    return False


def _ca_bundle_of(
    objects: dict[str, list[dict[str, Any]]], kind: str, name: str, webhook: str | None
) -> bytes | None:
    for obj in objects.get(kind, []):
        if (obj.get("metadata") or {}).get("name") != name:
            continue
        if webhook is None:
            return _b64_pem((obj.get("spec") or {}).get("caBundle"))
        for hook in obj.get("webhooks") or []:
            if isinstance(hook, dict) and hook.get("name") == webhook:
                return _b64_pem((hook.get("clientConfig") or {}).get("caBundle"))
    return None


LIST_CONCURRENCY = (
    4  # list calls in flight at once: a small pool, so a big cluster's API server is not flooded
)


def list_concurrently(
    reader: _Reader, specs: tuple[KindSpec, ...] | list[KindSpec]
) -> list[list[dict[str, Any]] | BaseException]:
    """Each kind's items (or the exception its list call raised), in the order of `specs`. The calls run
    on a small pool, so a slow kind no longer holds up the others; the run's deadline still bounds every
    call in flight (each asks `_Reader._timeout` for what is left), and calls not started by then end at
    once with `_Deadline`. The pool's threads are daemons, not a ThreadPoolExecutor's workers, which the
    interpreter joins at exit: SIGTERM ends the run at once instead of after the call in flight."""
    import queue

    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(specs)):
        todo.put(i)
    results: list[list[dict[str, Any]] | BaseException] = [_Deadline() for _ in specs]

    def work() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = reader.list_kind(specs[i])
            except Exception as exc:  # handed back to the caller, which sorts them out in order
                results[i] = exc

    threads = [
        threading.Thread(target=work, name="vizdoctor-list", daemon=True)
        for _ in range(min(LIST_CONCURRENCY, len(specs)))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()  # interruptible: a signal's exception unwinds the main thread, the daemons are left
    return results


def read_cluster(opts: KubeOptions) -> Inventory:
    """Read the cluster into an inventory whose `live` holds everything read and everything not."""
    deadline = time.monotonic() + opts.timeout
    logs = _LogCollector()
    root = logging.getLogger()
    root.addHandler(logs)
    try:
        api, context = _with_deadline(lambda: _connect(opts), opts.timeout, "loading the credentials")
        try:
            return _read(api, context, opts, deadline, logs)
        finally:
            api.close()
    finally:
        PLUGINS.kill_all()  # a plugin still running now hangs: the deadline passed, or the run was stopped
        root.removeHandler(logs)


def _read(api: Transport, context: str, opts: KubeOptions, deadline: float, logs: _LogCollector) -> Inventory:
    reader = _Reader(api, opts, deadline, logs)
    live = LiveState(context, api.host)
    for spec, outcome in zip(KINDS, list_concurrently(reader, KINDS), strict=True):
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            items = outcome
        except _Deadline:
            live.cannot_read.append(
                CannotRead(
                    spec.kind,
                    spec.group,
                    spec.resource,
                    None,
                    f"{DEADLINE_EXCEEDED} (--timeout {opts.timeout:g}s)",
                )
            )
            continue
        except ApiError as exc:
            live.cannot_read.append(
                CannotRead(spec.kind, spec.group, spec.resource, exc.status, _status_message(exc))
            )
            continue
        except (TimeoutError, ConnectionError, ValueError) as exc:
            live.cannot_read.append(CannotRead(spec.kind, spec.group, spec.resource, None, str(exc)))
            continue
        if spec.kind == "CustomResourceDefinition":  # only conversion webhooks matter; schemas are large
            items = [
                c
                for c in items
                if ((c.get("spec") or {}).get("conversion") or {}).get("strategy") == "Webhook"
            ]
        live.objects[spec.kind] = items
    _read_exposure(reader, live, opts)
    _read_optional(reader, live, opts, NETWORK_KINDS)
    if not reader.read_any:
        first = live.cannot_read[0] if live.cannot_read else None
        why = f" ({first.status or ''} {first.message})".replace("( ", "(") if first else ""
        raise ClusterUnreachable(
            f"could not read anything from the API server at {live.server}{why}; "
            "see docs/live.md for the read-only ClusterRole vizdoctor needs"
        )

    others = [o for kind in ("Service", "Deployment", "Pod") for o in live.objects.get(kind, [])]
    namespaces = live.objects.get("Namespace") if "Namespace" in live.objects else None
    live.viz_namespace = linkerd.find_namespace(
        namespaces, opts.viz_namespace, linkerd.VIZ_LABEL, linkerd.VIZ_DEFAULT_NAMESPACE, others
    )
    live.linkerd_namespace = linkerd.find_namespace(
        namespaces, opts.linkerd_namespace, linkerd.LINKERD_LABEL, linkerd.LINKERD_DEFAULT_NAMESPACE, others
    )
    _read_certificates(reader, live, opts)

    from vizdoctor.sources import manifests  # (YAML reader): not loaded for `vizdoctor check --help`

    inv = Inventory(live=live)
    loc = Location(f"cluster:{context}")
    kinds = [*(k.kind for k in KINDS), *(k.kind for k in exposure_kinds()), *(k.kind for k in NETWORK_KINDS)]
    for kind in dict.fromkeys([*kinds, "ConfigMap"]):
        for item in live.objects.get(kind, []):
            manifests.add_document(item, loc, inv, "default")
    return inv


def _read_exposure(reader: _Reader, live: LiveState, opts: KubeOptions) -> None:
    """Routes to the dashboard and the ingress controllers' settings (issue: dashboard exposure)."""

    def note(spec: KindSpec, status: int | None, message: str) -> None:
        live.cannot_read.append(CannotRead(spec.kind, spec.group, spec.resource, status, message))

    specs = exposure_kinds()
    late = False
    for spec, outcome in zip(specs, list_concurrently(reader, specs), strict=True):
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            items = outcome
        except _Deadline:
            note(spec, None, f"{DEADLINE_EXCEEDED} (--timeout {opts.timeout:g}s)")
            late = True
            continue
        except ApiError as exc:
            if spec.optional and exc.status == 404:
                continue  # that CRD is not installed: no such routes
            note(spec, exc.status, _status_message(exc))
            continue
        except (TimeoutError, ConnectionError, ValueError) as exc:
            note(spec, None, str(exc))
            continue
        live.objects.setdefault(spec.kind, []).extend(items)
    if late:
        return
    # ingress-nginx reads its settings from one ConfigMap in its own namespace
    namespaces = sorted(
        {
            str((d.get("metadata") or {}).get("namespace"))
            for d in live.objects.get("Deployment", []) + live.objects.get("DaemonSet", [])
            if "ingress-nginx/controller" in json.dumps((d.get("spec") or {}).get("template") or {})
        }
    )
    for ns in namespaces:
        try:
            live.objects.setdefault("ConfigMap", []).extend(reader.list_kind(CONFIGMAP, namespace=ns))
        except _Deadline:
            note(CONFIGMAP, None, f"{DEADLINE_EXCEEDED} (--timeout {opts.timeout:g}s)")
            return
        except ApiError as exc:
            note(CONFIGMAP, exc.status, f"in namespace {ns}: {_status_message(exc)}")
        except (TimeoutError, ConnectionError, ValueError) as exc:
            note(CONFIGMAP, None, f"in namespace {ns}: {exc}")


def _read_optional(reader: _Reader, live: LiveState, opts: KubeOptions, kinds: tuple[KindSpec, ...]) -> None:
    """Kinds some checks need beyond the paths' own; a missing CRD means none of that kind."""
    for spec in kinds:
        try:
            items = reader.list_kind(spec)
        except _Deadline:
            live.cannot_read.append(
                CannotRead(
                    spec.kind,
                    spec.group,
                    spec.resource,
                    None,
                    f"{DEADLINE_EXCEEDED} (--timeout {opts.timeout:g}s)",
                )
            )
            return
        except ApiError as exc:
            if spec.optional and exc.status == 404:
                continue
            live.cannot_read.append(
                CannotRead(spec.kind, spec.group, spec.resource, exc.status, _status_message(exc))
            )
            continue
        except (TimeoutError, ConnectionError, ValueError) as exc:
            live.cannot_read.append(CannotRead(spec.kind, spec.group, spec.resource, None, str(exc)))
            continue
        live.objects.setdefault(spec.kind, []).extend(items)


def _read_certificates(reader: _Reader, live: LiveState, opts: KubeOptions) -> None:
    wanted: list[tuple[str, tuple[str, ...], bytes | None]] = []  # namespace, names to try, caBundle
    if live.viz_namespace:
        ca = _ca_bundle_of(live.objects, "APIService", linkerd.TAP_APISERVICE, None)
        wanted.append((live.viz_namespace, linkerd.TAP_SECRETS, ca))
    if live.linkerd_namespace:
        for hook in linkerd.CONTROL_PLANE_WEBHOOKS:
            ca = _ca_bundle_of(live.objects, hook.configuration_kind, hook.configuration, hook.webhook)
            wanted.append((live.linkerd_namespace, (hook.secret(),), ca))
    for namespace, names, ca in wanted:
        key = f"{namespace}/{names[0]}"
        if not have_x509():  # nothing to parse it with: do not even read the Secret
            live.certificates[key] = CertSummary(key, unreadable=NO_X509, state=CertState.NO_PARSER)
            continue
        try:
            for name in names:
                pem = reader.tls_certificate(namespace, name)
                if pem is not None:
                    key = f"{namespace}/{name}"
                    live.certificates[key] = summarize_certificate(key, pem, ca)
                    break
            else:
                tried = " nor ".join(f"Secret {namespace}/{n}" for n in names)
                live.certificates[key] = CertSummary(
                    key,
                    unreadable=f"{'neither ' if len(names) > 1 else ''}{tried} exists",
                    state=CertState.MISSING,
                )
        except _Deadline:
            live.certificates[key] = CertSummary(
                key, unreadable=f"{DEADLINE_EXCEEDED} (--timeout {opts.timeout:g}s)", state=CertState.NOT_READ
            )
        except ApiError as exc:
            live.certificates[key] = CertSummary(
                key,
                unreadable=f"{exc.status}: {_status_message(exc)}",
                state=CertState.NOT_READ if exc.status == 403 else CertState.INVALID,
            )
            if exc.status == 403:
                live.cannot_read.append(
                    CannotRead("Secret", "", "secrets", 403, f"Secret {key}: {_status_message(exc)}")
                )
        except (TimeoutError, ConnectionError, ValueError) as exc:
            live.certificates[key] = CertSummary(key, unreadable=str(exc), state=CertState.INVALID)
