"""A small TLS server standing in for an aggregated API server (Linkerd's tap) inside a test network
namespace: it answers the aggregator's discovery request `GET /apis/<group>/<version>` with an empty
APIResourceList, and `GET /` with one line naming itself. Started by netns_host.TestHost.serve_tls."""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) == 3 and parts[0] == "apis":
            body = json.dumps(
                {
                    "kind": "APIResourceList",
                    "apiVersion": "v1",
                    "groupVersion": f"{parts[1]}/{parts[2]}",
                    "resources": [],
                }
            ).encode()
            ctype = "application/json"
        elif self.path in ("/", ""):
            body = f"vizdoctor test backend on {self.server.server_address[0]}:{self.server.server_address[1]}\n".encode()
            ctype = "text/plain"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--listen", action="append", required=True, help="address:port")
    args = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    for item in args.listen:
        host, port = item.rsplit(":", 1)
        server = ThreadingHTTPServer((host, int(port)), Handler)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()  # until the test ends the process


if __name__ == "__main__":
    sys.exit(main())
