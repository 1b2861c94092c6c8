"""Connections the way a browser opens them: one TCP connection per request, no proxy from the
environment, `--resolve` to reach a name before DNS knows it, TLS verified unless `--insecure`."""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass

from vizdoctor import __version__
from vizdoctor.prober.model import ProbeOptions, ProbeUsageError, Target

USER_AGENT = f"vizdoctor/{__version__} (probe)"
MAX_BODY = 64 * 1024
MAX_HEADERS = 100  # http.client itself refuses more than 100 header lines


def parse_target(url: str) -> Target:
    """Split an http(s) URL; raise ProbeUsageError for anything a browser could not open."""
    try:
        u = urllib.parse.urlsplit(url.strip())
        port = u.port
    except ValueError as exc:
        raise ProbeUsageError(f"bad URL {url!r}: {exc}") from None
    if u.scheme not in ("http", "https"):
        raise ProbeUsageError(f"bad URL {url!r}: the dashboard URL must start with http:// or https://")
    if not u.hostname:
        raise ProbeUsageError(f"bad URL {url!r}: no host")
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    return Target(u.scheme, u.hostname, port or (443 if u.scheme == "https" else 80), path)


def parse_resolve(values: list[str]) -> dict[tuple[str, int], str]:
    """curl's `--resolve HOST:PORT:ADDRESS`."""
    out: dict[tuple[str, int], str] = {}
    for v in values:
        host, sep, rest = v.partition(":")
        port_s, sep2, addr = rest.partition(":")
        if not (sep and sep2 and host and addr and port_s.isdigit()):
            raise ProbeUsageError(
                f"bad --resolve {v!r}: expected HOST:PORT:ADDRESS, e.g. dashboard.example.com:443:10.0.0.5"
            )
        out[(host.lower(), int(port_s))] = addr.strip("[]")
    return out


def parse_header(value: str) -> tuple[str, str]:
    name, sep, val = value.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t\r\n"):
        raise ProbeUsageError(f"bad --header {value!r}: expected 'Name: value'")
    return name.strip(), val.strip()


def request_headers(opts: ProbeOptions) -> list[tuple[str, str]]:
    """Headers sent on every request: basic auth from --user, then each --header."""
    out: list[tuple[str, str]] = []
    if opts.user is not None:
        if ":" not in opts.user:
            raise ProbeUsageError("bad --user: expected USER:PASS")
        token = base64.b64encode(opts.user.encode()).decode()
        out.append(("Authorization", f"Basic {token}"))
    for name, _ in opts.headers:
        if name.lower() in ("host", "origin"):
            flag = "--resolve HOST:PORT:ADDRESS" if name.lower() == "host" else "--origin"
            raise ProbeUsageError(f"-H {name}: a browser cannot set it; use {flag} instead")
    out.extend(opts.headers)
    return out


def tls_context(insecure: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def open_socket(target: Target, opts: ProbeOptions) -> socket.socket:
    """TCP connection to the target, or to the --resolve address given for it."""
    addr = opts.resolve.get((target.host.lower(), target.port), target.host)
    return socket.create_connection((addr, target.port), timeout=opts.timeout)


def describe_connect_error(target: Target, exc: BaseException) -> str:
    where = f"{target.host}:{target.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate of {where} not trusted ({exc.verify_message}); pass --insecure to skip verification"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed ({exc.reason or exc}); is it really https?"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {target.host} ({exc.strerror}); use --resolve {target.host}:{target.port}:ADDRESS"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"cannot connect to {where}: timed out"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot connect to {where}: {exc.strerror}"
    return f"cannot connect to {where}: {exc}"


class ConnectError(Exception):
    """TCP or TLS could not be established (as opposed to a bad answer once connected)."""


@dataclass
class HTTPAnswer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def get(target: Target, opts: ProbeOptions, extra: list[tuple[str, str]]) -> HTTPAnswer:
    """One GET like a browser navigation (no Origin header). ConnectError when TCP/TLS fails;
    other OSError / http.client errors when the server misbehaves after connecting."""
    try:
        sock = open_socket(target, opts)
    except OSError as exc:
        raise ConnectError(describe_connect_error(target, exc)) from exc
    if target.scheme == "https":
        try:
            sock = tls_context(opts.insecure).wrap_socket(sock, server_hostname=target.host)
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise ConnectError(describe_connect_error(target, exc)) from exc
    conn = http.client.HTTPConnection(target.host, target.port, timeout=opts.timeout)
    conn.sock = sock  # already connected (and wrapped); http.client sends on it as is
    # --timeout bounds each socket read; a server that sends one byte every few seconds (headers or body)
    # would keep us reading for ever. The watchdog shuts the socket at the deadline, and the read fails.
    fired = threading.Event()  # set before the socket is shut, so a read that ends because of it knows
    watchdog = threading.Timer(opts.timeout, _shutdown, args=(sock, fired))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.putrequest("GET", target.path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", target.netloc)
        conn.putheader("User-Agent", USER_AGENT)
        conn.putheader("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        conn.putheader("Connection", "close")
        for name, value in extra:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        if len(resp.getheaders()) > MAX_HEADERS:
            raise http.client.HTTPException(f"more than {MAX_HEADERS} header fields")
        body = resp.read(MAX_BODY)
        if fired.is_set():  # what was read is cut short
            raise TimeoutError(f"no complete answer within {opts.timeout:g} s")
        return HTTPAnswer(resp.status, resp.reason, list(resp.getheaders()), body)
    except (OSError, http.client.HTTPException) as exc:
        if fired.is_set():
            raise TimeoutError(f"no complete answer within {opts.timeout:g} s") from exc
        raise
    finally:
        watchdog.cancel()
        conn.close()


def _shutdown(sock: socket.socket, fired: threading.Event) -> None:
    fired.set()
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
