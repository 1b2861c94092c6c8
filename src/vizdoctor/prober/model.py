"""What a probe is asked to do and what each of its steps found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from vizdoctor.errors import ProbeUsageError as ProbeUsageError  # re-exported

StepName = Literal["page", "websocket", "tap", "idle"]
Status = Literal["ok", "error", "warning", "skipped"]
STEPS: tuple[StepName, ...] = ("page", "websocket", "tap", "idle")


@dataclass(frozen=True)
class Target:
    """An http(s) URL split the way the probe needs it."""

    scheme: str  # http | https
    host: str  # as in the URL, without brackets for IPv6
    port: int
    path: str  # path + query, at least "/"

    @property
    def default_port(self) -> bool:
        return self.port == (443 if self.scheme == "https" else 80)

    @property
    def netloc(self) -> str:
        """host[:port] the way a browser writes it in Host and Origin (default port omitted)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.default_port else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"


@dataclass
class ProbeOptions:
    url: str
    resource: str = "deployment/web"
    namespace: str = "linkerd-viz"
    user: str | None = None  # USER:PASS
    headers: list[tuple[str, str]] = field(default_factory=list)
    insecure: bool = False
    timeout: float = 10.0
    origin: str | None = None  # None: the browser's; "": send none
    idle: float = 0.0  # 0: skip the idle step
    tap_seconds: float = 3.0
    resolve: dict[tuple[str, int], str] = field(default_factory=dict)  # (host, port) -> address


@dataclass
class Step:
    step: StepName
    status: Status
    title: str  # the result line, like a `linkerd check` description
    cause: str | None = None
    http_status: int | None = None
    close_code: int | None = None
    close_reason: str | None = None
    elapsed: float | None = None
    message: str = ""
    hint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def with_close(self, code: int, reason: str, elapsed: float) -> Step:
        self.close_code, self.close_reason, self.elapsed = code, reason, round(elapsed, 3)
        return self


@dataclass
class ProbeResult:
    url: str
    steps: list[Step]

    @property
    def exit_code(self) -> int:
        return 1 if any(s.status == "error" for s in self.steps) else 0

    @property
    def summary(self) -> dict[str, Any]:
        counts = {k: 0 for k in ("ok", "warning", "error", "skipped")}
        for s in self.steps:
            counts[s.status] += 1
        return {
            **counts,
            "causes": [s.cause for s in self.steps if s.cause and s.status in ("error", "warning")],
            "exit_code": self.exit_code,
        }
