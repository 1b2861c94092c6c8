"""Run the pipeline: sources -> inventory -> paths -> checks -> one report for the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field

from vizdoctor.checks import Context, Passed, run_checks
from vizdoctor.checks.control_plane import fix_description
from vizdoctor.errors import NoInput, UsageError
from vizdoctor.exposure.values import add_values_file
from vizdoctor.findings import SEVERITIES, Finding, Fix
from vizdoctor.model import Inventory
from vizdoctor.network.model import Cluster
from vizdoctor.paths import ControlPlanePath, build_paths
from vizdoctor.remediation.security_group import RuleSpec, make_fix, merge_ports, rule_key
from vizdoctor.sources.loader import load
from vizdoctor.sources.options import LoadOptions


@dataclass
class ClusterFix:
    """Everything one cluster needs, with adjacent ports merged into ranges."""

    cluster: str
    ports: list[tuple[int, int]]
    fix: Fix
    paths: int  # how many blocked paths the fix opens
    target: Cluster | None = None  # the cluster the rules go to (for `scan --diff/--fix`)
    rules: list[RuleSpec] = field(default_factory=list)


@dataclass
class Report:
    command: str
    inventory: Inventory
    paths: list[ControlPlanePath]
    findings: list[Finding]
    fixes: list[ClusterFix] = field(default_factory=list)
    passed: list[Passed] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {s: 0 for s in SEVERITIES}
        for f in self.findings:
            counts[f.severity] += 1
        return counts

    @property
    def exit_code(self) -> int:
        return self.exit_status("error")

    def exit_status(self, fail_on: str = "error") -> int:
        """1 when a finding is at least as severe as `fail_on` ("error" or "warning"), else 0."""
        s = self.summary
        return 1 if s["error"] or (fail_on == "warning" and s["warning"]) else 0


def combined_fixes(paths: list[ControlPlanePath]) -> list[ClusterFix]:
    by_cluster: dict[str, tuple[Cluster, list[ControlPlanePath]]] = {}
    for p in paths:
        if p.status != "blocked" or p.verdict is None or p.target_port is None:
            continue
        for c in p.verdict.blocked_clusters:
            by_cluster.setdefault(c.name, (c, []))[1].append(p)
    out: list[ClusterFix] = []
    for name, (cluster, blocked) in by_cluster.items():
        ranges = merge_ports([p.target_port for p in blocked if p.target_port is not None])
        specs: list[RuleSpec] = []
        for lo, hi in ranges:
            inside = [p for p in blocked if p.target_port is not None and lo <= p.target_port <= hi]
            services = sorted(
                {f"{p.target.service.namespace}_{p.target.service.name}" for p in inside if p.target.service}
            )
            descs = list(dict.fromkeys(fix_description(p) for p in inside))
            desc = (
                descs[0]
                if len(descs) == 1
                else (
                    f"kube-apiserver to {len(inside)} webhooks/APIServices on {lo}"
                    + (f"-{hi}" if hi != lo else "")
                )
            )
            specs.append(((lo, hi), rule_key(lo, hi, services), desc))
        out.append(ClusterFix(name, ranges, make_fix(cluster, specs), len(blocked), cluster, specs))
    return out


def scan(
    paths: list[str],
    default_namespace: str = "default",
    stdin: str | None = None,
    values: list[str] | None = None,
    cluster: str | None = None,
    options: LoadOptions | None = None,
) -> Report:
    """Read manifests and Terraform (files or folders; "-" with `stdin`) and analyse them, offline.
    `values`: Helm values files of ingress-nginx or linkerd-viz. `cluster`: judge the paths against this
    cluster only (a module or resource address, or the EKS cluster name). Raises NoInput when nothing can
    be analysed, UsageError for a cluster the inputs do not have. `options`: chart values, release,
    Terraform variables (sources.options.LoadOptions)."""
    inv = load(paths, default_namespace, stdin, options=options)
    for path in values or []:
        add_values_file(inv, path)
    net = inv.network
    if not (inv.objects_read or inv.targets or inv.services or net.clusters or net.groups or net.rules):
        problems = "; ".join(f"{p.path}: {p.message}" for p in inv.problems[:3])
        raise NoInput(
            f"nothing analysed in {' '.join(paths)}: no Kubernetes object and no cluster network"
            + (f" ({problems})" if problems else "")
        )
    if cluster:
        chosen = [c for c in inv.network.clusters if c.answers_to(cluster)]
        if not chosen:
            names = (
                ", ".join(sorted({n for c in inv.network.clusters for n in (c.name, *c.aliases)})) or "none"
            )
            raise UsageError(f"--cluster {cluster}: no such cluster in the inputs (clusters: {names})")
        inv.network.clusters = chosen
    return analyse("scan", inv)


def analyse(command: str, inv: Inventory) -> Report:
    """Paths, checks and fixes for an inventory, whichever sources filled it."""
    cp_paths = build_paths(inv)
    ctx = Context(inv, cp_paths)
    findings = run_checks(ctx)
    return Report(command, inv, cp_paths, sort_findings(findings), combined_fixes(cp_paths), ctx.passed)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then by category and title: the order every renderer prints."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], f.category, f.title))
