"""What an error text says about the failing call (the pod IP and port, the object, the routing): the
evidence that `explain` extracts and that the remediation steps are tailored to."""

from __future__ import annotations

from dataclasses import dataclass

from vizdoctor.knowledge.errors import DEFAULT_POD_PORTS, TAP_APISERVICE


@dataclass(frozen=True)
class Facts:
    """What the text itself says, before any cause is chosen."""

    ip: str | None
    port: int | None
    routing: str | None
    http_status: int | None
    webhook: str | None
    webhook_kind: str | None
    conversion: str | None
    apiservice: str | None
    service_ns: str | None
    service_name: str | None
    tap_banner: bool
    platforms: frozenset[str]

    @property
    def object(self) -> dict[str, str] | None:
        if self.webhook and self.webhook_kind:
            return {"kind": self.webhook_kind, "name": self.webhook}
        if self.conversion:
            return {"kind": "CRDConversion", "name": self.conversion}
        if self.apiservice:
            return {"kind": "APIService", "name": self.apiservice}
        if self.service_name:
            obj = {"kind": "Service"}
            if self.service_ns:
                obj["namespace"] = self.service_ns
            obj["name"] = self.service_name
            return obj
        return None

    @property
    def target(self) -> str:
        """How to name the call in prose and in rule descriptions."""
        obj = self.object
        if obj is None:
            return "the webhook or aggregated API"
        if obj["kind"] == "Service":
            return f"Service {self.service_ref}"
        return f"{obj['kind']} {obj['name']}"

    @property
    def service_ref(self) -> str:
        if self.service_name:
            return f"{self.service_ns}/{self.service_name}" if self.service_ns else self.service_name
        return "<namespace>/<service>"

    @property
    def is_tap(self) -> bool:
        return self.apiservice == TAP_APISERVICE

    @property
    def default_port(self) -> tuple[int, str] | None:
        for name in (self.webhook, self.apiservice):
            if name and name in DEFAULT_POD_PORTS:
                return DEFAULT_POD_PORTS[name]
        return None
