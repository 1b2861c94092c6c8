"""One route from outside the cluster to the viz web Service, in terms every controller shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from vizdoctor.exposure.nginx import NginxConfig
from vizdoctor.exposure.objects import Obj
from vizdoctor.exposure.web import WebTarget
from vizdoctor.location import Location


@dataclass(frozen=True)
class HostRewrite:
    value: str  # as written
    via: str  # the setting, e.g. "annotation nginx.ingress.kubernetes.io/upstream-vhost"
    nginx_variables: dict[str, str] | None = None  # ingress-nginx expands these; None: taken literally
    note: str | None = None  # e.g. Envoy Gateway refuses Host in RequestHeaderModifier


@dataclass(frozen=True)
class OriginRemoval:
    via: str
    snippet: str | None = (
        None  # the nginx snippet annotation it lives in: works only if the controller keeps it
    )
    works: bool = True
    why_not: str | None = None


@dataclass(frozen=True)
class Idle:
    seconds: float | None  # None: nothing cuts an established websocket
    what: str  # where the number comes from
    knob: str  # what to set
    max_lifetime: bool = False


@dataclass
class Route:
    obj: Obj
    implementation: str | None  # key of knowledge.ingress.IDLE_DEFAULTS, "emissary", ...; None: unknown
    implementation_label: str
    target: WebTarget
    hosts: list[str]  # public hosts; empty: any Host (catch-all)
    service_port: int | str | None
    rewrite: HostRewrite | None = None
    origin_removals: list[OriginRemoval] = field(default_factory=list)
    snippets: list[str] = field(default_factory=list)  # nginx snippet annotations (without prefix)
    nginx_annotations: dict[str, str] = field(default_factory=dict)  # nginx annotations (without prefix)
    nginx: NginxConfig | None = None
    auth: str | None = None
    allowlist: str | None = None
    auth_known: bool = True  # False: vizdoctor cannot tell what guards this controller
    tls: str | None = None
    tls_known: bool = True
    internal: str | None = None
    idle: Idle | None = None  # None: unknown
    gateways: list[Obj] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # set when every request on this route is answered with a redirect: it does not serve the dashboard
    redirect_only: str | None = None

    @property
    def kind(self) -> str:
        return self.obj.kind

    @property
    def namespace(self) -> str:
        return self.obj.namespace

    @property
    def name(self) -> str:
        return self.obj.name

    @property
    def location(self) -> Location | None:
        return self.obj.location

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def host_matches(pattern: str, host: str) -> bool:
    """Ingress / Gateway hostname matching: exact, or `*.suffix` for one or more labels."""
    pattern, host = pattern.lower(), host.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


def split_host_port(value: str) -> tuple[str, str | None]:
    if value.startswith("["):
        end = value.find("]")
        if end > 0:
            rest = value[end + 1 :]
            return value[: end + 1], rest[1:] if rest.startswith(":") else None
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and host:
        return host, port
    return value, None
