"""`vizdoctor explain`: classify a pasted error message, offline, and say what to do next.

`classify(text)` normalises the text, takes the first row of `knowledge.errors.PATTERNS` that matches (the table
is ordered by specificity), extracts what the text gives (pod IP and port, the APIService, webhook or Service,
the HTTP status, endpoint or ClusterIP routing) and builds the explanation and next steps from both.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field
from typing import IO, Any

from vizdoctor.catalogue import docs_url
from vizdoctor.evidence import Facts
from vizdoctor.knowledge.errors import (
    CAUSES,
    PATTERNS,
    SINGLE_VERSION_GROUPS,
    TAP_APISERVICE,
    TAP_NAMESPACE,
    ErrorPattern,
)
from vizdoctor.remediation.steps import Step, next_steps
from vizdoctor.schemas import SCHEMA


@dataclass(frozen=True)
class Explanation:
    cause: str
    summary: str
    next_steps: list[str]
    port: int | None
    ip: str | None
    http_status: int | None
    object: dict[str, str] | None
    routing: str | None  # "endpoint" (pod IP + target port) | "cluster-ip" (port 443)
    matched: str | None  # the substring of the (normalised) text that decided the cause
    source: str | None  # the recorded message / upstream reference the deciding rule is built from
    steps: list[Step] = field(default_factory=list)  # next_steps, typed (role, platform)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "command": "explain",
            "cause": self.cause,
            "summary": self.summary,
            "port": self.port,
            "ip": self.ip,
            "http_status": self.http_status,
            "object": self.object,
            "routing": self.routing,
            "next_steps": list(self.next_steps),
            "steps": [{"text": s.text, "role": s.role, "platform": s.platform} for s in self.steps],
            "matched": self.matched,
            "source": self.source,
            "docs": docs_url("explain.md", self.cause),
        }


# --------------------------------------------------------------------------------------------------------------
# normalisation and extraction

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def normalize(text: str) -> str:
    """One line: ANSI colours removed, literal `\\n` (as in `service unavailable\\n)`) and line breaks made spaces."""
    text = _ANSI.sub("", text).replace("\\n", " ")
    return re.sub(r"\s+", " ", text).strip()


_IP4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_HOST = rf"(?P<ip>{_IP4}|\[[0-9A-Fa-f:.]+\]|<[^<>\s]{{1,40}}>)"  # IPv4, [IPv6], or a <REDACTED> placeholder
_PORT = r"(?P<port>\d{1,5})\b"
# Where the real destination shows, most reliable first. `proxyconnect tcp: dial tcp` is the proxy, not the pod.
_ADDRESS_FORMS = (
    re.compile(rf"(?<!proxyconnect tcp: )dial tcp {_HOST}:{_PORT}"),
    re.compile(rf"(?:read|write) tcp \S+->{_HOST}:{_PORT}"),
    re.compile(rf"https://{_HOST}:{_PORT}"),
    re.compile(rf"{_HOST}:{_PORT}\] Dialing"),
)
_STATUS_FORMS = (
    re.compile(r"status Code \[(\d{3})\]", re.IGNORECASE),
    re.compile(r"ResponseCode: (\d{3})"),
    re.compile(r"bad status from \S+: (\d{3})\b"),
    re.compile(r"Unexpected response code: (\d{3})"),
)
_WEBHOOK = re.compile(r"failed calling (?:admission )?webhook \"(?P<name>[^\"]+)\"")
_FAILING = re.compile(r"failing (?:closed|open) (?P<name>[A-Za-z0-9][\w.-]*\w):")
_CONVERSION = re.compile(r"conversion webhook for (?P<name>[^\s,]+(?:, Kind=\w+)?) failed")
_URL_PATH = re.compile(r"(?:Post|Get) \"?https://[^/\s\"]+(?P<path>/[^\s\"?]*)")
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_VERSION = r"v\d+(?:(?:alpha|beta)\d+)?"
_APISERVICE_NAME = re.compile(rf"(?<![\w./-])(?P<name>{_VERSION}\.[a-z][a-z0-9-]*(?:\.{_LABEL})+)(?![\w-])")
_GROUP = rf"{_LABEL}(?:\.{_LABEL})+"
_GROUP_VERSION = (
    re.compile(rf"/apis/(?P<group>{_GROUP})/(?P<version>{_VERSION})\b"),
    re.compile(rf"(?<![\w./-])(?P<group>{_GROUP})/(?P<version>{_VERSION}):"),
)
_GET_RESOURCE = re.compile(rf"\(get [a-z0-9-]+\.(?P<group>{_GROUP})\)")
_TAP_HINTS = re.compile(
    r"Websocket close error \[1011|unexpected API response: service unavailable|tap API service|l5d-tap-api|"
    r"tap API server|linkerd\.io/tap-rbac|\btap\.linkerd\.io\b",
    re.IGNORECASE,
)
_APISERVICE_ROW = re.compile(
    rf"(?<!\S)(?P<name>{_VERSION}\.\S+)\s+(?P<ns>{_LABEL})/(?P<svc>{_LABEL})\s+(?:False|Unknown|True)\b"
)
# The lookbehinds make every match start at a token boundary: without them a long run of letters or digits is
# retried from each of its characters, which is quadratic.
_SERVICE_URL = re.compile(
    rf"(?<![a-z0-9-])(?P<name>{_LABEL})\.(?P<ns>{_LABEL})\.svc(?:\.cluster\.local)?(?::\d+)?/"
)
_SERVICE_IN = re.compile(rf"service/(?P<name>{_LABEL}) in \"(?P<ns>{_LABEL})\"")
_SERVICE_NAMED = re.compile(rf"(?:for service|services?) \"(?P<name>{_LABEL})\"")
_PLATFORMS = {
    "eks": re.compile(r"\beks\b|amazonaws|elbv2\.k8s\.aws|terraform-aws-eks", re.IGNORECASE),
    "gke": re.compile(r"\bgke\b|googleapis|gcloud", re.IGNORECASE),
    "aks": re.compile(r"tunnel-uds|konnectivity|azmk8s|\baks\b", re.IGNORECASE),
}


def _webhook_kind(name: str, path: str | None) -> str:
    for hint in (name.lower(), (path or "").lower()):
        if "validat" in hint:
            return "ValidatingWebhook"
        if "mutat" in hint or "inject" in hint:
            return "MutatingWebhook"
    return "AdmissionWebhook"  # the message does not say which configuration kind holds it


def _address(text: str) -> tuple[str | None, int | None, str | None]:
    for form in _ADDRESS_FORMS:
        for m in form.finditer(text):
            port = int(m.group("port"))
            if not 0 < port < 65536:
                continue
            raw = m.group("ip")
            ip = None if raw.startswith("<") else raw.strip("[]")
            return ip, port, "cluster-ip" if port == 443 else "endpoint"
    return None, None, None


def _http_status(text: str) -> int | None:
    """Only a number the text shows: `Error from server (InternalError)` is the client's answer, not the call's."""
    for form in _STATUS_FORMS:
        m = form.search(text)
        if m:
            return int(m.group(1))
    return None


def _apiservice(text: str) -> str | None:
    m = _APISERVICE_NAME.search(text)
    if m:
        return m.group("name")
    for form in _GROUP_VERSION:
        m = form.search(text)
        if m:
            return f"{m.group('version')}.{m.group('group')}"
    m = _GET_RESOURCE.search(text)
    if m and m.group("group") in SINGLE_VERSION_GROUPS:
        return f"{SINGLE_VERSION_GROUPS[m.group('group')]}.{m.group('group')}"
    return None


def extract(text: str) -> Facts:
    """Everything the (normalised) text gives, independent of the cause."""
    ip, port, routing = _address(text)
    webhook = None
    m = _WEBHOOK.search(text) or _FAILING.search(text)
    if m:
        webhook = m.group("name")
    path_m = _URL_PATH.search(text)
    path = path_m.group("path") if path_m else None
    conv = _CONVERSION.search(text)
    tap_banner = bool(
        re.search(
            r"Websocket close error \[1011[^\]]*\] : HTTP error, status Code \[503\]|"
            r"status Code \[503\] \(unexpected API response: service unavailable",
            text,
            re.IGNORECASE,
        )
    )
    apiservice = _apiservice(text)
    if apiservice is None and not webhook and _TAP_HINTS.search(text):
        apiservice = TAP_APISERVICE
    service_ns = service_name = None
    for form in (_SERVICE_URL, _SERVICE_IN):
        sm = form.search(text)
        if sm:
            service_ns, service_name = sm.group("ns"), sm.group("name")
            break
    else:
        row = _APISERVICE_ROW.search(text)
        if row:
            service_ns, service_name = row.group("ns"), row.group("svc")
    named = _SERVICE_NAMED.search(text)
    if named and named.group("name") != service_name:
        service_ns, service_name = None, named.group("name")
    if service_name is None and apiservice == TAP_APISERVICE:
        service_ns, service_name = TAP_NAMESPACE, "tap"
    if apiservice is None and not webhook and (service_ns, service_name) == (TAP_NAMESPACE, "tap"):
        apiservice = TAP_APISERVICE  # Service linkerd-viz/tap serves only the tap APIService
    return Facts(
        ip=ip,
        port=port,
        routing=routing,
        http_status=_http_status(text),
        webhook=webhook,
        webhook_kind=_webhook_kind(webhook, path) if webhook else None,
        conversion=conv.group("name") if conv else None,
        apiservice=apiservice,
        service_ns=service_ns,
        service_name=service_name,
        tap_banner=tap_banner,
        platforms=frozenset(p for p, rx in _PLATFORMS.items() if rx.search(text)),
    )


def match(text: str) -> tuple[ErrorPattern, re.Match[str]] | None:
    """The first (most specific) row that matches the normalised text."""
    for row in PATTERNS:
        m = row.regex.search(text)
        if m and (row.requires is None or row.requires.search(text)):
            return row, m
    return None


# --------------------------------------------------------------------------------------------------------------
# summary


def _lead(cause: str, f: Facts) -> str:
    """One or two sentences about this text in particular."""
    parts: list[str] = []
    dest = f"{f.ip}:{f.port}" if f.ip and f.port else (f"port {f.port}" if f.port else None)
    if cause == "network-blocked":
        if dest and f.routing == "endpoint":
            parts.append(
                f"The kube-apiserver's connection to {f.target} at {dest} timed out: open TCP {f.port} from the "
                "control plane to the pod."
            )
        elif dest:
            parts.append(f"The kube-apiserver's connection to {f.target} at ClusterIP {dest} timed out.")
        else:
            parts.append(f"The kube-apiserver's call to {f.target} timed out.")
    elif cause == "connection-refused" and dest:
        parts.append(f"{dest} refused the kube-apiserver's connection to {f.target}.")
    elif cause == "connection-reset" and dest:
        parts.append(f"The connection to {f.target} at {dest} was cut after it was established.")
    elif cause == "address-not-allowed" and dest:
        parts.append(f"The EKS control plane refused to dial {dest} ({f.target}).")
    elif cause in ("no-ready-endpoints", "service-not-found", "service-port-mismatch") and f.service_name:
        behind = "" if f.target.startswith("Service ") else f" behind {f.target}"
        parts.append(f"Service {f.service_ref}{behind}: {CAUSES[cause].title}.")
    elif cause == "apiservice-unavailable" and f.apiservice and not f.tap_banner:
        parts.append(f"APIService {f.apiservice} is not Available.")
    elif cause in ("tls-untrusted", "tls-expired", "rbac-forbidden", "http-proxy", "dns") and f.object:
        parts.append(f"{f.target}: {CAUSES[cause].title}.")
    if f.tap_banner and cause != "apiservice-unavailable":
        parts.append(
            "The dashboard's `1011 ... status Code [503]` banner is the consequence: the kube-aggregator marks "
            f"APIService {TAP_APISERVICE} unavailable because of this and answers the web pod with 503."
        )
    return " ".join(parts)


def classify(text: str, the_text: str = "The message you pasted") -> Explanation:
    """Classify one pasted error (any of the recorded forms); never raises on odd input. `the_text`: how
    the summary names the text (the probe explains a websocket close reason, not a paste)."""
    norm = normalize(text)
    facts = extract(norm)
    found = match(norm)
    if found is None:
        row, cause, matched, source = None, "unknown", None, None
    else:
        row, m = found
        cause, matched, source = row.cause, m.group(0), row.source
    info = CAUSES[cause]
    steps = next_steps(cause, facts, norm)
    explanation = info.text(the_text)
    summary = " ".join(p for p in (_lead(cause, facts), explanation, row.note if row else None) if p)
    return Explanation(
        cause=cause,
        summary=summary,
        next_steps=[step.text for step in steps],
        steps=steps,
        port=facts.port,
        ip=facts.ip,
        http_status=facts.http_status,
        object=facts.object,
        routing=facts.routing,
        matched=matched,
        source=source,
    )


# --------------------------------------------------------------------------------------------------------------
# rendering


def render_json(e: Explanation) -> str:
    return json.dumps(e.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _object_text(obj: dict[str, str]) -> str:
    name = f"{obj['namespace']}/{obj['name']}" if "namespace" in obj else obj["name"]
    return f"{obj['kind']} {name}"


def render_text(e: Explanation, out: IO[str], width: int = 100) -> None:
    title = CAUSES[e.cause].title
    out.write(f"cause: {e.cause} ({title})\n\n")
    out.write(textwrap.fill(e.summary, width=width, break_on_hyphens=False, break_long_words=False) + "\n\n")
    facts: list[tuple[str, str]] = []
    if e.object:
        facts.append(("object", _object_text(e.object)))
    if e.ip:
        facts.append(("ip", e.ip))
    if e.port is not None:
        what = (
            "pod port the kube-apiserver dials"
            if e.routing == "endpoint"
            else "port the kube-apiserver dials"
        )
        facts.append(("port", f"{e.port} ({what})"))
    if e.routing:
        facts.append(
            (
                "routing",
                "endpoint (pod IP and target port)"
                if e.routing == "endpoint"
                else "cluster-ip (Service IP, port 443)",
            )
        )
    if e.http_status is not None:
        facts.append(("http status", str(e.http_status)))
    if e.matched:
        facts.append(("matched", repr(e.matched)))
    if e.source:
        facts.append(("source", e.source))
    if facts:
        out.write("extracted\n---------\n")
        pad = max(len(k) for k, _ in facts)
        for k, v in facts:
            out.write(f"  {k.ljust(pad)}  {v}\n")
        out.write("\n")
    out.write("next steps\n----------\n")
    for i, step in enumerate(e.next_steps, 1):
        # Steps are not wrapped: they hold commands that must survive copy and paste.
        first, *rest = step.split("\n")
        prefix = f"{i:>2}. "
        out.write(prefix + first + "\n")
        for line in rest:
            out.write(" " * (len(prefix) + 2) + line + "\n")
