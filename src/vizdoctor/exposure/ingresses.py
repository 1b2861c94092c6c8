"""Kubernetes Ingress (networking.k8s.io/v1, and v1beta1 `serviceName`/`servicePort`) routes to viz web,
for ingress-nginx, the AWS Load Balancer Controller, GCE, Traefik and controllers known only by name."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from vizdoctor.exposure import nginx
from vizdoctor.exposure.objects import Obj, Objects, as_dict, as_list, get, parse_duration_s, text
from vizdoctor.exposure.route import HostRewrite, Idle, OriginRemoval, Route, host_matches
from vizdoctor.exposure.traefik import apply_middlewares, middleware_by_ref, redirecting_entrypoints
from vizdoctor.exposure.web import WebTarget
from vizdoctor.knowledge.ingress import (
    ALB_DEFAULT_IDLE_S,
    ALB_DEFAULT_SCHEME,
    ALB_PREFIX,
    IDLE_DEFAULTS,
    INGRESS_CLASS_NAMES,
    INGRESS_CONTROLLER_MARKERS,
    NGINX_ALLOWLIST_ANNOTATIONS,
    NGINX_PREFIX,
    NGINX_REDIRECT_ANNOTATIONS,
    SNIPPET_ANNOTATIONS,
    TAP_TIMEOUT_S,
    TRAEFIK_INGRESS_ENTRYPOINTS_ANNOTATION,
    TRAEFIK_V1_INGRESS_PREFIXES,
    TRAEFIK_V2_INGRESS_PREFIXES,
)

INGRESS_GROUPS = ("networking.k8s.io", "extensions")
TargetLookup = Callable[[str, str, "int | str | None"], "WebTarget | None"]

# `proxy_set_header Origin "";` (empty value: nginx does not send the field), headers-more's
# `more_clear_input_headers Origin` / `more_set_input_headers "Origin:"`.
_ORIGIN_EMPTY = re.compile(r"""proxy_set_header\s+["']?origin["']?\s+(""|'')\s*;""", re.IGNORECASE)
_ORIGIN_SET = re.compile(r"""proxy_set_header\s+["']?origin["']?\s+([^;]+);""", re.IGNORECASE)
_ORIGIN_CLEAR = re.compile(
    r"""more_clear_input_headers\s+[^;]*\borigin\b|more_set_input_headers\s+["']origin:\s*["']""",
    re.IGNORECASE,
)


def _backend(backend: object) -> tuple[str | None, int | str | None]:
    b = as_dict(backend)
    svc = as_dict(b.get("service"))
    if svc:
        port = as_dict(svc.get("port"))
        return text(svc.get("name")), port.get("number", port.get("name"))
    return text(b.get("serviceName")), b.get("servicePort")


def _implementation(objs: Objects, ing: Obj) -> tuple[str | None, str, str | None, str | None]:
    """(implementation, label, class name, IngressClass spec.controller)."""
    cls = text(ing.spec.get("ingressClassName")) or ing.annotations.get("kubernetes.io/ingress.class")
    ic = objs.find("IngressClass", None, cls, "networking.k8s.io") if cls else None
    if cls is None:
        ic = next(
            (
                c
                for c in objs.of("IngressClass", "networking.k8s.io")
                if c.annotations.get("ingressclass.kubernetes.io/is-default-class") == "true"
            ),
            None,
        )
        cls = ic.name if ic else None
    controller = text(ic.spec.get("controller")) if ic else None
    if controller:
        for marker, impl in INGRESS_CONTROLLER_MARKERS:
            if marker in controller:
                return impl, f"IngressClass {ic.name if ic else cls} ({controller})", cls, controller
    if cls:
        impl_by_name = INGRESS_CLASS_NAMES.get(cls)
        if impl_by_name:
            return impl_by_name, f"ingress class {cls}", cls, controller
        for marker, impl in INGRESS_CONTROLLER_MARKERS:
            if marker in cls:
                return impl, f"ingress class {cls}", cls, controller
        return None, f"ingress class {cls} (controller unknown)", cls, controller
    if any(k.startswith(NGINX_PREFIX + "/") for k in ing.annotations):
        return "ingress-nginx", f"no ingress class; {NGINX_PREFIX} annotations", None, None
    if any(k.startswith(ALB_PREFIX + "/") for k in ing.annotations):
        return "alb", f"no ingress class; {ALB_PREFIX} annotations", None, None
    return None, "no ingress class and no default IngressClass among the inputs", None, None


def _tls_for(ing: Obj, hosts: list[str]) -> str | None:
    for t in as_list(ing.spec.get("tls")):
        t = as_dict(t)
        tls_hosts = [h for h in as_list(t.get("hosts")) if isinstance(h, str)]
        secret = text(t.get("secretName"))
        if not tls_hosts or not hosts or all(any(host_matches(p, h) for p in tls_hosts) for h in hosts):
            return "spec.tls" + (f" (secret {secret})" if secret else "")
    return None


def routes(objs: Objects, lookup: TargetLookup) -> list[Route]:
    out: list[Route] = []
    for ing in objs.of("Ingress", *INGRESS_GROUPS):
        hosts: list[str] = []
        catch_all = False
        target: WebTarget | None = None
        service_port: int | str | None = None
        service_name = ""
        for rule in as_list(ing.spec.get("rules")):
            rule = as_dict(rule)
            for path in as_list(get(rule, "http", "paths")):
                name, port = _backend(as_dict(path).get("backend"))
                t = lookup(ing.namespace, name or "", port) if name else None
                if t is None:
                    continue
                target, service_port, service_name = t, port, name or ""
                host = text(rule.get("host"))
                if host:
                    if host not in hosts:
                        hosts.append(host)
                else:
                    catch_all = True
        name, port = _backend(ing.spec.get("defaultBackend") or ing.spec.get("backend"))
        t = lookup(ing.namespace, name, port) if name else None
        if t is not None:
            target, service_port, service_name, catch_all = t, port, name or "", True
        if target is None:
            continue
        impl, label, cls, controller = _implementation(objs, ing)
        route = Route(ing, impl, label, target, [] if catch_all else hosts, service_port)
        if catch_all and hosts:
            route.notes.append(f"rules for {', '.join(hosts)} and a catch-all both lead to the dashboard")
        route.tls = _tls_for(ing, route.hosts)
        if impl == "ingress-nginx":
            _nginx(objs, route, cls, controller, service_name)
        elif impl == "alb":
            _alb(objs, route)
        elif impl == "gce":
            _gce(objs, route, cls)
        elif impl == "traefik":
            _traefik(objs, route)
        else:
            route.auth_known = False
            route.idle = _other_idle(objs, route, impl)
        out.append(route)
    return out


def _other_idle(objs: Objects, route: Route, impl: str | None) -> Idle | None:
    d = IDLE_DEFAULTS.get(impl or "")
    if d is None:
        return None
    if impl == "kong":  # Service annotations, milliseconds (§4)
        svc = objs.find("Service", route.target.namespace, route.target.service, "")
        ann = svc.annotations if svc else {}
        values = [(k, ann[k]) for k in ("konghq.com/read-timeout", "konghq.com/write-timeout") if k in ann]
        if values and all(v.strip().isdigit() for _, v in values):
            worst = min(values, key=lambda kv: int(kv[1]))
            seconds = (
                int(worst[1]) / 1000 if len(values) == 2 else min(int(worst[1]) / 1000, float(d.seconds or 0))
            )
            return Idle(seconds, ", ".join(f"{k}: {v} ms" for k, v in values), d.knob)
    if impl == "nginx-inc":
        raw = route.obj.annotations.get("nginx.org/proxy-read-timeout")
        s = parse_duration_s(raw) if raw else None
        if s is not None:
            return Idle(s, f"nginx.org/proxy-read-timeout: {raw}", d.knob)
    if d.seconds is None:
        return Idle(None, f"{d.implementation} sets no idle limit on an established websocket", d.knob)
    return Idle(float(d.seconds), f"the {d.implementation} default ({d.seconds} s)", d.knob, d.max_lifetime)


def _nginx(objs: Objects, route: Route, cls: str | None, controller: str | None, service_name: str) -> None:
    ing = route.obj
    cfg = nginx.resolve(objs, cls, controller)
    route.nginx = cfg
    route.implementation_label = f"{cfg.label} ({route.implementation_label})"
    prefix = cfg.prefix + "/"
    ann = {k[len(prefix) :]: v for k, v in ing.annotations.items() if k.startswith(prefix)}
    route.nginx_annotations = ann
    redirect = next((a for a in NGINX_REDIRECT_ANNOTATIONS if ann.get(a)), None)
    if redirect:
        route.redirect_only = f"annotation {prefix}{redirect}: {ann[redirect]}"
    route.snippets = [a for a in SNIPPET_ANNOTATIONS if a in ann]
    vhost = ann.get("upstream-vhost")
    if vhost:
        variables = {
            "service_name": service_name,
            "namespace": ing.namespace,
            "ingress_name": ing.name,
            "service_port": str(route.service_port) if route.service_port is not None else "",
        }
        route.rewrite = HostRewrite(vhost, f"annotation {prefix}upstream-vhost", variables)
    for snippet in ("configuration-snippet", "server-snippet"):
        body = ann.get(snippet)
        if not body:
            continue
        if _ORIGIN_CLEAR.search(body):
            route.origin_removals.append(OriginRemoval(f"{prefix}{snippet} (headers-more)", snippet))
        elif _ORIGIN_EMPTY.search(body):
            if snippet == "server-snippet":
                route.origin_removals.append(
                    OriginRemoval(
                        f'{prefix}{snippet}: proxy_set_header Origin ""',
                        snippet,
                        works=False,
                        why_not="nginx inherits proxy_set_header from the server block only into locations "
                        "that set none, and every location ingress-nginx writes sets its own",
                    )
                )
            else:
                route.origin_removals.append(
                    OriginRemoval(f'{prefix}{snippet}: proxy_set_header Origin ""', snippet)
                )
        elif (m := _ORIGIN_SET.search(body)) and snippet == "configuration-snippet":
            route.notes.append(f"{prefix}{snippet} sets Origin to {m.group(1).strip()}")
    auth = []
    if ann.get("auth-type"):
        secret = ann.get("auth-secret")
        auth.append(
            f"{ann['auth-type']} auth ({prefix}auth-type" + (f", secret {secret})" if secret else ")")
        )
    if ann.get("auth-url"):
        kind = "oauth2-proxy" if "oauth2" in ann["auth-url"] else "external auth"
        auth.append(f"{kind} ({prefix}auth-url {ann['auth-url']})")
    elif ann.get("auth-signin"):
        auth.append(f"sign-in redirect ({prefix}auth-signin)")
    if ann.get("enable-global-auth", "true").lower() != "false" and cfg.global_auth:
        auth.append(cfg.global_auth)
    route.auth = "; ".join(auth) or None
    for key in NGINX_ALLOWLIST_ANNOTATIONS:
        if ann.get(key):
            route.allowlist = f"{prefix}{key}: {ann[key]}"
    if route.allowlist is None and cfg.global_allowlist:
        route.allowlist = cfg.global_allowlist
    route.internal = cfg.internal
    if route.tls is None and cfg.tls_at_lb:
        route.tls = cfg.tls_at_lb
    read = nginx.seconds(ann.get("proxy-read-timeout")) if "proxy-read-timeout" in ann else None
    send = nginx.seconds(ann.get("proxy-send-timeout")) if "proxy-send-timeout" in ann else None
    parts = []
    values = []
    for key, own, default in (
        ("proxy-read-timeout", read, cfg.read_timeout),
        ("proxy-send-timeout", send, cfg.send_timeout),
    ):
        if own is not None:
            values.append(own)
            parts.append(f"{prefix}{key}: {own}")
        else:
            if key in ann:
                route.notes.append(
                    f"{prefix}{key}: {ann[key]!r} is not a number of seconds; the controller ignores it"
                )
            values.append(int(default.value))
            parts.append(f"{key} {default.value} s from {default.source}")
    route.idle = Idle(
        float(min(values)),
        "; ".join(parts),
        f'{prefix}proxy-read-timeout and {prefix}proxy-send-timeout: "{TAP_TIMEOUT_S}"',
    )


def _alb(objs: Objects, route: Route) -> None:
    ann = {
        k[len(ALB_PREFIX) + 1 :]: v
        for k, v in route.obj.annotations.items()
        if k.startswith(ALB_PREFIX + "/")
    }
    scheme = ann.get("scheme")
    scheme_from = f"{ALB_PREFIX}/scheme"
    if scheme is None:
        ic_name = text(route.obj.spec.get("ingressClassName"))
        ic = objs.find("IngressClass", None, ic_name, "networking.k8s.io") if ic_name else None
        params = as_dict(get(ic.doc, "spec", "parameters")) if ic else {}
        if params.get("kind") == "IngressClassParams":
            p = objs.find("IngressClassParams", None, str(params.get("name")), "elbv2.k8s.aws")
            if p is not None and text(p.spec.get("scheme")):
                scheme, scheme_from = text(p.spec.get("scheme")), f"{p} spec.scheme"
    if scheme is None:
        scheme, scheme_from = (
            ALB_DEFAULT_SCHEME,
            f"the AWS Load Balancer Controller default for {ALB_PREFIX}/scheme",
        )
    if scheme == "internal":
        route.internal = f"ALB scheme internal ({scheme_from})"
    if ann.get("auth-type", "none").lower() in ("oidc", "cognito"):
        route.auth = f"ALB {ann['auth-type']} authentication ({ALB_PREFIX}/auth-type)"
    cidrs = [c.strip() for c in ann.get("inbound-cidrs", "").split(",") if c.strip()]
    if cidrs and not any(c in ("0.0.0.0/0", "::/0") for c in cidrs):
        route.allowlist = f"{ALB_PREFIX}/inbound-cidrs: {', '.join(cidrs)}"
    if route.tls is None and ann.get("certificate-arn"):
        route.tls = f"{ALB_PREFIX}/certificate-arn"
    elif route.tls is None and "HTTPS" in ann.get("listen-ports", ""):
        route.tls = f"{ALB_PREFIX}/listen-ports HTTPS"
    idle_s: float = ALB_DEFAULT_IDLE_S
    what = "the ALB default idle timeout"
    m = re.search(r"idle_timeout\.timeout_seconds\s*=\s*(\d+)", ann.get("load-balancer-attributes", ""))
    if m:
        idle_s, what = (
            float(m.group(1)),
            f"{ALB_PREFIX}/load-balancer-attributes idle_timeout.timeout_seconds={m.group(1)}",
        )
    route.idle = Idle(idle_s, what, IDLE_DEFAULTS["alb"].knob)


def _backend_config(objs: Objects, route: Route) -> Obj | None:
    svc = objs.find("Service", route.target.namespace, route.target.service, "")
    if svc is None:
        return None
    raw = svc.annotations.get("cloud.google.com/backend-config") or svc.annotations.get(
        "beta.cloud.google.com/backend-config"
    )
    if not raw:
        return None
    try:
        ref = json.loads(raw)
    except ValueError:
        return None
    name = None
    ports = as_dict(as_dict(ref).get("ports"))
    for key in (str(route.service_port), *map(str, route.target.ports)):
        if key in ports:
            name = text(ports[key])
            break
    name = name or text(as_dict(ref).get("default"))
    return objs.find("BackendConfig", svc.namespace, name, "cloud.google.com") if name else None


def _gce(objs: Objects, route: Route, cls: str | None) -> None:
    if cls == "gce-internal":
        route.internal = "ingress class gce-internal (internal Application Load Balancer)"
    ann = route.obj.annotations
    if route.tls is None:
        for key in ("ingress.gcp.kubernetes.io/pre-shared-cert", "networking.gke.io/managed-certificates"):
            if ann.get(key):
                route.tls = key
    bc = _backend_config(objs, route)
    d = IDLE_DEFAULTS["gce"]
    timeout = get(bc.spec, "timeoutSec") if bc else None
    if isinstance(timeout, int) and bc is not None:
        route.idle = Idle(float(timeout), f"{bc} spec.timeoutSec: {timeout}", d.knob, True)
    else:
        route.idle = Idle(
            float(d.seconds or 0), "the GCE backend service default timeoutSec (30 s)", d.knob, True
        )
    if bc is not None:
        if get(bc.spec, "iap", "enabled") is True:
            route.auth = f"Identity-Aware Proxy ({bc} spec.iap)"
        policy = text(get(bc.spec, "securityPolicy", "name"))
        if policy:
            route.allowlist = f"Cloud Armor policy {policy} ({bc} spec.securityPolicy)"


def _traefik(objs: Objects, route: Route) -> None:
    ann = route.obj.annotations
    if route.tls is None and ann.get("traefik.ingress.kubernetes.io/router.tls", "").lower() == "true":
        route.tls = "traefik.ingress.kubernetes.io/router.tls"
    entry_points = [
        e.strip().lower() for e in ann.get(TRAEFIK_INGRESS_ENTRYPOINTS_ANNOTATION, "").split(",") if e.strip()
    ]
    if entry_points and all(e in redirecting_entrypoints(objs) for e in entry_points):
        route.redirect_only = f"entry point {', '.join(entry_points)} redirects (static configuration)"
    v1 = sorted(
        k
        for k in ann
        if k.startswith(TRAEFIK_V1_INGRESS_PREFIXES) and not k.startswith(TRAEFIK_V2_INGRESS_PREFIXES)
    )
    if v1:
        route.notes.append(
            f"{', '.join(v1)} {'is a Traefik 1.x annotation' if len(v1) == 1 else 'are Traefik 1.x annotations'}"
            " that Traefik 2 and later ignore (use a Middleware through traefik.ingress.kubernetes.io/"
            "router.middlewares)"
        )
    refs = [
        r.strip()
        for r in ann.get("traefik.ingress.kubernetes.io/router.middlewares", "").split(",")
        if r.strip()
    ]
    middlewares = [m for r in refs if (m := middleware_by_ref(objs, r)) is not None]
    apply_middlewares(objs, route, middlewares)
    route.idle = Idle(None, "Traefik sets no idle limit on an established websocket", "")
