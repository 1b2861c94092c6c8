"""A stand-in for the Linkerd viz `web` server (web/srv), faithful where the probe looks:

- every request: Host checked against `-enforced-host` with `re.search` (Go MatchString); a mismatch is
  HTTP 400 text/plain with the exact body of `web/srv/server.go` (host and regex HTML-escaped);
- `/` and the other index routes: a small page with the real template's markers (title, index_bundle.js);
- `/api/tap`: gorilla/websocket's checks in its order (Connection upgrade → 400, Upgrade websocket → 426,
  Sec-WebSocket-Version 13 → 400, then `checkSameOrigin` → 403 `Forbidden`), each with
  `Sec-Websocket-Version: 13`; after the upgrade it reads the first message and then, per `mode`:
  "unavailable" closes 1011 with the kube-aggregator 503 reason, "rbac" closes 1011 with a 403,
  "events" streams `events` tap events then stays open, "idle" stays open. No pings, ever.

Binds 127.0.0.1 on a free port; `with VizWeb() as web:` or start()/stop().
"""

from __future__ import annotations

import email.utils
import html
import json
import re
import threading
import urllib.parse
from collections.abc import Sequence
from typing import Any

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

DEFAULT_ENFORCED_HOST = (
    r"^(localhost|127\.0\.0\.1|web\.linkerd-viz\.svc\.cluster\.local|web\.linkerd-viz\.svc|\[::1\])(:\d+)?$"
)
UNAVAILABLE_REASON = "HTTP error, status Code [503] (unexpected API response: service unavailable\n)"
RBAC_REASON = (
    'HTTP error, status Code [403] (deployments.tap.linkerd.io "web" is forbidden: User '
    '"system:serviceaccount:linkerd-viz:web" cannot watch resource "deployments/tap" in API group "tap.linkerd.io")'
)
INDEX_ROUTES = {"/", "/overview", "/namespaces", "/deployments", "/pods", "/tap", "/top", "/routes"}
PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Linkerd</title>
    <script>window.PATH_PREFIX = "/"</script>
    <script type="text/javascript" src="/dist/index_bundle.js" async></script>
  </head>
  <body>
    <div class="main" id="main" data-release-version="edge-26.8.3" data-controller-namespace="linkerd"></div>
  </body>
</html>
"""


def host_rejection_body(host: str, regex: str) -> str:
    return (
        f"It appears that you are trying to reach this service with a host of '{html.escape(host)}'.\n"
        f"This does not match /{html.escape(regex)}/ and has been denied for security reasons.\n"
        "Please see https://linkerd.io/dns-rebinding for an explanation of what is happening and how to fix it.\n"
    )


def tap_event(i: int) -> dict[str, Any]:
    return {
        "source": {"ip": "10.0.0.7", "port": 40000 + i},
        "destination": {"ip": "10.0.1.9", "port": 8084},
        "sourceMeta": {"labels": {"namespace": "linkerd-viz", "deployment": "web"}},
        "destinationMeta": {"labels": {"namespace": "linkerd-viz", "deployment": "web"}},
        "proxyDirection": "INBOUND",
        "http": {
            "requestInit": {
                "id": {"base": 1, "stream": i},
                "method": {"registered": "GET"},
                "scheme": {"registered": "HTTP"},
                "authority": "web.linkerd-viz.svc.cluster.local:8084",
                "path": "/api/version",
            }
        },
    }


def _tokens(headers: Headers, name: str) -> set[str]:
    return {t.strip().lower() for v in headers.get_all(name) for t in v.split(",")}


def same_origin(origin: str | None, host: str) -> bool:
    """gorilla/websocket checkSameOrigin (copied into web/srv/check_same_origin.go)."""
    if origin is None:
        return True
    try:
        netloc = urllib.parse.urlsplit(origin).netloc
    except ValueError:
        return False
    netloc = netloc.rsplit("@", 1)[-1]  # url.Parse's u.Host has no userinfo
    return netloc.encode().lower() == host.encode().lower()  # ASCII case folding


class VizWeb:
    def __init__(
        self, enforced_host: str = DEFAULT_ENFORCED_HOST, mode: str = "unavailable", events: int = 3
    ) -> None:
        self.enforced_host = enforced_host
        self.mode = mode
        self.events = events
        self.tap_requests: list[str] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (path, host, headers)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.socket.getsockname()[1]
        return port

    # ---------------------------------------------------------------------------------------- HTTP side

    @staticmethod
    def _response(
        status: int, reason: str, body: str, ctype: str, extra: Sequence[tuple[str, str]] = ()
    ) -> Response:
        data = body.encode()
        headers = Headers(
            [
                ("Date", email.utils.formatdate(usegmt=True)),
                ("Content-Type", ctype),
                ("Content-Length", str(len(data))),
                ("Connection", "close"),
                *extra,
            ]
        )
        return Response(status, reason, headers, data)

    def _gorilla_error(self, status: int, reason: str, extra: Sequence[tuple[str, str]] = ()) -> Response:
        # upgrader.returnError: Sec-Websocket-Version: 13, http.Error(w, http.StatusText(status), status)
        return self._response(
            status,
            reason,
            f"{reason}\n",
            "text/plain; charset=utf-8",
            [("Sec-Websocket-Version", "13"), *extra],
        )

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        host = request.headers.get("Host", "")
        path = urllib.parse.urlsplit(request.path).path
        self.requests.append((path, host, dict(request.headers.raw_items())))
        if not re.search(self.enforced_host, host):
            return self._response(
                400, "Bad Request", host_rejection_body(host, self.enforced_host), "text/plain; charset=utf-8"
            )
        secure = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "SAMEORIGIN"),
            ("X-Xss-Protection", "1; mode=block"),
        ]
        if path == "/api/tap":
            if "upgrade" not in _tokens(request.headers, "Connection"):
                return self._gorilla_error(400, "Bad Request")
            if "websocket" not in _tokens(request.headers, "Upgrade"):
                return self._gorilla_error(426, "Upgrade Required", [("Upgrade", "websocket")])
            if "13" not in _tokens(request.headers, "Sec-WebSocket-Version"):
                return self._gorilla_error(400, "Bad Request")
            if not same_origin(request.headers.get("Origin"), host):
                return self._gorilla_error(403, "Forbidden")
            return None  # the websocket handshake proceeds
        if path in INDEX_ROUTES or path.startswith("/namespaces/"):
            return self._response(200, "OK", PAGE, "text/html", secure)
        return self._response(404, "Not Found", "404 page not found\n", "text/plain; charset=utf-8", secure)

    # ----------------------------------------------------------------------------------- websocket side

    def handler(self, ws: ServerConnection) -> None:
        try:
            first = ws.recv()
            self.tap_requests.append(str(first))
            if self.mode == "unavailable":
                ws.close(1011, UNAVAILABLE_REASON)
                return
            if self.mode == "rbac":
                ws.close(1011, RBAC_REASON.encode()[:123].decode("utf-8", "ignore"))
                return
            if self.mode == "events":
                for i in range(self.events):
                    ws.send(json.dumps(tap_event(i)))
            for _ in ws:  # stay open until the client or a proxy closes; the browser sends nothing more
                pass
        except ConnectionClosed:
            pass

    # -------------------------------------------------------------------------------------- lifecycle

    def start(self) -> VizWeb:
        self._server = serve(
            self.handler,
            "127.0.0.1",
            0,
            process_request=self.process_request,
            ping_interval=None,  # the Linkerd web server sends no pings
            compression=None,  # gorilla's Upgrader does not negotiate permessage-deflate by default
            server_header=None,
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="vizweb", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> VizWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
