"""ingress-nginx: the controller's effective settings for one Ingress.

Read from (later wins): the release defaults by controller version (knowledge.ingress.NGINX_ERAS), the
controller Deployment (image tag, args), its ConfigMap, a Helm values file (`--values`). Anything that
cannot be read stays None and the checks say so instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vizdoctor.exposure.objects import Obj, Objects, as_dict, as_list, get, text, version_of
from vizdoctor.exposure.values import nginx_values
from vizdoctor.exposure.web import go_flag
from vizdoctor.knowledge.ingress import (
    INTERNAL_LB_ANNOTATIONS,
    NGINX_CONTROLLER_CLASS,
    NGINX_DEFAULT_TIMEOUT_S,
    NGINX_GLOBAL_ALLOWLIST_KEYS,
    NGINX_GLOBAL_AUTH_KEYS,
    NGINX_IMAGE,
    NGINX_PREFIX,
    NGINX_WEBHOOK,
    Version,
    nginx_era,
)

_CONTROLLER_KINDS = ("Deployment", "DaemonSet")


@dataclass
class Setting:
    value: Any
    source: str  # where the value comes from, in the user's terms


@dataclass
class NginxConfig:
    controller: Obj | None
    configmap: Obj | None
    version: Version | None
    version_from: str
    allow_snippets: Setting  # value: bool | None (None: unknown)
    risk_level: Setting  # value: str | None (None: no risk levels in this release, or unknown)
    webhook: Setting  # value: bool | None
    read_timeout: Setting  # value: int seconds
    send_timeout: Setting
    prefix: str = NGINX_PREFIX
    global_auth: str | None = None
    global_allowlist: str | None = None
    internal: str | None = None  # why the controller is reachable only from inside
    tls_at_lb: str | None = None
    exposed_by: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        v = f" v{'.'.join(map(str, self.version))}" if self.version else ""
        return f"ingress-nginx{v}"


def _bool(value: Any) -> bool | None:
    t = text(value)
    if t is None:
        return None
    t = t.strip().lower()
    if t in ("true", "1", "yes", "on"):
        return True
    if t in ("false", "0", "no", "off"):
        return False
    return None


def seconds(value: Any) -> int | None:
    """ingress-nginx timeouts are unitless integers of seconds."""
    t = text(value)
    if t is None or not re.fullmatch(r"\s*\d+\s*", t):
        return None
    return int(t)


def _controllers(objs: Objects) -> list[tuple[Obj, list[str], str]]:
    out = []
    for kind in _CONTROLLER_KINDS:
        for o in objs.of(kind, "apps"):
            for c in as_list(get(o.spec, "template", "spec", "containers")):
                image = text(as_dict(c).get("image")) or ""
                if NGINX_IMAGE in image or "nginx-ingress-controller" in image:
                    args = [t for a in as_list(as_dict(c).get("args")) if (t := text(a)) is not None]
                    out.append((o, args, image))
                    break
    return out


def _pick(
    controllers: list[tuple[Obj, list[str], str]], class_name: str | None, class_controller: str | None
) -> tuple[Obj, list[str], str] | None:
    if len(controllers) <= 1:
        return controllers[0] if controllers else None
    for o, args, image in controllers:
        ingress_class = go_flag(args, "ingress-class") or "nginx"
        controller_class = go_flag(args, "controller-class") or NGINX_CONTROLLER_CLASS
        if class_name == ingress_class and (class_controller in (None, controller_class)):
            return o, args, image
    return None


def _ns_arg(value: str, namespace: str) -> tuple[str, str]:
    value = value.replace("$(POD_NAMESPACE)", namespace)
    ns, _, name = value.rpartition("/")
    return (ns or namespace), name


def resolve(objs: Objects, class_name: str | None, class_controller: str | None) -> NginxConfig:
    picked = _pick(_controllers(objs), class_name, class_controller)
    controller, args, image = picked if picked else (None, [], "")
    version: Version | None = None
    version_from = "controller version unknown (no controller Deployment among the inputs)"
    if controller is not None:
        tag = image.rsplit("/", 1)[-1].split("@", 1)[0]
        tag = tag.split(":", 1)[1] if ":" in tag else ""
        version = version_of(tag) if tag else None
        if version:
            version_from = f"{controller} image {image.split('@', 1)[0]}"
        else:
            label = controller.labels.get("app.kubernetes.io/version")
            version = version_of(label) if label else None
            version_from = (
                f"{controller} label app.kubernetes.io/version: {label}"
                if version
                else (f"{controller}: image tag {tag or '(none)'} names no version")
            )

    configmap: Obj | None = None
    if controller is not None:
        cm_arg = go_flag(args, "configmap")
        if cm_arg:
            ns, name = _ns_arg(cm_arg, controller.namespace)
            configmap = objs.find("ConfigMap", ns, name, "")
        else:
            configmap = objs.find("ConfigMap", controller.namespace, "ingress-nginx-controller", "")
    if configmap is None and controller is None:
        configmap = next(
            (
                c
                for c in objs.of("ConfigMap", "")
                if c.name in ("ingress-nginx-controller", "nginx-configuration")
            ),
            None,
        )
    data: dict[str, tuple[Any, str]] = {}
    if configmap is not None:
        for k, v in as_dict(configmap.doc.get("data")).items():
            data[str(k)] = (v, f"ConfigMap {configmap.namespace}/{configmap.name}")

    webhook = Setting(None, "unknown (no controller Deployment among the inputs)")
    if controller is not None:
        has = go_flag(args, "validating-webhook") is not None
        webhook = Setting(has, f"{controller} arg --validating-webhook" + ("" if has else " absent"))
    for v in objs.of("ValidatingWebhookConfiguration", "admissionregistration.k8s.io"):
        if any(as_dict(w).get("name") == NGINX_WEBHOOK for w in as_list(v.doc.get("webhooks"))):
            webhook = Setting(True, f"ValidatingWebhookConfiguration {v.name} ({NGINX_WEBHOOK})")

    prefix = (go_flag(args, "annotations-prefix") if controller else None) or NGINX_PREFIX
    allow_raw: Setting | None = None
    risk_raw: Setting | None = None
    service_annotations: dict[str, str] = {}
    service_type: str | None = None
    for values, loc in nginx_values(objs):
        where = f"values file {loc.path if loc else '?'}"
        if "allowSnippetAnnotations" in values:
            allow_raw = Setting(
                values["allowSnippetAnnotations"], f"{where} controller.allowSnippetAnnotations"
            )
        vtag = text(get(values, "image", "tag"))
        if vtag and version_of(vtag):
            version, version_from = version_of(vtag), f"{where} controller.image.tag: {vtag}"
        enabled = _bool(get(values, "admissionWebhooks", "enabled"))
        if enabled is not None:
            webhook = Setting(enabled, f"{where} controller.admissionWebhooks.enabled")
        elif webhook.value is None:
            webhook = Setting(True, f"{where}: chart default controller.admissionWebhooks.enabled: true")
        for k, v in as_dict(values.get("config")).items():
            data[str(k)] = (v, f"{where} controller.config.{k}")
        service_annotations.update(
            {str(k): str(v) for k, v in as_dict(get(values, "service", "annotations")).items()}
        )
        service_type = text(get(values, "service", "type")) or service_type
    if "allow-snippet-annotations" in data:
        v, src = data["allow-snippet-annotations"]
        allow_raw = Setting(v, f"{src} allow-snippet-annotations")  # the ConfigMap key is what counts
    if "annotations-risk-level" in data:
        v, src = data["annotations-risk-level"]
        risk_raw = Setting(text(v), f"{src} annotations-risk-level")

    era = nginx_era(version) if version else None
    vlabel = f"v{'.'.join(map(str, version))}" if version else None
    if allow_raw is not None:
        allow = Setting(_bool(allow_raw.value), f"{allow_raw.source}: {text(allow_raw.value)}")
    elif era is not None:
        allow = Setting(era.allow_snippet_annotations, f"the ingress-nginx {vlabel} default, {era.source}")
    else:
        allow = Setting(None, "not set, and the controller version is unknown")
    if risk_raw is not None:
        risk = risk_raw
    elif era is not None:
        risk = Setting(era.risk_level, f"the ingress-nginx {vlabel} default, {era.source}")
    else:
        risk = Setting(None, "not set, and the controller version is unknown")

    def timeout(key: str) -> Setting:
        if key in data:
            v, src = data[key]
            s = seconds(v)
            if s is not None:
                return Setting(s, f"{src} {key}: {text(v)}")
        return Setting(
            NGINX_DEFAULT_TIMEOUT_S, f"the ingress-nginx default {key} ({NGINX_DEFAULT_TIMEOUT_S} s)"
        )

    cfg = NginxConfig(
        controller,
        configmap,
        version,
        version_from,
        allow,
        risk,
        webhook,
        timeout("proxy-read-timeout"),
        timeout("proxy-send-timeout"),
        prefix,
    )
    for key in NGINX_GLOBAL_AUTH_KEYS:
        if key in data and text(data[key][0]):
            cfg.global_auth = f"{data[key][1]} {key}: {text(data[key][0])}"
    for key in NGINX_GLOBAL_ALLOWLIST_KEYS:
        if key in data and text(data[key][0]):
            cfg.global_allowlist = f"{data[key][1]} {key}: {text(data[key][0])}"
    _exposure(objs, cfg, controller, service_annotations, service_type)
    return cfg


def _exposure(
    objs: Objects,
    cfg: NginxConfig,
    controller: Obj | None,
    values_annotations: dict[str, str],
    values_type: str | None,
) -> None:
    """How the controller is reached from outside: its Services (or the values' controller.service)."""
    annotations: list[tuple[str, dict[str, str]]] = []
    if controller is not None:
        pod_labels = {
            str(k): str(v) for k, v in as_dict(get(controller.spec, "template", "metadata", "labels")).items()
        }
        services = []
        for svc in objs.of("Service", ""):
            selector = {str(k): str(v) for k, v in as_dict(svc.spec.get("selector")).items()}
            if (
                svc.namespace == controller.namespace
                and selector
                and all(pod_labels.get(k) == v for k, v in selector.items())
            ):
                services.append(svc)
        exposed = [s for s in services if text(s.spec.get("type")) in ("LoadBalancer", "NodePort")]
        host_network = bool(get(controller.spec, "template", "spec", "hostNetwork"))
        host_ports = any(
            as_dict(p).get("hostPort")
            for c in as_list(get(controller.spec, "template", "spec", "containers"))
            for p in as_list(as_dict(c).get("ports"))
        )
        if exposed:
            annotations = [(str(s), s.annotations) for s in exposed]
            cfg.exposed_by = ", ".join(f"{s} (type {text(s.spec.get('type'))})" for s in exposed)
            ranges = [r for s in exposed for r in as_list(s.spec.get("loadBalancerSourceRanges"))]
            if ranges and not cfg.global_allowlist:
                cfg.global_allowlist = f"loadBalancerSourceRanges {', '.join(map(str, ranges))}"
        elif services and not host_network and not host_ports:
            cfg.internal = f"the controller's Services ({', '.join(map(str, services))}) are ClusterIP only"
            return
    if values_annotations or values_type:
        annotations.append(("values file controller.service", values_annotations))
        if values_type == "ClusterIP":
            cfg.internal = "values file controller.service.type: ClusterIP"
            return
    internal = []
    for where, ann in annotations:
        for key, wanted in INTERNAL_LB_ANNOTATIONS.items():
            if ann.get(key, "").lower() in wanted:
                internal.append(f"{where} {key}: {ann[key]}")
        cert = ann.get("service.beta.kubernetes.io/aws-load-balancer-ssl-cert")
        if cert:
            cfg.tls_at_lb = f"{where} terminates TLS (service.beta.kubernetes.io/aws-load-balancer-ssl-cert)"
    if annotations and len(internal) == len(annotations):
        cfg.internal = "; ".join(internal)
