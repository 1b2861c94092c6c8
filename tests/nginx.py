"""Start and stop a real, unprivileged nginx in front of a test backend.

`Nginx(tmp_path, backend_port, location_lines).start()` writes `nginx.conf` into tmp_path and runs
`/usr/sbin/nginx -p tmp_path -c nginx.conf -e error.log` with `daemon off` as a child process that
listens on 127.0.0.1 on a free port; stop() sends SIGTERM (fast shutdown) and waits. Tests that need it
skip with a clear message when the binary is absent (install it: `apt-get install -y nginx`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

NGINX = os.environ.get("VIZDOCTOR_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"

# What the websocket needs through nginx (nginx.org/en/docs/http/websocket.html).
WEBSOCKET = (
    "proxy_http_version 1.1;",
    "proxy_set_header Upgrade $http_upgrade;",
    'proxy_set_header Connection "upgrade";',
)
# The external host reaches the backend, as with ingress-nginx without upstream-vhost.
PASS_HOST = ("proxy_set_header Host $http_host;",)
REWRITE_HOST = ("proxy_set_header Host web.linkerd-viz.svc.cluster.local:8084;",)  # upstream-vhost
STRIP_ORIGIN = ('proxy_set_header Origin "";',)  # the Linkerd docs' configuration-snippet


def require_nginx() -> str:
    if not (os.path.isfile(NGINX) and os.access(NGINX, os.X_OK)):
        pytest.skip(f"needs nginx at {NGINX} (Debian: apt-get install -y nginx; or set VIZDOCTOR_NGINX)")
    return NGINX


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Nginx:
    def __init__(
        self,
        prefix: Path,
        backend_port: int,
        location: Sequence[str],
        server: Sequence[str] = (),
        tls: tuple[Path, Path] | None = None,  # (certificate, key) in PEM: listen with ssl
    ) -> None:
        self.binary = require_nginx()
        self.prefix = prefix
        self.backend_port = backend_port
        self.location = list(location)
        self.server = list(server)
        self.tls = tls
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        p = self.prefix
        # As root, nginx's workers would switch to `nobody`, which cannot read files under pytest's
        # 0700 tmp directories (htpasswd): stay root there. Unprivileged, the directive is not wanted.
        user = "user root;" if os.geteuid() == 0 else ""
        inner = "\n".join(f"      {line}" for line in self.location)
        server = list(self.server)
        if self.tls:
            server += [f"ssl_certificate {self.tls[0]};", f"ssl_certificate_key {self.tls[1]};"]
        srv = "\n".join(f"    {line}" for line in server)
        ssl = " ssl" if self.tls else ""
        return f"""{user}
daemon off;
master_process on;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {p}/access.log;
  client_body_temp_path {p}/client_body;
  proxy_temp_path {p}/proxy;
  fastcgi_temp_path {p}/fastcgi;
  uwsgi_temp_path {p}/uwsgi;
  scgi_temp_path {p}/scgi;
  server {{
    listen 127.0.0.1:{self.port}{ssl};
{srv}
    location / {{
      proxy_pass http://127.0.0.1:{self.backend_port};
{inner}
    }}
  }}
}}
"""

    def start(self) -> Nginx:
        self.prefix.mkdir(parents=True, exist_ok=True)
        last = ""
        for _ in range(3):  # a free port can be taken between free_port() and nginx's bind
            self.port = free_port()
            conf = self.prefix / "nginx.conf"
            conf.write_text(self.config())
            self.proc = subprocess.Popen(
                [self.binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "error.log")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                        return self
                except OSError:
                    time.sleep(0.02)
            last = self._log()
            self.stop()
        raise RuntimeError(f"nginx did not start: {last}")

    def _log(self) -> str:
        err = b""
        if self.proc is not None and self.proc.poll() is not None and self.proc.stderr is not None:
            err = self.proc.stderr.read()
        log = self.prefix / "error.log"
        return err.decode(errors="replace") + (
            log.read_text(errors="replace")[-2000:] if log.exists() else ""
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown, workers exit with the master
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/"

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
