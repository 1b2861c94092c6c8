"""cannot-read: a kind `vizdoctor check` could not list (RBAC, deadline, an API the server lacks).

Live only. The run goes on without it; the finding says what could therefore not be checked and, for a
403, the RBAC rule to grant.
"""

from __future__ import annotations

from vizdoctor.checks.context import Context
from vizdoctor.checks.live_util import rbac_rule
from vizdoctor.findings import Finding
from vizdoctor.model import CannotRead

CHECK_ID = "cannot-read"

NEEDED_FOR: dict[str, str] = {
    "APIService": "whether each aggregated API is Available (apiservice-unavailable, `tap API service is running`) "
    "and its control-plane path",
    "MutatingWebhookConfiguration": "the mutating webhooks' paths and endpoints",
    "ValidatingWebhookConfiguration": "the validating webhooks' paths and endpoints",
    "CustomResourceDefinition": "the CRD conversion webhooks' paths and endpoints",
    "Namespace": "finding Linkerd's namespaces by their labels (the default names linkerd and linkerd-viz "
    "are used instead)",
    "Service": "every path (Service port -> targetPort) and every endpoint check",
    "EndpointSlice": "whether each webhook has a ready endpoint (webhook-no-endpoints)",
    "Pod": "pod readiness and injection, and the nodes the pods run on",
    "Node": "where the pods run (their cloud provider and instance ids)",
    "Deployment": "the pods behind named targetPorts, and `prometheus is installed and configured correctly`",
    "DaemonSet": "the pods behind named targetPorts",
    "StatefulSet": "the pods behind named targetPorts",
    "ClusterRole": "`linkerd-viz ClusterRoles exist`",
    "ClusterRoleBinding": "`linkerd-viz ClusterRoleBindings exist`",
    "Secret": "the certificate checks (`tap API server has valid cert` and the webhooks' certificates)",
}


def _finding(c: CannotRead) -> Finding:
    what = f"{c.group or 'core'}/{c.resource}"
    needed = NEEDED_FOR.get(c.kind, "the checks that use it")
    if c.kind == "Secret":
        secret = c.message.split(":", 1)[0].removeprefix("Secret ").strip()
        title = f"can read Secret {secret}"
        verb = "read"
    else:
        title = f"can list {c.resource}"
        verb = "list"
    status = f"{c.status} " if c.status else ""
    message = f"vizdoctor could not {verb} {c.kind} ({what}): {status}{c.message}. Not checked: {needed}."
    if c.status == 403:
        if c.kind == "Secret":
            name = secret.split("/", 1)[-1]
            rule = rbac_rule(c.group, c.resource, ("get",), (name,))
        else:
            rule = rbac_rule(c.group, c.resource)
        hint = (
            "Grant the credentials read access with this rule in a ClusterRole (docs/live.md has the whole "
            "read-only ClusterRole):\n" + rule
        )
    elif c.status is None and c.message.startswith("deadline exceeded"):
        hint = "Raise --timeout, or find out why the API server answers slowly (kubectl get --raw /readyz)."
    elif c.status == 404:
        hint = f"The API server does not serve {c.group or 'core'}; vizdoctor needs {c.group or 'v1'} v1."
    else:
        hint = "Run again; if it persists, check the API server's health (kubectl get --raw /readyz)."
    return Finding(CHECK_ID, "warning", "inputs", title, message, hint, extra={"kind": c.kind})


def check(ctx: Context) -> list[Finding]:
    live = ctx.inventory.live
    if live is None:
        return []
    return [_finding(c) for c in live.cannot_read]
