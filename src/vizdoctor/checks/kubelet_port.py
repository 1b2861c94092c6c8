"""kubelet-port-conflict: a webhook or APIService served on 10250 where the kubelet owns 10250."""

from __future__ import annotations

from vizdoctor.checks.context import Context
from vizdoctor.checks.control_plane import object_ref
from vizdoctor.checks.path_facts import pod_paths, service_text, severity
from vizdoctor.findings import Finding, Fix, new
from vizdoctor.knowledge.cni import FREE_HOST_PORT, KUBELET_PORT
from vizdoctor.network.cni import on_fargate
from vizdoctor.paths import describe
from vizdoctor.remediation.pod_network import move_port_values

CHECK = "kubelet-port-conflict"


def check(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for path in pod_paths(ctx.paths):
        if path.target_port != KUBELET_PORT:
            continue
        why = None
        if path.host_network:
            why = "its pods use hostNetwork, so port 10250 is the node's, where the kubelet listens"
        else:
            for w in path.workloads:
                fargate = on_fargate(ctx.inventory, w)
                if fargate:
                    why = f"its pods run on Fargate ({fargate}), where the pod shares its address with its kubelet"
                    break
        if why is None:
            continue
        svc = path.target.service
        assert svc is not None
        message = (
            f"The kube-apiserver dials {describe(path)}, and {why}: the connection reaches the kubelet, not the "
            f"{path.target.kind}, and fails with `x509: certificate is valid for ip-...compute.internal, not "
            f"{svc.name}.{svc.namespace}.svc` (or the kubelet's 404). The pod itself may not even start "
            "(address already in use)."
        )
        out.append(
            new(
                CHECK,
                f"{describe(path)} collides with the kubelet on {KUBELET_PORT}",
                message,
                f"Move the server of Service {service_text(path)} to a free port such as {FREE_HOST_PORT} (and the "
                "Service's targetPort with it); the security group must then allow that port from the control plane.",
                severity=severity(path),
                object=object_ref(path),
                location=path.target.location,
                fix=Fix(manifest=move_port_values(path.target.name, svc.name)),
                extra={"path": describe(path)},
            )
        )
    return out
