"""Dashboard exposure checks: routes to the viz web Service, through `vizdoctor.report.scan` on real files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from vizdoctor.checks.exposure import CHECK_IDS
from vizdoctor.cli import main
from vizdoctor.exposure.re2 import compile_re2
from vizdoctor.findings import Finding
from vizdoctor.knowledge.ingress import ROUTE_KINDS as LIVE_KINDS
from vizdoctor.location import Location
from vizdoctor.model import Inventory
from vizdoctor.report import Report, analyse, scan
from vizdoctor.sources.manifests import add_document

FIX = ROOT / "tests" / "fixtures" / "exposure"
VIZ = FIX / "viz-web.yaml"
NGINX_112 = FIX / "ingress-nginx-v1.12.yaml"
SEED = FIX / "seed-ingress.yaml"
EXPOSURE = {"dashboard-host-rejected", "dashboard-origin-rejected", "dashboard-snippet-disallowed"}
ALL = set(CHECK_IDS)


def run(tmp_path: Path, *texts: str, files: tuple[Path, ...] = (), namespace: str = "default") -> Report:
    paths = [str(f) for f in files]
    for i, t in enumerate(texts):
        p = tmp_path / f"input{i}.yaml"
        p.write_text(t)
        paths.append(str(p))
    return scan(paths, namespace)


def ids(report: Report) -> set[str]:
    return {f.check for f in report.findings if f.check in ALL}


def one(report: Report, check: str) -> Finding:
    found = [f for f in report.findings if f.check == check]
    assert len(found) == 1, [f.check for f in report.findings]
    return found[0]


def passed(report: Report) -> list[str]:
    return [p.title for p in report.passed if p.category == "dashboard exposure"]


def nginx_render(data: str) -> str:
    """The v1.12 render with ConfigMap data set."""
    text = NGINX_112.read_text()
    assert text.count("\ndata:\n") == 1
    return text.replace("\ndata:\n", "\ndata:\n" + data, 1)


def web_with(regex: str, domain: str = "cluster.local") -> str:
    text = VIZ.read_text()
    text = re.sub(r"- -enforced-host=.*", lambda _: f"- -enforced-host={regex}", text)
    return text.replace("-cluster-domain=cluster.local", f"-cluster-domain={domain}")


def ingress(
    annotations: dict[str, str] | None = None, host: str | None = "dashboard.example.com", **spec: object
) -> str:
    rule: dict[str, object] = {
        "http": {
            "paths": [
                {
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": {"service": {"name": "web", "port": {"number": 8084}}},
                }
            ]
        }
    }
    if host:
        rule["host"] = host
    doc = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web-ingress", "namespace": "linkerd-viz", "annotations": annotations or {}},
        "spec": {"ingressClassName": spec.pop("ingressClassName", "nginx"), "rules": [rule], **spec},
    }
    return yaml.safe_dump(doc)


GOOD_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/auth-type": "basic",
    "nginx.ingress.kubernetes.io/auth-secret": "web-ingress-auth",
    "nginx.ingress.kubernetes.io/auth-realm": "Authentication Required",
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
    "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
}
TLS = [{"hosts": ["dashboard.example.com"], "secretName": "dashboard-tls"}]
PUBLIC_REGEX = r"^dashboard\.example\.com(:\d+)?$"


# ---------------------------------------------------------------------------------------------------
# The seed's Ingress (Linkerd docs recipe: upstream-vhost + configuration-snippet, no auth, no TLS)


def test_seed_ingress_on_v1_12_defaults_snippet_refused_origin_kept(tmp_path: Path) -> None:
    r = run(tmp_path, files=(VIZ, NGINX_112, SEED))
    assert ids(r) == {
        "dashboard-snippet-disallowed",
        "dashboard-origin-rejected",
        "dashboard-unauthenticated",
        "dashboard-no-tls",
        "ingress-nginx-retired",
    }
    snippet = one(r, "dashboard-snippet-disallowed")
    assert snippet.severity == "error"  # the chart's admission webhook denies the apply
    assert "denied by the admission webhook" in snippet.message
    assert (
        "nginx.ingress.kubernetes.io/configuration-snippet annotation cannot be used. Snippet directives are "
        "disabled by the Ingress administrator" in snippet.message
    )
    assert "CVE-2021-25742" in snippet.message and "v1.12.1" in snippet.message
    origin = one(r, "dashboard-origin-rejected")
    assert origin.severity == "error"
    assert (
        "web.linkerd-viz.svc.cluster.local:8084" in origin.message and "`viz.example.com`" in origin.message
    )
    assert "Websocket error: undefined" in origin.message and "403" in origin.message
    assert origin.object is not None and str(origin.object) == "Ingress linkerd-viz/web-ingress"
    assert origin.location is not None and origin.location.path.endswith("seed-ingress.yaml")
    assert "Tap" in one(r, "dashboard-unauthenticated").message
    # the Host rewrite itself passes the default regex, and the timeouts are one hour
    assert (
        "Ingress linkerd-viz/web-ingress: Host web.linkerd-viz.svc.cluster.local:8084 passes -enforced-host"
        in passed(r)
    )


def test_seed_fix_is_the_no_snippet_setup(tmp_path: Path) -> None:
    r = run(tmp_path, files=(VIZ, NGINX_112, SEED))
    f = one(r, "dashboard-origin-rejected")
    manifest = f.fix.manifest
    assert f.fix is not None and f.fix.note and "enforcedHostRegexp" in f.fix.note
    docs = [d for d in yaml.safe_load_all(manifest) if d]
    values, ing = docs[0], docs[1]
    regex = values["dashboard"]["enforcedHostRegexp"]
    pattern = compile_re2(regex)
    assert pattern.search("viz.example.com") and pattern.search("localhost:50750")  # port-forward still works
    assert not pattern.search("evil.example.com")
    ann = ing["metadata"]["annotations"]
    assert not any(k.endswith(("upstream-vhost", "configuration-snippet")) for k in ann)
    assert ann["nginx.ingress.kubernetes.io/auth-type"] == "basic"
    assert ing["spec"]["tls"][0]["hosts"] == ["viz.example.com"]
    # applying the fix (and the regex) leaves nothing but the retirement note
    (tmp_path / "fixed").mkdir()
    (tmp_path / "fixed" / "ingress.yaml").write_text(yaml.safe_dump(ing))
    fixed = run(tmp_path, web_with(regex), files=(NGINX_112, tmp_path / "fixed" / "ingress.yaml"))
    assert ids(fixed) == {"ingress-nginx-retired"}


def test_seed_ingress_with_snippets_allowed_keeps_origin_removal(tmp_path: Path) -> None:
    render = nginx_render('  allow-snippet-annotations: "true"\n  annotations-risk-level: Critical\n')
    r = run(tmp_path, render, files=(VIZ, SEED))
    assert ids(r) & EXPOSURE == set()
    assert "dashboard-unauthenticated" in ids(r)
    titles = passed(r)
    assert any("Origin removed before the web pod" in t for t in titles)
    assert any("controller keeps configuration-snippet" in t for t in titles)


def test_snippets_allowed_but_risk_level_high_refuses_them(tmp_path: Path) -> None:
    render = nginx_render('  allow-snippet-annotations: "true"\n')
    r = run(tmp_path, render, files=(VIZ, SEED))
    f = one(r, "dashboard-snippet-disallowed")
    assert f.severity == "error"
    assert (
        "annotation group ConfigurationSnippet contains risky annotation based on ingress configuration"
        in f.message
    )
    assert "annotations-risk-level is High" in f.message
    assert "dashboard-origin-rejected" in ids(r)


def test_snippets_dropped_silently_without_admission_webhook_is_a_warning(tmp_path: Path) -> None:
    text = NGINX_112.read_text()
    start = text.index("apiVersion: admissionregistration.k8s.io/v1")
    end = text.index("---", start)
    render = (text[:start] + text[end + 4 :]).replace("- --validating-webhook=:8443\n", "")
    r = run(tmp_path, render, files=(VIZ, SEED))
    f = one(r, "dashboard-snippet-disallowed")
    assert f.severity == "warning" and "silently drops" in f.message
    assert "dashboard-origin-rejected" in ids(r)  # served without the snippet: Origin kept, 403


def test_controller_v1_8_allows_snippets_by_default(tmp_path: Path) -> None:
    render = NGINX_112.read_text().replace("controller:v1.12.1@", "controller:v1.8.4@")
    r = run(tmp_path, render, files=(VIZ, SEED))
    assert ids(r) & EXPOSURE == set()


def test_unknown_controller_version_warns(tmp_path: Path) -> None:
    r = run(tmp_path, files=(VIZ, SEED))
    f = one(r, "dashboard-snippet-disallowed")
    assert f.severity == "warning" and "v1.9.0" in f.message
    assert "dashboard-origin-rejected" not in ids(r)


def test_values_file_decides_the_controller_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = tmp_path / "ingress-nginx-values.yaml"
    values.write_text(
        "controller:\n  allowSnippetAnnotations: true\n  image:\n    tag: v1.12.1\n"
        "  config:\n    annotations-risk-level: Critical\n"
    )
    assert main(["scan", str(VIZ), str(SEED), "--format", "json"]) == 1
    assert "dashboard-snippet-disallowed" in capsys.readouterr().out
    main(["scan", str(VIZ), str(SEED), "--values", str(values), "--format", "json"])
    out = capsys.readouterr().out
    assert "dashboard-snippet-disallowed" not in out and "dashboard-origin-rejected" not in out
    assert "dashboard-unauthenticated" in out
    values.write_text("controller:\n  image:\n    tag: v1.12.1\n")
    main(["scan", str(VIZ), str(SEED), "--values", str(values), "--format", "json"])
    assert "denied by the admission webhook" in capsys.readouterr().out  # chart default: webhook enabled


def test_corpus_render_v1_15_refuses_snippets(tmp_path: Path, corpus: Path) -> None:
    r = run(tmp_path, files=(VIZ, SEED, corpus / "ingress-nginx.yaml"))
    f = one(r, "dashboard-snippet-disallowed")
    assert f.severity == "error" and "v1.15.1" in f.message


# ---------------------------------------------------------------------------------------------------
# The setup that needs no snippet


def test_correct_no_snippet_setup_has_no_findings_but_retirement(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        web_with(PUBLIC_REGEX),
        ingress(GOOD_ANNOTATIONS, tls=TLS),
        files=(NGINX_112,),
    )
    assert ids(r) == {"ingress-nginx-retired"}
    titles = passed(r)
    assert "Ingress linkerd-viz/web-ingress: Host dashboard.example.com passes -enforced-host" in titles
    assert any("browser's Origin matches it" in t for t in titles)
    assert any("guarded by basic auth" in t for t in titles)
    assert any(t.endswith("TLS (spec.tls (secret dashboard-tls))") for t in titles)
    assert any("idle timeout 3600 s" in t for t in titles)


def test_public_host_without_regex_is_rejected(tmp_path: Path) -> None:
    r = run(tmp_path, ingress(GOOD_ANNOTATIONS, tls=TLS), files=(VIZ, NGINX_112))
    f = one(r, "dashboard-host-rejected")
    assert f.severity == "error"
    assert (
        "It appears that you are trying to reach this service with a host of 'dashboard.example.com'"
        in f.message
    )
    assert "dashboard-origin-rejected" not in ids(r)  # no rewrite: Origin equals Host
    assert "dashboard.example.com" in f.fix.manifest


def test_custom_cluster_domain_breaks_the_recipe_host(tmp_path: Path) -> None:
    regex = r"^(localhost|127\.0\.0\.1|web\.linkerd-viz\.svc\.example\.internal|web\.linkerd-viz\.svc|\[::1\])(:\d+)?$"
    r = run(
        tmp_path,
        web_with(regex, "example.internal"),
        nginx_render('  allow-snippet-annotations: "true"\n  annotations-risk-level: Critical\n'),
        files=(SEED,),
    )
    f = one(r, "dashboard-host-rejected")
    assert "web.linkerd-viz.svc.cluster.local:8084" in f.message
    assert "cluster domain is example.internal" in f.message
    assert "svc.cluster.local" in f.message


def test_catch_all_rule_names_the_hosts_that_fail(tmp_path: Path) -> None:
    r = run(tmp_path, ingress(GOOD_ANNOTATIONS, host=None), files=(VIZ, NGINX_112))
    f = one(r, "dashboard-host-rejected")
    assert "no host" in f.message and "203.0.113.10" in f.message


def test_unanchored_regex_semantics(tmp_path: Path) -> None:
    # Go's MatchString searches: an unanchored pattern accepts hosts that merely contain it
    r = run(tmp_path, web_with(r"example\.com"), ingress(GOOD_ANNOTATIONS, tls=TLS), files=(NGINX_112,))
    assert "dashboard-host-rejected" not in ids(r)


def test_regex_rejected_by_re2_is_reported(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        web_with(r"^(?!evil)dashboard\.example\.com$"),
        ingress(GOOD_ANNOTATIONS, tls=TLS),
        files=(NGINX_112,),
    )
    f = one(r, "dashboard-host-rejected")
    assert "lookaround" in f.message and "invalid --enforced-host parameter" in f.message


def test_default_namespace_from_the_scan(tmp_path: Path) -> None:
    # `kubectl apply -n linkerd-viz -f dir/`: neither the Ingress nor the web objects name a namespace
    doc = yaml.safe_load(ingress(GOOD_ANNOTATIONS, tls=TLS))
    del doc["metadata"]["namespace"]
    web = re.sub(r"(?m)^  namespace: linkerd-viz\n", "", web_with(PUBLIC_REGEX))
    r = run(tmp_path, yaml.safe_dump(doc), web, files=(NGINX_112,), namespace="linkerd-viz")
    assert ids(r) == {"ingress-nginx-retired"}
    assert "Ingress linkerd-viz/web-ingress: Host dashboard.example.com passes -enforced-host" in passed(r)


# ---------------------------------------------------------------------------------------------------
# Authentication and TLS


def test_unauthenticated_public_ingress(tmp_path: Path) -> None:
    ann = {k: v for k, v in GOOD_ANNOTATIONS.items() if "auth" not in k}
    r = run(tmp_path, web_with(PUBLIC_REGEX), ingress(ann, tls=TLS), files=(NGINX_112,))
    assert ids(r) == {"dashboard-unauthenticated", "ingress-nginx-retired"}
    f = one(r, "dashboard-unauthenticated")
    assert f.severity == "error" and "every request in the mesh live" in f.message
    fixed = yaml.safe_load(f.fix.manifest)
    assert fixed["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"] == "web-ingress-auth"


def test_allowlist_and_oauth2_proxy_count_as_guards(tmp_path: Path) -> None:
    for extra in (
        {"nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8"},
        {
            "nginx.ingress.kubernetes.io/auth-url": "https://$host/oauth2/auth",
            "nginx.ingress.kubernetes.io/auth-signin": "https://$host/oauth2/start?rd=$escaped_request_uri",
        },
    ):
        ann = {**{k: v for k, v in GOOD_ANNOTATIONS.items() if "auth" not in k}, **extra}
        r = run(tmp_path, web_with(PUBLIC_REGEX), ingress(ann, tls=TLS), files=(NGINX_112,))
        assert "dashboard-unauthenticated" not in ids(r), extra


def test_alb_defaults_to_internal_and_60s_idle(tmp_path: Path) -> None:
    r = run(tmp_path, web_with(PUBLIC_REGEX), ingress(ingressClassName="alb"))
    assert "dashboard-unauthenticated" not in ids(r)
    assert one(r, "dashboard-idle-timeout").message.startswith("The websocket idle timeout in front of")
    assert "60 s" in one(r, "dashboard-idle-timeout").message
    public = {
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x",
        "alb.ingress.kubernetes.io/load-balancer-attributes": "idle_timeout.timeout_seconds=3600",
    }
    r = run(tmp_path, web_with(PUBLIC_REGEX), ingress(public, ingressClassName="alb"))
    assert ids(r) == {"dashboard-unauthenticated"}


def test_gce_backend_timeout_is_a_max_lifetime(tmp_path: Path) -> None:
    r = run(tmp_path, web_with(PUBLIC_REGEX), ingress(ingressClassName="gce", tls=TLS))
    f = one(r, "dashboard-idle-timeout")
    assert "30 s" in f.message and "idle or not" in f.message


# ---------------------------------------------------------------------------------------------------
# Idle timeouts


def test_idle_timeout_default_60s_warns_and_3600_does_not(tmp_path: Path) -> None:
    ann = {k: v for k, v in GOOD_ANNOTATIONS.items() if "timeout" not in k}
    r = run(tmp_path, web_with(PUBLIC_REGEX), ingress(ann, tls=TLS), files=(NGINX_112,))
    f = one(r, "dashboard-idle-timeout")
    assert f.severity == "warning" and "60 s" in f.message and "no websocket pings" in f.message
    assert "proxy-read-timeout" in f.hint
    r = run(tmp_path, web_with(PUBLIC_REGEX), ingress(GOOD_ANNOTATIONS, tls=TLS), files=(NGINX_112,))
    assert "dashboard-idle-timeout" not in ids(r)
    # the ConfigMap sets it for every Ingress
    render = nginx_render('  proxy-read-timeout: "3600"\n  proxy-send-timeout: "3600"\n')
    r = run(tmp_path, web_with(PUBLIC_REGEX), ingress(ann, tls=TLS), render)
    assert "dashboard-idle-timeout" not in ids(r)


# ---------------------------------------------------------------------------------------------------
# Gateway API


GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: envoy-gateway-system}
spec:
  gatewayClassName: eg
  listeners:
  - {name: https, protocol: HTTPS, port: 443, hostname: dashboard.example.com,
     tls: {certificateRefs: [{name: dashboard-tls}]}, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: web-basic-auth, namespace: linkerd-viz}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]
  basicAuth: {users: {name: web-ingress-auth}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: stream-idle, namespace: envoy-gateway-system}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
  timeout: {http: {streamIdleTimeout: 1h}}
"""


def httproute(filters: str = "") -> str:
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: linkerd-viz}}
spec:
  parentRefs: [{{name: eg, namespace: envoy-gateway-system}}]
  hostnames: [dashboard.example.com]
  rules:
  - backendRefs: [{{name: web, port: 8084}}]
{filters}
"""


def test_httproute_hostname_rewrite_without_origin_removal(tmp_path: Path) -> None:
    filters = (
        "    filters:\n    - {type: URLRewrite, urlRewrite: {hostname: web.linkerd-viz.svc.cluster.local}}\n"
    )
    r = run(tmp_path, GATEWAY, httproute(filters), files=(VIZ,))
    assert ids(r) == {"dashboard-origin-rejected"}
    f = one(r, "dashboard-origin-rejected")
    assert "URLRewrite" in f.message and "web.linkerd-viz.svc.cluster.local" in f.message
    fixed = [d for d in yaml.safe_load_all(f.fix.manifest) if d]
    route = next(d for d in fixed if d.get("kind") == "HTTPRoute")
    assert "filters" not in route["spec"]["rules"][0]
    # with Origin removed the recipe works
    filters += "    - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [Origin]}}\n"
    r = run(tmp_path, GATEWAY, httproute(filters), files=(VIZ,))
    assert ids(r) == set()


def test_ingress2gateway_literal_nginx_variables_in_host(tmp_path: Path) -> None:
    filters = (
        "    filters:\n    - type: RequestHeaderModifier\n      requestHeaderModifier:\n        set:\n"
        "        - {name: Host, value: '$service_name.$namespace.svc.cluster.local:8084'}\n"
    )
    r = run(tmp_path, GATEWAY, httproute(filters), files=(VIZ,))
    f = one(r, "dashboard-host-rejected")
    assert "$service_name.$namespace.svc.cluster.local:8084" in f.message
    assert "literally" in f.message and "ingress2gateway" in f.message
    assert "Envoy Gateway refuses" in f.message


def test_envoy_gateway_default_stream_idle_timeout(tmp_path: Path) -> None:
    gw = GATEWAY.split("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy")[0]
    r = run(tmp_path, gw, httproute(), web_with(PUBLIC_REGEX))
    f = one(r, "dashboard-idle-timeout")
    assert "300 s" in f.message and "streamIdleTimeout" in f.hint
    assert ids(r) == {"dashboard-idle-timeout"}


def test_httproute_without_auth_or_https_listener(tmp_path: Path) -> None:
    gw = GATEWAY.replace("protocol: HTTPS", "protocol: HTTP").split("---\napiVersion: gateway.envoyproxy.io")[
        0
    ]
    r = run(tmp_path, gw, httproute(), web_with(PUBLIC_REGEX))
    assert {"dashboard-unauthenticated", "dashboard-no-tls"} <= ids(r)
    assert "SecurityPolicy" in one(r, "dashboard-unauthenticated").fix.manifest


# ---------------------------------------------------------------------------------------------------
# Traefik, Contour, Emissary


def test_traefik_middleware_host_rewrite_without_origin(tmp_path: Path) -> None:
    docs = """
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: l5d-host, namespace: linkerd-viz}
spec:
  headers:
    customRequestHeaders: {Host: "web.linkerd-viz.svc.cluster.local:8084"}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: auth, namespace: linkerd-viz}
spec:
  basicAuth: {secret: web-ingress-auth}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: web, namespace: linkerd-viz}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(`dashboard.example.com`)
    kind: Rule
    services: [{name: web, port: 8084}]
    middlewares: [{name: l5d-host}, {name: auth}]
  tls: {secretName: dashboard-tls}
"""
    r = run(tmp_path, docs, files=(VIZ,))
    assert ids(r) == {"dashboard-origin-rejected"}
    fixed = [d for d in yaml.safe_load_all(one(r, "dashboard-origin-rejected").fix.manifest) if d]
    route = next(d for d in fixed if d.get("kind") == "IngressRoute")
    assert route["spec"]["routes"][0]["middlewares"] == [{"name": "auth"}]


def test_contour_httpproxy_default_idle(tmp_path: Path) -> None:
    doc = """
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: web, namespace: linkerd-viz}
spec:
  virtualhost:
    fqdn: dashboard.example.com
    tls: {secretName: dashboard-tls}
    authorization: {extensionRef: {name: htpasswd, namespace: projectcontour-auth}}
  routes:
  - services: [{name: web, port: 8084}]
    enableWebsockets: true
"""
    r = run(tmp_path, doc, web_with(PUBLIC_REGEX))
    assert ids(r) == {"dashboard-idle-timeout"}
    assert "timeoutPolicy" in one(r, "dashboard-idle-timeout").hint
    r = run(
        tmp_path,
        doc.replace("enableWebsockets: true", "enableWebsockets: true\n    timeoutPolicy: {idle: 1h}"),
        web_with(PUBLIC_REGEX),
    )
    assert ids(r) == set()


def test_ambassador_recipe_mapping_keeps_origin(tmp_path: Path) -> None:
    # the Linkerd docs' Ambassador recipe: host_rewrite, no Origin removal (linkerd/linkerd2#5897)
    svc = """
apiVersion: v1
kind: Service
metadata:
  name: web-ambassador
  namespace: linkerd-viz
  annotations:
    getambassador.io/config: |-
      ---
      apiVersion: getambassador.io/v2
      kind: Mapping
      name: web-mapping
      host: dashboard.example.com
      prefix: /
      host_rewrite: web.linkerd-viz.svc.cluster.local:8084
      service: web.linkerd-viz.svc.cluster.local:8084
spec:
  type: ClusterIP
  ports: [{port: 80}]
"""
    r = run(tmp_path, svc, files=(VIZ,))
    assert "dashboard-origin-rejected" in ids(r)
    assert "host_rewrite" in one(r, "dashboard-origin-rejected").message


# ---------------------------------------------------------------------------------------------------
# Pieces


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        (r"^(localhost|web\.linkerd-viz\.svc)(:\d+)?$", "localhost:50750", True),
        (r"^(localhost|web\.linkerd-viz\.svc)(:\d+)?$", "web.linkerd-viz:8084", False),
        (r"dashboard", "my-dashboard.example.com", True),  # unanchored search
        (r"(?i)^DASHBOARD\.example\.com$", "dashboard.example.com", True),
        (r"^a(?i)b|c$", "xC", True),  # Go scopes the flag to the rest of the group, across |
        (r"^x{,2}$", "x{,2}", True),  # RE2 reads {,n} literally
        (r"^x{,2}$", "xx", False),
        (r"^[[:alpha:]]+\.com$", "abc.com", True),
        (r"^(?<h>dash)\.example\.com\z", "dash.example.com", True),
        (r"^\d+$", "١٢", False),  # RE2 \d is ASCII
    ],
)
def test_re2_search(pattern: str, host: str, expected: bool) -> None:
    p = compile_re2(pattern)
    assert p.compiled is not None, p
    assert p.search(host) is expected


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(a)\1", "backreference"),
        (r"(?=a)", "lookaround"),
        (r"(?<!a)b", "lookaround"),
        (r"a**", "nested repetition"),
        (r"a*+", "nested repetition"),
        (r"a{1001}", "repeat count"),
        (r"a\Z", r"\Z"),
        (r"(?x)a", "flag"),
    ],
)
def test_re2_rejects(pattern: str, why: str) -> None:
    p = compile_re2(pattern)
    assert p.compiled is None and p.rejected_by_re2 is not None and why in p.rejected_by_re2


def test_re2_not_evaluated() -> None:
    p = compile_re2(r"^\p{Greek}+$")
    assert p.compiled is None and p.rejected_by_re2 is None and p.not_evaluated


def test_live_kinds_cover_what_the_check_reads() -> None:
    kinds = {k for k, _, _, _ in LIVE_KINDS}
    assert {
        "Ingress",
        "IngressClass",
        "HTTPRoute",
        "Gateway",
        "GatewayClass",
        "IngressRoute",
        "Middleware",
    } <= kinds
    assert {"HTTPProxy", "Mapping", "ConfigMap", "Deployment", "Service", "Namespace"} <= kinds
    for kind, group, version, plural in LIVE_KINDS:
        assert kind and version and plural == plural.lower() and plural.endswith("s")
        assert group in ("", "apps") or "." in group


def test_docs_list_every_check_id() -> None:
    exposure_doc = (ROOT / "docs" / "exposure.md").read_text()
    checks_doc = (ROOT / "docs" / "checks.md").read_text()
    for check_id in CHECK_IDS:
        assert f"(checks.md#{check_id})" in exposure_doc
        assert f"## {check_id}" in checks_doc


def test_no_route_no_section(tmp_path: Path) -> None:
    r = run(tmp_path, files=(VIZ,))
    assert ids(r) == set() and passed(r) == []


def test_live_shaped_objects(tmp_path: Path) -> None:
    """Objects as the live source adds them: list items carry no apiVersion."""
    inv = Inventory()
    texts = [VIZ.read_text(), NGINX_112.read_text(), SEED.read_text()]
    for doc in (d for t in texts for d in yaml.safe_load_all(t) if d):
        doc.pop("apiVersion", None)
        add_document(doc, Location("live"), inv, "default")
    r = analyse("check", inv)
    assert {"dashboard-snippet-disallowed", "dashboard-origin-rejected"} <= ids(r)


def test_server_snippet_cannot_remove_origin(tmp_path: Path) -> None:
    seed = SEED.read_text().replace("configuration-snippet", "server-snippet")
    render = nginx_render('  allow-snippet-annotations: "true"\n  annotations-risk-level: Critical\n')
    r = run(tmp_path, seed, render, files=(VIZ,))
    f = one(r, "dashboard-origin-rejected")
    assert "server-snippet" in f.message and "inherits proxy_set_header" in f.message


def test_contour_without_websockets_is_noted(tmp_path: Path) -> None:
    doc = """
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: web, namespace: linkerd-viz}
spec:
  virtualhost: {fqdn: dashboard.example.com}
  routes:
  - services: [{name: web, port: 8084}]
"""
    r = run(tmp_path, doc, web_with(PUBLIC_REGEX))
    assert {"dashboard-idle-timeout", "dashboard-unauthenticated", "dashboard-no-tls"} == ids(r)
    assert all(any("enableWebsockets" in n for n in f.notes) for f in r.findings if f.check in ALL)
    fixed = yaml.safe_load(one(r, "dashboard-no-tls").fix.manifest)
    assert fixed["spec"]["routes"][0]["enableWebsockets"] is True
    assert fixed["spec"]["virtualhost"]["tls"] == {"secretName": "dashboard-example-com-tls"}


# ---------------------------------------------------------------------------------------------------
# Redirect-only routes and Traefik 1.x annotations (issue 11)

REDIRECT_ROUTE = """
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: to-https, namespace: linkerd-viz}
spec:
  redirectScheme: {scheme: https, permanent: true}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: web-http, namespace: linkerd-viz}
spec:
  entryPoints: [web]
  routes:
  - match: Host(`dashboard.example.com`)
    kind: Rule
    services: [{name: web, port: 8084}]
    middlewares: [{name: to-https}]
"""


def test_traefik_redirect_scheme_route_is_not_a_dashboard_route(tmp_path: Path) -> None:
    r = run(tmp_path, REDIRECT_ROUTE, web_with(PUBLIC_REGEX))
    assert ids(r) == set()  # no host/auth/TLS findings and no fix behind a redirect
    assert any("web-http: redirects only" in p and "redirectScheme" in p for p in passed(r))


def test_traefik_redirect_scheme_on_a_tls_router_still_serves(tmp_path: Path) -> None:
    # redirectScheme passes requests already in https through: this router serves the dashboard
    doc = (
        REDIRECT_ROUTE.replace("entryPoints: [web]", "entryPoints: [websecure]") + "  tls: {secretName: t}\n"
    )
    r = run(tmp_path, doc, web_with(PUBLIC_REGEX))
    assert "dashboard-unauthenticated" in ids(r)
    assert not any("redirects only" in p for p in passed(r))


def test_traefik_entrypoint_redirection_makes_http_routes_redirect_only(tmp_path: Path) -> None:
    traefik = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: traefik, namespace: traefik}
spec:
  selector: {matchLabels: {app: traefik}}
  template:
    metadata: {labels: {app: traefik}}
    spec:
      containers:
      - name: traefik
        image: traefik:v3.1
        args: ["--entryPoints.web.address=:8000", "--entryPoints.web.http.redirections.entryPoint.to=websecure"]
"""
    doc = REDIRECT_ROUTE.replace("    middlewares: [{name: to-https}]\n", "")
    r = run(tmp_path, doc, traefik, web_with(PUBLIC_REGEX))
    assert ids(r) == set()
    assert any("entry point web redirects" in p for p in passed(r))
    r = run(tmp_path, doc, web_with(PUBLIC_REGEX))  # without the redirection, the route serves
    assert "dashboard-unauthenticated" in ids(r)


def test_nginx_permanent_redirect_ingress_is_redirect_only(tmp_path: Path) -> None:
    doc = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: old-host
  namespace: linkerd-viz
  annotations:
    nginx.ingress.kubernetes.io/permanent-redirect: https://dashboard.example.com
spec:
  ingressClassName: nginx
  rules:
  - host: old.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8084}}}}
"""
    r = run(tmp_path, doc, web_with(PUBLIC_REGEX))
    assert not ids(r) - {"ingress-nginx-retired"} and "dashboard-unauthenticated" not in ids(r)
    assert any("old-host: redirects only" in p and "permanent-redirect" in p for p in passed(r))


def test_traefik_1x_auth_annotation_is_noted_as_ignored(tmp_path: Path) -> None:
    doc = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: linkerd-viz
  annotations:
    kubernetes.io/ingress.class: traefik
    ingress.kubernetes.io/auth-type: basic
    ingress.kubernetes.io/auth-secret: web-auth
spec:
  rules:
  - host: dashboard.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8084}}}}
"""
    r = run(tmp_path, doc, web_with(PUBLIC_REGEX))
    f = one(r, "dashboard-unauthenticated")
    assert (
        "ingress.kubernetes.io/auth-type" in f.full_message and "Traefik 2 and later ignore" in f.full_message
    )
