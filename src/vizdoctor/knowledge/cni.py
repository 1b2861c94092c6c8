"""Pod networks, policy enforcers and the kubelet port: the facts the pod-network, NetworkPolicy and
kubelet-port checks decide with.

Sources (read 2026-11):
- Calico: operator.tigera.io/v1 Installation `spec.calicoNetwork.ipPools[].encapsulation` is one of IPIP,
  VXLAN, IPIPCrossSubnet, VXLANCrossSubnet, None (docs.tigera.io installation API reference,
  EncapsulationType; projectcalico/calico manifests/custom-resources.yaml uses VXLANCrossSubnet);
  `spec.cni.type: AmazonVPC` is Calico for policy only on the AWS VPC CNI. Manifest installs configure the
  first pool with the calico-node env CALICO_IPV4POOL_IPIP / CALICO_IPV4POOL_VXLAN (Always, CrossSubnet,
  Never); CALICO_NETWORKING_BACKEND=none is the policy-only manifest.
- Cilium: encapsulation (VXLAN, or Geneve) is the default datapath; `routingMode: native` (Helm, >= 1.14;
  `tunnel: disabled` before) turns it off; `ipam.mode: eni` / `eni.enabled: true` give pods VPC addresses
  (docs.cilium.io network/concepts/routing and ipam; cilium/cilium PR #27841 for routingMode/tunnel).
- Weave Net always routes pods over its own overlay (fastdp or sleeve); Antrea's `trafficEncapMode` is
  `encap` by default (`noEncap`, `hybrid`, `networkPolicyOnly` do not tunnel); flannel's default backend
  is vxlan.
- The EKS control plane reaches pods through cross-account ENIs in the cluster's VPC subnets, so it can
  dial only VPC-routable pod IPs (shared/knowledge/control-plane-reachability.md §11, linkerd/linkerd2#5576
  `Address is not allowed` on EKS + Calico; cert-manager's EKS guidance: hostNetwork + securePort 10260).
- Policy enforcers: the EKS VPC CNI enforces NetworkPolicy only with `enableNetworkPolicy` (aws-node's
  `aws-network-policy-agent` container, `--enable-network-policy=true`); Calico (also policy-only), Cilium,
  Antrea, Weave (weave-npc), kube-router enforce it; GKE Dataplane V2 runs `anetd`.
- The kubelet serves on 10250 on every node (kubelet --port default); a hostNetwork pod or a Fargate pod
  (the pod shares the micro-VM with its kubelet) cannot serve another server there.
"""

from __future__ import annotations

from dataclasses import dataclass

KUBELET_PORT = 10250
# The apiserver's own request timeout; a webhook timeout this long leaves the client nothing (v1beta1 default)
APISERVER_REQUEST_TIMEOUT = 30
WEBHOOK_TIMEOUT_DEFAULT_V1 = 10
# A port to move a webhook to when it must use the host network (cert-manager's EKS guidance uses 10260)
FREE_HOST_PORT = 10260
# Charts whose webhook / APIService pods must run meshed, so they cannot move to the host network
# (linkerd/linkerd2#11698: tap on EKS with Calico; control-plane-reachability.md §11 `Address is not allowed`)
NO_HOST_NETWORK_CHARTS = ("linkerd-viz", "linkerd-control-plane")


@dataclass(frozen=True)
class CniAgent:
    """A DaemonSet that tells which pod network (or policy enforcer) a cluster runs."""

    name: str  # how the output names it
    daemonsets: tuple[str, ...]  # DaemonSet names
    containers: tuple[str, ...] = ()  # container names that identify it (when the DaemonSet name differs)
    # overlay unless configured otherwise: "yes", "no" (pods get VPC addresses), "depends" (read settings)
    overlay: str = "depends"
    enforces_policy: bool = True


AGENTS: tuple[CniAgent, ...] = (
    CniAgent("Calico", ("calico-node",), ("calico-node",)),
    CniAgent("Cilium", ("cilium",), ("cilium-agent",)),
    CniAgent("Weave Net", ("weave-net",), ("weave", "weave-npc"), overlay="yes"),
    CniAgent("Antrea", ("antrea-agent",), ("antrea-agent",)),
    CniAgent("flannel", ("kube-flannel-ds", "kube-flannel"), ("kube-flannel",), enforces_policy=False),
    CniAgent("kube-router", ("kube-router",), ("kube-router",), overlay="no"),
    CniAgent("GKE Dataplane V2", ("anetd",), ("cilium-agent",), overlay="no"),
    CniAgent("AWS VPC CNI", ("aws-node",), ("aws-node",), overlay="no", enforces_policy=False),
)

# Calico encapsulation values that tunnel pod traffic (Installation) and calico-node env values that do.
CALICO_OVERLAY_ENCAPSULATION = ("IPIP", "VXLAN", "IPIPCrossSubnet", "VXLANCrossSubnet")
CALICO_ENV_POOL_MODES = ("CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN")
CALICO_ENV_OVERLAY_VALUES = ("always", "crosssubnet")
CALICO_POLICY_ONLY_CNI = "AmazonVPC"
# Cilium settings: as Helm values (dotted) and as cilium-config ConfigMap keys
CILIUM_NATIVE_VALUES = {"routingMode": "native", "tunnel": "disabled"}
CILIUM_CONFIG_NATIVE = {"routing-mode": "native", "tunnel": "disabled"}
CILIUM_ENI_VALUES = {"ipam.mode": "eni", "eni.enabled": "true"}
CILIUM_CONFIG_ENI = {"ipam": "eni", "enable-endpoint-routes": None}
CILIUM_CHAINED_AWS = ("aws-cni",)  # cni.chainingMode: pods keep VPC addresses
ANTREA_NO_TUNNEL = ("noEncap", "hybrid", "networkPolicyOnly")
# The VPC CNI's NetworkPolicy agent (EKS add-on enableNetworkPolicy)
VPC_CNI_POLICY_AGENT = "aws-network-policy-agent"
VPC_CNI_POLICY_FLAG = "--enable-network-policy=true"

# Cilium entities (CiliumNetworkPolicy fromEntities) and whether they hold the kube-apiserver's source,
# per platform. `kube-apiserver` and `all` always do; `world` is any address outside the cluster's nodes
# and pods, which the EKS ENIs and GKE's master range are; on kubeadm the apiserver is a node's host network.
# (docs.cilium.io security/policy/language "Entities based")
CILIUM_ENTITIES_FOR = {
    "eks": ("kube-apiserver", "all", "world"),
    "gke": ("kube-apiserver", "all", "world"),
    "kubeadm": ("kube-apiserver", "all", "cluster", "host", "remote-node"),
}
CILIUM_ENTITIES_ALWAYS = ("kube-apiserver", "all")

# Where the kube-apiserver's connections come from, per platform, for the output.
APISERVER_SOURCE = {
    "eks": "the EKS control plane's cross-account ENIs, addresses in the cluster's VPC subnets",
    "gke": "the GKE control-plane range (master_ipv4_cidr_block), or the konnectivity-agent pods",
    "kubeadm": "the control-plane nodes' host network",
}

# Linkerd default inbound policies (linkerd.io/2/reference/authorization-policy "Default policies"):
# the kube-apiserver is an unmeshed client, so only the *-unauthenticated ones (and audit) admit it.
LINKERD_POLICY_ANNOTATION = "config.linkerd.io/default-inbound-policy"
LINKERD_POLICY_ENV = "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY"
LINKERD_SKIP_INBOUND = "config.linkerd.io/skip-inbound-ports"
LINKERD_ADMITS_UNAUTHENTICATED = {
    "all-unauthenticated": True,
    "audit": True,
    # cluster-unauthenticated admits clients in the cluster networks (clusterNetworks, by default the
    # private ranges); whether the control plane's address is one of them is not in the inputs
    "cluster-unauthenticated": None,
    "all-authenticated": False,
    "cluster-authenticated": False,
    "deny": False,
}
LINKERD_DEFAULT_POLICY = "all-unauthenticated"  # proxy.defaultInboundPolicy's default
