"""Linkerd facts `vizdoctor check` needs to mirror `linkerd check` / `linkerd viz check` from the API.

Source: shared/knowledge/linkerd-viz.md §1 (objects, ports, Secrets), §5.1 (the `linkerd-viz` category,
`viz/pkg/healthcheck/healthcheck.go`), and `pkg/healthcheck/healthcheck.go` (category
`linkerd-webhooks-and-apisvc-tls`: Secrets `linkerd-<component>-k8s-tls`, identity
`linkerd-<component>.<ns>.svc`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

VIZ_LABEL = ("linkerd.io/extension", "viz")
VIZ_DEFAULT_NAMESPACE = "linkerd-viz"
LINKERD_DEFAULT_NAMESPACE = "linkerd"
# The control plane labels its namespace `linkerd.io/is-control-plane: "true"`.
LINKERD_LABEL = ("linkerd.io/is-control-plane", "true")

TAP_APISERVICE = "v1alpha1.tap.linkerd.io"
# Container port `apiserver` of Deployment tap (viz/charts/linkerd-viz/templates/tap.yaml; linkerd-viz.md §1.1)
TAP_APISERVER_PORT = 8089
TAP_SECRETS = ("tap-k8s-tls", "linkerd-tap-tls")  # current name, then the pre-2.9 fallback
VIZ_COMPONENTS = ("web", "tap", "metrics-api", "tap-injector")  # `viz extension pods are running`
PROXY_CONTAINER = "linkerd-proxy"
HINTS = "https://linkerd.io/2/checks/#"
# The names the viz web UI gives websocket close codes in its banner `Websocket close error [CODE: NAME]`.
CLOSE_NAMES = {  # wsCloseCodes in web/app/js/components/util/TapUtils.jsx
    1000: "Normal Closure",
    1001: "Going Away",
    1002: "Protocol Error",
    1003: "Unsupported Data",
    1004: "Reserved",
    1005: "No Status Recvd",
    1006: "Abnormal Closure",
    1007: "Invalid frame payload data",
    1008: "Policy Violation",
    1009: "Message too big",
    1010: "Missing Extension",
    1011: "Internal Error",
    1012: "Service Restart",
    1013: "Try Again Later",
    1014: "Bad Gateway",
    1015: "TLS Handshake",
}


def viz_cluster_roles(ns: str) -> list[str]:
    return [
        f"linkerd-{ns}-tap",
        f"linkerd-{ns}-metrics-api",
        f"linkerd-{ns}-tap-admin",
        "linkerd-tap-injector",
    ]


def viz_cluster_role_bindings(ns: str) -> list[str]:
    return [
        f"linkerd-{ns}-tap",
        f"linkerd-{ns}-metrics-api",
        f"linkerd-{ns}-tap-auth-delegator",
        "linkerd-tap-injector",
    ]


def tap_identity(ns: str) -> str:
    return f"tap.{ns}.svc"


@dataclass(frozen=True)
class ControlPlaneWebhook:
    component: str  # as `linkerd check` names it: "proxy-injector"
    configuration_kind: str
    configuration: str
    webhook: str

    def secret(self) -> str:
        return f"linkerd-{self.component}-k8s-tls"

    def identity(self, ns: str) -> str:
        return f"linkerd-{self.component}.{ns}.svc"


CONTROL_PLANE_WEBHOOKS: tuple[ControlPlaneWebhook, ...] = (
    ControlPlaneWebhook(
        "proxy-injector",
        "MutatingWebhookConfiguration",
        "linkerd-proxy-injector-webhook-config",
        "linkerd-proxy-injector.linkerd.io",
    ),
    ControlPlaneWebhook(
        "sp-validator",
        "ValidatingWebhookConfiguration",
        "linkerd-sp-validator-webhook-config",
        "linkerd-sp-validator.linkerd.io",
    ),
    ControlPlaneWebhook(
        "policy-validator",
        "ValidatingWebhookConfiguration",
        "linkerd-policy-validator-webhook-config",
        "linkerd-policy-validator.linkerd.io",
    ),
)


def all_tls_secrets() -> tuple[str, ...]:
    """Every Secret whose public certificate `check` reads (the RBAC resourceNames in docs/live.md)."""
    return (*TAP_SECRETS, *(w.secret() for w in CONTROL_PLANE_WEBHOOKS))


def _labels(obj: dict[str, Any]) -> dict[str, Any]:
    labels = (obj.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def find_namespace(
    namespaces: Sequence[dict[str, Any]] | None,
    requested: str | None,
    label: tuple[str, str],
    default: str,
    others: Sequence[dict[str, Any]] = (),
) -> str | None:
    """The namespace an extension runs in: the one asked for, else the labelled one, else the default name.

    `namespaces` is None when Namespaces could not be listed: then the requested or default name counts
    when some other object (`others`) lives in it.
    """
    if namespaces is None:
        want = requested or default
        found = any((o.get("metadata") or {}).get("namespace") == want for o in others)
        return want if found else None
    names = {_name(n) for n in namespaces}
    if requested:
        return requested if requested in names else None
    labelled = sorted(_name(n) for n in namespaces if _labels(n).get(label[0]) == label[1])
    if labelled:
        return default if default in labelled else labelled[0]
    return default if default in names else None
