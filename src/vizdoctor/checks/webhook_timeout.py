"""webhook-timeout: a webhook timeout as long as the kube-apiserver's own request timeout."""

from __future__ import annotations

from vizdoctor.checks.context import Context
from vizdoctor.findings import Finding, new
from vizdoctor.knowledge.cni import APISERVER_REQUEST_TIMEOUT, WEBHOOK_TIMEOUT_DEFAULT_V1
from vizdoctor.model import ObjectRef
from vizdoctor.objindex import by_name

CHECK = "webhook-timeout"
_CONFIG_KINDS = {
    "MutatingWebhook": "MutatingWebhookConfiguration",
    "ValidatingWebhook": "ValidatingWebhookConfiguration",
}


def _v1beta1_default(ctx: Context, kind: str, name: str, webhook: str) -> bool:
    """admissionregistration.k8s.io/v1beta1 defaulted timeoutSeconds to 30 (v1: 10)."""
    for o in by_name(ctx.inventory, kind).get(name, []):
        if str(o.doc.get("apiVersion", "")).endswith("/v1beta1"):
            for hook in o.doc.get("webhooks") or []:
                if (
                    isinstance(hook, dict)
                    and hook.get("name") == webhook
                    and hook.get("timeoutSeconds") is None
                ):
                    return True
    return False


def check(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for t in ctx.inventory.targets:
        config = _CONFIG_KINDS.get(t.kind)
        if config is None:
            continue
        timeout = t.timeout_seconds
        if _v1beta1_default(ctx, config, t.owner.name, t.name):  # the source fills in v1's 10
            timeout = APISERVER_REQUEST_TIMEOUT
        if timeout is None or timeout < APISERVER_REQUEST_TIMEOUT:
            continue
        out.append(
            new(
                CHECK,
                f"{t.kind} {t.name} waits {timeout}s",
                f"Webhook {t.name} ({t.owner}) has timeoutSeconds {timeout}, as long as the kube-apiserver's own "
                f"{APISERVER_REQUEST_TIMEOUT} s request timeout: when the webhook does not answer, the client gets "
                f"`Timeout: request did not complete within requested timeout {APISERVER_REQUEST_TIMEOUT}s` instead "
                f"of the webhook's error (failurePolicy: {t.failure_policy or 'Fail'}), which hides the real cause "
                "(a blocked port, a slow webhook).",
                f"Set timeoutSeconds well below {APISERVER_REQUEST_TIMEOUT} (the v1 default is "
                f"{WEBHOOK_TIMEOUT_DEFAULT_V1}) in the webhook configuration or the chart value that sets it.",
                object=ObjectRef(config, None, t.owner.name),
                location=t.location,
                extra={"webhook": t.name, "timeoutSeconds": str(timeout)},
            )
        )
    return out
