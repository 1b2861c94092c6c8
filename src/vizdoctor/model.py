"""The normalised inventory every source fills and every later stage reads.

Sources (manifests, Terraform, plan JSON) turn their input into these types; nothing downstream
looks at raw YAML or HCL again.
"""

from __future__ import annotations

import enum
import marshal
from dataclasses import dataclass, field
from typing import Any, Literal

from vizdoctor.location import Location
from vizdoctor.network.model import NetworkModel

__all__ = ["Location"]

CallKind = Literal["APIService", "MutatingWebhook", "ValidatingWebhook", "CRDConversion"]


@dataclass(frozen=True, slots=True)
class ObjectRef:
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    target_port: int | str | None  # None: Kubernetes defaults targetPort to port
    name: str | None = None
    protocol: str = "TCP"


@dataclass(slots=True)
class Service:
    namespace: str
    name: str
    selector: dict[str, str] | None
    ports: list[ServicePort]
    location: Location | None = None
    namespace_defaulted: bool = False  # the object named no namespace: it got scan's -n


@dataclass(frozen=True, slots=True)
class ContainerPort:
    container: str
    port: int
    name: str | None = None
    protocol: str = "TCP"


@dataclass(slots=True)
class Workload:
    """Anything with a pod template (or a bare Pod)."""

    kind: str
    namespace: str
    name: str
    pod_labels: dict[str, str]
    ports: list[ContainerPort]
    host_network: bool = False
    location: Location | None = None
    node_name: str | None = None  # live Pods only: the node it runs on
    pod_ip: str | None = None  # live Pods only
    namespace_defaulted: bool = False  # the object named no namespace: it got scan's -n

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class ServiceRef:
    namespace: str
    name: str
    port: int = 443  # the API default for webhooks, APIServices and conversion webhooks
    path: str | None = None


@dataclass(slots=True)
class CallTarget:
    """One call the kube-apiserver makes out to a workload: an APIService, one webhook, a conversion."""

    kind: CallKind
    name: str  # webhook name, APIService name, or CRD name
    owner: ObjectRef  # the object that declares it (the configuration, APIService or CRD)
    service: ServiceRef | None
    url: str | None = None
    failure_policy: str | None = None  # "Fail" | "Ignore" for webhooks; None otherwise
    timeout_seconds: int | None = None  # webhooks: how long each request waits (API default 10 s)
    operations: str | None = None  # webhooks: what the rules match, e.g. "CREATE of pods"
    inferred: bool = False
    inferred_from: str | None = None  # why vizdoctor believes this call exists when inferred
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """An input vizdoctor could not read (reported as `input-unreadable`)."""

    path: str
    line: int | None
    message: str
    partial: bool = False  # True when the rest of the file was still read (a YAML stream, one object)
    hint: str | None = None  # what to do, when it is not fixing a syntax error (remediation/inputs.py)


@dataclass(frozen=True)
class CannotRead:
    """A kind the live source was not allowed (or not able) to list."""

    kind: str
    group: str  # API group, "" for the core group
    resource: str  # plural resource name, for the RBAC rule to grant
    status: int | None  # HTTP status (403 for RBAC), None for timeouts and transport errors
    message: str


class CertState(enum.Enum):
    """Whether a serving certificate could be checked, and if not, why."""

    READ = "read"  # parsed: the facts below are filled in
    MISSING = "missing"  # the Secret does not exist: a failure of the component, not a gap in reading
    NO_PARSER = "no-parser"  # the X.509 parser (cryptography) is not installed: the Secret was not read
    NOT_READ = "not-read"  # forbidden or out of time: a cannot-read finding says so
    INVALID = "invalid"  # no usable certificate: no tls.crt, not PEM, or the read failed another way


@dataclass(frozen=True)
class CertSummary:
    """The public facts of a serving certificate read from a TLS Secret; nothing else of the Secret is kept."""

    secret: str  # "namespace/name" it was read from
    subject: str | None = None
    dns_names: tuple[str, ...] = ()
    not_after: str | None = None  # ISO 8601, UTC
    # verified against the caBundle of the object that trusts it; None: not compared (no caBundle)
    signed_by_ca_bundle: bool | None = None
    unreadable: str | None = None  # why it could not be checked (not found, forbidden, no X.509 parser)
    state: CertState = CertState.READ

    @property
    def missing(self) -> bool:
        return self.state is CertState.MISSING


@dataclass
class LiveState:
    """What `check` read from a cluster, beyond the objects turned into the inventory."""

    context: str
    server: str
    # kind -> items exactly as the API returned them (with `kind` filled in), for live-only checks
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cannot_read: list[CannotRead] = field(default_factory=list)
    viz_namespace: str | None = None  # where Linkerd viz runs; None: not installed (or not found)
    linkerd_namespace: str | None = None  # the Linkerd control plane's namespace; None: not installed
    certificates: dict[str, CertSummary] = field(default_factory=dict)  # keyed by "namespace/secret"


class RawObject:
    """One object as read, for the checks that need more than the normalised types.

    `scan` keeps it packed (`RawObject.packed`: the projected document as `marshal` bytes, about a fifth
    of the dicts' size: 50,000 objects took 95 MB as dicts, 22 MB packed) and `doc` unpacks a fresh copy on
    each access (1-5 us), so a reader that changes it changes nothing for the next. Name and namespace are
    kept unpacked: lookups by name do not unpack."""

    __slots__ = ("_doc", "location", "name", "namespace")

    def __init__(self, doc: dict[str, Any], location: Location | None) -> None:
        self._doc: dict[str, Any] | bytes = doc
        self.location = location
        meta = doc.get("metadata")
        meta = meta if isinstance(meta, dict) else {}  # manifests.shape_problem keeps the others out
        self.name: str = str(meta.get("name", ""))
        ns = meta.get("namespace")
        self.namespace: str | None = str(ns) if ns else None

    @classmethod
    def packed(cls, doc: dict[str, Any], location: Location | None) -> RawObject:
        """`doc` (plain YAML/JSON values only) kept as marshal bytes; `doc` itself is not kept."""
        obj = cls(doc, location)
        obj._doc = marshal.dumps(doc)
        return obj

    @property
    def doc(self) -> dict[str, Any]:
        if isinstance(self._doc, bytes):
            unpacked: dict[str, Any] = marshal.loads(self._doc)
            return unpacked
        return self._doc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawObject):
            return NotImplemented
        return self.location == other.location and self.doc == other.doc

    __hash__ = None  # type: ignore[assignment]  # a mapping inside: unhashable, as the dataclass was

    def __repr__(self) -> str:
        return f"RawObject(doc={self.doc!r}, location={self.location!r})"


@dataclass(frozen=True)
class Suppression:
    """An accepted finding, written next to what it is about: the `vizdoctor.io/ignore` annotation of a
    Kubernetes object, or a `# vizdoctor:ignore=<id> <reason>` comment on a Terraform block. Applied
    after the checks ran (report.apply_policy), so a suppressed finding is kept and listed, never lost."""

    checks: tuple[str, ...]  # check ids; "*" would be too broad, so it is not accepted
    reason: str
    source: Literal["annotation", "comment"]
    where: Location  # the annotation's object or the comment, for the report
    object: ObjectRef | None = None  # the annotated object
    lines: tuple[int, int] | None = None  # the Terraform block's first and last line (in where.path)


@dataclass
class Inventory:
    services: dict[tuple[str, str], Service] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    targets: list[CallTarget] = field(default_factory=list)
    network: NetworkModel = field(default_factory=NetworkModel)
    problems: list[Problem] = field(default_factory=list)
    live: LiveState | None = None
    default_namespace: str = "default"  # given to objects that name none (scan's -n)
    # Every object read (Secrets excepted: never kept), by kind, for checks that need more than the
    # normalised types above (Ingresses, routes, ConfigMaps, ...). `scan` keeps only the fields the checks
    # read, packed (sources/projection.py); `check` keeps the API's items as listed.
    objects: dict[str, list[RawObject]] = field(default_factory=dict)
    files_read: int = 0
    objects_read: int = 0
    suppressions: list[Suppression] = field(default_factory=list)

    def add_service(self, svc: Service) -> None:
        self.services[(svc.namespace, svc.name)] = svc
