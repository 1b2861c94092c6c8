"""Add-on facts: webhooks registered at run time, and what breaks when a call cannot get through.

Sources are cited per entry; the sheets are under shared/knowledge/ (linkerd-viz.md,
control-plane-reachability.md §8-§11).
"""

from __future__ import annotations

from dataclasses import dataclass

from vizdoctor.model import CallKind


@dataclass(frozen=True)
class RuntimeWebhook:
    """A webhook an add-on registers when it starts, so rendered manifests never show it."""

    service: str  # the Service it names (same namespace as the Service found)
    kind: CallKind
    configuration: str
    webhook: str
    failure_policy: str
    operations: str
    source: str
    port: int = 443  # the Service port the registered webhook names


# kyverno/kyverno pkg/config/config.go (configuration names); the admission controller serves them
# from Service `kyverno-svc` 443 -> `https` 9443 (charts/kyverno values.yaml,
# admissionController.webhookServer.port); "-fail" webhooks use failurePolicy Fail.
RUNTIME_WEBHOOKS: tuple[RuntimeWebhook, ...] = (
    RuntimeWebhook(
        "kyverno-svc",
        "ValidatingWebhook",
        "kyverno-resource-validating-webhook-cfg",
        "validate.kyverno.svc-fail",
        "Fail",
        "resources matched by Kyverno policies",
        "kyverno/kyverno pkg/config/config.go (ValidatingWebhookConfigurationName)",
    ),
    RuntimeWebhook(
        "kyverno-svc",
        "MutatingWebhook",
        "kyverno-resource-mutating-webhook-cfg",
        "mutate.kyverno.svc-fail",
        "Fail",
        "resources matched by Kyverno mutate policies",
        "kyverno/kyverno pkg/config/config.go (MutatingWebhookConfigurationName)",
    ),
    # Crossplane core: the crossplane-init init container applies the webhook configurations
    # (crossplane/crossplane cmd/crossplane/core/init.go: usageWebhookConfigName "crossplane-no-usages",
    # usageWebhookName "nousages.protection.crossplane.io"; failurePolicy from webhooks.usage.failurePolicy,
    # Fail by default); the chart's Service `crossplane-webhooks` names port 9443
    # (cluster/charts/crossplane/templates/webhook-service.yaml, targetPort webhooks.port, default 9443).
    RuntimeWebhook(
        "crossplane-webhooks",
        "ValidatingWebhook",
        "crossplane-no-usages",
        "nousages.protection.crossplane.io",
        "Fail",
        "DELETE of objects labelled crossplane.io/in-use",
        "crossplane/crossplane cmd/crossplane/core/init.go (crossplane-init applies it at start)",
        port=9443,
    ),
    # Longhorn: since v1.5.0 the admission webhooks run in longhorn-manager, which registers
    # `longhorn-webhook-validator` / `longhorn-webhook-mutator` itself with failurePolicy Fail and reverts
    # edits (longhorn/longhorn-manager webhook/; Longhorn KB "troubleshooting-manager-stuck-in-crash-loop-
    # state-due-to-inaccessible-webhook"; longhorn/longhorn#6259); Service `longhorn-admission-webhook` port
    # 9502 -> `admission-wh` (chart templates/services.yaml).
    RuntimeWebhook(
        "longhorn-admission-webhook",
        "ValidatingWebhook",
        "longhorn-webhook-validator",
        "validator.longhorn.io",
        "Fail",
        "writes of longhorn.io resources",
        "longhorn/longhorn-manager webhook/ (registered by longhorn-manager at start, v1.5.0+)",
        port=9502,
    ),
    RuntimeWebhook(
        "longhorn-admission-webhook",
        "MutatingWebhook",
        "longhorn-webhook-mutator",
        "mutator.longhorn.io",
        "Fail",
        "writes of longhorn.io resources",
        "longhorn/longhorn-manager webhook/ (registered by longhorn-manager at start, v1.5.0+)",
        port=9502,
    ),
)


@dataclass(frozen=True)
class OperatorInstalled:
    """An aggregated API or webhook an operator creates with its Service and pods from a custom resource,
    so neither the chart nor the manifests hold anything but that resource."""

    trigger_kind: str  # the custom resource that makes the operator install it
    trigger_group: str
    kind: CallKind
    name: str  # APIService / webhook name
    namespace: str
    service: str
    pod_port: int
    pod_labels: tuple[tuple[str, str], ...]
    source: str


# Calico / Tigera operator: an `APIServer` resource (operator.tigera.io/v1) makes the operator create the
# APIService v3.projectcalico.org, served by Deployment calico-apiserver in namespace calico-apiserver on
# port 5443 (tigera/operator pkg/render/apiserver.go, APIServerPort = 5443; Service calico-api). The
# Service port is recorded as 443 in the fact sheet but not verified: the path is inferred.
OPERATOR_INSTALLED: tuple[OperatorInstalled, ...] = (
    OperatorInstalled(
        "APIServer",
        "operator.tigera.io",
        "APIService",
        "v3.projectcalico.org",
        "calico-apiserver",
        "calico-api",
        5443,
        (("apiserver", "true"),),  # pod labels: unverified, they only matter to Fargate profile selectors
        "tigera/operator pkg/render/apiserver.go (APIServerPort 5443), created from the APIServer resource",
    ),
)


@dataclass(frozen=True)
class Consequence:
    """What the user sees when the kube-apiserver cannot reach this target."""

    message: str
    hint_url: str | None = None


_LINKERD_TROUBLESHOOTING = "https://linkerd.io/2/tasks/troubleshooting/"
# The tap APIService's condition in the seed write-up (linkerd-viz.md §4.7).
TAP_DISCOVERY_TIMEOUT = "FailedDiscoveryCheck ... dial tcp <pod-ip>:8089: i/o timeout"

# Keyed by APIService name or webhook name.
CONSEQUENCES: dict[str, Consequence] = {
    # linkerd-viz.md §4.7, §5.1 (check 7 is a warning) and the seed write-up.
    "v1alpha1.tap.linkerd.io": Consequence(
        "The viz dashboard's Tap and Top fail with `Websocket close error [1011: Internal Error] : HTTP "
        "error, status Code [503] (unexpected API response: service unavailable)`, `linkerd viz tap` fails "
        "with `HTTP error, status Code [503]`, and `linkerd viz check` only warns `‼ tap API service is "
        "running`{evidence}, so its run can still end "
        "with `Status check results are √`.",
        _LINKERD_TROUBLESHOOTING + "#l5d-tap-api",
    ),
    # linkerd-viz.md §1.4: failurePolicy Ignore, 10 s timeout.
    "linkerd-proxy-injector.linkerd.io": Consequence(
        "Each pod creation waits up to {timeout} s and then goes ahead without the Linkerd proxy: new pods "
        "silently start outside the mesh (no mTLS, no metrics, invisible in the dashboard).",
        _LINKERD_TROUBLESHOOTING,
    ),
    "tap-injector.linkerd.io": Consequence(
        "Each pod creation waits up to {timeout} s and then goes ahead without tap's configuration: Tap "
        "and Top cannot watch the new pods.",
        _LINKERD_TROUBLESHOOTING,
    ),
    "linkerd-sp-validator.linkerd.io": Consequence(
        "ServiceProfiles are no longer validated: a broken one is accepted silently after a {timeout} s wait.",
        _LINKERD_TROUBLESHOOTING,
    ),
    "linkerd-policy-validator.linkerd.io": Consequence(
        "Linkerd policy resources (Server, AuthorizationPolicy, HTTPRoute...) are no longer validated: a "
        "broken one is accepted silently after a {timeout} s wait.",
        _LINKERD_TROUBLESHOOTING,
    ),
    # control-plane-reachability.md §9 (metrics-server#1024, #543).
    "v1beta1.metrics.k8s.io": Consequence(
        "`kubectl top` and every HorizontalPodAutoscaler on CPU or memory fail with `the server is currently "
        "unable to handle the request (get pods.metrics.k8s.io)`, and API discovery warns `unable to retrieve "
        "the complete list of server APIs: metrics.k8s.io/v1beta1`.",
        "https://github.com/kubernetes-sigs/metrics-server#requirements",
    ),
    "v1beta1.external.metrics.k8s.io": Consequence(
        "HorizontalPodAutoscalers on external metrics (KEDA ScaledObjects included) stop scaling, and API "
        "discovery warns `unable to retrieve the complete list of server APIs: external.metrics.k8s.io/v1beta1`."
    ),
    "v1beta1.custom.metrics.k8s.io": Consequence(
        "HorizontalPodAutoscalers on custom metrics stop scaling, and API discovery warns `unable to retrieve "
        "the complete list of server APIs: custom.metrics.k8s.io/v1beta1`."
    ),
    # hashicorp/vault-helm values.yaml injector.failurePolicy (Ignore); the seed opened 8080 for it.
    "vault.hashicorp.com": Consequence(
        'Pods annotated `vault.hashicorp.com/agent-inject: "true"` wait up to {timeout} s and then start '
        "without the Vault agent, so they get no secrets.",
        "https://developer.hashicorp.com/vault/docs/platform/k8s/injector",
    ),
}


def consequence(
    kind: CallKind,
    name: str,
    failure_policy: str | None,
    timeout: int | None,
    operations: str | None,
    service: str,
    discovery_timeout: bool = True,
) -> Consequence:
    """What breaks when the call fails. `discovery_timeout`: the failure is the aggregator's discovery check
    timing out (the form the recorded tap warning quotes)."""
    timeout = timeout or 10
    known = CONSEQUENCES.get(name)
    if known:
        evidence = f" ({TAP_DISCOVERY_TIMEOUT})" if discovery_timeout else ""
        return Consequence(known.message.format(timeout=timeout, evidence=evidence), known.hint_url)
    what = operations or "the requests it matches"
    if kind == "APIService":
        group = name.split(".", 1)[1] if "." in name else name
        return Consequence(
            f"Every request to the {group} API fails with `the server is currently unable to handle the "
            f"request` (HTTP 503), and API discovery warns `unable to retrieve the complete list of server APIs`: "
            "`helm install/upgrade` and Terraform's kubernetes/helm providers can fail on it, and deleting any "
            "namespace hangs in Terminating (NamespaceDeletionDiscoveryFailure) until the APIService is Available "
            "or removed."
        )
    if kind == "CRDConversion":
        return Consequence(
            f"Reading or writing {name} objects in any version other than the stored one fails with "
            "`conversion webhook for ... failed`."
        )
    if failure_policy == "Ignore":
        verb = "mutations" if kind == "MutatingWebhook" else "validation"
        return Consequence(
            f"Each matching request ({what}) waits up to {timeout} s and then goes ahead without this webhook "
            f"(failurePolicy: Ignore): its {verb} silently stop."
        )
    return Consequence(
        f"Every matching request ({what}) is rejected after {timeout} s with `Internal error occurred: failed "
        f'calling webhook "{name}": failed to call webhook: Post "https://{service}.svc:443/...": context '
        "deadline exceeded`."
    )
