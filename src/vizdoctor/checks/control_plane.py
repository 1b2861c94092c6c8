"""control-plane-unreachable and control-plane-path-unknown: one finding per path that is not open."""

from __future__ import annotations

from vizdoctor.checks.context import Context
from vizdoctor.findings import Finding, Severity
from vizdoctor.knowledge.addons import consequence
from vizdoctor.model import ObjectRef
from vizdoctor.network.cni import konnectivity
from vizdoctor.paths import ControlPlanePath, describe
from vizdoctor.remediation.gcloud import firewall_hint
from vizdoctor.remediation.security_group import make_fix, rule_key

UNREACHABLE = "control-plane-unreachable"
UNKNOWN = "control-plane-path-unknown"


def object_ref(path: ControlPlanePath) -> ObjectRef:
    t = path.target
    if t.kind == "APIService" or t.kind == "CRDConversion":
        return t.owner
    return ObjectRef(t.kind, None, t.name)


def fix_description(path: ControlPlanePath) -> str:
    t = path.target
    svc = f"{t.service.namespace}/{t.service.name}" if t.service else t.name
    what = {"APIService": "APIService", "CRDConversion": "conversion webhook"}.get(t.kind, "webhook")
    return f"kube-apiserver to {svc} ({what} {t.name})"


def how_to_supply(reason: str) -> str:
    """The input that would decide an undecided path, and how to give it to `scan`."""
    if "-var-file" in reason or "var." in reason:
        return (
            "Pass the variable values you apply with: `--var-file FILE` (repeatable) or `--var NAME=VALUE`, "
            "as with `terraform plan`."
        )
    if "is not among the inputs" in reason or "no workload in the inputs" in reason:
        return (
            "Add the manifests of the Service and its workload: a Helm chart folder (rendered with --values, "
            "--set, --release, -n), a kustomize folder, `helm template` output, or the Terraform "
            "helm_release that installs it."
        )
    if "cluster network" in reason or "security group" in reason or "Terraform" in reason:
        return (
            "Add the Terraform root (or `terraform show -json` plan) that creates the cluster and its node "
            "security groups; with a live cluster, `vizdoctor check --aws` reads them."
        )
    return (
        "Add the missing input named above (the manifests of the Service and its workload, the Terraform that "
        "creates the node security group) or pin what is ambiguous."
    )


def _severity(path: ControlPlanePath) -> Severity:
    if (
        path.target.kind in ("MutatingWebhook", "ValidatingWebhook")
        and path.target.failure_policy == "Ignore"
    ):
        return "warning"
    return "error"


def _tunnelled(ctx: Context, path: ControlPlanePath) -> str | None:
    """On GKE with Konnectivity, webhook calls leave from the agent pods: the master firewall is off the path."""
    gke_blocked = path.verdict is not None and any(
        c.fix.rule_resource == "google_compute_firewall" for c in path.verdict.blocked_clusters
    )
    return konnectivity(ctx.inventory) if gke_blocked else None


def check(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for path in ctx.paths:
        described = describe(path)  # one string for the title and extra["path"] (20,000 paths at 50k objects)
        t = path.target
        inferred = f" (inferred: {t.inferred_from})" if t.inferred else ""
        tunnel = _tunnelled(ctx, path) if path.status == "blocked" else None
        if tunnel:
            out.append(
                Finding(
                    UNKNOWN,
                    "warning",
                    "control-plane paths",
                    described,
                    f"The firewall rules would not admit TCP {path.target_port}, but {tunnel}: the kube-apiserver "
                    "reaches pods through the Konnectivity tunnel, so the calls come from the agent pods inside the "
                    f"cluster and the control-plane firewall is not on this path.{inferred}",
                    "Run `vizdoctor check --probe` to measure the path; if it fails, look at NetworkPolicies on the "
                    "pod (they must admit the konnectivity-agent pods) rather than at firewall rules.",
                    object=object_ref(path),
                    location=t.location,
                    extra={"path": described},
                )
            )
        elif path.status == "blocked" and path.verdict is not None:
            svc = t.service
            assert svc is not None and path.target_port is not None
            c = consequence(
                t.kind,
                t.name,
                t.failure_policy,
                t.timeout_seconds,
                t.operations,
                f"{svc.name}.{svc.namespace}",
            )
            policy = f" (failurePolicy: {t.failure_policy})" if t.failure_policy else ""
            message = (
                f"The kube-apiserver cannot open TCP {path.target_port} to the pods behind Service "
                f"{svc.namespace}/{svc.name}: {path.reason}.{inferred} {c.message}"
            )
            hint = (
                f"Allow TCP {path.target_port} from the cluster security group to the nodes' security group. "
                f"The kube-apiserver dials the pod IP on the container port ({path.target_port}), not the Service "
                f"port {svc.port}, so opening {svc.port} is not enough."
            )
            fix = None
            cluster = path.verdict.blocked_clusters[0] if path.verdict.blocked_clusters else None
            if cluster is not None and cluster.fix.rule_resource == "google_compute_firewall":
                hint = firewall_hint(path.target_port, svc.port)
            if cluster is not None:
                key = rule_key(path.target_port, path.target_port, [f"{svc.namespace}_{svc.name}"])
                fix = make_fix(cluster, [((path.target_port, path.target_port), key, fix_description(path))])
            out.append(
                Finding(
                    UNREACHABLE,
                    _severity(path),
                    "control-plane paths",
                    described + policy + (" [inferred]" if t.inferred else ""),
                    message,
                    hint,
                    object=object_ref(path),
                    location=t.location,
                    fix=fix,
                    hint_url=c.hint_url,
                    extra={"path": described},
                )
            )
        elif path.status == "unknown":
            out.append(
                Finding(
                    UNKNOWN,
                    # Undecided is never a pass: a warning, so `--fail-on warning` can gate on it.
                    "warning",
                    "control-plane paths",
                    described,
                    f"vizdoctor cannot decide whether the kube-apiserver reaches this: {path.reason}.{inferred}",
                    how_to_supply(path.reason),
                    object=object_ref(path),
                    location=t.location,
                    extra={"path": described},
                )
            )
    return out
