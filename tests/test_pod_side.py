"""The pod side of control-plane paths, from manifests and Terraform (`scan`): overlay pod networks on EKS,
NetworkPolicies, the kubelet's port, mesh policies, webhook timeouts. Inputs are the seed's EKS root and
manifests plus realistic CNI installs and policies (tests/fixtures/pod_side, each file says where it is
modelled from)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import yaml

from conftest import ROOT
from vizdoctor import scan
from vizdoctor.findings import Finding
from vizdoctor.report import Report

SEED = ROOT / "examples" / "seed-eks"
FIX = ROOT / "tests" / "fixtures" / "pod_side"
TAP = "APIService v1alpha1.tap.linkerd.io"


def run(
    tmp_path: Path, *fixtures: str, extra: dict[str, str] | None = None, terraform: bool = True
) -> Report:
    root = tmp_path / "in"
    shutil.copytree(SEED / "manifests", root / "manifests")
    if terraform:
        shutil.copytree(SEED / "terraform", root / "terraform")
    for name in fixtures:
        shutil.copy(FIX / name, root / "manifests" / name)
    for name, text in (extra or {}).items():
        (root / "manifests" / name).write_text(textwrap.dedent(text))
    report = scan([str(root)])
    assert not report.inventory.problems, report.inventory.problems
    return report


def by(report: Report, check: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check]


def titled(findings: list[Finding], start: str) -> Finding:
    hits = [f for f in findings if f.title.startswith(start)]
    assert len(hits) == 1, [f.title for f in findings]
    return hits[0]


# -- pod-network-unreachable ---------------------------------------------------------------------------------


def test_calico_vxlan_on_eks_makes_webhooks_the_security_group_opens_unreachable(tmp_path: Path) -> None:
    report = run(tmp_path, "calico-vxlan.yaml")
    found = by(report, "pod-network-unreachable")
    # the proxy injector's 8443 is opened by the module's recommended rules: still unreachable on the overlay
    injector = titled(found, "MutatingWebhook linkerd-proxy-injector.linkerd.io")
    assert injector.severity == "warning"  # failurePolicy: Ignore in the seed
    assert "CALICO_IPV4POOL_VXLAN=Always" in injector.message
    assert not [f for f in by(report, "control-plane-unreachable") if "proxy-injector" in f.title]
    assert "module.eks" in injector.message
    tap = titled(found, TAP)
    assert tap.severity == "error"
    # tap-injector is failurePolicy: Ignore
    assert titled(found, "MutatingWebhook tap-injector.linkerd.io").severity == "warning"
    assert len(found) == len([p for p in report.paths if p.target_port is not None and p.workloads])


def test_hostnetwork_fix_uses_the_charts_own_values(tmp_path: Path) -> None:
    report = run(tmp_path, "calico-vxlan.yaml", "cert-manager-webhook.yaml")
    # cert-manager's pods already use hostNetwork: they have a VPC address
    assert not [f for f in by(report, "pod-network-unreachable") if "cert-manager" in f.title]
    nginx = titled(
        by(report, "pod-network-unreachable"), "ValidatingWebhook validate.nginx.ingress.kubernetes.io"
    )
    assert nginx.fix is not None and nginx.fix.manifest is not None
    values = yaml.safe_load(nginx.fix.manifest)
    assert values == {"controller": {"hostNetwork": True, "admissionWebhooks": {"port": 10260}}}
    from vizdoctor.remediation.pod_network import host_network_values

    values, _ = host_network_values("webhook.cert-manager.io", "cert-manager-webhook")
    assert yaml.safe_load(values) == {"webhook": {"hostNetwork": True, "securePort": 10260}}


def test_operator_installation_with_vxlan_pool_is_an_overlay(tmp_path: Path) -> None:
    report = run(tmp_path, "calico-operator-vxlan.yaml")
    tap = titled(by(report, "pod-network-unreachable"), TAP)
    assert "VXLANCrossSubnet" in tap.message


def test_calico_for_policy_only_keeps_vpc_addresses(tmp_path: Path) -> None:
    report = run(tmp_path, "calico-operator-policy-only.yaml")
    assert by(report, "pod-network-unreachable") == []


def test_cilium_in_tunnel_mode_is_an_overlay_and_eni_mode_is_not(tmp_path: Path) -> None:
    report = run(tmp_path, "cilium.yaml")
    assert "routing-mode" not in titled(by(report, "pod-network-unreachable"), TAP).title
    assert "encapsulation" in titled(by(report, "pod-network-unreachable"), TAP).message
    eni = (FIX / "cilium.yaml").read_text().replace("ipam: cluster-pool", "ipam: eni")
    report = run(tmp_path / "eni", extra={"cilium.yaml": eni})
    assert by(report, "pod-network-unreachable") == []


def test_calico_without_its_pool_settings_is_unknown_not_open(tmp_path: Path) -> None:
    ds = (FIX / "calico-vxlan.yaml").read_text()
    ds = ds.replace('value: "Always"', 'value: "Never"')
    report = run(tmp_path, extra={"calico.yaml": ds})
    found = by(report, "pod-network-unreachable")
    assert found and all(f.severity == "warning" and "[unknown]" in f.title for f in found)


def test_no_overlay_finding_without_an_eks_cluster(tmp_path: Path) -> None:
    report = run(tmp_path, "calico-vxlan.yaml", terraform=False)
    assert by(report, "pod-network-unreachable") == []


# -- network-policy-blocks-apiserver -------------------------------------------------------------------------


CALICO_POLICY_ONLY = "calico-operator-policy-only.yaml"


def test_default_deny_in_linkerd_viz_blocks_tap_when_enforced(tmp_path: Path) -> None:
    report = run(tmp_path, "viz-default-deny.yaml", CALICO_POLICY_ONLY)
    found = by(report, "network-policy-blocks-apiserver")
    tap = titled(found, TAP)
    assert tap.severity == "error"
    assert "default-deny-ingress" in tap.message and "allow-linkerd" in tap.message
    assert "namespaceSelector or podSelector never matches" in tap.message
    assert tap.fix is not None and tap.fix.manifest is not None
    policy = yaml.safe_load(tap.fix.manifest)
    assert policy["kind"] == "NetworkPolicy" and policy["metadata"]["namespace"] == "linkerd-viz"
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8089}]
    assert policy["spec"]["podSelector"]["matchLabels"]["component"] == "tap"
    # the linkerd namespace has no policy: its webhooks are not flagged
    assert not [f for f in found if "linkerd/" in f.title]


def test_without_an_enforcer_a_deny_policy_is_unknown_never_blocked(tmp_path: Path) -> None:
    report = run(tmp_path, "viz-default-deny.yaml")
    tap = titled(by(report, "network-policy-blocks-apiserver"), TAP)
    assert tap.severity == "warning"
    assert "nothing in the inputs enforces NetworkPolicies" in tap.message


ALLOW_ALL_ON_8089 = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-apiserver, namespace: linkerd-viz}
spec:
  podSelector:
    matchLabels: {component: tap}
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
      ports: [{port: apiserver}]
"""


def test_an_ipblock_of_everything_on_the_named_port_admits_it(tmp_path: Path) -> None:
    report = run(
        tmp_path, "viz-default-deny.yaml", CALICO_POLICY_ONLY, extra={"allow.yaml": ALLOW_ALL_ON_8089}
    )
    assert not [f for f in by(report, "network-policy-blocks-apiserver") if f.title.startswith(TAP)]


def test_an_ipblock_of_a_private_range_is_unknown(tmp_path: Path) -> None:
    allow = ALLOW_ALL_ON_8089.replace("0.0.0.0/0", "10.0.0.0/16")
    report = run(tmp_path, "viz-default-deny.yaml", CALICO_POLICY_ONLY, extra={"allow.yaml": allow})
    tap = titled(by(report, "network-policy-blocks-apiserver"), TAP)
    assert tap.severity == "warning" and "ipBlock 10.0.0.0/16" in tap.message


def test_a_policy_on_other_ports_does_not_admit_it(tmp_path: Path) -> None:
    allow = ALLOW_ALL_ON_8089.replace("port: apiserver", "port: 9995")
    report = run(tmp_path, "viz-default-deny.yaml", CALICO_POLICY_ONLY, extra={"allow.yaml": allow})
    assert titled(by(report, "network-policy-blocks-apiserver"), TAP).severity == "error"


CILIUM_POLICY = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: tap, namespace: linkerd-viz}
spec:
  endpointSelector:
    matchLabels: {"k8s:component": tap}
  ingress:
    - fromEntities: [ENTITY]
      toPorts: [{ports: [{port: "8089", protocol: TCP}]}]
"""


def test_cilium_entities_per_platform(tmp_path: Path) -> None:
    ok = run(
        tmp_path / "a", "cilium.yaml", extra={"p.yaml": CILIUM_POLICY.replace("ENTITY", "kube-apiserver")}
    )
    assert not [f for f in by(ok, "network-policy-blocks-apiserver") if f.title.startswith(TAP)]
    # `cluster` is nodes and pods: the EKS control plane's ENIs are neither
    bad = run(tmp_path / "b", "cilium.yaml", extra={"p.yaml": CILIUM_POLICY.replace("ENTITY", "cluster")})
    tap = titled(by(bad, "network-policy-blocks-apiserver"), TAP)
    assert tap.severity == "error" and "Cilium" in tap.message
    assert yaml.safe_load(tap.fix.manifest if tap.fix else "")["kind"] == "CiliumNetworkPolicy"


CALICO_GNP = """
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata: {name: deny-viz}
spec:
  selector: linkerd.io/extension == 'viz'
  types: [Ingress]
  ingress:
    - action: Allow
      source: {namespaceSelector: "projectcalico.org/name == 'linkerd'"}
"""


def test_calico_global_policy_selecting_viz_pods(tmp_path: Path) -> None:
    report = run(tmp_path, CALICO_POLICY_ONLY, extra={"gnp.yaml": CALICO_GNP})
    tap = titled(by(report, "network-policy-blocks-apiserver"), TAP)
    assert tap.severity == "error" and "GlobalNetworkPolicy deny-viz" in tap.message
    allowed = CALICO_GNP + "    - action: Allow\n      destination: {ports: [8089]}\n"
    report = run(tmp_path / "2", CALICO_POLICY_ONLY, extra={"gnp.yaml": allowed})
    assert not [f for f in by(report, "network-policy-blocks-apiserver") if f.title.startswith(TAP)]


# -- kubelet-port-conflict -----------------------------------------------------------------------------------


def test_hostnetwork_webhook_on_10250_hits_the_kubelet(tmp_path: Path) -> None:
    report = run(tmp_path, "cert-manager-webhook.yaml")
    f = titled(by(report, "kubelet-port-conflict"), "ValidatingWebhook webhook.cert-manager.io")
    assert f.severity == "error" and "hostNetwork" in f.message
    assert "not cert-manager-webhook.cert-manager.svc" in f.message
    assert f.fix is not None and yaml.safe_load(f.fix.manifest or "") == {"webhook": {"securePort": 10260}}


def test_fargate_webhook_on_10250_hits_the_kubelet(tmp_path: Path) -> None:
    manifest = (FIX / "cert-manager-webhook.yaml").read_text().replace("      hostNetwork: true\n", "")
    report = run(tmp_path, extra={"cm.yaml": manifest})
    assert by(report, "kubelet-port-conflict") == []  # on EC2 nodes 10250 in a pod is fine
    tf = (
        (tmp_path / "in" / "terraform" / "main.tf")
        .read_text()
        .replace(
            "  node_security_group_additional_rules = {",
            '  fargate_profiles = {\n    cm = { selectors = [{ namespace = "cert-manager" }] }\n  }\n\n'
            "  node_security_group_additional_rules = {",
        )
    )
    (tmp_path / "in" / "terraform" / "main.tf").write_text(tf)
    report = scan([str(tmp_path / "in")])
    f = titled(by(report, "kubelet-port-conflict"), "ValidatingWebhook webhook.cert-manager.io")
    assert "Fargate" in f.message and 'fargate_profiles["cm"]' in f.message


# -- mesh-policy-blocks-apiserver ----------------------------------------------------------------------------


def _viz_namespace_policy(policy: str) -> str:
    """The viz namespace as the chart creates it (templates/namespace.yaml), with a default inbound policy."""
    return f"""
apiVersion: v1
kind: Namespace
metadata:
  name: linkerd-viz
  labels: {{linkerd.io/extension: viz}}
  annotations:
    linkerd.io/inject: enabled
    config.linkerd.io/default-inbound-policy: {policy}
"""


def test_linkerd_deny_namespace_refuses_the_apiserver(tmp_path: Path) -> None:
    viz = _viz_namespace_policy("deny")
    report = run(tmp_path, extra={"viz-ns.yaml": viz})
    tap = titled(by(report, "mesh-policy-blocks-apiserver"), TAP)
    assert tap.severity == "error" and "default inbound policy deny" in tap.message
    docs = list(yaml.safe_load_all(tap.fix.manifest if tap.fix else ""))
    assert [d["kind"] for d in docs] == ["Server", "AuthorizationPolicy", "NetworkAuthentication"]
    assert docs[0]["spec"]["port"] == 8089


TAP_POLICY = """
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {namespace: linkerd-viz, name: tap-api}
spec:
  podSelector:
    matchLabels: {linkerd.io/extension: viz, component: tap}
  port: apiserver
  proxyProtocol: TLS
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {namespace: linkerd-viz, name: tap}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: tap-api}
  requiredAuthenticationRefs:
  - {group: policy.linkerd.io, kind: NetworkAuthentication, name: kube-api-server}
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: {namespace: linkerd-viz, name: kube-api-server}
spec:
  networks: [{cidr: "0.0.0.0/0"}, {cidr: "::/0"}]
"""


def test_the_viz_charts_own_tap_policy_admits_the_apiserver_under_deny(tmp_path: Path) -> None:
    """linkerd/linkerd2 viz/charts/linkerd-viz/templates/tap-policy.yaml: Server tap-api + NetworkAuthentication."""
    report = run(
        tmp_path, extra={"viz-ns.yaml": _viz_namespace_policy("deny"), "tap-policy.yaml": TAP_POLICY}
    )
    assert not [f for f in by(report, "mesh-policy-blocks-apiserver") if f.title.startswith(TAP)]
    meshtls = TAP_POLICY.replace(
        "kind: NetworkAuthentication, name: kube-api-server", "kind: MeshTLSAuthentication, name: x"
    )
    report = run(tmp_path / "2", extra={"tap-policy.yaml": meshtls})
    tap = titled(by(report, "mesh-policy-blocks-apiserver"), TAP)
    assert "Server tap-api selects port 8089" in tap.message


def test_all_authenticated_refuses_and_cluster_unauthenticated_is_unknown(tmp_path: Path) -> None:
    report = run(tmp_path, extra={"viz-ns.yaml": _viz_namespace_policy("all-authenticated")})
    assert titled(by(report, "mesh-policy-blocks-apiserver"), TAP).severity == "error"
    report = run(tmp_path / "2", extra={"viz-ns.yaml": _viz_namespace_policy("cluster-unauthenticated")})
    assert titled(by(report, "mesh-policy-blocks-apiserver"), TAP).severity == "warning"
    report = run(tmp_path / "3", extra={"viz-ns.yaml": _viz_namespace_policy("all-unauthenticated")})
    assert by(report, "mesh-policy-blocks-apiserver") == []


ISTIO = """
apiVersion: v1
kind: Namespace
metadata:
  name: webhooks
  labels: {istio-injection: enabled}
---
apiVersion: v1
kind: Service
metadata: {name: policy-webhook, namespace: webhooks}
spec:
  selector: {app: policy-webhook}
  ports: [{port: 443, targetPort: 9443}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: policy-webhook, namespace: webhooks}
spec:
  selector: {matchLabels: {app: policy-webhook}}
  template:
    metadata: {labels: {app: policy-webhook}}
    spec:
      containers: [{name: server, image: example/webhook:1, ports: [{containerPort: 9443}]}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: policy-webhook}
webhooks:
- name: validate.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  clientConfig: {service: {name: policy-webhook, namespace: webhooks, path: /validate}}
  rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec:
  mtls: {mode: STRICT}
"""


def test_istio_mesh_wide_strict_refuses_the_apiserver_unless_the_port_is_permissive(tmp_path: Path) -> None:
    report = run(tmp_path, extra={"istio.yaml": ISTIO})
    f = titled(by(report, "mesh-policy-blocks-apiserver"), "ValidatingWebhook validate.example.com")
    assert f.severity == "error" and "STRICT" in f.message
    fix = yaml.safe_load(f.fix.manifest if f.fix else "")
    assert fix["spec"]["portLevelMtls"] == {9443: {"mode": "PERMISSIVE"}}
    exception = ISTIO + "---\n" + (f.fix.manifest if f.fix else "")
    report = run(tmp_path / "2", extra={"istio.yaml": exception})
    assert by(report, "mesh-policy-blocks-apiserver") == []


# -- webhook-timeout -----------------------------------------------------------------------------------------


def test_webhook_timeout_of_30_seconds_warns(tmp_path: Path) -> None:
    report = run(tmp_path, "cert-manager-webhook.yaml")
    f = titled(by(report, "webhook-timeout"), "ValidatingWebhook webhook.cert-manager.io")
    assert f.severity == "warning" and "requested timeout 30s" in f.message
    # the seed's Vault injector (vault-helm's injector.webhook.timeoutSeconds default) waits 30 s too
    vault = titled(by(report, "webhook-timeout"), "MutatingWebhook vault.hashicorp.com")
    assert "failurePolicy: Ignore" in vault.message
    assert len(by(report, "webhook-timeout")) == 2


def test_v1beta1_webhook_without_timeout_gets_30_seconds(tmp_path: Path) -> None:
    old = ISTIO.split("---")[3].replace(
        "admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1beta1"
    )
    report = run(tmp_path, extra={"old.yaml": old})
    f = titled(by(report, "webhook-timeout"), "ValidatingWebhook validate.example.com")
    assert "timeoutSeconds 30" in f.message


def test_text_output_never_shows_an_overlay_path_as_passed(tmp_path: Path) -> None:
    """The security group admits 8443, the Calico overlay does not: the path line is not √."""
    import io

    from vizdoctor.render.text import render

    report = run(tmp_path, "calico-vxlan.yaml")
    out = io.StringIO()
    render(report, out, color=False)
    text = out.getvalue()
    line = next(ln for ln in text.splitlines() if "validate.nginx.ingress.kubernetes.io ->" in ln)
    assert line.startswith("×"), line
    assert "but: pod IP on the Calico overlay" in text
    assert "\npod network and policies\n" in text


def test_tap_on_an_overlay_is_not_told_to_use_the_host_network(tmp_path: Path) -> None:
    report = run(tmp_path, "calico-vxlan.yaml")
    tap = titled(by(report, "pod-network-unreachable"), TAP)
    assert tap.fix is not None and tap.fix.manifest is None
    assert "must be meshed" in tap.hint and "hostNetwork is no option" in tap.hint


def test_the_vpc_cni_addon_with_enable_network_policy_enforces_policies(tmp_path: Path) -> None:
    """terraform-aws-eks cluster_addons: vpc-cni configuration_values = jsonencode({enableNetworkPolicy = "true"})."""
    addon = (
        "  cluster_addons = {\n"
        "    vpc-cni = {\n"
        "      most_recent          = true\n"
        '      configuration_values = jsonencode({ enableNetworkPolicy = "true" })\n'
        "    }\n"
        "  }\n\n"
        "  node_security_group_additional_rules = {"
    )
    root = tmp_path / "in"
    report = run(tmp_path, "viz-default-deny.yaml")
    assert titled(by(report, "network-policy-blocks-apiserver"), TAP).severity == "warning"
    tf = (
        (root / "terraform" / "main.tf")
        .read_text()
        .replace("  node_security_group_additional_rules = {", addon)
    )
    (root / "terraform" / "main.tf").write_text(tf)
    report = scan([str(root)])
    tap = titled(by(report, "network-policy-blocks-apiserver"), TAP)
    assert tap.severity == "error" and 'module.eks cluster_addons["vpc-cni"]' in tap.message
