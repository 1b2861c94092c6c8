"""Traefik: IngressRoute + Middleware (traefik.io/v1alpha1 and the older traefik.containo.us)."""

from __future__ import annotations

import re
from collections.abc import Callable

from vizdoctor.exposure.objects import Obj, Objects, as_dict, as_list, text
from vizdoctor.exposure.route import HostRewrite, Idle, OriginRemoval, Route
from vizdoctor.exposure.web import WebTarget
from vizdoctor.knowledge.ingress import TRAEFIK_ENTRYPOINT_REDIRECT_ARG, TRAEFIK_REDIRECT_MIDDLEWARES

TRAEFIK_GROUPS = ("traefik.io", "traefik.containo.us")
_HOST = re.compile(r"\bHost(?:SNI)?\s*\(([^)]*)\)")
_QUOTED = re.compile(r"`([^`]*)`|\"([^\"]*)\"")
TargetLookup = Callable[[str, str, "int | str | None"], "WebTarget | None"]


def middleware_by_ref(objs: Objects, ref: str) -> Obj | None:
    """`<namespace>-<name>@kubernetescrd` (annotation form) -> the Middleware."""
    ref = ref.split("@", 1)[0]
    for m in objs.of("Middleware", *TRAEFIK_GROUPS):
        if f"{m.namespace}-{m.name}" == ref:
            return m
    return None


def _expand(objs: Objects, middlewares: list[Obj], depth: int = 0) -> list[Obj]:
    out: list[Obj] = []
    for m in middlewares:
        out.append(m)
        chain = as_list(as_dict(m.spec.get("chain")).get("middlewares"))
        if chain and depth < 5:
            refs = [as_dict(c) for c in chain]
            found = [
                o
                for r in refs
                if (
                    o := objs.find(
                        "Middleware",
                        text(r.get("namespace")) or m.namespace,
                        str(r.get("name")),
                        *TRAEFIK_GROUPS,
                    )
                )
            ]
            out.extend(_expand(objs, found, depth + 1))
    return out


def redirecting_entrypoints(objs: Objects) -> set[str]:
    """Entry points whose static configuration redirects every request (Traefik's container args)."""
    pattern = re.compile(TRAEFIK_ENTRYPOINT_REDIRECT_ARG)
    out: set[str] = set()
    for kind in ("Deployment", "DaemonSet", "StatefulSet"):
        for w in objs.of(kind):
            spec = as_dict(as_dict(w.spec.get("template")).get("spec"))
            for c in as_list(spec.get("containers")):
                for arg in as_list(as_dict(c).get("args")):
                    m = pattern.match(str(arg))
                    if m:
                        out.add(m.group(1).lower())
    return out


def _redirects_everything(m: Obj, route: Route) -> str | None:
    """Why middleware `m` answers every request on the route with a redirect, or None."""
    rs = as_dict(m.spec.get("redirectScheme"))
    if rs:
        scheme = (text(rs.get("scheme")) or "").lower()
        # redirectScheme passes through requests already in its scheme: a TLS router is served.
        if scheme and not (scheme == "https" and route.tls):
            return f"{m} redirectScheme to {scheme}"
    rr = as_dict(m.spec.get("redirectRegex"))
    if rr:
        try:
            rx = re.compile(text(rr.get("regex")) or "")
        except re.error:
            return None
        hosts = route.hosts or ["example.com"]
        schemes = ["https"] if route.tls else ["http"]
        if all(rx.search(f"{sc}://{h}/") for h in hosts for sc in schemes):
            return f"{m} redirectRegex {text(rr.get('regex'))}"
    return None


def apply_middlewares(objs: Objects, route: Route, middlewares: list[Obj]) -> None:
    auth: list[str] = []
    for m in _expand(objs, middlewares):
        if route.redirect_only is None and any(k in m.spec for k in TRAEFIK_REDIRECT_MIDDLEWARES):
            # middlewares run in order: a redirect before any proxying means the route never serves
            route.redirect_only = _redirects_everything(m, route)
        headers = as_dict(as_dict(m.spec.get("headers")).get("customRequestHeaders"))
        for key, value in headers.items():
            v = text(value) or ""
            if key.lower() == "host" and v:
                route.rewrite = HostRewrite(v, f"{m} headers.customRequestHeaders Host")
            elif key.lower() == "origin" and v == "":
                route.origin_removals.append(OriginRemoval(f'{m} headers.customRequestHeaders Origin: ""'))
        for kind in ("basicAuth", "digestAuth", "forwardAuth"):
            if kind in m.spec:
                auth.append(f"{m} {kind}")
        for kind in ("ipAllowList", "ipWhiteList"):
            if kind in m.spec:
                ranges = as_list(as_dict(m.spec[kind]).get("sourceRange"))
                route.allowlist = f"{m} {kind} {', '.join(map(str, ranges))}"
    route.auth = "; ".join(auth) or route.auth


def hosts_of(match: str) -> list[str]:
    hosts: list[str] = []
    for m in _HOST.finditer(match):
        for q in _QUOTED.finditer(m.group(1)):
            h = q.group(1) if q.group(1) is not None else q.group(2)
            if h and h not in hosts:
                hosts.append(h)
    return hosts


def routes(objs: Objects, lookup: TargetLookup) -> list[Route]:
    out: list[Route] = []
    for ir in objs.of("IngressRoute", *TRAEFIK_GROUPS):
        for r in as_list(ir.spec.get("routes")):
            r = as_dict(r)
            target: WebTarget | None = None
            port = None
            for s in as_list(r.get("services")):
                s = as_dict(s)
                if text(s.get("kind")) not in (None, "Service"):
                    continue
                port = s.get("port")
                target = lookup(text(s.get("namespace")) or ir.namespace, str(s.get("name")), port)
                if target is not None:
                    break
            if target is None:
                continue
            match = text(r.get("match")) or ""
            route = Route(ir, "traefik", "Traefik IngressRoute", target, hosts_of(match), port)
            if "tls" in ir.spec:
                route.tls = "spec.tls"
            entry_points = [str(e).lower() for e in as_list(ir.spec.get("entryPoints"))]
            redirecting = redirecting_entrypoints(objs)
            if entry_points and all(e in redirecting for e in entry_points):
                route.redirect_only = (
                    f"entry point {', '.join(entry_points)} redirects (static configuration)"
                )
            if "HostRegexp" in match:
                route.notes.append("a HostRegexp rule admits hosts vizdoctor does not list")
            middlewares = [
                o
                for ref in as_list(r.get("middlewares"))
                if (
                    o := objs.find(
                        "Middleware",
                        text(as_dict(ref).get("namespace")) or ir.namespace,
                        str(as_dict(ref).get("name")),
                        *TRAEFIK_GROUPS,
                    )
                )
            ]
            apply_middlewares(objs, route, middlewares)
            if "tls" in ir.spec:
                tls = as_dict(ir.spec.get("tls"))
                secret = text(tls.get("secretName"))
                resolver = text(tls.get("certResolver"))
                route.tls = "spec.tls" + (
                    f" (secret {secret})" if secret else f" (certResolver {resolver})" if resolver else ""
                )
            route.idle = Idle(None, "Traefik sets no idle limit on an established websocket", "")
            out.append(route)
            break
    return out
