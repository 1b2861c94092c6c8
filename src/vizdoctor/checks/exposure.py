"""Dashboard exposure: every route from outside the cluster to the Linkerd viz `web` Service (Ingress,
Gateway API HTTPRoute, Traefik IngressRoute, Contour HTTPProxy, Emissary Mapping), followed to the web
pod's Host and Origin checks and to the controller's settings.

Check ids (category `dashboard exposure`): dashboard-host-rejected, dashboard-origin-rejected,
dashboard-snippet-disallowed, dashboard-idle-timeout, dashboard-unauthenticated, dashboard-no-tls,
ingress-nginx-retired. Facts: knowledge/ingress.py. Runs on manifests (`scan`) and on live objects
(`check`, which lists knowledge.ingress.ROUTE_KINDS).
"""

from __future__ import annotations

from vizdoctor.checks.context import Context, Passed
from vizdoctor.exposure import crds, gateway, ingresses, traefik
from vizdoctor.exposure.evaluate import (
    SECURITY_NOTE,
    HostVerdict,
    SnippetVerdict,
    host_verdict,
    origin_differs,
    snippet_verdict,
)
from vizdoctor.exposure.fixes import corrected, enforced_host_for, fix_note, gateway_equivalent
from vizdoctor.exposure.objects import Objects
from vizdoctor.exposure.route import Route
from vizdoctor.exposure.web import WebTarget, assumed_target, find_targets
from vizdoctor.findings import Finding, Fix, Severity
from vizdoctor.knowledge.ingress import (
    DEFAULT_CLUSTER_DOMAIN,
    DOCS_EXPOSING,
    HELM_REGEX_VALUE,
    HOST_400_BODY,
    NGINX_LAST_RELEASES,
    NGINX_RETIRED,
    NGINX_RETIREMENT_POST,
    ORIGIN_403_LOG,
    TAP_TIMEOUT_S,
    UI_WEBSOCKET_ERROR,
    WEB_FATAL_BAD_REGEX,
)
from vizdoctor.model import ObjectRef

CATEGORY = "dashboard exposure"
HOST_REJECTED = "dashboard-host-rejected"
ORIGIN_REJECTED = "dashboard-origin-rejected"
SNIPPET_DISALLOWED = "dashboard-snippet-disallowed"
IDLE_TIMEOUT = "dashboard-idle-timeout"
UNAUTHENTICATED = "dashboard-unauthenticated"
NO_TLS = "dashboard-no-tls"
NGINX_RETIRED_ID = "ingress-nginx-retired"
CHECK_IDS = (
    HOST_REJECTED,
    ORIGIN_REJECTED,
    SNIPPET_DISALLOWED,
    IDLE_TIMEOUT,
    UNAUTHENTICATED,
    NO_TLS,
    NGINX_RETIRED_ID,
)


def find_routes(objs: Objects) -> list[Route]:
    targets = find_targets(objs)
    assumed: dict[tuple[str, str], WebTarget | None] = {}

    def lookup(namespace: str, name: str, port: int | str | None) -> WebTarget | None:
        for t in targets:
            if t.namespace == namespace and t.service == name:
                return t if t.port_matches(port) else None
        if (namespace, name) not in assumed:
            assumed[(namespace, name)] = assumed_target(objs, namespace, name)
        guess = assumed[(namespace, name)]
        return guess if guess is not None and guess.port_matches(port) else None

    return [
        *ingresses.routes(objs, lookup),
        *gateway.routes(objs, lookup),
        *traefik.routes(objs, lookup),
        *crds.contour_routes(objs, lookup),
        *crds.emissary_routes(objs, lookup),
    ]


def check(ctx: Context) -> list[Finding]:
    objs = Objects(ctx.inventory)
    out: list[Finding] = []
    for route in find_routes(objs):
        out.extend(_route_findings(ctx, route))
    return out


def _finding(
    route: Route,
    check_id: str,
    severity: Severity,
    title: str,
    message: str,
    hint: str,
    manifest: str,
    note: str,
) -> Finding:
    return Finding(
        check_id,
        severity,
        CATEGORY,
        f"{route}: {title}",
        message,
        hint,
        object=ObjectRef(route.kind, route.namespace, route.name),
        location=route.location,
        fix=Fix(note=note, manifest=manifest),
        hint_url=DOCS_EXPOSING,
        extra={"route": str(route), "controller": route.implementation_label},
    )


def _ok(ctx: Context, route: Route, text: str) -> None:
    ctx.passed.append(Passed(CATEGORY, f"{route}: {text}"))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _public(route: Route) -> str:
    return ", ".join(route.hosts) if route.hosts else "any host (no host on the rule)"


def _route_findings(ctx: Context, route: Route) -> list[Finding]:
    if route.redirect_only:
        # It answers with a redirect and never proxies to the web pod: no host, auth or TLS finding, and
        # no "fix" that would put TLS and auth behind a redirect.
        _ok(ctx, route, f"redirects only ({route.redirect_only}); it does not serve the dashboard")
        return []
    out: list[Finding] = []
    verdict = host_verdict(route)
    manifest = corrected(route, verdict)
    note = fix_note(route)
    t = route.target
    assumed = f" ({t.regex_from})" if t.workload is None else ""
    out.extend(_host(ctx, route, verdict, manifest, note, assumed))
    snippet = snippet_verdict(route)
    out.extend(_origin(ctx, route, verdict, snippet, manifest, note))
    if snippet is not None and snippet.severity is not None:
        out.append(_snippet_finding(route, snippet, manifest))
    elif snippet is not None and snippet.annotations:
        _ok(ctx, route, f"controller keeps {', '.join(snippet.annotations)} ({snippet.why})")
    out.extend(_idle(ctx, route, manifest))
    out.extend(_auth(ctx, route, manifest))
    out.extend(_tls(ctx, route, manifest))
    if route.implementation == "ingress-nginx":
        out.append(_retired(route))
    notes = list(dict.fromkeys([*t.notes, *route.notes]))
    if notes:
        for f in out:
            f.notes.extend(notes)
    return out


def _host(
    ctx: Context, route: Route, verdict: HostVerdict, manifest: str, note: str, assumed: str
) -> list[Finding]:
    t = route.target
    pattern = verdict.pattern
    if pattern.rejected_by_re2:
        return [
            _finding(
                route,
                HOST_REJECTED,
                "error",
                f"-enforced-host `{t.regex}` cannot be compiled by Go",
                f"The web pod's -enforced-host `{t.regex}` ({t.regex_from}) is not valid RE2 syntax: "
                f"{pattern.rejected_by_re2}. Go's regexp package refuses it, and the web binary exits at start-up "
                f"with `{WEB_FATAL_BAD_REGEX}: ...`, so the dashboard behind {route} is not served at all.",
                f"Write the pattern without the construct RE2 lacks; to accept the public host use "
                f"{enforced_host_for(route)}.",
                manifest,
                note,
            )
        ]
    if pattern.compiled is None:
        route.notes.append(f"-enforced-host not evaluated: {pattern.not_evaluated}")
        return []
    if verdict.unknown_variables:
        route.notes.append(
            f"Host not evaluated: {', '.join(verdict.unknown_variables)} in the rewrite is not a variable "
            "ingress-nginx sets for the location"
        )
        return []
    failing = verdict.failing
    if not failing:
        seen_all = sorted({c.seen for c in verdict.cases if c.seen is not None})
        what = "any Host" if not t.regex else f"-enforced-host{assumed}"
        shown = (
            ", ".join(seen_all)
            if route.hosts or route.rewrite
            else f"the Host of a catch-all rule ({', '.join(seen_all)})"
        )
        _ok(ctx, route, f"Host {shown} passes {what}")
        return []
    first = failing[0]
    if first.sample and not route.hosts:
        who = (
            "The rule has no host, so the browser's Host is whatever name or address the user typed: the load "
            f"balancer's address (for example `{first.public}`) or any DNS name pointing at it."
        )
        if route.rewrite is None:
            who += " None of them matches unless the pattern lists it."
    elif first.sample:
        who = f"The rule's wildcard host admits names such as `{first.public}`."
    else:
        who = f"Users browse to `{first.public}`."
    seen = first.seen or ""
    why = []
    if verdict.literal_variables:
        lits = verdict.literal_variables
        they = (
            f"{lits[0]} is an ingress-nginx variable"
            if len(lits) == 1
            else f"{', '.join(lits)} are ingress-nginx variables"
        )
        field = route.rewrite.via if route.rewrite else "this field"
        why.append(
            f"{they}, but {field} takes {'it' if len(lits) == 1 else 'them'} literally (ingress2gateway copies "
            "upstream-vhost verbatim), so the web pod sees the `$` text"
        )
    if route.rewrite is not None and route.rewrite.note:
        why.append(route.rewrite.note)
    if (
        ".svc." in seen
        and t.cluster_domain != DEFAULT_CLUSTER_DOMAIN
        and f".svc.{DEFAULT_CLUSTER_DOMAIN}" in seen
    ):
        why.append(
            f"the cluster domain is {t.cluster_domain} ({t.cluster_domain_from}), but the rewrite hardcodes "
            f"svc.{DEFAULT_CLUSTER_DOMAIN} as in the Linkerd docs recipe"
        )
    body = HOST_400_BODY.format(host=seen, regex=t.regex)
    hosts_failing = ", ".join(f"`{c.seen}`" for c in failing if c.seen)
    message = (
        f"{who} The web pod receives Host {hosts_failing} ({first.how}), and its -enforced-host `{t.regex}` "
        f"({t.regex_from}) does not match it (Go RE2, unanchored search on Host including the port). Every "
        f"page and /api/tap answers HTTP 400: `{body}`" + (" " + _sentence("; ".join(why)) if why else "")
    )
    hint = (
        f"Let the web pod accept the public host and keep the Host the browser sends: {HELM_REGEX_VALUE}="
        f"{enforced_host_for(route)} and no Host rewrite; Origin then matches Host and no snippet is needed."
    )
    return [
        _finding(
            route,
            HOST_REJECTED,
            "error",
            (
                f"any host the user types (e.g. {seen}) fails the web pod's -enforced-host"
                if first.sample and not route.hosts and route.rewrite is None
                else f"Host {seen} does not match the web pod's -enforced-host"
            ),
            message,
            hint,
            manifest,
            note,
        )
    ]


def _origin(
    ctx: Context, route: Route, verdict: HostVerdict, snippet: SnippetVerdict | None, manifest: str, note: str
) -> list[Finding]:
    cases = [c for c in verdict.cases if origin_differs(c)]
    if route.rewrite is None or not cases:
        if route.rewrite is None and verdict.cases:
            _ok(ctx, route, "Host is not rewritten, so the browser's Origin matches it")
        return []
    working = [r for r in route.origin_removals if r.works and r.snippet is None]
    via_snippet = [r for r in route.origin_removals if r.works and r.snippet is not None]
    broken = [r for r in route.origin_removals if not r.works]
    if working:
        _ok(ctx, route, f"Origin removed before the web pod ({working[0].via})")
        return []
    state = snippet.state if snippet is not None else "kept"
    if via_snippet and state == "kept":
        _ok(ctx, route, f"Origin removed before the web pod ({via_snippet[0].via})")
        return []
    if via_snippet and state == "unknown":
        route.notes.append(
            "Origin is removed by a snippet the controller may drop (see dashboard-snippet-disallowed)"
        )
        return []
    case = cases[0]
    if via_snippet and snippet is not None:
        reason = {
            "denied": "the controller refuses the snippet that removes it",
            "dropped": "the controller drops the snippet that removes it",
            "ignored": "the controller refuses the Ingress with the snippet that removes it",
        }.get(state, "the snippet that removes it does not run")
        why = f"Origin is kept: {reason} ({via_snippet[0].via}; {snippet.why})."
        if state in ("denied", "ignored"):
            why += " Once the snippet is taken out to get the Ingress applied, every Tap and Top stream fails this way."
    elif broken:
        why = f"Origin is kept: {broken[0].via} does not remove it, because {broken[0].why_not}."
    else:
        why = f"Origin is kept: nothing on {route} removes it."
    public = case.public if not case.sample else f"{case.public} (or any host the user types)"
    message = (
        f"{route} rewrites Host to `{case.seen}` ({route.rewrite.via}), but the browser's Origin names `{public}`. "
        f"{why} The web pod's websocket upgrader compares the Origin host with Host, so /api/tap answers "
        f"403 Forbidden (web log: `{ORIGIN_403_LOG}`): the page loads, but Tap and Top show `{UI_WEBSOCKET_ERROR}`."
    )
    hint = (
        "Drop the Host rewrite and let the web pod accept the public host "
        f"({HELM_REGEX_VALUE}={enforced_host_for(route)}): Origin then matches Host with no snippet. Otherwise "
        'remove Origin in the proxy (nginx: proxy_set_header Origin ""; Gateway API: RequestHeaderModifier '
        'remove [Origin]; Traefik: customRequestHeaders Origin: ""; Contour: requestHeadersPolicy remove).'
    )
    return [
        _finding(
            route,
            ORIGIN_REJECTED,
            "error",
            "Host is rewritten but Origin is kept: /api/tap gets 403",
            message,
            hint,
            manifest,
            note,
        )
    ]


def _snippet_finding(route: Route, snippet: SnippetVerdict, manifest: str) -> Finding:
    assert snippet.severity is not None
    cfg = route.nginx
    assert cfg is not None
    names = ", ".join(f"{cfg.prefix}/{a}" for a in snippet.annotations)
    uses, verb = {
        "denied": ("is refused", "refuses"),
        "ignored": ("is refused", "refuses"),
        "dropped": ("is silently dropped", "silently drops"),
        "unknown": ("may be dropped or refused", "may drop or refuse"),
    }[snippet.state]
    origin = any(r.snippet for r in route.origin_removals)
    purpose = " (it removes Origin for the /api/tap websocket)" if origin else ""
    message = (
        f"{route} relies on {names}{purpose}, which {cfg.label} {verb}: {snippet.why}. What the user gets: "
        f"{snippet.what_user_sees}. {SECURITY_NOTE}"
    )
    hint = (
        "Prefer the setup that needs no snippet: drop upstream-vhost and the snippet, and set "
        f'{HELM_REGEX_VALUE}={enforced_host_for(route)}. Re-enabling snippets (allow-snippet-annotations: "true", '
        "and annotations-risk-level: Critical from v1.12) works but reopens that risk for every Ingress in the cluster."
    )
    return _finding(
        route,
        SNIPPET_DISALLOWED,
        snippet.severity,
        f"{', '.join(snippet.annotations)} {uses} by the controller",
        message,
        hint,
        manifest,
        "Remove the snippet and the Host rewrite; let the web pod accept the public host (see the corrected manifest).",
    )


def _idle(ctx: Context, route: Route, manifest: str) -> list[Finding]:
    idle = route.idle
    if idle is None:
        return []
    if idle.seconds is None or idle.seconds >= TAP_TIMEOUT_S:
        shown = "none" if idle.seconds is None else f"{idle.seconds:g} s"
        _ok(ctx, route, f"websocket idle timeout {shown} ({idle.what})")
        return []
    s = f"{idle.seconds:g}"
    if idle.max_lifetime:
        cut = f"every websocket is closed after {s} s, idle or not"
    else:
        cut = f"a Tap stream that carries nothing for {s} s is closed"
    message = (
        f"The websocket idle timeout in front of {route} is {s} s ({idle.what}), under {TAP_TIMEOUT_S} s. The web "
        f"pod sends no websocket pings and the browser sends nothing after its first message, so {cut} without a "
        "Close frame (browser code 1006, which the dashboard ignores): Tap and Top silently stop when the mesh "
        "is quiet."
    )
    return [
        _finding(
            route,
            IDLE_TIMEOUT,
            "warning",
            f"websocket idle timeout {s} s cuts quiet Tap streams",
            message,
            f"Raise it to {TAP_TIMEOUT_S} s or more: {idle.knob}.",
            manifest,
            f"Set {idle.knob}.",
        )
    ]


def _auth(ctx: Context, route: Route, manifest: str) -> list[Finding]:
    if route.internal is not None:
        _ok(ctx, route, f"reachable only inside the network ({route.internal})")
        return []
    guard = route.auth or route.allowlist
    if guard is not None:
        _ok(ctx, route, f"guarded by {guard}")
        return []
    if not route.auth_known:
        return []
    exposed = f", exposed by {route.nginx.exposed_by}," if route.nginx and route.nginx.exposed_by else ""
    message = (
        f"{route} exposes the viz dashboard for {_public(route)} through {route.implementation_label}{exposed} "
        "with no authentication and no source allowlist in front. Anyone who reaches it can use Tap, which shows every "
        "request in the mesh live (methods, paths, headers, status), through the web ServiceAccount's "
        "ClusterRoleBinding linkerd-linkerd-viz-web-admin, plus the dashboard's view of every workload."
    )
    hint = (
        "Put authentication in front (ingress-nginx auth-type basic with an htpasswd Secret, oauth2-proxy via "
        "auth-url/auth-signin, Traefik basicAuth/forwardAuth, an Envoy Gateway SecurityPolicy, ALB oidc/cognito) "
        "or an allowlist of source ranges; `linkerd viz install --set dashboard.restrictPrivileges` also limits "
        "what the web ServiceAccount can tap."
    )
    return [
        _finding(
            route,
            UNAUTHENTICATED,
            "error",
            "dashboard reachable from outside with no authentication",
            message,
            hint,
            manifest,
            "Add authentication (or a source allowlist) in front of the dashboard, as in the corrected manifest.",
        )
    ]


def _tls(ctx: Context, route: Route, manifest: str) -> list[Finding]:
    if route.tls is not None:
        _ok(ctx, route, f"TLS ({route.tls})")
        return []
    if not route.tls_known:
        return []
    message = (
        f"{route} serves the dashboard for {_public(route)} over plain HTTP: pages, the /api/tap stream and any "
        "basic-auth password cross the network in clear text"
        + (f" (even if only inside the network: {route.internal})" if route.internal else "")
        + "."
    )
    return [
        _finding(
            route,
            NO_TLS,
            "warning",
            "no TLS on the route to the dashboard",
            message,
            "Terminate TLS on the route (Ingress spec.tls, a Gateway HTTPS listener, "
            "alb.ingress.kubernetes.io/certificate-arn, Traefik/Contour tls).",
            manifest,
            "Add TLS for the dashboard host, as in the corrected manifest.",
        )
    ]


def _retired(route: Route) -> Finding:
    message = (
        f"{route} is served by ingress-nginx, which gets no releases, bug fixes or security fixes after "
        f"{NGINX_RETIRED} ({NGINX_RETIREMENT_POST}; last releases {NGINX_LAST_RELEASES}). The Gateway API "
        "equivalent in the fix needs no snippet: the web pod accepts the public host, Host is not rewritten, so "
        "Origin matches."
    )
    return _finding(
        route,
        NGINX_RETIRED_ID,
        "info",
        "ingress-nginx is retired",
        message,
        "Plan a move to a Gateway API implementation (or another Ingress controller); ingress2gateway copies "
        "upstream-vhost's nginx variables literally and drops snippets, so write the dashboard route by hand.",
        gateway_equivalent(route),
        "Replace the Ingress with the HTTPRoute in the corrected manifest once a Gateway API implementation runs.",
    )
