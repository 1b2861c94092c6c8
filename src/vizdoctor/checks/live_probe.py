"""control-plane-probe: what `check --probe` measured, which replaces what the inputs could not decide.

For each webhook / APIService path with a Service: one probe of the Service and one of a pod per node group
(or zone). A measured open path drops the undecided (and inferred blocked) findings about it; a measured
blocked path becomes an error that says how it was measured.
"""

from __future__ import annotations

from vizdoctor.checks.context import Passed
from vizdoctor.checks.path_facts import severity
from vizdoctor.findings import Finding, new
from vizdoctor.model import Inventory
from vizdoctor.paths import ControlPlanePath, describe
from vizdoctor.sources.proxy_probe import ProbeResult, ProbeTarget

CHECK = "control-plane-probe"
# Findings about a path that a measurement settles (their extra["path"] is describe(path)).
SETTLED = (
    "control-plane-unreachable",
    "control-plane-path-unknown",
    "pod-network-unreachable",
    "network-policy-blocks-apiserver",
    "mesh-policy-blocks-apiserver",
)
GROUP_LABELS = ("eks.amazonaws.com/nodegroup", "cloud.google.com/gke-nodepool", "topology.kubernetes.io/zone")


def _node_groups(inv: Inventory) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in inv.live.objects.get("Node", []) if inv.live else []:
        meta = node.get("metadata") or {}
        labels = meta.get("labels") or {}
        group = next((f"{k}={labels[k]}" for k in GROUP_LABELS if k in labels), "")
        out[str(meta.get("name"))] = group
    return out


def targets(paths: list[ControlPlanePath], inv: Inventory) -> list[ProbeTarget]:
    groups = _node_groups(inv)
    out: list[ProbeTarget] = []
    seen: set[tuple[str, str, str]] = set()
    for path in paths:
        svc = path.target.service
        if svc is None or path.service is None:
            continue
        key = describe(path)
        name = f"https:{svc.name}:{svc.port}"
        if ("services", svc.namespace, name) not in seen:
            seen.add(("services", svc.namespace, name))
            out.append(ProbeTarget(key, svc.namespace, "services", name))
        if path.target_port is None:
            continue
        by_group: dict[str, str] = {}
        for w in path.workloads:
            if w.kind == "Pod" and w.node_name:
                by_group.setdefault(groups.get(w.node_name, "") or w.node_name, w.name)
        namespace = path.workloads[0].namespace
        for group, pod in sorted(by_group.items()):
            pname = f"https:{pod}:{path.target_port}"
            if ("pods", namespace, pname) in seen:
                continue
            seen.add(("pods", namespace, pname))
            out.append(ProbeTarget(key, namespace, "pods", pname, group))
    return out


_WHY = {
    "blocked": "the kube-apiserver's dial timed out: the network drops it",
    "refused": "the pod's address refused the connection: nothing listens on that port",
    "reset": "the connection was cut after it was made (a mesh proxy, policy or TLS mismatch)",
    "no-endpoints": "the Service has no ready endpoint",
    "no-answer": "the probe got no verdict",
    "forbidden": "vizdoctor may not use the proxy subresource",
}


def apply(
    paths: list[ControlPlanePath], results: list[ProbeResult], findings: list[Finding], passed: list[Passed]
) -> list[Finding]:
    """The findings after the measurements (a new list); passes are appended to `passed`."""
    by_key: dict[str, list[ProbeResult]] = {}
    for r in results:
        by_key.setdefault(r.target.key, []).append(r)
    settled: set[str] = set()  # measured open: every finding about the path is settled
    undecided: set[str] = set()  # measured blocked: the findings that said "unknown" are settled
    added: list[Finding] = []
    for path in paths:
        key = describe(path)
        got = by_key.get(key)
        if not got:
            continue
        bad = [r for r in got if r.outcome in ("blocked", "refused", "reset", "no-endpoints")]
        unsure = [r for r in got if r.outcome in ("no-answer", "forbidden")]
        measured = "; ".join(
            f"GET {r.url}{f' ({r.target.where})' if r.target.where else ''}: {r.detail}" for r in got
        )
        if bad:
            undecided.add(key)
            first = bad[0]
            added.append(
                new(
                    CHECK,
                    f"{key}: measured {first.outcome}",
                    f"Measured through the kube-apiserver's proxy, the path it uses for webhooks: {_WHY[first.outcome]}. "
                    f"{measured}.",
                    "The other findings about this path say what to change; after the change, run "
                    "`vizdoctor check --probe` again.",
                    severity=severity(path),
                    extra={"path": key, "probe": first.outcome},
                )
            )
        elif unsure and len(unsure) == len(got):
            added.append(
                new(
                    CHECK,
                    f"{key}: not measured",
                    f"The probe could not measure this path: {measured}.",
                    "Grant `get` on services/proxy and pods/proxy (docs/live.md, ClusterRole vizdoctor-probe), or "
                    "raise --timeout.",
                    severity="warning",
                    extra={"path": key, "probe": unsure[0].outcome},
                )
            )
        elif not bad and not unsure:
            settled.add(key)
            passed.append(Passed("pod network and policies", f"{key} (measured open: {measured})"))

    def obsolete(f: Finding) -> bool:
        where = f.extra.get("path")
        if f.check not in SETTLED or where is None:
            return False
        if where in settled:
            return True
        unknown = f.check == "control-plane-path-unknown" or "unknown" in f.title
        return where in undecided and unknown

    kept = [f for f in findings if not obsolete(f)]
    return kept + added
