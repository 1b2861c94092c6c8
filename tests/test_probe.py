"""`vizdoctor probe` against a real nginx in front of a stand-in for the Linkerd viz web server.

Every scenario is one way the dashboard breaks behind a proxy (dashboard-exposure.md §1): Host not rewritten
(400), Host rewritten but Origin kept (403 on the upgrade), upgrade headers not passed (400), tap APIService
down (1011/503), an idle timeout (1006), basic auth (401); plus the healthy path. nginx runs unprivileged
from tmp_path; tests that need it skip where /usr/sbin/nginx is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from conftest import ROOT
from nginx import PASS_HOST, REWRITE_HOST, STRIP_ORIGIN, WEBSOCKET, Nginx
from tls_files import self_signed
from vizdoctor.cli import main
from vizdoctor.prober import ProbeOptions, ProbeResult, ProbeUsageError, Step, run_probe
from vizdoctor.prober.steps import dashboard_banner, host_rejection, normalise_resource, tap_request, tap_url
from vizweb import DEFAULT_ENFORCED_HOST, RBAC_REASON, UNAVAILABLE_REASON, VizWeb, host_rejection_body

HOST = "dashboard.example.com"
# The Linkerd docs' ingress-nginx recipe (upstream-vhost + configuration-snippet), in plain nginx.
DOCS_RECIPE = WEBSOCKET + REWRITE_HOST + STRIP_ORIGIN
TAP_REQUEST = (
    '{"id":"tap-web","resource":"deployment/web","namespace":"linkerd-viz","toResource":"","toNamespace":"",'
    '"method":"","path":"","scheme":"","authority":"","maxRps":0,"extract":true}'
)


@pytest.fixture(scope="module")
def backend() -> Iterator[VizWeb]:
    with VizWeb() as web:
        yield web


@pytest.fixture
def web(backend: VizWeb) -> VizWeb:
    backend.mode, backend.events, backend.enforced_host = "unavailable", 3, DEFAULT_ENFORCED_HOST
    backend.tap_requests.clear()
    backend.requests.clear()
    return backend


@pytest.fixture
def proxy(tmp_path: Path, web: VizWeb) -> Iterator[Callable[..., Nginx]]:
    started: list[Nginx] = []

    def start(location: Sequence[str], server: Sequence[str] = ()) -> Nginx:
        ng = Nginx(tmp_path / f"nginx{len(started)}", web.port, location, server)
        started.append(ng)
        return ng.start()

    yield start
    for ng in started:
        ng.stop()


def probe(ng: Nginx, path: str = "/", **kw: object) -> ProbeResult:
    """Probe http://dashboard.example.com:PORT/ (resolved to nginx on 127.0.0.1), like a browser would."""
    opts = ProbeOptions(
        url=f"{'https' if ng.tls else 'http'}://{HOST}:{ng.port}{path}",
        resolve={(HOST, ng.port): "127.0.0.1"},
        timeout=5.0,
        tap_seconds=0.3,
    )
    for k, v in kw.items():
        setattr(opts, k, v)
    return run_probe(opts)


def step(result: ProbeResult, name: str) -> Step:
    return next(s for s in result.steps if s.step == name)


# ------------------------------------------------------------------------------------------- scenarios


def test_a_host_not_rewritten_is_rejected_by_enforced_host(web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    ng = proxy(WEBSOCKET + PASS_HOST)
    result = probe(ng)
    page = step(result, "page")
    assert page.status == "error"
    assert page.cause == "dashboard-host-rejected"
    assert page.http_status == 400
    assert page.extra["host"] == f"{HOST}:{ng.port}"
    assert page.extra["regex"] == DEFAULT_ENFORCED_HOST
    assert f"Host '{HOST}:{ng.port}'" in page.title
    # doubled backslashes: Helm's --set parser unescapes them to ^dashboard\.example\.com(:\d+)?$
    assert (
        "--set-string dashboard.enforcedHostRegexp='^dashboard\\\\.example\\\\.com(:\\\\d+)?$'" in page.hint
    )
    assert "upstream-vhost" in page.hint
    assert [s.status for s in result.steps[1:]] == ["skipped", "skipped", "skipped"]
    assert result.exit_code == 1


def test_b_host_rewritten_origin_kept_is_a_403_on_the_upgrade(
    web: VizWeb, proxy: Callable[..., Nginx]
) -> None:
    ng = proxy(WEBSOCKET + REWRITE_HOST)
    result = probe(ng)
    assert step(result, "page").status == "ok"
    ws = step(result, "websocket")
    assert (ws.status, ws.cause, ws.http_status) == ("error", "dashboard-origin-rejected", 403)
    assert f"Origin 'http://{HOST}:{ng.port}'" in ws.message
    assert "Websocket error: undefined" in ws.message
    assert 'proxy_set_header Origin "";' in ws.hint
    # what reached the backend: the rewritten Host and the browser's Origin
    path, host, headers = web.requests[-1]
    assert (path, host) == ("/api/tap", "web.linkerd-viz.svc.cluster.local:8084")
    assert headers["Origin"] == f"http://{HOST}:{ng.port}"
    assert step(result, "tap").status == "skipped"
    assert result.exit_code == 1


def test_b_origin_override_empty_sends_none_and_passes(web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    ng = proxy(WEBSOCKET + REWRITE_HOST)
    result = probe(ng, origin="")
    assert step(result, "websocket").status == "ok"
    assert "Origin" not in web.requests[-1][2]


def test_c_apiservice_unavailable_is_decoded_from_the_1011_close(
    web: VizWeb, proxy: Callable[..., Nginx]
) -> None:
    ng = proxy(DOCS_RECIPE)
    result = probe(ng)
    assert [s.status for s in result.steps] == ["ok", "ok", "error", "skipped"]
    tap = step(result, "tap")
    assert tap.cause == "apiservice-unavailable"
    assert (tap.close_code, tap.close_reason) == (1011, UNAVAILABLE_REASON)
    assert tap.http_status == 503
    assert "v1alpha1.tap.linkerd.io" in tap.message
    assert "Websocket close error [1011: Internal Error] : HTTP error, status Code [503]" in tap.message
    assert "kubectl get apiservice v1alpha1.tap.linkerd.io" in tap.hint
    assert "vizdoctor check" in tap.hint
    assert tap.extra["object"] == {"kind": "APIService", "name": "v1alpha1.tap.linkerd.io"}
    # the web UI's first message, byte for byte, with Origin stripped on the way
    assert web.tap_requests == [TAP_REQUEST]
    assert web.requests[-1][1] == "web.linkerd-viz.svc.cluster.local:8084"
    assert "Origin" not in web.requests[-1][2]
    assert result.exit_code == 1


def test_d_healthy_path_counts_events_and_exits_0(web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    web.mode, web.events = "events", 4
    ng = proxy(DOCS_RECIPE)
    result = probe(ng, resource="deploy/web")
    tap = step(result, "tap")
    assert (tap.status, tap.extra["events"]) == ("ok", 4)
    assert tap.title.startswith("tap deployment/web -n linkerd-viz: 4 events")
    assert [s.status for s in result.steps] == ["ok", "ok", "ok", "skipped"]
    assert result.exit_code == 0
    assert json.loads(web.tap_requests[0])["resource"] == "deployment/web"


def test_e_idle_timeout_is_measured_and_reported_as_1006(web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    web.mode = "events"
    ng = proxy((*DOCS_RECIPE, "proxy_read_timeout 2s;", "proxy_send_timeout 2s;"))
    result = probe(ng, idle=5.0)
    assert step(result, "tap").status == "ok"
    idle = step(result, "idle")
    assert (idle.status, idle.cause, idle.close_code) == ("error", "websocket-idle-timeout", 1006)
    assert idle.elapsed is not None
    assert abs(idle.elapsed - 2.0) < 1.0, idle.elapsed
    assert "proxy-read-timeout" in idle.hint
    assert result.exit_code == 1


def test_e_idle_socket_that_survives_is_ok(web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    web.mode = "events"
    ng = proxy(DOCS_RECIPE)
    idle = step(probe(ng, idle=0.5), "idle")
    assert (idle.status, idle.close_code) == ("ok", None)
    assert "--idle 70" in idle.hint


def test_idle_longer_than_timeout_is_not_cut_by_the_probe_itself(
    web: VizWeb, proxy: Callable[..., Nginx]
) -> None:
    web.mode = "idle"
    ng = proxy(DOCS_RECIPE)
    result = probe(ng, idle=1.5, timeout=0.5, tap_seconds=0.8)
    assert step(result, "tap").cause == "tap-no-events"
    assert step(result, "idle").status == "ok"


def test_https_and_wss(tmp_path: Path, web: VizWeb, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("cryptography")
    web.mode = "events"
    tls = self_signed(tmp_path, dns=(HOST,), ips=(), common_name=HOST)
    with Nginx(tmp_path / "nginx", web.port, DOCS_RECIPE, tls=tls) as ng:
        url = f"https://{HOST}:{ng.port}/"
        resolve = f"{HOST}:{ng.port}:127.0.0.1"
        # an untrusted certificate: the URL cannot be opened at all
        assert main(["probe", url, "--resolve", resolve]) == 2
        err = capsys.readouterr().err
        assert "TLS certificate" in err and "--insecure" in err and err.count("\n") == 1
        result = probe(ng, insecure=True)
        result_url = result.url
    assert result_url == url
    assert [s.status for s in result.steps] == ["ok", "ok", "ok", "skipped"]
    ws = step(result, "websocket")
    assert ws.extra["url"] == f"wss://{HOST}:{ng.port}/api/tap"
    assert ws.extra["origin"] == f"https://{HOST}:{ng.port}"


def test_f_basic_auth(tmp_path: Path, web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    web.mode = "events"
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text("admin:{PLAIN}admin\n")
    ng = proxy((*DOCS_RECIPE, 'auth_basic "Authentication Required";', f"auth_basic_user_file {htpasswd};"))

    anonymous = probe(ng)
    page = step(anonymous, "page")
    assert (page.status, page.cause, page.http_status) == ("error", "dashboard-auth-required", 401)
    assert "--user USER:PASS" in page.hint
    assert 'realm="Authentication Required"' in page.message

    wrong = step(probe(ng, user="admin:nope"), "page")
    assert (wrong.cause, wrong.http_status) == ("dashboard-auth-required", 401)
    assert "rejected" in wrong.title

    ok = probe(ng, user="admin:admin")
    assert [s.status for s in ok.steps] == ["ok", "ok", "ok", "skipped"]
    assert ok.exit_code == 0


def test_upgrade_headers_not_passed(web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    ng = proxy(("proxy_http_version 1.1;", *REWRITE_HOST, *STRIP_ORIGIN))  # no Upgrade / Connection lines
    ws = step(probe(ng), "websocket")
    assert (ws.status, ws.cause, ws.http_status) == ("error", "websocket-upgrade-stripped", 400)
    assert "gorilla" in ws.message
    assert "proxy_set_header Upgrade $http_upgrade;" in ws.hint


def test_redirects_are_followed_and_reported(web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    web.mode = "events"
    ng = proxy(DOCS_RECIPE, server=["location = /old { return 302 /; }"])
    result = probe(ng, path="/old")
    page = step(result, "page")
    assert page.status == "ok"
    assert "after 1 redirect" in page.title
    assert page.extra["redirects"] == [f"302 http://{HOST}:{ng.port}/old -> http://{HOST}:{ng.port}/"]
    assert step(result, "websocket").extra["url"] == f"ws://{HOST}:{ng.port}/api/tap"


def test_sign_in_redirect_stops_the_probe(web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    ng = proxy(DOCS_RECIPE, server=["location = /private { return 302 /oauth2/start?rd=/private; }"])
    page = step(probe(ng, path="/private"), "page")
    assert (page.status, page.cause) == ("error", "dashboard-login-redirect")
    assert "Cookie" in page.hint


@pytest.mark.parametrize(
    ("directive", "cause", "status"),
    [
        ("return 302 /elsewhere;", "websocket-redirected", 302),
        ("return 404;", "dashboard-route-missing", 404),
        ('return 200 "a page";', "websocket-not-upgraded", 200),
        ("return 503;", "dashboard-backend-down", 503),
    ],
)
def test_what_the_proxy_answers_on_api_tap(
    web: VizWeb, proxy: Callable[..., Nginx], directive: str, cause: str, status: int
) -> None:
    ng = proxy(DOCS_RECIPE, server=[f"location = /api/tap {{ {directive} }}"])
    result = probe(ng)
    ws = step(result, "websocket")
    assert (step(result, "page").status, ws.status, ws.cause, ws.http_status) == (
        "ok",
        "error",
        cause,
        status,
    )
    assert "Websocket error: undefined" in ws.message


def test_backend_down_is_a_502(tmp_path: Path, web: VizWeb) -> None:
    from nginx import free_port

    ng = Nginx(tmp_path / "nginx", free_port(), DOCS_RECIPE)  # nothing listens on the backend port
    with ng:
        page = step(probe(ng), "page")
    assert (page.cause, page.http_status) == ("dashboard-backend-down", 502)


def test_g_cli_subprocess_json(web: VizWeb, proxy: Callable[..., Nginx]) -> None:
    ng = proxy(DOCS_RECIPE)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "vizdoctor",
            "probe",
            f"http://{HOST}:{ng.port}/",
            "--resolve",
            f"{HOST}:{ng.port}:127.0.0.1",
            "--tap-seconds",
            "0.3",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 1, r.stderr
    assert r.stderr == ""
    doc = json.loads(r.stdout)
    assert (doc["schema"], doc["command"], doc["url"]) == (
        "vizdoctor/v1",
        "probe",
        f"http://{HOST}:{ng.port}/",
    )
    assert [s["step"] for s in doc["steps"]] == ["page", "websocket", "tap", "idle"]
    assert [s["status"] for s in doc["steps"]] == ["ok", "ok", "error", "skipped"]
    tap = doc["steps"][2]
    assert set(tap) >= {"cause", "http_status", "close_code", "close_reason", "elapsed", "message", "hint"}
    assert (tap["cause"], tap["close_code"], tap["close_reason"]) == (
        "apiservice-unavailable",
        1011,
        UNAVAILABLE_REASON,
    )
    assert doc["summary"]["error"] == 1 and doc["summary"]["causes"] == ["apiservice-unavailable"]


# --------------------------------------------------------------------------- straight to the backend


def test_tap_rbac_403_in_a_1011_close(web: VizWeb) -> None:
    web.mode = "rbac"
    result = run_probe(ProbeOptions(url=f"http://localhost:{web.port}/", timeout=5.0, tap_seconds=0.3))
    tap = step(result, "tap")
    assert (tap.cause, tap.close_code, tap.http_status) == ("rbac-forbidden", 1011, 403)
    assert tap.close_reason == RBAC_REASON.encode()[:123].decode()
    assert "system:serviceaccount:linkerd-viz:web" in tap.hint


def test_quiet_tap_is_a_warning_not_a_failure(web: VizWeb) -> None:
    web.mode = "idle"
    result = run_probe(ProbeOptions(url=f"http://127.0.0.1:{web.port}/", timeout=5.0, tap_seconds=0.3))
    tap = step(result, "tap")
    assert (tap.status, tap.cause) == ("warning", "tap-no-events")
    assert result.exit_code == 0


def test_text_output_like_linkerd_check(web: VizWeb, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["probe", f"http://localhost:{web.port}/", "--tap-seconds", "0.3", "--color", "never"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"√ page http://localhost:{web.port}/ answered 200 (Linkerd dashboard)" in out
    assert f"√ websocket ws://localhost:{web.port}/api/tap upgraded (101)" in out
    assert (
        "× tap deployment/web -n linkerd-viz: closed 1011 (APIService v1alpha1.tap.linkerd.io unavailable)"
        in out
    )
    assert "    cause: apiservice-unavailable" in out
    assert "- idle: skipped" in out
    assert out.rstrip().splitlines()[-1].startswith("Status check results are ×")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ftp://x/"], "must start with http:// or https://"),
        (["http://"], "no host"),
        (["http://127.0.0.1:1/"], "connection refused"),
        (["http://x/", "--user", "nocolon"], "--user"),
        (["http://x/", "-H", "NoColon"], "--header"),
        (["http://x/", "--resolve", "x:80"], "--resolve"),
        (["http://x/", "--resource", "web"], "--resource"),
        (["http://x/", "-H", "Host: y"], "--resolve"),
        (["http://x/", "-H", "Origin: y"], "--origin"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["probe", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vizdoctor: ") and needle in err
    assert err.count("\n") == 1


# ------------------------------------------------------------------------------------------------ units


def test_tap_request_is_the_web_uis_first_message() -> None:
    assert tap_request(ProbeOptions(url="http://x/")) == TAP_REQUEST
    assert normalise_resource("deploy/emoji") == "deployment/emoji"
    assert normalise_resource("ns/emojivoto") == "namespace/emojivoto"
    with pytest.raises(ProbeUsageError):
        normalise_resource("web")


def test_host_rejection_body_is_parsed_and_unescaped() -> None:
    body = host_rejection_body("a<b>.example.com:80", DEFAULT_ENFORCED_HOST)
    assert "&lt;b&gt;" in body
    assert host_rejection(body) == ("a<b>.example.com:80", DEFAULT_ENFORCED_HOST)
    assert host_rejection("Bad Request") is None


def test_tap_url_follows_the_uis_path_prefix() -> None:
    from vizdoctor.prober.transport import parse_target

    opts = ProbeOptions(url="")
    assert tap_url(parse_target("https://d.example.com/linkerd/tap"), opts) == "wss://d.example.com/api/tap"
    proxied = parse_target("http://127.0.0.1:8001/api/v1/namespaces/linkerd-viz/services/web:http/proxy/tap")
    assert tap_url(proxied, opts) == (
        "ws://127.0.0.1:8001/api/v1/namespaces/linkerd-viz/services/web:http/proxy/api/tap"
    )


def test_dashboard_banner_matches_tap_jsx() -> None:
    assert dashboard_banner(1011, "boom") == "Websocket close error [1011: Internal Error] : boom"
    assert dashboard_banner(1003, "") == "Websocket close error [1003: Unsupported Data]  "


def test_every_cause_has_a_section_in_the_docs() -> None:
    import re

    from vizdoctor.prober import steps
    from vizdoctor.prober.render import DOCUMENTED

    source = Path(steps.__file__).read_text()
    assigned = set(re.findall(r'cause\s*=\s*(?:None if \w+ else )?"([a-z-]+)"', source))
    assigned |= set(re.findall(r'Failure\(\s*"([a-z-]+)"', source))
    assert "dashboard-host-rejected" in assigned and "tap-closed" in assigned
    assert assigned <= DOCUMENTED, assigned - DOCUMENTED
    headings = re.findall(r"^### (.+)$", (ROOT / "docs" / "probe.md").read_text(), re.M)
    documented = {name.strip() for h in headings for name in h.split(",")}
    assert DOCUMENTED | {"other-tap-close-reasons"} <= documented, (
        DOCUMENTED | {"other-tap-close-reasons"}
    ) - documented
