"""Contour HTTPProxy and Emissary/Ambassador Mapping routes to viz web."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from vizdoctor.exposure.objects import Obj, Objects, as_dict, as_list, get, parse_duration_s, text
from vizdoctor.exposure.route import HostRewrite, Idle, OriginRemoval, Route, host_matches
from vizdoctor.exposure.web import WebTarget
from vizdoctor.knowledge.ingress import IDLE_DEFAULTS
from vizdoctor.model import RawObject

CONTOUR_GROUP = "projectcontour.io"
EMISSARY_GROUP = "getambassador.io"
TargetLookup = Callable[[str, str, "int | str | None"], "WebTarget | None"]


def contour_routes(objs: Objects, lookup: TargetLookup) -> list[Route]:
    out: list[Route] = []
    proxies = list(objs.of("HTTPProxy", CONTOUR_GROUP))
    for hp in proxies:
        for r in as_list(hp.spec.get("routes")):
            r = as_dict(r)
            target = None
            svc: dict[str, Any] = {}
            for s in as_list(r.get("services")):
                svc = as_dict(s)
                target = lookup(hp.namespace, str(svc.get("name")), svc.get("port"))
                if target is not None:
                    break
            if target is None:
                continue
            root = hp
            if not as_dict(hp.spec.get("virtualhost")):
                # an included proxy: hosts, TLS and authorization come from the root that includes it
                for p in proxies:
                    for inc in as_list(p.spec.get("includes")):
                        inc = as_dict(inc)
                        if (
                            inc.get("name") == hp.name
                            and (text(inc.get("namespace")) or p.namespace) == hp.namespace
                        ):
                            root = p
            vhost = as_dict(root.spec.get("virtualhost"))
            fqdn = text(vhost.get("fqdn"))
            route = Route(hp, "contour", "Contour HTTPProxy", target, [fqdn] if fqdn else [], svc.get("port"))
            if root is not hp:
                route.notes.append(f"included by {root}")
            for policy in (as_dict(r.get("requestHeadersPolicy")), as_dict(svc.get("requestHeadersPolicy"))):
                for h in as_list(policy.get("set")):
                    h = as_dict(h)
                    if (text(h.get("name")) or "").lower() == "host" and text(h.get("value")):
                        route.rewrite = HostRewrite(
                            str(text(h.get("value"))), "requestHeadersPolicy set host"
                        )
                for name in as_list(policy.get("remove")):
                    if isinstance(name, str) and name.lower() == "origin":
                        route.origin_removals.append(OriginRemoval("requestHeadersPolicy remove Origin"))
            if vhost.get("tls"):
                secret = text(get(vhost, "tls", "secretName"))
                route.tls = "virtualhost.tls" + (f" (secret {secret})" if secret else "")
            if vhost.get("authorization") and not get(r, "authPolicy", "disabled"):
                route.auth = f"{root} virtualhost.authorization"
            if vhost.get("ipAllowPolicy") or r.get("ipAllowPolicy"):
                route.allowlist = "ipAllowPolicy"
            if not r.get("enableWebsockets"):
                route.notes.append(
                    "enableWebsockets is not true on this route: Contour does not upgrade /api/tap, so Tap and Top "
                    "fail with `Websocket error: undefined`"
                )
            d = IDLE_DEFAULTS["contour"]
            raw = get(r, "timeoutPolicy", "idle")
            s = parse_duration_s(raw)
            if s is not None:
                route.idle = Idle(
                    None if s in (0, float("inf")) else s, f"routes[].timeoutPolicy.idle: {raw}", d.knob
                )
            else:
                route.idle = Idle(
                    float(d.seconds or 0), "the Contour default stream idle timeout (5m)", d.knob
                )
            out.append(route)
            break
    return out


def _parse_service(value: str, namespace: str) -> tuple[str, str, str | None]:
    """Emissary `service:` (`[scheme://]name[.namespace[.svc[.domain]]][:port]`) -> (namespace, name, port)."""
    v = value.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = v.partition(":")
    parts = host.split(".")
    ns = parts[1] if len(parts) > 1 else namespace
    return ns, parts[0], port or None


def _mappings(objs: Objects) -> list[tuple[Obj, dict[str, Any]]]:
    out = [(m, m.spec) for m in objs.of("Mapping", EMISSARY_GROUP)]
    # Mappings embedded in a Service annotation (the Linkerd docs' Ambassador recipe)
    for svc in objs.of("Service", ""):
        raw = svc.annotations.get("getambassador.io/config")
        if not raw:
            continue
        try:
            docs = list(yaml.safe_load_all(raw))
        except yaml.YAMLError:
            continue
        for d in docs:
            d = as_dict(d)
            if d.get("kind") == "Mapping":
                meta = {"name": d.get("name", svc.name), "namespace": d.get("namespace", svc.namespace)}
                doc = {
                    "apiVersion": str(d.get("apiVersion", "getambassador.io/v2")),
                    "kind": "Mapping",
                    "metadata": meta,
                }
                out.append((Obj(RawObject(doc, svc.location), svc.namespace), d))
    return out


def emissary_routes(objs: Objects, lookup: TargetLookup) -> list[Route]:
    out: list[Route] = []
    auth_services = list(objs.of("AuthService", EMISSARY_GROUP))
    hosts_objs = list(objs.of("Host", EMISSARY_GROUP))
    tls_contexts = list(objs.of("TLSContext", EMISSARY_GROUP))
    for m, spec in _mappings(objs):
        service = text(spec.get("service"))
        if not service:
            continue
        ns, name, port = _parse_service(service, m.namespace)
        target = lookup(ns, name, int(port) if port and port.isdigit() else port)
        if target is None:
            continue
        host = text(spec.get("hostname")) or text(spec.get("host"))
        hosts = [host] if host and host != "*" else []
        route = Route(m, "emissary", "Emissary-ingress Mapping", target, hosts, port)
        rewrite = text(spec.get("host_rewrite"))
        if rewrite:
            route.rewrite = HostRewrite(rewrite, "host_rewrite")
        for h in as_list(spec.get("remove_request_headers")):
            if isinstance(h, str) and h.lower() == "origin":
                route.origin_removals.append(OriginRemoval("remove_request_headers: [Origin]"))
        if auth_services and not spec.get("bypass_auth"):
            route.auth = ", ".join(str(a) for a in auth_services)
        for h in hosts_objs:
            hn = text(h.spec.get("hostname"))
            if h.spec.get("tlsSecret") and hn and (not hosts or any(host_matches(hn, x) for x in hosts)):
                route.tls = f"{h} tlsSecret"
        for t in tls_contexts:
            th = [x for x in as_list(t.spec.get("hosts")) if isinstance(x, str)]
            if hosts and any(host_matches(p, x) for p in th for x in hosts):
                route.tls = f"{t}"
        # Emissary's idle defaults are not confirmed (dashboard-exposure.md §4): no idle verdict
        route.idle = None
        out.append(route)
    return out
