"""Control-plane paths of well-known Helm charts, for Terraform `helm_release` whose chart is not on disk.

When a Terraform root installs an add-on with `helm_release` and the chart cannot be rendered locally
(remote repository, no cache), these entries say which calls the kube-apiserver will make to it: the
object, the Service, the pod port, the pod labels (for Fargate profile selection), and the values that
move the port or put the pod on the host network. Every path built from them is marked *inferred* with
the source below; render the chart (`chart = "./charts/x"`, or a chart folder in the scan) for the exact one.

Sources: the templates of each chart at the commit named in `source` (the same charts, rendered with their
default values, are in the project's shared corpus, whose README lists the 33 paths these rows reproduce).
Service names use `{release}` (helm_release.name) and `{fullname}` (Helm's usual fullname: the release
name when it contains the chart name, else `<release>-<chart>`; `fullnameOverride` wins).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vizdoctor.model import CallKind


@dataclass(frozen=True)
class ChartPath:
    kind: CallKind
    name: str  # webhook name or APIService name
    configuration: str  # the webhook configuration (or APIService) that declares it
    service: str  # template: {release}, {fullname}
    pod_port: int
    labels: dict[str, str]  # pod labels (templates allowed)
    port_value: str | None = None  # values key (dotted) that sets the pod port
    host_network_value: str | None = None  # values key that turns on hostNetwork
    failure_policy: str | None = None  # webhooks: as the chart sets it
    runtime: bool = False  # registered by the add-on at start, not rendered by the chart
    # Default pod port by chart version: (first version, first version no longer, port); None: open end.
    # An empty tuple: `pod_port` for every version.
    port_by_version: tuple[tuple[str | None, str | None, int], ...] = ()
    # Chart versions that render this path at all (same form, port ignored); empty: every version.
    present_in: tuple[tuple[str | None, str | None], ...] = ()
    enabled_value: str | None = None  # values key that turns the path off when false
    service_port: int = 443


@dataclass(frozen=True)
class ChartEntry:
    chart: str  # helm_release.chart (the name in the repository)
    source: str  # repository @ commit, chart path: where the facts below were read
    versions: str  # the chart versions the facts were checked for, as text for the output
    paths: tuple[ChartPath, ...]
    fixed_namespace: str | None = None  # charts that ignore the release namespace
    aliases: tuple[str, ...] = field(default_factory=tuple)


CHARTS: tuple[ChartEntry, ...] = (
    ChartEntry(
        "linkerd-viz",
        "linkerd/linkerd2@b24cd405 viz/charts/linkerd-viz/templates/tap.yaml, tap-injector.yaml",
        "stable 30.x and edge charts (tap's apiserver port 8089 and the tap-injector's 8443 are fixed in the "
        "templates)",
        (
            ChartPath(
                "APIService",
                "v1alpha1.tap.linkerd.io",
                "v1alpha1.tap.linkerd.io",
                "tap",
                8089,
                {"linkerd.io/extension": "viz", "component": "tap"},
            ),
            ChartPath(
                "MutatingWebhook",
                "tap-injector.linkerd.io",
                "linkerd-tap-injector-webhook-config",
                "tap-injector",
                8443,
                {"linkerd.io/extension": "viz", "component": "tap-injector"},
                failure_policy="Ignore",
            ),
        ),
    ),
    ChartEntry(
        "linkerd-control-plane",
        "linkerd/linkerd2@b24cd405 charts/linkerd-control-plane/templates/destination.yaml, proxy-injector.yaml",
        "stable 1.x and edge charts",
        (
            ChartPath(
                "ValidatingWebhook",
                "linkerd-sp-validator.linkerd.io",
                "linkerd-sp-validator-webhook-config",
                "linkerd-sp-validator",
                8443,
                {"linkerd.io/control-plane-component": "destination"},
            ),
            ChartPath(
                "ValidatingWebhook",
                "linkerd-policy-validator.linkerd.io",
                "linkerd-policy-validator-webhook-config",
                "linkerd-policy-validator",
                9443,
                {"linkerd.io/control-plane-component": "destination"},
            ),
            ChartPath(
                "MutatingWebhook",
                "linkerd-proxy-injector.linkerd.io",
                "linkerd-proxy-injector-webhook-config",
                "linkerd-proxy-injector",
                8443,
                {"linkerd.io/control-plane-component": "proxy-injector"},
            ),
        ),
    ),
    ChartEntry(
        "cert-manager",
        "cert-manager/cert-manager@2d0d7f7f deploy/charts/cert-manager/templates/webhook-deployment.yaml "
        "(--secure-port={{ .Values.webhook.securePort }}, default 10250)",
        "the chart at that commit (v1.x); set webhook.securePort to move the port",
        (
            ChartPath(
                "ValidatingWebhook",
                "webhook.cert-manager.io",
                "{fullname}-webhook",
                "{fullname}-webhook",
                10250,
                {"app.kubernetes.io/name": "webhook", "app.kubernetes.io/instance": "{release}"},
                port_value="webhook.securePort",
                host_network_value="webhook.hostNetwork",
            ),
            ChartPath(
                "MutatingWebhook",
                "webhook.cert-manager.io",
                "{fullname}-webhook",
                "{fullname}-webhook",
                10250,
                {"app.kubernetes.io/name": "webhook", "app.kubernetes.io/instance": "{release}"},
                port_value="webhook.securePort",
                host_network_value="webhook.hostNetwork",
            ),
        ),
    ),
    ChartEntry(
        "metrics-server",
        "kubernetes-sigs/metrics-server@5ed5d3a2 charts/metrics-server/templates/deployment.yaml "
        "(--secure-port={{ .Values.containerPort }}), apiservice.yaml; values.yaml per tag: containerPort 4443 "
        "up to chart 3.9.x, 10250 from 3.10.0",
        "3.x (4443 before chart 3.10.0, 10250 from it)",
        (
            ChartPath(
                "APIService",
                "v1beta1.metrics.k8s.io",
                "v1beta1.metrics.k8s.io",
                "{fullname}",
                10250,
                {"app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": "{release}"},
                port_value="containerPort",
                host_network_value="hostNetwork.enabled",
                port_by_version=((None, "3.10.0", 4443), ("3.10.0", None, 10250)),
            ),
        ),
    ),
    ChartEntry(
        "vault",
        "hashicorp/vault-helm@aa1c92e4 templates/injector-deployment.yaml (AGENT_INJECT_LISTEN "
        ":{{ .Values.injector.port }}, default 8080), injector-mutating-webhook.yaml",
        "0.x",
        (
            ChartPath(
                "MutatingWebhook",
                "vault.hashicorp.com",
                "{fullname}-agent-injector-cfg",
                "{fullname}-agent-injector-svc",
                8080,
                {
                    "app.kubernetes.io/name": "vault-agent-injector",
                    "app.kubernetes.io/instance": "{release}",
                    "component": "webhook",
                },
                port_value="injector.port",
                host_network_value="injector.hostNetwork",
                failure_policy="Ignore",
            ),
        ),
    ),
    ChartEntry(
        "gatekeeper",
        "open-policy-agent/gatekeeper@dd8507eb charts/gatekeeper/templates/gatekeeper-controller-manager-"
        "deployment.yaml (--port={{ .Values.controllerManager.port }}, default 8443)",
        "3.x",
        (
            ChartPath(
                "ValidatingWebhook",
                "validation.gatekeeper.sh",
                "gatekeeper-validating-webhook-configuration",
                "gatekeeper-webhook-service",
                8443,
                {"control-plane": "controller-manager", "gatekeeper.sh/operation": "webhook"},
                port_value="controllerManager.port",
                host_network_value="controllerManager.hostNetwork",
                failure_policy="Ignore",
            ),
            ChartPath(
                "MutatingWebhook",
                "mutation.gatekeeper.sh",
                "gatekeeper-mutating-webhook-configuration",
                "gatekeeper-webhook-service",
                8443,
                {"control-plane": "controller-manager", "gatekeeper.sh/operation": "webhook"},
                port_value="controllerManager.port",
                host_network_value="controllerManager.hostNetwork",
                failure_policy="Ignore",
            ),
        ),
    ),
    ChartEntry(
        "ingress-nginx",
        "kubernetes/ingress-nginx@dbb11b92 charts/ingress-nginx/templates/controller-service-webhook.yaml "
        "(targetPort webhook = controller.admissionWebhooks.port, default 8443)",
        "4.x",
        (
            ChartPath(
                "ValidatingWebhook",
                "validate.nginx.ingress.kubernetes.io",
                "{fullname}-admission",
                "{fullname}-controller-admission",
                8443,
                {
                    "app.kubernetes.io/name": "ingress-nginx",
                    "app.kubernetes.io/instance": "{release}",
                    "app.kubernetes.io/component": "controller",
                },
                port_value="controller.admissionWebhooks.port",
                host_network_value="controller.hostNetwork",
            ),
        ),
    ),
    ChartEntry(
        "keda",
        "kedacore/charts@1444d00d keda/templates/metrics-server/apiservice.yaml, webhooks/validatingconfiguration.yaml",
        "2.x",
        (
            ChartPath(
                "APIService",
                "v1beta1.external.metrics.k8s.io",
                "v1beta1.external.metrics.k8s.io",
                "keda-operator-metrics-apiserver",
                6443,
                {"app": "keda-operator-metrics-apiserver"},
            ),
            ChartPath(
                "ValidatingWebhook",
                "vscaledobject.kb.io",
                "keda-admission",
                "keda-admission-webhooks",
                9443,
                {"app": "keda-admission-webhooks"},
            ),
        ),
    ),
    ChartEntry(
        "aws-load-balancer-controller",
        "kubernetes-sigs/aws-load-balancer-controller@225f4456 helm/aws-load-balancer-controller/templates/"
        "webhook.yaml, deployment.yaml (webhook-server port 9443)",
        "1.x",
        (
            ChartPath(
                "MutatingWebhook",
                "mpod.elbv2.k8s.aws",
                "aws-load-balancer-webhook",
                "aws-load-balancer-webhook-service",
                9443,
                {
                    "app.kubernetes.io/name": "aws-load-balancer-controller",
                    "app.kubernetes.io/instance": "{release}",
                },
                host_network_value="hostNetwork",
            ),
            ChartPath(
                "ValidatingWebhook",
                "vingress.elbv2.k8s.aws",
                "aws-load-balancer-webhook",
                "aws-load-balancer-webhook-service",
                9443,
                {
                    "app.kubernetes.io/name": "aws-load-balancer-controller",
                    "app.kubernetes.io/instance": "{release}",
                },
                host_network_value="hostNetwork",
            ),
        ),
    ),
    ChartEntry(
        "external-secrets",
        "external-secrets/external-secrets@cc5bfbc2 deploy/charts/external-secrets/templates/webhook-deployment.yaml "
        "(--port={{ .Values.webhook.port }}, default 10250)",
        "0.x",
        (
            ChartPath(
                "ValidatingWebhook",
                "validate.externalsecret.external-secrets.io",
                "externalsecret-validate",
                "{fullname}-webhook",
                10250,
                {
                    "app.kubernetes.io/name": "external-secrets-webhook",
                    "app.kubernetes.io/instance": "{release}",
                },
                port_value="webhook.port",
                host_network_value="webhook.hostNetwork",
            ),
        ),
    ),
    ChartEntry(
        "prometheus-adapter",
        "prometheus-community/helm-charts@cf408a29 charts/prometheus-adapter/templates/custom-metrics-apiservice.yaml"
        ", deployment.yaml (--secure-port={{ .Values.listenPort }}, default 6443)",
        "4.x",
        (
            ChartPath(
                "APIService",
                "v1beta1.custom.metrics.k8s.io",
                "v1beta1.custom.metrics.k8s.io",
                "{fullname}",
                6443,
                {"app.kubernetes.io/name": "prometheus-adapter", "app.kubernetes.io/instance": "{release}"},
                port_value="listenPort",
                host_network_value="hostNetwork.enabled",
            ),
        ),
    ),
    ChartEntry(
        "istiod",
        "istio/istio manifests/charts/istio-control/istio-discovery/templates/service.yaml (443 -> 15017), "
        "mutatingwebhook.yaml, validatingwebhookconfiguration.yaml",
        "1.x, default revision (a revision adds `-<revision>` to the Service name)",
        (
            ChartPath(
                "MutatingWebhook",
                "rev.namespace.sidecar-injector.istio.io",
                "istio-sidecar-injector",
                "istiod",
                15017,
                {"app": "istiod", "istio": "pilot"},
            ),
            ChartPath(
                "ValidatingWebhook",
                "rev.validation.istio.io",
                "istio-validator-{release}",
                "istiod",
                15017,
                {"app": "istiod", "istio": "pilot"},
                failure_policy="Ignore",  # istiod switches it to Fail once it serves (webhook controller)
            ),
        ),
    ),
    ChartEntry(
        "karpenter",
        "aws/karpenter-provider-aws charts/karpenter/values.yaml and templates/ per tag: webhooks always on up "
        "to v0.32, webhook.enabled false in v0.33-v0.37, true in v1.0.x (CRD conversion), no webhook from v1.1; "
        "Service port = webhook.port (8443)",
        "v0.x-v1.0.x (no webhook from v1.1)",
        (
            ChartPath(
                "ValidatingWebhook",
                "validation.webhook.karpenter.sh",
                "validation.webhook.karpenter.sh",
                "{fullname}",
                8443,
                {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "{release}"},
                port_value="webhook.port",
                host_network_value="hostNetwork",
                present_in=((None, "0.33.0"),),
                service_port=8443,
            ),
            ChartPath(
                "CRDConversion",
                "nodepools.karpenter.sh",
                "nodepools.karpenter.sh",
                "{fullname}",
                8443,
                {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "{release}"},
                port_value="webhook.port",
                host_network_value="hostNetwork",
                present_in=(("1.0.0", "1.1.0"),),
                enabled_value="webhook.enabled",
                service_port=8443,
            ),
        ),
    ),
    ChartEntry(
        "kyverno",
        "kyverno/kyverno@111e07bb charts/kyverno/templates/admission-controller/service.yaml (443 -> https 9443); "
        "the webhooks are registered by the admission controller at start",
        "3.x",
        (
            ChartPath(
                "ValidatingWebhook",
                "validate.kyverno.svc-fail",
                "kyverno-resource-validating-webhook-cfg",
                "kyverno-svc",
                9443,
                {
                    "app.kubernetes.io/component": "admission-controller",
                    "app.kubernetes.io/instance": "{release}",
                },
                failure_policy="Fail",
                runtime=True,
            ),
        ),
    ),
)


def _v(text: str | None) -> tuple[int, int, int] | None:
    if text is None:
        return None
    parts = text.lstrip("v").split("-", 1)[0].split(".")
    try:
        nums = [int(p) for p in parts[:3]]
    except ValueError:
        return None
    padded = [*nums, 0, 0, 0]
    return padded[0], padded[1], padded[2]


def _within(version: str, lo: str | None, hi: str | None) -> bool | None:
    v = _v(version)
    if v is None:
        return None
    low, high = _v(lo), _v(hi)
    return (low is None or v >= low) and (high is None or v < high)


def default_port(path: ChartPath, version: str | None) -> tuple[int, str | None]:
    """The chart's default pod port at `version` (None: unpinned, Helm installs the newest), and a note when
    the version decides it."""
    if not path.port_by_version:
        return path.pod_port, None
    if version is None:
        lo, _, port = path.port_by_version[-1]
        return port, f"version not pinned: the newest chart's default ({port}, chart {lo}+) is assumed"
    for lo, hi, port in path.port_by_version:
        if _within(version, lo, hi):
            return port, f"chart {version}: default port {port}"
    lo, _, port = path.port_by_version[-1]
    return port, f"chart version {version} not understood: the newest default ({port}) is assumed"


def present(path: ChartPath, version: str | None) -> bool | None:
    """Whether the chart at `version` renders this path (None: cannot tell, version not pinned)."""
    if not path.present_in:
        return True
    if version is None:
        return None
    return any(_within(version, lo, hi) for lo, hi in path.present_in)


def find_chart(chart: str) -> ChartEntry | None:
    """The entry for helm_release.chart: a name, `repo/name`, an OCI reference or a .tgz URL."""
    base = chart.rstrip("/").rsplit("/", 1)[-1]
    base = base.removesuffix(".tgz")
    for e in CHARTS:
        if (
            base == e.chart
            or base in e.aliases
            or (base.startswith(e.chart + "-") and base[len(e.chart) + 1 :][:1].isdigit())
        ):
            return e
    return None


def fullname(release: str, chart: str, values: dict[str, object]) -> str:
    """Helm's conventional `<chart>.fullname` helper (helm create's _helpers.tpl)."""
    override = values.get("fullnameOverride")
    if isinstance(override, str) and override:
        return override[:63].rstrip("-")
    name = values.get("nameOverride")
    name = name if isinstance(name, str) and name else chart
    return (release if name in release else f"{release}-{name}")[:63].rstrip("-")
