"""The Linkerd viz `web` Service and what its pod accepts: `-enforced-host` and `-cluster-domain`.

The web Service is the one named `web` in a namespace labelled `linkerd.io/extension: viz`, or any
Service selecting `component: web` + `linkerd.io/extension: viz` (linkerd-viz chart, templates/web.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vizdoctor.exposure.objects import Obj, Objects, as_dict, as_list, get, text
from vizdoctor.exposure.values import viz_values
from vizdoctor.knowledge.ingress import (
    DEFAULT_CLUSTER_DOMAIN,
    DEFAULT_VIZ_NAMESPACE,
    HELM_REGEX_VALUE,
    VIZ_EXTENSION_LABEL,
    WEB_PORT,
    WEB_PORT_NAME,
    default_enforced_host,
)
from vizdoctor.location import Location

_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod")


@dataclass
class WebTarget:
    namespace: str
    service: str
    ports: set[int | str]  # Service port numbers and names that reach the dashboard (8084)
    regex: str  # what -enforced-host the pod runs with; "" matches every Host (the binary's default)
    regex_from: str
    cluster_domain: str
    cluster_domain_from: str
    workload: Obj | None = None
    location: Location | None = None
    assumed: bool = False  # neither Service nor web Deployment among the inputs
    notes: list[str] = field(default_factory=list)

    def port_matches(self, port: int | str | None) -> bool:
        if port is not None and (isinstance(port, bool) or not isinstance(port, int | str)):
            return False  # a list or mapping where the port goes: no Service port matches it
        return port is None or port in self.ports or str(port) in {str(p) for p in self.ports}


def go_flag(args: list[str], name: str) -> str | None:
    """Value of a Go `flag` package flag: `-name=v`, `--name=v`, or `-name v`; the last one wins."""
    value = None
    for i, arg in enumerate(args):
        if not arg.startswith("-"):
            continue
        flag = arg.lstrip("-")
        if arg.startswith("---"):
            continue
        if flag == name and i + 1 < len(args):
            value = args[i + 1]
        elif flag.startswith(name + "="):
            value = flag[len(name) + 1 :]
    return value


def _pod_spec(obj: Obj) -> dict[str, object]:
    if obj.kind == "Pod":
        return obj.spec
    return as_dict(get(obj.spec, "template", "spec"))


def _pod_labels(obj: Obj) -> dict[str, str]:
    if obj.kind == "Pod":
        return obj.labels
    return {str(k): str(v) for k, v in as_dict(get(obj.spec, "template", "metadata", "labels")).items()}


def _container_args(obj: Obj) -> list[str] | None:
    """Command and args of the web container (named `web`, else the one with -enforced-host)."""
    containers = [as_dict(c) for c in as_list(_pod_spec(obj).get("containers"))]
    if not containers:
        return None

    def argv(c: dict[str, object]) -> list[str]:
        return [t for a in as_list(c.get("command")) + as_list(c.get("args")) if (t := text(a)) is not None]

    for c in containers:
        if c.get("name") == "web":
            return argv(c)
    for c in containers:
        if go_flag(argv(c), "enforced-host") is not None:
            return argv(c)
    return argv(containers[0])


def _is_viz_web_selector(selector: dict[str, str]) -> bool:
    key, value = VIZ_EXTENSION_LABEL
    return selector.get("component") == "web" and selector.get(key) == value


def find_targets(objs: Objects) -> list[WebTarget]:
    key, value = VIZ_EXTENSION_LABEL
    viz_namespaces = {o.name for o in objs.of("Namespace", "") if o.labels.get(key) == value}
    services: list[Obj] = []
    for svc in objs.of("Service", ""):
        selector = {str(k): str(v) for k, v in as_dict(svc.spec.get("selector")).items()}
        if (svc.name == "web" and svc.namespace in viz_namespaces) or _is_viz_web_selector(selector):
            services.append(svc)
    workloads: list[Obj] = []
    for kind in _WORKLOAD_KINDS:
        workloads.extend(o for o in objs.of(kind, "apps", "") if _is_viz_web_selector(_pod_labels(o)))

    targets: list[WebTarget] = []
    seen: set[tuple[str, str]] = set()
    for svc in services:
        selector = {str(k): str(v) for k, v in as_dict(svc.spec.get("selector")).items()}
        workload = next(
            (
                w
                for w in workloads
                if w.namespace == svc.namespace
                and selector
                and all(_pod_labels(w).get(k) == v for k, v in selector.items())
            ),
            None,
        )
        ports: set[int | str] = set()
        for p in as_list(svc.spec.get("ports")):
            p = as_dict(p)
            target = p.get("targetPort", p.get("port"))
            if target in (WEB_PORT, str(WEB_PORT), WEB_PORT_NAME) or p.get("port") == WEB_PORT:
                if isinstance(p.get("port"), int):
                    ports.add(p["port"])
                if isinstance(p.get("name"), str):
                    ports.add(p["name"])
        targets.append(_target(objs, svc.namespace, svc.name, ports or {WEB_PORT}, workload, svc.location))
        seen.add((svc.namespace, svc.name))
    for w in workloads:
        if (w.namespace, "web") not in seen and not any(t.workload == w for t in targets):
            t = _target(objs, w.namespace, "web", {WEB_PORT, WEB_PORT_NAME}, w, w.location)
            t.notes.append(f"Service {w.namespace}/web is not among the inputs; assumed to select {w}")
            targets.append(t)
            seen.add((w.namespace, "web"))
    return targets


def assumed_target(objs: Objects, namespace: str, service: str) -> WebTarget | None:
    """A route to `web` in `linkerd-viz` when neither Service nor Deployment is among the inputs."""
    if service != "web" or namespace != DEFAULT_VIZ_NAMESPACE:
        return None
    t = _target(objs, namespace, service, {WEB_PORT, WEB_PORT_NAME}, None, None)
    t.assumed = True
    return t


def _target(
    objs: Objects,
    namespace: str,
    service: str,
    ports: set[int | str],
    workload: Obj | None,
    location: Location | None,
) -> WebTarget:
    args = _container_args(workload) if workload is not None else None
    domain, domain_from = DEFAULT_CLUSTER_DOMAIN, "default"
    regex: str | None = None
    regex_from = ""
    if args is not None:
        d = go_flag(args, "cluster-domain")
        if d:
            domain, domain_from = d, f"{workload} arg -cluster-domain"
        r = go_flag(args, "enforced-host")
        if r is not None:
            regex, regex_from = r, f"{workload} arg -enforced-host"
        else:
            regex, regex_from = (
                "",
                f'{workload} (no -enforced-host: the web binary\'s default "" accepts any Host)',
            )
    chart_default_from: str | None = None
    for values, loc in viz_values(objs):
        where = loc.path if loc else "?"
        d = text(values.get("clusterDomain"))
        if d:
            domain, domain_from = d, f"values file {where} clusterDomain"
        r = text(get(values, "dashboard", "enforcedHostRegexp"))
        if r:
            regex, regex_from = r, f"values file {where} {HELM_REGEX_VALUE}"
        elif r == "":
            regex, chart_default_from = (
                None,
                f"values file {where}: {HELM_REGEX_VALUE} empty, the chart default",
            )
    if regex is None:
        regex = default_enforced_host(namespace, domain)
        regex_from = chart_default_from or (
            f"the linkerd-viz chart default (web Deployment not among the inputs; namespace {namespace}, "
            f"cluster domain {domain})"
        )
    return WebTarget(namespace, service, ports, regex, regex_from, domain, domain_from, workload, location)
