"""Fixes for paths the pod network, a NetworkPolicy, the kubelet or a mesh policy breaks: Helm values,
NetworkPolicy / Linkerd / Istio YAML. Every text the new checks print as a fix or hint is built here."""

from __future__ import annotations

import yaml

from vizdoctor.knowledge import cni
from vizdoctor.knowledge.charts import CHARTS, ChartEntry, ChartPath


def chart_path(target_name: str, service: str) -> tuple[ChartEntry, ChartPath] | None:
    """The chart row of a webhook / APIService, by its name (the chart catalogue's facts)."""
    for entry in CHARTS:
        for p in entry.paths:
            if p.name == target_name and (service in p.service or "{" in p.service):
                return entry, p
    return None


def _workload_patch(port: int, host_network: bool) -> str:
    lines = ["# the webhook's Deployment (pod template) and Service:", "spec:", "  template:", "    spec:"]
    if host_network:
        lines += ["      hostNetwork: true", "      dnsPolicy: ClusterFirstWithHostNet"]
    lines += [
        "      containers:",
        "      - name: <webhook container>",
        f"        args: [..., --secure-port={port}]  # or the server's own port flag",
        "        ports:",
        f"        - containerPort: {port}",
        "# Service: targetPort " + str(port) + " (or the port's name)",
    ]
    return "\n".join(lines)


def host_network_values(target_name: str, service: str) -> tuple[str, str]:
    """(Helm values or manifest patch, note): run the pod on the host network on a port that is free
    there (never the kubelet's 10250)."""
    port = cni.FREE_HOST_PORT
    found = chart_path(target_name, service)
    if found and found[0].chart in cni.NO_HOST_NETWORK_CHARTS:
        return "", (
            f"{found[0].chart}'s pods must be meshed, so hostNetwork is no option for them (linkerd/linkerd2#11698): "
            "give the pods VPC addresses instead (the AWS VPC CNI, with Calico for policy only if you need it)"
        )
    if found and found[1].host_network_value:
        entry, p = found
        values: dict[str, object] = {}
        _set(values, p.host_network_value or "", True)
        if p.port_value:
            _set(values, p.port_value, port)
        return f"# {entry.chart} chart values\n" + yaml.safe_dump(values, sort_keys=False).rstrip(), (
            f"with hostNetwork the pod listens on the node's address, which the control plane reaches; port {port} "
            f"must be free on every node and allowed by the nodes' security group (never {cni.KUBELET_PORT}, the "
            "kubelet's)"
        )
    return _workload_patch(port, True), (
        "no chart value for this workload is known to vizdoctor: set hostNetwork on its pod template and move its "
        f"port to one that is free on the nodes ({port}; never {cni.KUBELET_PORT}, the kubelet's)"
    )


def move_port_values(target_name: str, service: str) -> str:
    port = cni.FREE_HOST_PORT
    found = chart_path(target_name, service)
    if found and found[1].port_value:
        entry, p = found
        values: dict[str, object] = {}
        _set(values, p.port_value or "", port)
        return f"# {entry.chart} chart values\n" + yaml.safe_dump(values, sort_keys=False).rstrip()
    return _workload_patch(port, False)


def _set(values: dict[str, object], dotted: str, value: object) -> None:
    node = values
    *parents, last = dotted.split(".")
    for key in parents:
        child = node.setdefault(key, {})
        assert isinstance(child, dict)
        node = child
    node[last] = value


def allow_apiserver_policy(
    namespace: str, name: str, labels: dict[str, str], port: int, platform: str | None, cilium: bool
) -> str:
    """The smallest policy that admits the kube-apiserver to the pods on one port."""
    match = "\n".join(f"      {k}: {_q(v)}" for k, v in sorted(labels.items())) or "      {}"
    if cilium:
        cmatch = "\n".join(f"      {k}: {_q(v)}" for k, v in sorted(labels.items())) or "      {}"
        return "\n".join(
            [
                "apiVersion: cilium.io/v2",
                "kind: CiliumNetworkPolicy",
                "metadata:",
                f"  name: allow-kube-apiserver-{name}",
                f"  namespace: {namespace}",
                "spec:",
                "  endpointSelector:",
                "    matchLabels:",
                cmatch,
                "  ingress:",
                "  - fromEntities: [kube-apiserver]",
                "    toPorts:",
                f'    - ports: [{{port: "{port}", protocol: TCP}}]',
            ]
        )
    cidr = {
        "eks": "<VPC CIDR>  # the EKS control plane's ENIs are in the cluster's VPC subnets",
        "gke": "<master_ipv4_cidr_block>  # the control-plane range of the private cluster",
        "kubeadm": "<control-plane node CIDR>  # the kube-apiserver uses its node's host network",
    }.get(platform or "", "<the kube-apiserver's source CIDR>")
    return "\n".join(
        [
            "apiVersion: networking.k8s.io/v1",
            "kind: NetworkPolicy",
            "metadata:",
            f"  name: allow-kube-apiserver-{name}",
            f"  namespace: {namespace}",
            "spec:",
            "  podSelector:",
            "    matchLabels:",
            match.replace("      ", "      ", 1),
            "  policyTypes: [Ingress]",
            "  ingress:",
            "  - from:",
            f"    - ipBlock: {{cidr: {cidr.split('  #')[0]}}}"
            + ("  #" + cidr.split("  #")[1] if "  #" in cidr else ""),
            "    ports:",
            f"    - {{protocol: TCP, port: {port}}}",
        ]
    )


def linkerd_allow(namespace: str, name: str, labels: dict[str, str], port: int) -> str:
    """A Server on the webhook port and an AuthorizationPolicy admitting unauthenticated clients to it."""
    match = "\n".join(f"      {k}: {_q(v)}" for k, v in sorted(labels.items())) or "      {}"
    return "\n".join(
        [
            "apiVersion: policy.linkerd.io/v1beta3",
            "kind: Server",
            "metadata:",
            f"  name: {name}-apiserver",
            f"  namespace: {namespace}",
            "spec:",
            "  podSelector:",
            "    matchLabels:",
            match,
            f"  port: {port}",
            "  proxyProtocol: opaque  # TLS from the kube-apiserver, not meshed",
            "---",
            "apiVersion: policy.linkerd.io/v1alpha1",
            "kind: AuthorizationPolicy",
            "metadata:",
            f"  name: {name}-apiserver",
            f"  namespace: {namespace}",
            "spec:",
            "  targetRef: {group: policy.linkerd.io, kind: Server, name: " + f"{name}-apiserver" + "}",
            "  requiredAuthenticationRefs:",
            "  - {group: policy.linkerd.io, kind: NetworkAuthentication, name: " + f"{name}-apiserver" + "}",
            "---",
            "apiVersion: policy.linkerd.io/v1alpha1",
            "kind: NetworkAuthentication",
            "metadata:",
            f"  name: {name}-apiserver",
            f"  namespace: {namespace}",
            "spec:",
            "  networks:",
            "  - cidr: 0.0.0.0/0  # the kube-apiserver is an unmeshed client; narrow to its source range",
            f'# or bypass the proxy for this port: annotate the pod template {cni.LINKERD_SKIP_INBOUND}: "{port}"',
        ]
    )


def istio_permissive(namespace: str, name: str, labels: dict[str, str], port: int) -> str:
    match = "\n".join(f"      {k}: {_q(v)}" for k, v in sorted(labels.items())) or "      {}"
    return "\n".join(
        [
            "apiVersion: security.istio.io/v1",
            "kind: PeerAuthentication",
            "metadata:",
            f"  name: {name}-apiserver",
            f"  namespace: {namespace}",
            "spec:",
            "  selector:",
            "    matchLabels:",
            match,
            "  mtls: {mode: STRICT}",
            "  portLevelMtls:",
            f"    {port}: {{mode: PERMISSIVE}}  # the kube-apiserver speaks plain TLS, not Istio mTLS",
        ]
    )


def _q(v: object) -> str:
    text = str(v)
    return (
        f'"{text}"'
        if not text or not text.replace("-", "").replace(".", "").replace("_", "").isalnum()
        else text
    )
