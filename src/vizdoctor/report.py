"""Run the pipeline: sources -> inventory -> paths -> checks -> one report for the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field

from vizdoctor.checks import Context, Passed, run_checks
from vizdoctor.checks.control_plane import fix_description
from vizdoctor.findings import SEVERITIES, Finding, Fix
from vizdoctor.fixes import RuleSpec, make_fix, merge_ports, rule_key
from vizdoctor.model import Inventory
from vizdoctor.network.model import Cluster
from vizdoctor.paths import ControlPlanePath, build_paths
from vizdoctor.sources.loader import load


@dataclass
class ClusterFix:
    """Everything one cluster needs, with adjacent ports merged into ranges."""

    cluster: str
    ports: list[tuple[int, int]]
    fix: Fix
    paths: int  # how many blocked paths the fix opens


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
        out.append(ClusterFix(name, ranges, make_fix(cluster, specs), len(blocked)))
    return out


def scan(paths: list[str], default_namespace: str = "default", stdin: str | None = None) -> Report:
    inv = load(paths, default_namespace, stdin)
    return analyse("scan", inv)


def analyse(command: str, inv: Inventory) -> Report:
    """Paths, checks and fixes for an inventory, whichever sources filled it."""
    cp_paths = build_paths(inv)
    ctx = Context(inv, cp_paths)
    findings = run_checks(ctx)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.category, f.title))
    return Report(command, inv, cp_paths, findings, combined_fixes(cp_paths), ctx.passed)
