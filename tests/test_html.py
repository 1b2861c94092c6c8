"""`-o html` in a real headless Chromium (Debian package `chromium`), driven over the DevTools protocol
with the websockets client vizdoctor already depends on: the page loads from a file with no request
leaving it, the broken hops are marked, the filters work, and a screenshot is kept as a test artifact
(test-artifacts/report.png)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from conftest import EXAMPLE, ROOT

ARTIFACTS = ROOT / "test-artifacts"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("needs Chromium (Debian package `chromium`; `make sysdeps` installs it as root)")


class Page:
    """One tab over CDP: commands, and every event kept for the assertions."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == mid:
                assert "error" not in msg, msg
                result: dict[str, Any] = msg.get("result", {})
                return result
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(json.loads(self.ws.recv(timeout=max(0.1, end - time.monotonic()))))

    def js(self, expression: str) -> Any:
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return res["result"].get("value")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Page]:
    exe = _chromium()
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [
            exe,
            "--headless=new",
            "--no-sandbox",  # tests run as root in CI containers
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            # belt and braces: any name the page tried to resolve would fail (the CDP events assert it)
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            "--window-size=1400,1000",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        end = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > end or proc.poll() is not None:
                pytest.fail("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.load(resp)
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(ws_url, max_size=None, open_timeout=10) as ws:
            yield Page(ws)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_html_report_in_headless_chromium(browser: Page, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    r = subprocess.run(
        [sys.executable, "-m", "vizdoctor", "scan", str(EXAMPLE), "-o", f"html={report}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 1, r.stderr
    page = browser
    page.send("Network.enable")
    page.send("Page.enable")
    url = report.as_uri()
    page.send("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired")

    requested = [
        e["params"]["request"]["url"] for e in page.events if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requested == [url], requested  # the page itself, nothing else
    assert not [e for e in page.events if e.get("method") == "Network.loadingFailed"]

    assert page.js("document.title") == "vizdoctor scan report"
    summary = page.js("document.querySelector('.summary').innerText")
    assert "4 errors" in summary and "1 blocked" in summary
    # the tap path: API server -> Service -> pod port -> node group -> security group, broken at the last hop
    hops = page.js(
        """[...document.querySelectorAll('.path')].filter(p => p.querySelector('h3').innerText
             .startsWith('APIService v1alpha1.tap.linkerd.io')).map(p =>
             [...p.querySelectorAll('.hop')].map(h => h.dataset.hop + ':' + h.className))[0]"""
    )
    assert hops == [
        "API server:hop ok",
        "Service:hop ok",
        "pod port:hop ok",
        "node group:hop ok",
        "security group / firewall:hop broken",
    ]
    # the dashboard path: browser -> ingress -> web -> API server -> tap
    dash = page.js(
        "[...document.querySelectorAll('.path.dashboard .hop')].map(h => h.dataset.hop + ':' + h.className)"
    )
    assert dash == [
        "browser:hop ok",
        "ingress:hop broken",
        "web:hop broken",
        "API server:hop ok",
        "tap:hop broken",
    ]
    # the fix is there to copy
    fix = page.js("[...document.querySelectorAll('.fix pre')].map(p => p.textContent).join('\\n')")
    assert "from_port" in fix and "8089" in fix and "aws ec2 authorize-security-group-ingress" in fix
    # filters: hide the open paths
    open_paths = page.js("document.querySelectorAll('.path[data-status=open]').length")
    assert open_paths == 6
    page.js("const b = document.querySelector('.filters input[value=open]'); b.click(); 0")
    hidden = page.js(
        "[...document.querySelectorAll('.path[data-status=open]')].filter(p => p.offsetParent === null).length"
    )
    assert hidden == 6
    page.js("document.querySelector('.filters input[value=open]').click(); 0")

    shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    png = base64.b64decode(shot["data"])
    assert png.startswith(b"\x89PNG")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.png").write_bytes(png)
    (ARTIFACTS / "report.html").write_text(report.read_text())
    assert os.path.getsize(ARTIFACTS / "report.png") > 10_000
