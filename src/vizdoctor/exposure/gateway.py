"""Gateway API HTTPRoute to viz web, with its parent Gateways (listeners: TLS, hostnames) and the
implementation named by the GatewayClass; Envoy Gateway SecurityPolicy / ClientTrafficPolicy."""

from __future__ import annotations

from collections.abc import Callable

from vizdoctor.exposure.objects import Obj, Objects, as_dict, as_list, get, parse_duration_s, text
from vizdoctor.exposure.route import HostRewrite, Idle, OriginRemoval, Route, host_matches
from vizdoctor.exposure.web import WebTarget
from vizdoctor.knowledge.ingress import (
    ENVOY_GATEWAY_HOST_HEADER_ERROR,
    GATEWAY_CONTROLLER_MARKERS,
    IDLE_DEFAULTS,
    INTERNAL_GATEWAY_CLASS_MARKERS,
    INTERNAL_LB_ANNOTATIONS,
    TAP_TIMEOUT_S,
)

GATEWAY_GROUP = "gateway.networking.k8s.io"
ENVOY_GATEWAY_GROUP = "gateway.envoyproxy.io"
TargetLookup = Callable[[str, str, "int | str | None"], "WebTarget | None"]


def _parents(objs: Objects, route: Obj) -> list[tuple[Obj, str | None]]:
    out = []
    for ref in as_list(route.spec.get("parentRefs")):
        ref = as_dict(ref)
        if text(ref.get("kind")) not in (None, "Gateway"):
            continue
        gw = objs.find(
            "Gateway", text(ref.get("namespace")) or route.namespace, str(ref.get("name")), GATEWAY_GROUP
        )
        if gw is not None:
            out.append((gw, text(ref.get("sectionName"))))
    return out


def _implementation(objs: Objects, gateways: list[Obj]) -> tuple[str | None, str, str | None]:
    for gw in gateways:
        cls_name = text(gw.spec.get("gatewayClassName"))
        cls = objs.find("GatewayClass", None, cls_name, GATEWAY_GROUP) if cls_name else None
        controller = text(cls.spec.get("controllerName")) if cls else None
        for marker, impl in GATEWAY_CONTROLLER_MARKERS:
            if controller and marker in controller:
                return impl, f"GatewayClass {cls_name} ({controller})", cls_name
        if cls_name:
            for marker, impl in GATEWAY_CONTROLLER_MARKERS:
                if marker.split(".")[0] in cls_name:
                    return impl, f"GatewayClass {cls_name}", cls_name
            if cls_name.startswith("gke-"):
                return "gke-gateway", f"GatewayClass {cls_name}", cls_name
            return None, f"GatewayClass {cls_name} (implementation unknown)", cls_name
    return None, "parent Gateway not among the inputs", None


def _targets(policy: Obj) -> list[dict[str, object]]:
    refs = [as_dict(r) for r in as_list(policy.spec.get("targetRefs"))]
    single = as_dict(policy.spec.get("targetRef"))
    return refs + ([single] if single else [])


def _parent_refs(route: Obj) -> list[tuple[str, str]]:
    """(namespace, name) of each parent Gateway the route names, whether or not it is among the inputs."""
    return [
        (text(as_dict(r).get("namespace")) or route.namespace, str(as_dict(r).get("name")))
        for r in as_list(route.spec.get("parentRefs"))
        if text(as_dict(r).get("kind")) in (None, "Gateway")
    ]


def _policy_for(objs: Objects, kind: str, route: Obj) -> list[Obj]:
    parents = _parent_refs(route)
    out = []
    for p in objs.of(kind, ENVOY_GATEWAY_GROUP):
        for ref in _targets(p):
            on_route = ref.get("kind") == "HTTPRoute" and (p.namespace, ref.get("name")) == (
                route.namespace,
                route.name,
            )
            on_gateway = ref.get("kind") == "Gateway" and (p.namespace, ref.get("name")) in parents
            if on_route or on_gateway:
                out.append(p)
        for sel in as_list(p.spec.get("targetSelectors")):
            sel = as_dict(sel)
            labels = {str(k): str(v) for k, v in as_dict(sel.get("matchLabels")).items()}
            if (
                sel.get("kind") == "HTTPRoute"
                and labels
                and p.namespace == route.namespace
                and all(route.labels.get(k) == v for k, v in labels.items())
            ):
                out.append(p)
    return out


def routes(objs: Objects, lookup: TargetLookup) -> list[Route]:
    out: list[Route] = []
    for hr in objs.of("HTTPRoute", GATEWAY_GROUP):
        found: tuple[WebTarget, object, dict[str, object], dict[str, object]] | None = None
        for rule in as_list(hr.spec.get("rules")):
            rule = as_dict(rule)
            for b in as_list(rule.get("backendRefs")):
                b = as_dict(b)
                if text(b.get("kind")) not in (None, "Service") or text(b.get("group")) not in (None, ""):
                    continue
                t = lookup(text(b.get("namespace")) or hr.namespace, str(b.get("name")), b.get("port"))
                if t is not None:
                    found = (t, b.get("port"), rule, b)
                    break
            if found:
                break
        if found is None:
            continue
        target, port, rule, backend = found
        parents = _parents(objs, hr)
        gateways = [g for g, _ in parents]
        impl, label, cls_name = _implementation(objs, gateways)
        listeners = []
        for gw, section in parents:
            for listener in as_list(gw.spec.get("listeners")):
                listener = as_dict(listener)
                if section is None or listener.get("name") == section:
                    listeners.append((gw, listener))
        hosts = [h for h in as_list(hr.spec.get("hostnames")) if isinstance(h, str)]
        if not hosts:
            hosts = [str(lst["hostname"]) for _, lst in listeners if isinstance(lst.get("hostname"), str)]
        route = Route(hr, impl, label, target, hosts, port if isinstance(port, (int, str)) else None)
        route.gateways = gateways
        _filters(route, impl, as_list(rule.get("filters")) + as_list(backend.get("filters")))
        # TLS: an HTTPS listener the route attaches to
        https = [
            f"{gw} listener {lst.get('name')} (HTTPS)"
            for gw, lst in listeners
            if text(lst.get("protocol")) == "HTTPS"
            and (
                not hosts
                or not isinstance(lst.get("hostname"), str)
                or any(host_matches(str(lst["hostname"]), h) for h in hosts)
            )
        ]
        route.tls = https[0] if https else None
        route.tls_known = bool(gateways)
        if not gateways:
            route.notes.append("its parent Gateway is not among the inputs")
        # internal-only Gateways
        if cls_name and any(m in cls_name for m in INTERNAL_GATEWAY_CLASS_MARKERS):
            route.internal = f"GatewayClass {cls_name} is an internal load balancer"
        for gw in gateways:
            ann = {str(k): str(v) for k, v in as_dict(get(gw.spec, "infrastructure", "annotations")).items()}
            for key, wanted in INTERNAL_LB_ANNOTATIONS.items():
                if ann.get(key, "").lower() in wanted:
                    route.internal = f"{gw} spec.infrastructure.annotations {key}: {ann[key]}"
        # authentication
        auth = [f"{p} (SecurityPolicy)" for p in _policy_for(objs, "SecurityPolicy", hr)]
        for f in as_list(rule.get("filters")):
            if as_dict(f).get("type") == "ExternalAuth":
                auth.append("ExternalAuth filter (experimental channel)")
        route.auth = "; ".join(auth) or None
        route.idle = _idle(objs, route, impl, rule)
        out.append(route)
    return out


def _filters(route: Route, impl: str | None, filters: list[object]) -> None:
    for f in filters:
        f = as_dict(f)
        ftype = text(f.get("type"))
        if ftype == "URLRewrite":
            hostname = text(get(f, "urlRewrite", "hostname"))
            if hostname:
                route.rewrite = HostRewrite(hostname, "URLRewrite filter urlRewrite.hostname")
        elif ftype == "RequestHeaderModifier":
            mod = as_dict(f.get("requestHeaderModifier"))
            for op in ("set", "add"):
                for h in as_list(mod.get(op)):
                    h = as_dict(h)
                    name = (text(h.get("name")) or "").lower()
                    value = text(h.get("value")) or ""
                    if name == "host":
                        note = None
                        if impl in (None, "envoy-gateway"):
                            who = "Envoy Gateway refuses" if impl else "Envoy Gateway, for one, refuses"
                            note = (
                                f"{who} this filter (the route's Accepted condition says: "
                                f"{ENVOY_GATEWAY_HOST_HEADER_ERROR})"
                            )
                        route.rewrite = HostRewrite(value, f"RequestHeaderModifier {op} Host", note=note)
            for h in as_list(mod.get("remove")):
                if isinstance(h, str) and h.lower() == "origin":
                    route.origin_removals.append(OriginRemoval("RequestHeaderModifier remove Origin"))


def _idle(objs: Objects, route: Route, impl: str | None, rule: dict[str, object]) -> Idle | None:
    d = IDLE_DEFAULTS.get(impl or "")
    if d is None:
        return None
    if impl == "envoy-gateway":
        for p in _policy_for(objs, "ClientTrafficPolicy", route.obj):
            raw = get(p.spec, "timeout", "http", "streamIdleTimeout")
            s = parse_duration_s(raw)
            if s is not None:
                return Idle(None if s == 0 else s, f"{p} spec.timeout.http.streamIdleTimeout: {raw}", d.knob)
        request = get(rule, "timeouts", "request")
        s = parse_duration_s(request)
        if s is not None:
            # §3.4: with timeouts.request the route idle_timeout is max(1h, request); 0s disables it
            if s == 0:
                return Idle(None, "rules[].timeouts.request: 0s (no route idle timeout)", d.knob)
            return Idle(
                max(float(TAP_TIMEOUT_S), s),
                f"rules[].timeouts.request: {request} (route idle timeout max(1h, request))",
                d.knob,
            )
    if d.seconds is None:
        return Idle(None, f"{d.implementation} sets no stream idle timeout by default", d.knob)
    return Idle(float(d.seconds), f"the {d.implementation} default ({d.seconds} s)", d.knob, d.max_lifetime)
