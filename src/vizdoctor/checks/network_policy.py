"""network-policy-blocks-apiserver: NetworkPolicies that isolate a webhook or APIService pod and admit
nothing the kube-apiserver's connection comes from."""

from __future__ import annotations

from vizdoctor.checks.context import Context, Passed
from vizdoctor.checks.control_plane import object_ref
from vizdoctor.checks.path_facts import pod_paths, port_name, service_text, severity
from vizdoctor.findings import Finding, Fix, new
from vizdoctor.knowledge.cni import APISERVER_SOURCE
from vizdoctor.network.cni import pod_network
from vizdoctor.network.netpol import evaluate
from vizdoctor.paths import describe
from vizdoctor.remediation.pod_network import allow_apiserver_policy

CHECK = "network-policy-blocks-apiserver"
_POLICY_KINDS = (
    "NetworkPolicy",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "GlobalNetworkPolicy",
)


def check(ctx: Context) -> list[Finding]:
    inv = ctx.inventory
    if not any(inv.objects.get(k) for k in _POLICY_KINDS):
        return []
    pn = pod_network(inv)
    source = APISERVER_SOURCE.get(pn.platform or "", "an address the inputs do not name (platform unknown)")
    out: list[Finding] = []
    checked = 0
    for path in pod_paths(ctx.paths):
        if path.host_network:
            continue  # NetworkPolicy does not define what happens to hostNetwork pods; nothing to decide
        assert path.target_port is not None
        w = path.workloads[0]
        verdict = evaluate(inv, w.namespace, w.pod_labels, path.target_port, port_name(path), pn.platform)
        checked += 1
        if verdict.status in ("not-isolated", "allowed"):
            continue
        cilium = any("Cilium" in e for e in pn.enforcers) and not any(
            p.doc.get("kind") == "NetworkPolicy" for p in verdict.selecting
        )
        fix_yaml = allow_apiserver_policy(
            w.namespace,
            path.target.service.name if path.target.service else w.name,
            w.pod_labels,
            path.target_port,
            pn.platform,
            cilium,
        )
        loc = verdict.selecting[0].location if verdict.selecting else path.target.location
        if verdict.status == "blocked" and pn.enforcers:
            out.append(
                new(
                    CHECK,
                    f"{describe(path)}: NetworkPolicy drops the kube-apiserver",
                    f"{verdict.reason}. The kube-apiserver's connection to {service_text(path)} comes from {source}; "
                    f"enforced by {', '.join(pn.enforcers)}.",
                    f"Add a policy that admits the kube-apiserver's source on TCP {path.target_port} to these pods "
                    "(policies add up: the others stay as they are).",
                    severity=severity(path),
                    object=object_ref(path),
                    location=loc,
                    fix=Fix(manifest=fix_yaml),
                    extra={"path": describe(path)},
                )
            )
        elif verdict.status == "blocked" and pn.complete:
            ctx.passed.append(
                Passed(
                    "control-plane paths",
                    f"{describe(path)}: its NetworkPolicies are not enforced (no enforcer runs)",
                )
            )
        else:
            why = (
                verdict.reason
                if verdict.status == "unknown"
                else (
                    f"{verdict.reason}; but nothing in the inputs enforces NetworkPolicies (no Calico, Cilium, Antrea, "
                    "Weave, kube-router, GKE Dataplane V2, nor the VPC CNI with enableNetworkPolicy), so whether they "
                    "bite is unknown"
                )
            )
            out.append(
                new(
                    CHECK,
                    f"{describe(path)}: NetworkPolicy effect unknown",
                    f"vizdoctor cannot decide whether the NetworkPolicies on {service_text(path)} admit the "
                    f"kube-apiserver on TCP {path.target_port}: {why}. Its connection comes from {source}.",
                    "Add the input that decides it (the CNI's DaemonSet or add-on settings, the control plane's "
                    "source range), or run `vizdoctor check --probe` to measure the path. If the policies are "
                    "enforced, the policy in the fix admits the kube-apiserver.",
                    severity="warning",
                    object=object_ref(path),
                    location=loc,
                    fix=Fix(manifest=fix_yaml),
                    extra={"path": describe(path)},
                )
            )
    if checked and not out:
        ctx.passed.append(
            Passed(
                "pod network and policies", "NetworkPolicies admit the kube-apiserver to every webhook pod"
            )
        )
    return out
