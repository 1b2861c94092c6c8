"""Hostile servers on 127.0.0.1 for the hardening tests: each accepts real TCP (optionally TLS) connections
and runs a handler that misbehaves on purpose (redirects elsewhere, trickles its answer one byte at a time,
sends a huge websocket frame). Every request head received is recorded so a test can prove what was sent."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path


class Conn:
    """One accepted connection: read the request head, then write whatever the handler wants."""

    def __init__(self, sock: socket.socket, server: HostileServer) -> None:
        self.sock = sock
        self.server = server

    def read_head(self) -> str:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        with self.server.lock:
            self.server.requests.append(head)
        return head

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


Handler = Callable[[Conn], None]


class HostileServer:
    def __init__(self, handler: Handler, tls: tuple[Path, Path] | None = None) -> None:
        self.handler = handler
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port: int = self.listener.getsockname()[1]
        self.ctx: ssl.SSLContext | None = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def origin(self) -> str:
        return f"{'https' if self.ctx else 'http'}://127.0.0.1:{self.port}"

    def headers(self) -> list[dict[str, str]]:
        """Each request's header fields, names lower-cased."""
        out: list[dict[str, str]] = []
        with self.lock:
            for head in self.requests:
                fields: dict[str, str] = {}
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    fields[name.strip().lower()] = value.strip()
                out.append(fields)
        return out

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                sock, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._one, args=(sock,), daemon=True).start()

    def _one(self, sock: socket.socket) -> None:
        try:
            if self.ctx is not None:
                sock = self.ctx.wrap_socket(sock, server_side=True)
            self.handler(Conn(sock, self))
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=2)
        self.listener.close()


DASHBOARD_PAGE = b"<html><head><title>Linkerd</title></head><body>index_bundle.js</body></html>"


def answer(status: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def redirect_to(location: str) -> Handler:
    def handle(c: Conn) -> None:
        c.read_head()
        c.send(answer("302 Found", {"Location": location}))

    return handle


def dashboard(c: Conn) -> None:
    head = c.read_head()
    if head.startswith("GET /api/tap"):
        c.send(answer("404 Not Found", body=b"no tap here"))
    else:
        c.send(answer("200 OK", {"Content-Type": "text/html"}, DASHBOARD_PAGE))


def websocket_accept(head: str) -> bytes:
    """The 101 answer to a websocket upgrade (RFC 6455 4.2.2)."""
    import base64
    import hashlib

    key = next(
        line.split(":", 1)[1].strip()
        for line in head.split("\r\n")
        if line.lower().startswith("sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def huge_frame_dashboard(size: int) -> Handler:
    """The dashboard page, then a websocket that answers the tap request with one text frame announced as
    `size` bytes long, and streams zeros for it as long as the client reads."""

    def handle(c: Conn) -> None:
        head = c.read_head()
        if not head.startswith("GET /api/tap"):
            c.send(answer("200 OK", {"Content-Type": "text/html"}, DASHBOARD_PAGE))
            return
        c.send(websocket_accept(head))
        c.sock.settimeout(2)
        with contextlib.suppress(OSError):
            c.sock.recv(4096)  # the tap request
        c.send(bytes([0x81, 127]) + size.to_bytes(8, "big"))
        chunk = b"0" * 65536
        with contextlib.suppress(OSError):
            for _ in range(size // len(chunk)):
                c.send(chunk)

    return handle
