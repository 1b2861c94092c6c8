"""`check --probe`: ask the kube-apiserver to dial each webhook / APIService pod, over the very path webhooks
use, through its own proxy subresources (GET only):

    GET /api/v1/namespaces/<ns>/services/https:<svc>:<port>/proxy/
    GET /api/v1/namespaces/<ns>/pods/https:<pod>:<pod port>/proxy/   (one pod per node group / zone)

The kube-apiserver resolves the Service to a pod IP and target port and dials it exactly as it dials a
webhook (endpoint routing), so any HTTP answer of the backend proves the path open, and
`error trying to reach service: dial tcp ...: i/o timeout` proves it blocked (k8s.io/apimachinery
pkg/util/proxy: the proxy's error text). Needs only `get` on `services/proxy` and `pods/proxy`. The probe
reaches the workload (one GET of `/`), which is why it is opt-in.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Literal

from vizdoctor.sources.kube import KubeOptions, _connect, _with_deadline

Outcome = Literal["open", "blocked", "refused", "reset", "no-endpoints", "forbidden", "no-answer"]
PER_PROBE_TIMEOUT = 15.0  # the apiserver's own dial timeout is 30 s; a drop shows as a timeout before that

# The kube-apiserver's proxy error texts (k8s.io/apimachinery/pkg/util/proxy/transport and upgradeaware:
# `error trying to reach service: %v`), and what each says about the path.
_BLOCKED = re.compile(
    r"i/o timeout|connection timed out|context deadline exceeded|no route to host|network is unreachable|Address is not allowed",
    re.IGNORECASE,
)
_REFUSED = re.compile(r"connection refused", re.IGNORECASE)
_RESET = re.compile(r"connection reset by peer|\bEOF\b|broken pipe", re.IGNORECASE)
_NO_ENDPOINTS = re.compile(r"no endpoints available for service", re.IGNORECASE)
_APISERVER_OWN = re.compile(r'^(?:services|pods|endpoints) "[^"]*" not found', re.IGNORECASE)
_PROXY_ERROR = re.compile(
    r"error trying to reach service|error dialing backend|No agent available", re.IGNORECASE
)


@dataclass(frozen=True)
class ProbeTarget:
    key: str  # what the result is reported against (the path's description)
    namespace: str
    kind: Literal["services", "pods"]
    name: str  # "https:<svc>:<port>" or "https:<pod>:<port>"
    where: str = ""  # the node group / zone of a pod probe


@dataclass(frozen=True)
class ProbeResult:
    target: ProbeTarget
    outcome: Outcome
    status: int | None
    detail: str  # the apiserver's message (or the backend's status line)

    @property
    def url(self) -> str:
        t = self.target
        return f"/api/v1/namespaces/{t.namespace}/{t.kind}/{t.name}/proxy/"


def classify(status: int, body: bytes) -> tuple[Outcome, str]:
    """What one proxy answer proves. Only the apiserver's own Status objects can mean "not reached"."""
    text = body.decode("utf-8", "replace")
    message = text
    is_status = False
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and doc.get("kind") == "Status":
            is_status = True
            message = str(doc.get("message") or "")
    except ValueError:
        pass
    short = " ".join(message.split())[:300]
    if status == 403 and is_status and re.search(r"cannot get resource \"(?:services|pods)/proxy\"", message):
        return "forbidden", short
    if is_status and _APISERVER_OWN.search(message):
        return "no-answer", short  # the apiserver answered for itself: the object is missing
    if status in (502, 503) or (is_status and _PROXY_ERROR.search(message)):
        if _NO_ENDPOINTS.search(message):
            return "no-endpoints", short
        if _BLOCKED.search(message):
            return "blocked", short
        if _REFUSED.search(message):
            return "refused", short
        if _RESET.search(message):
            return "reset", short
        if _PROXY_ERROR.search(message):
            return "no-answer", short
    return "open", f"HTTP {status} from the backend"


def probe(opts: KubeOptions, targets: list[ProbeTarget]) -> list[ProbeResult]:
    """One GET per target through the kube-apiserver's proxy; never raises for a single target."""
    if not targets:
        return []
    api, _ = _with_deadline(lambda: _connect(opts), opts.timeout, "loading the credentials")
    out: list[ProbeResult] = []
    try:
        deadline = time.monotonic() + opts.timeout
        for t in targets:
            remaining = deadline - time.monotonic()
            path = f"/api/v1/namespaces/{t.namespace}/{t.kind}/{t.name}/proxy/"
            if remaining <= 0.05:
                out.append(
                    ProbeResult(t, "no-answer", None, f"not probed: --timeout {opts.timeout:g}s reached")
                )
                continue
            try:
                # the path is sent as built (no re-encoding of `:`); any status comes back as an answer
                resp = api.get(path, None, min(PER_PROBE_TIMEOUT, remaining))
                status, body = resp.status, resp.data
            except Exception as exc:  # a timeout or transport error of this one GET
                if "redirect" in str(exc).lower():  # the backend answered with a redirect: it was reached
                    out.append(ProbeResult(t, "open", None, "a redirect from the backend"))
                    continue
                out.append(ProbeResult(t, "no-answer", None, f"{type(exc).__name__}: {exc}"[:300]))
                continue
            outcome, detail = classify(status, body)
            out.append(ProbeResult(t, outcome, status, detail))
    finally:
        api.close()
    return out
