"""pod-network-unreachable: on EKS with an overlay pod network, the control plane cannot route to pod IPs."""

from __future__ import annotations

from vizdoctor.checks.context import Context, Passed
from vizdoctor.checks.control_plane import object_ref
from vizdoctor.checks.path_facts import pod_paths, service_text, severity
from vizdoctor.findings import Finding, Fix, new
from vizdoctor.network.cni import on_fargate, pod_network
from vizdoctor.paths import describe
from vizdoctor.remediation.pod_network import host_network_values

CHECK = "pod-network-unreachable"


def check(ctx: Context) -> list[Finding]:
    pn = pod_network(ctx.inventory)
    if pn.platform != "eks" or pn.cni is None or pn.overlay is False:
        return []
    out: list[Finding] = []
    for path in pod_paths(ctx.paths):
        if path.host_network:
            continue
        if any(on_fargate(ctx.inventory, w) for w in path.workloads):
            continue  # Fargate pods get VPC addresses from the VPC CNI whatever runs on the nodes
        svc = path.target.service
        assert svc is not None
        values, note = host_network_values(path.target.name, svc.name)
        if pn.overlay:
            out.append(
                new(
                    CHECK,
                    f"{describe(path)}: pod IP on the {pn.cni} overlay",
                    f"The kube-apiserver of EKS dials the pod IP of Service {service_text(path)} on port "
                    f"{path.target_port}, but the pods get their addresses from {pn.cni} ({pn.overlay_evidence}). "
                    "The EKS control plane sits outside the cluster's nodes and reaches pods through ENIs in the "
                    "VPC, which can route only VPC addresses, so the call times out (or fails with `Address is not "
                    f"allowed`) whatever the security groups allow ({pn.platform_evidence}).",
                    (
                        "Run the server on the host network, on a port free on the nodes (never 10250), and allow "
                        "that port from the cluster security group: " + note + "."
                    )
                    if values
                    else f"Move these pods off the overlay: {note}.",
                    severity=severity(path),
                    object=object_ref(path),
                    location=path.target.location,
                    fix=Fix(manifest=values or None, note=note),
                    extra={"path": describe(path), "cni": pn.cni},
                )
            )
        else:
            out.append(
                new(
                    CHECK,
                    f"{describe(path)}: pod network {pn.cni} may be unroutable [unknown]",
                    f"The cluster runs {pn.cni} on EKS and whether its pod IPs are routable from the control plane "
                    f"is not in the inputs: {pn.overlay_evidence}. Until that is known the path is not reported open.",
                    "Add the CNI's configuration to the inputs (the Calico Installation, the cilium-config "
                    "ConfigMap, the calico-node DaemonSet), or run `vizdoctor check --probe` to measure the path.",
                    severity="warning",
                    object=object_ref(path),
                    location=path.target.location,
                    extra={"path": describe(path), "cni": pn.cni},
                )
            )
    if not out and pn.overlay:
        ctx.passed.append(Passed("pod network and policies", f"no webhook pod on the {pn.cni} overlay"))
    return out
