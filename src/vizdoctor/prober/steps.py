"""The four things the dashboard does, each turned into one result line with its cause and hint.

1. page: GET the URL (redirects followed and reported, a sign-in redirect stops the probe).
2. websocket: open `/api/tap` with the browser's Origin, no pings (browsers send none).
3. tap: send the web UI's first message and read until the server closes or `--tap-seconds` pass.
4. idle: open a second socket, send nothing, and time how long the path keeps it.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import json
import re
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from vizdoctor.explainer import classify
from vizdoctor.knowledge.ingress import DEFAULT_VIZ_NAMESPACE as VIZ
from vizdoctor.knowledge.ingress import IDLE_DEFAULTS, WEB_PORT, WEB_PORT_NAME
from vizdoctor.knowledge.linkerd import CLOSE_NAMES
from vizdoctor.prober import transport
from vizdoctor.prober.model import ProbeOptions, ProbeUsageError, Step, StepName, Target
from vizdoctor.prober.transport import HTTPAnswer
from vizdoctor.remediation.dashboard import STRIP_ORIGIN_HINT, helm_set_host, host_regex, rewrite_hint

MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
BROWSER_HIDES = (
    "the dashboard shows only `Websocket error: undefined` (browsers hide the status of a failed "
    "upgrade; DevTools → Network shows it)"
)
HOST_REJECTED = re.compile(
    r"It appears that you are trying to reach this service with a host of '(?P<host>.*?)'\.\s*"
    r"This does not match /(?P<regex>.*)/ and has been denied for security reasons",
    re.S,
)
LOGIN_PATH = re.compile(r"oauth2/|/sign_?in|/login|/auth(orize)?\b|/authenticate|saml|openid", re.I)


def _known_idle_limits() -> tuple[tuple[float, str], ...]:
    """(seconds, who cuts an idle websocket after that long by default), from knowledge/ingress.py."""
    who: dict[int, list[str]] = {}
    for d in IDLE_DEFAULTS.values():
        if d.seconds is not None:
            kind = "the longest a websocket may live" if d.max_lifetime else "idle"
            who.setdefault(d.seconds, []).append(
                f"{d.implementation} ({d.seconds}s, {kind}; raise: {d.knob})"
            )
    return tuple((float(sec), " or ".join(names)) for sec, names in sorted(who.items()))


KNOWN_IDLE_LIMITS = _known_idle_limits()


def dashboard_banner(code: int, reason: str) -> str:
    """What `Tap.jsx` prints for a close it does not ignore (a code missing from wsCloseCodes: undefined)."""
    return f"Websocket close error [{code}: {CLOSE_NAMES.get(code, 'undefined')}] {':' if reason else ''} {reason}"


def looks_like_dashboard(body: str) -> bool:
    return (
        "<title>Linkerd</title>" in body or "index_bundle.js" in body or "data-controller-namespace" in body
    )


def _is_ip(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


@dataclass
class Failure:
    cause: str
    what: str  # short, for the title
    message: str
    hint: str


def host_rejection(body: str) -> tuple[str, str] | None:
    """(host, regex) from the web server's `-enforced-host` 400 body, HTML-unescaped."""
    m = HOST_REJECTED.search(body)
    if not m:
        return None
    return html.unescape(m.group("host")), html.unescape(m.group("regex"))


def _host_rejected(host: str, regex: str) -> Failure:
    if host.startswith("[") and "]" in host:
        hostname = host[: host.index("]") + 1]
    elif host.count(":") == 1:
        hostname = host.split(":")[0]
    else:
        hostname = host
    msg = (
        f"the Linkerd web server refused Host '{host}': it does not match its `-enforced-host` regex "
        f"/{regex}/. It answers 400 on every path, so the whole dashboard is down, not only Tap."
    )
    svc = re.match(r"web\.([a-z0-9-]+)\.svc\.(.+?)(:\d+)?$", host)
    if svc and "svc\\.cluster\\.local" in regex and svc.group(2) != "cluster.local":
        hint = (
            f"the proxy rewrites Host to a service name in cluster domain '{svc.group(2)}', but the regex expects "
            "cluster.local: the regex and the rewrite must use the same cluster domain (the docs' recipe "
            "hardcodes svc.cluster.local); or set `dashboard.enforcedHostRegexp`"
        )
    elif _is_ip(hostname.strip("[]")):
        hint = (
            "the dashboard is reached by IP address (e.g. `linkerd viz dashboard --address 0.0.0.0`): use "
            "localhost with a port-forward, or allow the address with "
            f"`{helm_set_host(host_regex(hostname))}`"
        )
    else:
        hint = (
            f"either rewrite Host in the proxy ({rewrite_hint()})\n"
            f"and then strip Origin as well, or the websocket gets 403 ({STRIP_ORIGIN_HINT});\n"
            f"or leave Host alone and allow it: `{helm_set_host(host_regex(hostname))}`"
        )
    return Failure("dashboard-host-rejected", f"HTTP 400, Host '{host}' rejected", msg, hint)


def http_failure(step: StepName, ans: HTTPAnswer, opts: ProbeOptions, sent_origin: str | None) -> Failure:
    """Explain a non-success HTTP answer, to the page GET or to the websocket upgrade."""
    f = _http_failure(step, ans, opts, sent_origin)
    if step != "page" and BROWSER_HIDES not in f.message:
        f.message = f"{f.message.rstrip('.')}; {BROWSER_HIDES}."
    return f


def _http_failure(step: StepName, ans: HTTPAnswer, opts: ProbeOptions, sent_origin: str | None) -> Failure:
    status = ans.status
    body = ans.text
    gorilla = (ans.header("Sec-WebSocket-Version") or "") == "13"
    rejected = host_rejection(body) if status == 400 else None
    if rejected:
        return _host_rejected(*rejected)
    where = "the page" if step == "page" else "the websocket upgrade"
    if status == 401:
        realm = ans.header("WWW-Authenticate") or "no WWW-Authenticate header"
        if opts.user is not None:
            return Failure(
                "dashboard-auth-required",
                "HTTP 401, credentials rejected",
                f"{where} needs authentication ({realm}) and the --user credentials were rejected.",
                "check the user and password (ingress-nginx: the `auth` key of the Secret named by "
                "`nginx.ingress.kubernetes.io/auth-secret`, in htpasswd format)",
            )
        return Failure(
            "dashboard-auth-required",
            "HTTP 401, authentication required",
            f"{where} needs authentication ({realm}).",
            "pass --user USER:PASS for basic auth, or the header the auth layer expects, e.g. "
            "-H 'Authorization: Bearer TOKEN' or -H 'Cookie: _oauth2_proxy=...'",
        )
    if step == "websocket" and status == 403:
        if gorilla or body.strip() == "Forbidden":
            if sent_origin:
                return Failure(
                    "dashboard-origin-rejected",
                    "HTTP 403 on the upgrade, Origin rejected",
                    f"the Linkerd web server refused the websocket: Origin '{sent_origin}' is not the Host it "
                    "received. The page loaded, so the Host check passed: the proxy rewrote Host but kept "
                    f"Origin (gorilla's same-origin check compares Origin's host:port with Host); {BROWSER_HIDES}.",
                    f"strip Origin in the proxy ({STRIP_ORIGIN_HINT});\n"
                    "or stop rewriting Host and allow the external host with `dashboard.enforcedHostRegexp`, so "
                    "Origin and Host agree",
                )
            return Failure(
                "websocket-forbidden",
                "HTTP 403 on the upgrade",
                f"the websocket was refused with 403 although no Origin was sent; {BROWSER_HIDES}.",
                f"look at what sits in front of web:{WEB_PORT} (auth layer, WAF, IP allow-list)",
            )
        return Failure(
            "websocket-forbidden",
            "HTTP 403 on the upgrade",
            f"something in front of the Linkerd web server refused the websocket (not the web server's own "
            f"Origin check: body {body.strip()[:80]!r}); {BROWSER_HIDES}.",
            "look at the proxy's auth layer, WAF or IP allow-list for /api/tap",
        )
    if status == 403:
        return Failure(
            "dashboard-forbidden",
            "HTTP 403",
            "the proxy or an auth layer refused the page (IP allow-list, oauth2-proxy, WAF).",
            "check the proxy's access rules for this host",
        )
    if step == "websocket" and status in (400, 426):
        source = "the Linkerd web server (gorilla/websocket)" if gorilla else "the server"
        return Failure(
            "websocket-upgrade-stripped",
            f"HTTP {status} on the upgrade, websocket headers not passed",
            f"{source} answered {status} {ans.reason}: the request reached it without `Connection: upgrade` / "
            f"`Upgrade: websocket`. The proxy does not pass websockets (HTTP/1.0 upstream, or hop-by-hop headers "
            f"dropped); {BROWSER_HIDES}.",
            "nginx: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header "
            'Connection "upgrade";` (ingress-nginx does this by itself; do not set '
            '`nginx.ingress.kubernetes.io/proxy-http-version: "1.0"`); a load balancer in front must pass '
            "websockets (TCP, or an HTTP LB with websocket support)",
        )
    if status == 404:
        if step == "websocket":
            return Failure(
                "dashboard-route-missing",
                "HTTP 404 on /api/tap",
                f"/api/tap is not routed to web:{WEB_PORT} (path rules that send only / to the dashboard, or /api/tap "
                f"sent to another service such as tap:8088, linkerd/linkerd2#10824); {BROWSER_HIDES}.",
                f"route every path of this host (prefix /) to Service web port {WEB_PORT}",
            )
        return Failure(
            "dashboard-route-missing",
            "HTTP 404",
            "no route for this host and path: the Ingress / HTTPRoute host or path does not match the URL "
            "(ingress-nginx serves its default backend 404 for unknown hosts and for Ingresses it ignored).",
            "check the host and path rules, `ingressClassName`, and that the controller accepted the Ingress "
            "(`kubectl describe ingress`)",
        )
    if status in (502, 503, 504):
        detail = {
            502: "the proxy could not talk to the backend (web pod down, wrong Service port, or a backend "
            f"protocol other than plain HTTP: web serves HTTP on {WEB_PORT})",
            503: "the proxy has no ready backend (Service web has no ready endpoints, or the route's backend "
            "does not exist)",
            504: "the backend did not answer in time",
        }[status]
        return Failure(
            "dashboard-backend-down",
            f"HTTP {status}",
            f"{where}: {detail}.",
            f"kubectl -n {VIZ} get pods,endpoints web; kubectl -n {VIZ} get svc web -o wide "
            f"(port {WEB_PORT}, named {WEB_PORT_NAME})",
        )
    if step == "websocket" and status == 200:
        return Failure(
            "websocket-not-upgraded",
            "HTTP 200 instead of 101",
            f"the upgrade was answered with a page instead of 101 Switching Protocols: /api/tap reached "
            f"something that does not speak websocket (catch-all route, caching layer, or a proxy without "
            f"websocket support); {BROWSER_HIDES}.",
            f"route /api/tap to web:{WEB_PORT} through a proxy that passes websockets",
        )
    if step == "websocket" and status in REDIRECTS:
        return Failure(
            "websocket-redirected",
            f"HTTP {status} redirect on the upgrade",
            f"the proxy redirects /api/tap to {ans.header('Location')!r}; browsers never follow redirects on "
            f"a websocket; {BROWSER_HIDES}.",
            "serve /api/tap on the same scheme and host as the page (no redirect)",
        )
    return Failure(
        "dashboard-http-error",
        f"HTTP {status}",
        f"{where} answered {status} {ans.reason}"
        + (f": {body.strip()[:200]!r}" if body.strip() else "")
        + ".",
        "look at the proxy's and the web pod's logs for this request",
    )


def _failed(step: StepName, title: str, f: Failure, **kw: object) -> Step:
    s = Step(step, "error", f"{title}: {f.what}", cause=f.cause, message=f.message, hint=f.hint)
    for k, v in kw.items():
        setattr(s, k, v)
    return s


# ---------------------------------------------------------------------------------------------- 1. page


def page_step(target: Target, opts: ProbeOptions, headers: list[tuple[str, str]]) -> tuple[Step, Target]:
    """GET the page; returns the step and the URL the browser would end up on."""
    hops: list[str] = []
    current = target
    ans: HTTPAnswer | None = None
    for _ in range(MAX_REDIRECTS + 1):
        try:
            ans = transport.get(current, opts, headers)
        except transport.ConnectError as exc:
            if not hops:
                raise ProbeUsageError(str(exc)) from None
            return Step(
                "page",
                "error",
                f"page {target.url}: redirect target unreachable",
                cause="dashboard-unreachable",
                message=f"redirected ({'; '.join(hops)}), then {exc}",
                hint="check where the proxy redirects to",
                extra={"redirects": hops},
            ), current
        except (OSError, http.client.HTTPException) as exc:
            return Step(
                "page",
                "error",
                f"page {current.url}: no HTTP answer",
                cause="dashboard-no-answer",
                message=f"connected to {current.netloc} but got no HTTP answer within {opts.timeout:g}s "
                f"({type(exc).__name__}: {exc or 'timeout'}).",
                hint="is it really http(s)? a TLS port spoken to with http://, or a proxy that hangs, look like this",
                extra={"redirects": hops},
            ), current
        location = ans.header("Location")
        if ans.status not in REDIRECTS or not location:
            break
        try:
            nxt = transport.parse_target(urllib.parse.urljoin(current.url, location))
        except ProbeUsageError:
            return Step(
                "page",
                "error",
                f"page {current.url}: HTTP {ans.status} to an unusable Location",
                cause="dashboard-http-error",
                http_status=ans.status,
                message=f"redirect to {location!r}, which a browser cannot open",
                hint="fix the proxy's redirect",
            ), current
        hops.append(f"{ans.status} {current.url} -> {nxt.url}")
        if LOGIN_PATH.search(urllib.parse.urlsplit(nxt.url).path) or (
            nxt.host != current.host and ("rd=" in nxt.path or "redirect_uri=" in nxt.path)
        ):
            return Step(
                "page",
                "error",
                f"page {target.url}: redirected to a sign-in page",
                cause="dashboard-login-redirect",
                http_status=ans.status,
                message=f"the dashboard sits behind a login ({'; '.join(hops)}); the probe cannot sign in.",
                hint="pass the session the browser has, e.g. -H 'Cookie: _oauth2_proxy=...' (copy it from "
                "DevTools), or probe the Service directly through `kubectl port-forward`",
                extra={"redirects": hops},
            ), nxt
        current = nxt
    else:
        return Step(
            "page",
            "error",
            f"page {target.url}: more than {MAX_REDIRECTS} redirects",
            cause="dashboard-redirect-loop",
            message="; ".join(hops),
            hint="a redirect loop, often http→https on both the load balancer and the ingress",
            extra={"redirects": hops},
        ), current
    assert ans is not None
    after = f" after {len(hops)} redirect{'s' if len(hops) > 1 else ''}" if hops else ""
    redirects = f"redirects followed: {'; '.join(hops)}" if hops else ""
    extra = {"redirects": hops, "final_url": current.url}
    if ans.status == 200:
        if looks_like_dashboard(ans.text):
            return Step(
                "page",
                "ok",
                f"page {current.url} answered 200 (Linkerd dashboard){after}",
                http_status=200,
                message=redirects,
                extra=extra,
            ), current
        return Step(
            "page",
            "warning",
            f"page {current.url} answered 200{after}, but not with the Linkerd dashboard",
            cause="dashboard-page-unexpected",
            http_status=200,
            message="the page has none of the dashboard's markers (<title>Linkerd</title>, index_bundle.js): "
            "the route may point to another service." + (f" {redirects}" if redirects else ""),
            hint=f"check that the route's backend is Service web port {WEB_PORT} in {VIZ}",
            extra=extra,
        ), current
    f = http_failure("page", ans, opts, None)
    step = _failed("page", f"page {current.url}", f, http_status=ans.status)
    if redirects:
        step.message += f" ({redirects})"
    rejected = host_rejection(ans.text) if ans.status == 400 else None
    step.extra = {**extra, **({"host": rejected[0], "regex": rejected[1]} if rejected else {})}
    return step, current


# ----------------------------------------------------------------------------------------- 2. websocket


KUBECTL_PROXY_PATH = re.compile(r"/api/v1/namespaces/.*/proxy")  # web/app/index.js


def tap_url(page: Target, opts: ProbeOptions) -> str:
    """`ws(s)://` + host + pathPrefix + `/api/tap`, as Tap.jsx builds it. The UI's pathPrefix is empty unless
    the page is served through `kubectl proxy` (`/api/v1/namespaces/.../proxy`), so a dashboard under any
    other sub-path still opens /api/tap at the root of the host, and so does the probe."""
    scheme = "wss" if page.scheme == "https" else "ws"
    m = KUBECTL_PROXY_PATH.search(urllib.parse.urlsplit(page.path).path)
    return f"{scheme}://{page.netloc}{m.group(0) if m else ''}/api/tap"


def browser_origin(page: Target, opts: ProbeOptions) -> str | None:
    if opts.origin is not None:
        return opts.origin or None
    return page.origin


def open_ws(page: Target, opts: ProbeOptions, headers: list[tuple[str, str]]) -> ClientConnection:
    """Open the tap websocket like a browser: its Origin, no redirects followed, no pings sent."""
    sock = transport.open_socket(page, opts)
    # websockets bounds the handshake with open_timeout. A timeout left on our socket would make the reader
    # of releases before 17 (which call recv() without select()) give up on a quiet connection after
    # --timeout seconds and fake an idle cut.
    sock.settimeout(None)
    origin = browser_origin(page, opts)
    return connect(
        tap_url(page, opts),
        sock=sock,
        ssl=transport.tls_context(opts.insecure) if page.scheme == "https" else None,
        server_hostname=page.host if page.scheme == "https" else None,
        origin=Origin(origin) if origin else None,
        additional_headers=headers,
        user_agent_header=transport.USER_AGENT,
        open_timeout=opts.timeout,
        ping_interval=None,  # browsers never ping, and neither does the Linkerd web server
        close_timeout=min(2.0, opts.timeout),
        max_size=None,
    )


def _handshake_failure(exc: BaseException, page: Target, opts: ProbeOptions) -> tuple[Failure, int | None]:
    # A redirect makes websockets raise something else (it cannot follow it on our socket, or the Location is
    # no ws:// URI) while handling the InvalidStatus: find the status in the chain.
    status_exc: BaseException | None = exc
    while status_exc is not None and not isinstance(status_exc, InvalidStatus):
        status_exc = status_exc.__cause__ or status_exc.__context__
    if isinstance(status_exc, InvalidStatus):
        r = status_exc.response
        ans = HTTPAnswer(
            r.status_code,
            r.reason_phrase,
            list(r.headers.raw_items()),
            bytes(r.body or b"")[: transport.MAX_BODY],
        )
        return http_failure("websocket", ans, opts, browser_origin(page, opts)), r.status_code
    if isinstance(exc, TimeoutError | socket.timeout):
        return Failure(
            "websocket-no-answer",
            "no answer to the upgrade",
            f"no answer to the websocket upgrade within {opts.timeout:g}s; {BROWSER_HIDES}.",
            "a proxy that holds upgrade requests (no websocket support) looks like this",
        ), None
    if isinstance(exc, InvalidHandshake):
        return Failure(
            "websocket-handshake-invalid",
            "invalid handshake",
            f"the upgrade was answered but the handshake is invalid ({exc}); {BROWSER_HIDES}.",
            "a proxy that rewrites or drops websocket response headers looks like this",
        ), None
    if isinstance(exc, OSError | ssl.SSLError):
        return Failure(
            "websocket-unreachable",
            "cannot connect",
            transport.describe_connect_error(page, exc),
            "the page answered on the same address; retry, then check the proxy",
        ), None
    return Failure(
        "websocket-handshake-invalid", "handshake failed", f"{type(exc).__name__}: {exc}", ""
    ), None


def websocket_step(
    page: Target, opts: ProbeOptions, headers: list[tuple[str, str]]
) -> tuple[Step, ClientConnection | None]:
    url = tap_url(page, opts)
    origin = browser_origin(page, opts)
    extra = {"url": url, "origin": origin}
    t0 = time.monotonic()
    try:
        ws = open_ws(page, opts, headers)
    except Exception as exc:  # any handshake failure is a finding, never a traceback
        f, status = _handshake_failure(exc, page, opts)
        return _failed("websocket", f"websocket {url}", f, http_status=status, extra=extra), None
    return Step(
        "websocket",
        "ok",
        f"websocket {url} upgraded (101)",
        http_status=101,
        elapsed=round(time.monotonic() - t0, 3),
        message=f"Origin sent: {origin}" if origin else "no Origin sent",
        extra=extra,
    ), ws


# ----------------------------------------------------------------------------------------------- 3. tap

SHORT_KINDS = {
    "deploy": "deployment",
    "deployments": "deployment",
    "ds": "daemonset",
    "daemonsets": "daemonset",
    "sts": "statefulset",
    "statefulsets": "statefulset",
    "rs": "replicaset",
    "replicasets": "replicaset",
    "rc": "replicationcontroller",
    "replicationcontrollers": "replicationcontroller",
    "po": "pod",
    "pods": "pod",
    "cj": "cronjob",
    "cronjobs": "cronjob",
    "jobs": "job",
    "ns": "namespace",
    "namespaces": "namespace",
}


def normalise_resource(resource: str) -> str:
    """`deploy/web` -> `deployment/web`: the UI's query form always sends the long kind."""
    kind, sep, name = resource.partition("/")
    if not sep or not kind or not name:
        raise ProbeUsageError(f"bad --resource {resource!r}: expected KIND/NAME, e.g. deploy/web")
    return f"{SHORT_KINDS.get(kind.lower(), kind.lower())}/{name}"


def tap_request(opts: ProbeOptions) -> str:
    """The first message of `Tap.jsx` (`onWebsocketOpen`): id, the query form's fields in their order,
    maxRps through `setMaxRps` (empty -> 0), extract: true; JSON.stringify has no spaces."""
    query = {
        "resource": normalise_resource(opts.resource),
        "namespace": opts.namespace,
        "toResource": "",
        "toNamespace": "",
        "method": "",
        "path": "",
        "scheme": "",
        "authority": "",
        "maxRps": 0,
    }
    return json.dumps({"id": "tap-web", **query, "extract": True}, separators=(",", ":"))


def _close_of(ws: ClientConnection, exc: ConnectionClosed) -> tuple[int, str]:
    if exc.rcvd is not None:
        return exc.rcvd.code, exc.rcvd.reason
    return ws.close_code or 1006, ws.close_reason or ""


def _explain_close(code: int, reason: str, elapsed: float, events: int, opts: ProbeOptions) -> Step:
    shown = dashboard_banner(code, reason)
    title = f"tap {normalise_resource(opts.resource)} -n {opts.namespace}"
    if code == 1006:
        return Step(
            "tap",
            "error",
            f"{title}: connection cut after {elapsed:.1f}s without a close frame (1006)",
            cause="websocket-dropped",
            message=f"the socket was closed without a websocket close frame after {elapsed:.1f}s and "
            f"{events} events: a proxy or the network cut it. The dashboard ignores 1006, so the stream just "
            "stops.",
            hint="run with --idle 70 to time the proxy's idle timeout",
            extra={"events": events},
        ).with_close(code, reason, elapsed)
    if code in (1000, 1001):
        return Step(
            "tap",
            "warning" if events == 0 else "ok",
            f"{title}: server ended the stream ({code}) after {events} events",
            cause=None if events else "tap-closed",
            message=f"closed with {code} {reason!r} after {elapsed:.1f}s",
            extra={"events": events},
        ).with_close(code, reason, elapsed)
    exp = classify(reason, the_text="The close reason") if reason else None
    if exp is not None and exp.cause == "unknown":
        exp = None  # its advice is about pasting a fuller message; ours below is about the tap
    status = re.search(r"status Code \[(\d{3})\]", reason)
    http_status = int(status.group(1)) if status else None
    if exp is not None:
        cause = exp.cause
    elif code == 1008 or http_status == 403:
        cause = "rbac-forbidden"
    elif "no pods to tap" in reason:
        cause = "tap-no-pods"
    else:
        cause = "tap-error"
    msg = f"the web server closed the tap with {code} ({CLOSE_NAMES.get(code, '?')}) and reason {reason!r}"
    msg += f"; the dashboard shows: {shown if code != 1008 else reason}.".replace("\n", "\\n")
    if exp is not None and exp.summary:
        msg += "\n" + exp.summary
    next_steps = list(exp.next_steps) if exp is not None else []
    if not next_steps and cause == "rbac-forbidden":
        next_steps = [
            "the web ServiceAccount may not watch tap resources: kubectl auth can-i watch pods.tap.linkerd.io "
            f"--all-namespaces --as system:serviceaccount:{VIZ}:web (ClusterRoleBinding "
            f"linkerd-{VIZ}-web-admin, left out with dashboard.restrictPrivileges=true)"
        ]
    elif not next_steps and cause == "tap-no-pods":
        next_steps = [
            "the resource has no running meshed pods: check --resource and -n, and that the pods are injected"
        ]
    elif not next_steps:
        next_steps = [f"kubectl -n {VIZ} logs deploy/web", "vizdoctor check"]
    hint = "\n".join(next_steps)
    extra: dict[str, object] = {
        "events": events,
        "dashboard_shows": shown if code != 1008 else reason,
        "next_steps": next_steps,
    }
    if http_status is not None:
        extra["tap_http_status"] = http_status
    if exp is not None and exp.object:
        extra["object"] = exp.object
    short = {
        "apiservice-unavailable": "APIService v1alpha1.tap.linkerd.io unavailable",
        "rbac-forbidden": "tap RBAC denied",
        "tap-no-pods": "no pods to tap",
    }.get(cause, cause)
    return Step(
        "tap",
        "warning" if cause == "tap-no-pods" else "error",
        f"{title}: closed {code} ({short})",
        cause=cause,
        http_status=http_status,
        message=msg,
        hint=hint,
        extra=extra,
    ).with_close(code, reason, elapsed)


def tap_step(ws: ClientConnection, opts: ProbeOptions) -> Step:
    request = tap_request(opts)
    title = f"tap {normalise_resource(opts.resource)} -n {opts.namespace}"
    t0 = time.monotonic()
    events = 0
    first: object = None
    try:
        ws.send(request)
        while (left := opts.tap_seconds - (time.monotonic() - t0)) > 0:
            try:
                msg = ws.recv(timeout=left)
            except TimeoutError:
                break
            events += 1
            if first is None:
                try:
                    first = json.loads(msg)
                except ValueError:
                    first = str(msg)[:200]
    except ConnectionClosed as exc:
        code, reason = _close_of(ws, exc)
        step = _explain_close(code, reason, time.monotonic() - t0, events, opts)
        step.extra["request"] = request
        return step
    elapsed = time.monotonic() - t0
    with contextlib.suppress(Exception):
        ws.close(1000)  # what the UI's Stop button does
    if events:
        return Step(
            "tap",
            "ok",
            f"{title}: {events} event{'s' if events != 1 else ''} in {elapsed:.1f}s",
            elapsed=round(elapsed, 3),
            message="the tap stream works end to end (browser → proxy → web → kube-apiserver → tap)",
            extra={"events": events, "request": request, "first_event": first},
        )
    return Step(
        "tap",
        "warning",
        f"{title}: accepted, but no events in {elapsed:.1f}s",
        cause="tap-no-events",
        elapsed=round(elapsed, 3),
        message="no error came back, so the request was accepted, but no request flowed through the "
        "resource's proxies while the probe listened.",
        hint="send traffic to the resource, tap a busier one with --resource, or listen longer with --tap-seconds",
        extra={"events": 0, "request": request},
    )


# ---------------------------------------------------------------------------------------------- 4. idle


def _idle_source(seconds: float) -> str | None:
    for limit, who in KNOWN_IDLE_LIMITS:
        if abs(seconds - limit) <= max(2.0, limit * 0.05):
            return who
    return None


def idle_step(
    page: Target,
    opts: ProbeOptions,
    headers: list[tuple[str, str]],
    clock: Callable[[], float] = time.monotonic,
) -> Step:
    """A second socket that carries nothing at all, like a Tap view on a quiet resource."""
    try:
        ws = open_ws(page, opts, headers)
    except Exception as exc:  # any handshake failure is a finding, never a traceback
        f, status = _handshake_failure(exc, page, opts)
        return _failed("idle", "idle socket", f, http_status=status)
    t0 = clock()
    with ws:
        try:
            while (left := opts.idle - (clock() - t0)) > 0:
                try:
                    ws.recv(timeout=left)
                except TimeoutError:
                    break
        except ConnectionClosed as exc:
            elapsed = clock() - t0
            code, reason = _close_of(ws, exc)
            if code == 1006:
                who = _idle_source(elapsed)
                known = (
                    f"{elapsed:.0f}s matches the default of {who}"
                    if who
                    else f"{elapsed:.0f}s is no known product default, so it was configured; nginx: "
                    f"`proxy_read_timeout {elapsed:.0f}s`?"
                )
                return Step(
                    "idle",
                    "error",
                    f"idle socket cut after {elapsed:.1f}s without a close frame (1006)",
                    cause="websocket-idle-timeout",
                    message=f"nothing was sent either way, and after {elapsed:.1f}s the connection was closed "
                    f"without a websocket close frame: a proxy idle timeout ({known}). The Linkerd web server "
                    "sends no pings and the dashboard ignores 1006, so Tap/Top on a quiet resource just stop.",
                    hint="raise the proxy's idle timeout above the longest Tap session, e.g. ingress-nginx "
                    'annotations `nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"` and '
                    '`nginx.ingress.kubernetes.io/proxy-send-timeout: "3600"` (nginx: `proxy_read_timeout 3600s; '
                    "proxy_send_timeout 3600s;`), ALB `idle_timeout.timeout_seconds=3600`, GKE BackendConfig "
                    "`timeoutSec: 3600`, Envoy Gateway `streamIdleTimeout`",
                ).with_close(code, reason, elapsed)
            return Step(
                "idle",
                "error",
                f"idle socket closed after {elapsed:.1f}s with {code} ({CLOSE_NAMES.get(code, '?')})",
                cause="websocket-closed-idle",
                message=f"closed with a close frame {code} {reason!r} after {elapsed:.1f}s idle: a websocket-aware "
                "proxy or the server ended it.",
                hint="look at the proxy's stream/idle timeout and the web pod's logs",
            ).with_close(code, reason, elapsed)
    elapsed = clock() - t0
    hint = ""
    if opts.idle < 60:
        hint = "ingress-nginx, ALB and Kong cut idle websockets after 60s by default: probe with --idle 70s to see"
    return Step(
        "idle",
        "ok",
        f"idle socket survived {elapsed:.1f}s",
        elapsed=round(elapsed, 3),
        message=f"nothing was sent for {elapsed:.1f}s and the connection stayed open.",
        hint=hint,
    )
