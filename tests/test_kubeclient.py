"""The lean Kubernetes client of `check` (sources/kubeclient.py): kubeconfig loading and merging as kubectl
does it, relative paths, exec credential plugins (real scripts), in-cluster config, token files, basic auth,
TLS with tls-server-name; GETs against the fake API server of kube_server.py over real HTTP(S). And that a
`check` run loads no `kubernetes` module unless the user has a legacy auth-provider."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT
from kube_server import TOKEN, FakeKube, kubeconfig, load
from tls_files import self_signed
from vizdoctor.sources import kubeclient
from vizdoctor.sources.kubeclient import Client, KubeConfigError, Settings

pytest.importorskip("cryptography")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "kubeconfig"):
            monkeypatch.delenv(k)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and k != "KUBECONFIG"}


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


def _config(
    clusters: dict[str, dict[str, Any]],
    users: dict[str, dict[str, Any]],
    contexts: dict[str, dict[str, Any]],
    current: str | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "users": [{"name": n, "user": u} for n, u in users.items()],
        "contexts": [{"name": n, "context": c} for n, c in contexts.items()],
    }
    if current:
        doc["current-context"] = current
    return doc


# --- merging --------------------------------------------------------------------------------------------


def test_first_file_to_define_a_name_wins_and_current_context_comes_from_the_first_that_sets_it(
    tmp_path: Path,
) -> None:
    a = _write(
        tmp_path / "a" / "config",
        _config(
            {"shared": {"server": "https://a.example:6443"}},
            {"me": {"token": "token-a"}},
            {"ctx-a": {"cluster": "shared", "user": "me"}},
        ),
    )
    b = _write(
        tmp_path / "b" / "config",
        _config(
            {"shared": {"server": "https://b.example:6443"}, "only-b": {"server": "https://only-b:443"}},
            {"me": {"token": "token-b"}},
            {"ctx-b": {"cluster": "only-b", "user": "me"}, "ctx-a": {"cluster": "only-b"}},
            current="ctx-b",
        ),
    )
    c = _write(tmp_path / "c" / "config", _config({}, {}, {}, current="ctx-a"))
    missing = str(tmp_path / "nope")
    s = kubeclient.load_kubeconfig([str(a), missing, str(b), str(c)])
    # a sets no current-context, b does first; c's is ignored
    assert s.context == "ctx-b" and s.server == "https://only-b:443"
    assert s.token == "token-a"  # user `me` from a, the first file that names it
    s = kubeclient.load_kubeconfig([str(a), str(b)], "ctx-a")
    assert s.server == "https://a.example:6443"  # cluster `shared` and context `ctx-a` from a
    # the order decides
    assert kubeclient.load_kubeconfig([str(b), str(a)], "ctx-a").server == "https://only-b:443"


def test_kubeconfig_paths_split_the_list_and_drop_duplicates() -> None:
    env = {"KUBECONFIG": os.pathsep.join(["/x/one", "", "/x/two", "/x/one"])}
    assert kubeclient.kubeconfig_paths(None, env) == ["/x/one", "/x/two"]
    assert kubeclient.kubeconfig_paths("/given", env) == ["/given"]
    assert kubeclient.kubeconfig_paths(None, {}) == ["~/.kube/config"]


def test_errors_name_the_file_the_context_and_the_line(tmp_path: Path) -> None:
    with pytest.raises(kubeclient.NoKubeconfig, match="does not exist"):
        kubeclient.load_kubeconfig([str(tmp_path / "none")])
    good = _write(tmp_path / "config", _config({"c": {"server": "https://x"}}, {}, {"one": {"cluster": "c"}}))
    with pytest.raises(kubeclient.UnknownContext, match="sets no current-context"):
        kubeclient.load_kubeconfig([str(good)])
    with pytest.raises(kubeclient.UnknownContext, match=r"context 'two' is not in .* \(it has one\)"):
        kubeclient.load_kubeconfig([str(good)], "two")
    assert kubeclient.load_kubeconfig([str(good)], "one").token is None  # no user: anonymous
    broken = tmp_path / "broken"
    broken.write_text("apiVersion: v1\nclusters:\n  - name: [unclosed\n")
    with pytest.raises(KubeConfigError, match=rf"{broken}:\d+: not valid YAML"):
        kubeclient.load_kubeconfig([str(broken)])
    dangling = _write(tmp_path / "d", _config({}, {}, {"x": {"cluster": "gone"}}, current="x"))
    with pytest.raises(KubeConfigError, match="names cluster 'gone'"):
        kubeclient.load_kubeconfig([str(dangling)])
    bad64 = _write(
        tmp_path / "e",
        _config(
            {"c": {"server": "https://x", "certificate-authority-data": "%%%"}},
            {},
            {"x": {"cluster": "c"}},
            "x",
        ),
    )
    with pytest.raises(KubeConfigError, match="certificate-authority-data is not valid base64"):
        kubeclient.load_kubeconfig([str(bad64)])


def test_relative_paths_resolve_against_the_folder_of_the_file_that_defines_them(tmp_path: Path) -> None:
    a = _write(
        tmp_path / "a" / "config",
        _config(
            {"c": {"server": "https://x", "certificate-authority": "pki/ca.crt"}},
            {},
            {"ctx": {"cluster": "c", "user": "u"}},
            "ctx",
        ),
    )
    b = _write(
        tmp_path / "b" / "config",
        _config(
            {},
            {
                "u": {
                    "client-certificate": "certs/me.crt",
                    "client-key": "/abs/me.key",
                    "tokenFile": "token",
                    "exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "bin/get-token"},
                }
            },
            {},
        ),
    )
    s = kubeclient.load_kubeconfig([str(a), str(b)])
    assert s.ca_file == str(tmp_path / "a" / "pki" / "ca.crt")
    assert s.cert_file == str(tmp_path / "b" / "certs" / "me.crt")
    assert s.key_file == "/abs/me.key"
    assert s.token_file == str(tmp_path / "b" / "token")
    assert s.exec is not None and s.exec.command == str(tmp_path / "b" / "bin" / "get-token")
    # a bare command name is looked up on PATH, as kubectl does
    c = _write(
        tmp_path / "c" / "config",
        _config(
            {"c": {"server": "https://x"}},
            {"u": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws"}}},
            {"ctx": {"cluster": "c", "user": "u"}},
            "ctx",
        ),
    )
    s = kubeclient.load_kubeconfig([str(c)])
    assert s.exec is not None and s.exec.command == "aws"


# --- requests: TLS, tokens, basic auth ------------------------------------------------------------------


def test_tls_with_a_relative_ca_file_and_tls_server_name_and_a_token_file(tmp_path: Path) -> None:
    import urllib3

    crt, key = self_signed(tmp_path, dns=("apiserver.test",), ips=())  # not the address dialled
    (tmp_path / "kube").mkdir()
    (tmp_path / "kube" / "ca.crt").write_bytes(crt.read_bytes())
    (tmp_path / "kube" / "token").write_text(TOKEN + "\n")
    with FakeKube(load(), tls=(crt, key)) as server:
        cluster = {
            "server": server.url,
            "certificate-authority": "ca.crt",
            "tls-server-name": "apiserver.test",
        }
        config = _write(
            tmp_path / "kube" / "config",
            _config(
                {"c": cluster}, {"u": {"tokenFile": "token"}}, {"ctx": {"cluster": "c", "user": "u"}}, "ctx"
            ),
        )
        s = kubeclient.load_kubeconfig([str(config)])
        assert s.server.startswith("https://127.0.0.1:")
        client = Client(s)
        resp = client.get("/api/v1/namespaces", {"limit": 2}, 5.0)
        client.close()
        assert resp.status == 200 and len(json.loads(resp.data)["items"]) == 2
        assert server.requests[-1].authorization == f"Bearer {TOKEN}"
        assert server.requests[-1].query == {"limit": ["2"]}
        # without tls-server-name the certificate does not match 127.0.0.1; without the CA it is not trusted
        for change in ({"tls_server_name": None}, {"ca_file": None}):
            other = Settings(**{**s.__dict__, **change})
            with pytest.raises(urllib3.exceptions.MaxRetryError) as info:
                Client(other).get("/api/v1/namespaces", None, 5.0)
            assert isinstance(info.value.reason, urllib3.exceptions.SSLError)


def test_token_file_is_read_again_once_its_refresh_period_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "token"
    token.write_text("first")
    client = Client(Settings(server="http://127.0.0.1:1", context="x", token_file=str(token)))
    assert client.authorization() == "Bearer first"
    token.write_text("second")
    assert client.authorization() == "Bearer first"  # within the minute: the cached one
    monkeypatch.setattr(kubeclient, "TOKEN_FILE_REFRESH", 0.0)
    assert client.authorization() == "Bearer second"
    token.unlink()
    assert client.authorization() == "Bearer second"  # gone for a moment (rotation): the last one holds


def test_basic_auth_header_reaches_the_server(tmp_path: Path) -> None:
    with FakeKube(load()) as server:
        client = Client(Settings(server=server.url, context="x", username="admin", password="s3cret:x"))
        resp = client.get("/api/v1/nodes", None, 5.0)
    assert server.requests[-1].authorization == "Basic " + base64.b64encode(b"admin:s3cret:x").decode()
    assert resp.status == 401  # the fake server takes only its bearer token; the header was sent as built


@pytest.mark.parametrize("suffix", ["", "/", "//"])
def test_a_server_url_with_a_trailing_slash_sends_the_paths_as_they_are(suffix: str) -> None:
    """kubeconfigs written by some tools end the server URL with `/`: the request line must still say
    `/api/...`. Read from the socket, since Python's HTTP server folds a leading `//` itself."""
    import socket
    import threading

    lines: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def answer() -> None:
            conn, _ = listener.accept()
            with conn:
                lines.append(conn.recv(4096).split(b"\r\n", 1)[0])
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                )

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}{suffix}"
        resp = Client(Settings(server=url, context="x", token=TOKEN)).get("/api/v1/nodes", None, 5.0)
        thread.join(5)
    assert resp.status == 200
    assert lines == [b"GET /api/v1/nodes HTTP/1.1"]


def test_token_wins_over_the_token_file_and_an_exec_plugin_is_not_run(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    s = Settings(
        server="http://127.0.0.1:1",
        context="x",
        token="static",
        token_file=str(tmp_path / "absent"),
        exec=kubeclient.ExecConfig(
            "client.authentication.k8s.io/v1", sys.executable, ["-c", f"open({str(ran)!r}, 'w')"]
        ),
    )
    assert Client(s).authorization() == "Bearer static"
    assert not ran.exists()


# --- exec plugins ---------------------------------------------------------------------------------------

PLUGIN = """#!{python}
import datetime, json, os, sys
with open({seen!r}, "a") as f:
    f.write(json.dumps({{"info": json.loads(os.environ["KUBERNETES_EXEC_INFO"]), "args": sys.argv[1:],
                        "env": os.environ.get("FROM_KUBECONFIG"), "cwd": os.getcwd(),
                        "stdin_tty": sys.stdin.isatty()}}) + "\\n")
expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds={lifetime})
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {{"token": {token!r}, "expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}}}}))
"""


def _plugin(folder: Path, seen: Path, token: str = TOKEN, lifetime: int = 3600) -> None:
    script = folder / "bin" / "get-token"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(PLUGIN.format(python=sys.executable, seen=str(seen), token=token, lifetime=lifetime))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def _exec_kubeconfig(folder: Path, server: str, **exec_extra: Any) -> Path:
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "./bin/get-token",  # relative: resolved against the kubeconfig's folder
            "args": ["--cluster", "seed"],
            "env": [{"name": "FROM_KUBECONFIG", "value": "yes"}],
            "interactiveMode": "Never",
            **exec_extra,
        }
    }
    cluster = {
        "server": server,
        "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "seed"}}],
    }
    return _write(
        folder / "config", _config({"c": cluster}, {"u": user}, {"ctx": {"cluster": "c", "user": "u"}}, "ctx")
    )


def test_exec_plugin_gets_its_args_env_and_cluster_info_and_its_token_is_sent(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    folder = tmp_path / "kube"
    _plugin(folder, seen)
    with FakeKube(load()) as server:
        config = _exec_kubeconfig(folder, server.url, provideClusterInfo=True)
        client = Client(kubeclient.load_kubeconfig([str(config)]))
        resp = client.get("/api/v1/namespaces", None, 5.0)
        client.get("/api/v1/nodes", None, 5.0)
    assert resp.status == 200 and server.requests[-1].authorization == f"Bearer {TOKEN}"
    [run] = [json.loads(line) for line in seen.read_text().splitlines()]  # once for both requests
    assert run["args"] == ["--cluster", "seed"] and run["env"] == "yes"
    assert run["cwd"] == str(folder) and run["stdin_tty"] is False
    info = run["info"]
    assert info["apiVersion"] == "client.authentication.k8s.io/v1" and info["kind"] == "ExecCredential"
    assert info["spec"]["interactive"] is False
    assert info["spec"]["cluster"] == {"server": server.url, "config": {"audience": "seed"}}


def test_exec_plugin_without_provide_cluster_info_gets_no_cluster(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    _plugin(tmp_path / "kube", seen)
    config = _exec_kubeconfig(tmp_path / "kube", "http://127.0.0.1:1")
    Client(kubeclient.load_kubeconfig([str(config)]))
    assert "cluster" not in json.loads(seen.read_text())["info"]["spec"]


def test_a_token_about_to_expire_is_renewed_at_most_once_per_refresh_period(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    _plugin(tmp_path / "kube", seen, lifetime=60)  # within the 5-minute skew: always "about to expire"
    config = _exec_kubeconfig(tmp_path / "kube", "http://127.0.0.1:1")
    settings = kubeclient.load_kubeconfig([str(config)])
    cached = Client(settings)
    for _ in range(5):
        assert cached.authorization() == f"Bearer {TOKEN}"
    assert len(seen.read_text().splitlines()) == 1
    eager = Client(settings, exec_min_refresh=0.0)
    for _ in range(3):
        eager.authorization()
    assert len(seen.read_text().splitlines()) == 1 + 1 + 3


def test_a_failing_plugin_is_one_line_with_its_stderr(tmp_path: Path) -> None:
    folder = tmp_path / "kube"
    script = folder / "bin" / "get-token"
    script.parent.mkdir(parents=True)
    script.write_text(
        f"#!{sys.executable}\nimport sys\nprint('no SSO session; run aws sso login', file=sys.stderr)\nsys.exit(3)\n"
    )
    script.chmod(0o755)
    config = _exec_kubeconfig(folder, "http://127.0.0.1:1")
    with pytest.raises(KubeConfigError, match=r"exited with status 3: no SSO session; run aws sso login$"):
        Client(kubeclient.load_kubeconfig([str(config)]))
    wrong = _exec_kubeconfig(folder, "http://127.0.0.1:1", apiVersion="client.authentication.k8s.io/v1beta1")
    _plugin(folder, tmp_path / "seen")  # answers with v1
    with pytest.raises(KubeConfigError, match="answered with apiVersion"):
        Client(kubeclient.load_kubeconfig([str(wrong)]))
    always = _exec_kubeconfig(folder, "http://127.0.0.1:1", interactiveMode="Always")
    with pytest.raises(KubeConfigError, match="interactiveMode: Always"):
        Client(kubeclient.load_kubeconfig([str(always)]))


def test_a_plugin_error_of_several_lines_is_folded_into_one_and_capped(tmp_path: Path) -> None:
    """gke-gcloud-auth-plugin's error (several lines, the last one `)`) as one line that keeps the advice."""
    folder = tmp_path / "kube"
    script = folder / "bin" / "get-token"
    script.parent.mkdir(parents=True)
    lines = [
        "F1128 cred.go:145] print credential failed with error: Failed to retrieve access token:: (err: ERROR: "
        "(gcloud.config.config-helper) You do not currently have an active account selected.",
        "Please run:",
        "",
        "  $ gcloud auth login",
        "",
        ")",
    ]
    script.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stderr.write({chr(10).join(lines)!r})\nsys.exit(1)\n"
    )
    script.chmod(0o755)
    config = _exec_kubeconfig(folder, "http://127.0.0.1:1")
    with pytest.raises(KubeConfigError) as info:
        Client(kubeclient.load_kubeconfig([str(config)]))
    message = str(info.value)
    assert "\n" not in message
    assert (
        "You do not currently have an active account selected. Please run: $ gcloud auth login )" in message
    )
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.stderr.write('x' * 5000)\nsys.exit(1)\n")
    with pytest.raises(KubeConfigError) as info:
        Client(kubeclient.load_kubeconfig([str(config)]))
    said = str(info.value).split("exited with status 1: ")[1]
    assert len(said) == kubeclient.PLUGIN_ERROR_CHARS and said.endswith("…")


def test_a_missing_plugin_names_the_kubeconfig_install_hint(tmp_path: Path) -> None:
    """As kubectl does: the plugin is not installed (gke-gcloud-auth-plugin, kubelogin...), and the
    kubeconfig says how to install it."""
    folder = tmp_path / "kube"
    folder.mkdir()
    hint = (
        "Install gke-gcloud-auth-plugin for use with kubectl by following\n  https://example.invalid/install"
    )
    config = _exec_kubeconfig(
        folder, "http://127.0.0.1:1", command="vizdoctor-no-such-plugin", installHint=hint
    )
    with pytest.raises(KubeConfigError) as info:
        Client(kubeclient.load_kubeconfig([str(config)]))
    message = str(info.value)
    assert "vizdoctor-no-such-plugin cannot be started" in message
    assert (
        "(Install gke-gcloud-auth-plugin for use with kubectl by following https://example.invalid/install)"
        in message
    )
    assert "\n" not in message
    plain = _exec_kubeconfig(folder, "http://127.0.0.1:1", command="vizdoctor-no-such-plugin")
    with pytest.raises(KubeConfigError) as info:
        Client(kubeclient.load_kubeconfig([str(plain)]))
    assert "(" not in str(info.value).split("cannot be started")[1]


# --- in-cluster -----------------------------------------------------------------------------------------


def test_in_cluster_config_from_env_and_the_service_account_files(tmp_path: Path) -> None:
    crt, key = self_signed(tmp_path, dns=("localhost",))
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "ca.crt").write_bytes(crt.read_bytes())
    (sa / "token").write_text(TOKEN)
    with pytest.raises(KubeConfigError, match="KUBERNETES_SERVICE_HOST"):
        kubeclient.in_cluster({}, sa)
    with pytest.raises(KubeConfigError, match=r"token .* does not exist"):
        kubeclient.in_cluster(
            {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, tmp_path
        )
    v6 = kubeclient.in_cluster({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}, sa)
    assert v6.server == "https://[fd00::1]:443" and v6.context == "in-cluster"
    with FakeKube(load(), tls=(crt, key)) as server:
        port = server.url.rsplit(":", 1)[1]
        s = kubeclient.in_cluster(
            {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port}, sa
        )
        assert s.ca_file == str(sa / "ca.crt") and s.token_file == str(sa / "token")
        resp = Client(s).get("/api/v1/pods", {"limit": 1}, 5.0)
    assert resp.status == 200 and server.requests[-1].authorization == f"Bearer {TOKEN}"


# --- what a `check` run imports -------------------------------------------------------------------------

RUN_CHECK = """import json, sys
from vizdoctor.cli import main
rc = main(["check", "--kubeconfig", sys.argv[1], "--no-aws", "-o", "json"])
print(json.dumps({"rc": rc, "kubernetes": sorted(m for m in sys.modules if m.split(".")[0] == "kubernetes"),
                  "aws": sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))}),
      file=sys.stderr)
"""


def _run_check(config: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    r = subprocess.run(
        [sys.executable, "-c", RUN_CHECK, str(config)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in r.stderr, r.stderr
    return json.loads(r.stdout), json.loads(r.stderr.strip().splitlines()[-1])


def test_check_with_a_token_or_a_client_certificate_loads_no_kubernetes_module(tmp_path: Path) -> None:
    """Nor boto3 when AWS is not read (--no-aws here; a cluster without aws:// nodes likewise)."""
    from test_check_hostile import _tls_files

    server_tls, client_pem = _tls_files(tmp_path)
    with FakeKube(load()) as server:
        report, run = _run_check(kubeconfig(tmp_path, server.url))
    assert run["rc"] in (0, 1) and run["kubernetes"] == [] and run["aws"] == []
    assert report["live"]["objects"]["Pod"] > 0
    with FakeKube(load(), tls=server_tls) as server:
        report, run = _run_check(kubeconfig(tmp_path, server.url, client_pem=client_pem, insecure=True))
    assert run["rc"] in (0, 1) and run["kubernetes"] == []
    assert report["live"]["objects"]["APIService"] > 0


def _jwt(claims: dict[str, Any]) -> str:
    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


def test_an_auth_provider_user_goes_through_the_official_client(tmp_path: Path) -> None:
    pytest.importorskip("kubernetes")
    exp = int((dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).timestamp())
    id_token = _jwt({"iss": "https://issuer.invalid", "sub": "tester", "exp": exp})
    with FakeKube(load(), token=id_token) as server:
        user = {
            "auth-provider": {
                "name": "oidc",
                "config": {
                    "client-id": "vizdoctor",
                    "id-token": id_token,
                    "idp-issuer-url": "https://issuer.invalid",
                },
            }
        }
        config = _write(
            tmp_path / "config",
            _config(
                {"c": {"server": server.url}}, {"u": user}, {"ctx": {"cluster": "c", "user": "u"}}, "ctx"
            ),
        )
        report, run = _run_check(config)
    assert run["rc"] in (0, 1)
    assert "kubernetes.config.kube_config" in run["kubernetes"]  # the fallback, and only for this user
    assert report["live"]["objects"]["Pod"] > 0 and report["live"]["cannot_read"] == []
    assert {r.authorization for r in server.requests} == {f"Bearer {id_token}"}


def test_an_auth_provider_user_without_the_official_client_is_told_which_extra_to_install(
    tmp_path: Path,
) -> None:
    """The official client is its own extra (126 MB, for legacy auth-provider users only): without it, one
    line naming the install command, exit 2, never a traceback; and no request is sent."""
    user = {"auth-provider": {"name": "oidc", "config": {"client-id": "vizdoctor", "id-token": "x"}}}
    with FakeKube(load()) as server:
        config = _write(
            tmp_path / "config",
            _config(
                {"c": {"server": server.url}}, {"u": user}, {"ctx": {"cluster": "c", "user": "u"}}, "ctx"
            ),
        )
        code = (
            "import sys; sys.modules['kubernetes'] = None\n"
            "from vizdoctor.cli import main\n"
            f"sys.exit(main(['check', '--kubeconfig', {str(config)!r}, '--no-aws', '--timeout', '10']))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 2, done.stderr
    assert "pip install 'vizdoctor[auth-provider]'" in done.stderr and "oidc" in done.stderr
    assert "Traceback" not in done.stderr
    assert server.requests == []


RENEWING_PLUGIN = """#!{python}
import datetime, json, sys
runs = open({runs!r}, "a+")
runs.seek(0)
n = len(runs.read().splitlines())
runs.write("run\\n")
if n >= 1:
    print("the SSO session expired", file=sys.stderr)
    sys.exit(1)
expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds={lifetime})
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {{"token": "first", "expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}}}}))
"""


@pytest.mark.parametrize("lifetime", [-60, 120])  # expired already; expiring within the 5-minute skew
def test_a_failed_renewal_keeps_a_token_that_still_holds_and_never_sends_an_expired_one(
    tmp_path: Path, lifetime: int
) -> None:
    folder = tmp_path / "kube"
    script = folder / "bin" / "get-token"
    script.parent.mkdir(parents=True)
    script.write_text(
        RENEWING_PLUGIN.format(python=sys.executable, runs=str(tmp_path / "runs"), lifetime=lifetime)
    )
    script.chmod(0o755)
    client = Client(
        kubeclient.load_kubeconfig([str(_exec_kubeconfig(folder, "http://127.0.0.1:1"))]),
        exec_min_refresh=0.0,
    )
    if lifetime > 0:
        assert client.authorization() == "Bearer first"  # the renewal failed; the token is still valid
    else:
        with pytest.raises(KubeConfigError, match="exited with status 1: the SSO session expired"):
            client.authorization()
    assert (tmp_path / "runs").read_text().count("run") == 2
