"""Run the pipeline: sources -> inventory -> paths -> checks -> one report for the renderers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vizdoctor.checks import Context, Passed, run_checks
from vizdoctor.checks.control_plane import fix_description
from vizdoctor.errors import NoInput, UsageError
from vizdoctor.exposure.values import add_values_file
from vizdoctor.findings import SEVERITIES, Finding, Fix
from vizdoctor.model import Inventory, Suppression
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


SuppressionKind = Literal["skipped", "not-selected", "annotation", "comment", "baseline"]


@dataclass(frozen=True)
class Suppressed:
    """A finding that does not count, and why: it is still listed in every output (SARIF `suppressions`)."""

    finding: Finding
    kind: SuppressionKind
    reason: str
    where: str | None = None  # file:line of the annotation, comment, config entry or baseline


@dataclass
class Policy:
    """What a team accepted: --check/--skip-check and .vizdoctor.yaml, severities, a baseline."""

    only: set[str] = field(default_factory=set)  # empty: every check
    skip: dict[str, str] = field(default_factory=dict)  # check id -> where it was disabled
    severity: dict[str, str] = field(default_factory=dict)
    baseline: set[str] = field(default_factory=set)
    baseline_path: str | None = None


@dataclass
class Report:
    command: str
    inventory: Inventory
    paths: list[ControlPlanePath]
    findings: list[Finding]
    fixes: list[ClusterFix] = field(default_factory=list)
    passed: list[Passed] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        """Counts of the findings that count (suppressed ones are in `suppressed`)."""
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


def source_root() -> Path:
    """The repository the scan runs in (the nearest folder upward holding .git), else the working
    directory: what SARIF's %SRCROOT% and the fingerprints are relative to."""
    cwd = Path.cwd().resolve()
    return next((d for d in (cwd, *cwd.parents) if (d / ".git").exists()), cwd)


def rel_path(path: str) -> str:
    """A path relative to the source root when it is under it (fingerprints, SARIF uris), so that a scan
    given absolute paths, or run from a sub-folder, names files the same way."""
    try:
        return Path(path).resolve().relative_to(source_root()).as_posix()
    except (ValueError, OSError):
        return path


def fingerprint(f: Finding) -> str:
    """A stable id of a finding for baselines and SARIF partialFingerprints: check, object, file (no line:
    an edit above the object must not make an old finding new) and title."""
    parts = [f.check, str(f.object or ""), rel_path(f.location.path) if f.location else "", f.title]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _inline(f: Finding, sups: list[Suppression]) -> Suppression | None:
    for s in sups:
        if f.check not in s.checks:
            continue
        if s.lines is not None:  # a Terraform block: the finding's file or fix location is inside it
            for loc in (f.location, f.fix.where if f.fix else None):
                if loc and loc.line and loc.path == s.where.path and s.lines[0] <= loc.line <= s.lines[1]:
                    return s
            continue
        if f.location is not None and f.location == s.where:
            return s
        o, so = f.object, s.object
        if (
            o
            and so
            and (o.kind, o.name) == (so.kind, so.name)
            and (o.namespace is None or so.namespace is None or o.namespace == so.namespace)
        ):
            return s
    return None


def apply_policy(report: Report, policy: Policy) -> Report:
    """The one place findings are accepted: severity overrides, then --check/--skip-check, inline
    annotations and comments, and the baseline. Accepted findings move to `report.suppressed`."""
    kept: list[Finding] = []
    for f in report.findings:
        if f.check in policy.severity:
            f.severity = policy.severity[f.check]  # type: ignore[assignment]  # validated by the config
        s: Suppressed | None = None
        if policy.only and f.check not in policy.only:
            s = Suppressed(
                f, "not-selected", f"not among the selected checks ({', '.join(sorted(policy.only))})"
            )
        elif f.check in policy.skip:
            s = Suppressed(f, "skipped", f"check {f.check} is disabled", policy.skip[f.check])
        elif (inline := _inline(f, report.inventory.suppressions)) is not None:
            s = Suppressed(f, inline.source, inline.reason, str(inline.where))
        elif fingerprint(f) in policy.baseline:
            s = Suppressed(f, "baseline", "accepted in the baseline", policy.baseline_path)
        if s is None:
            kept.append(f)
        else:
            report.suppressed.append(s)
    report.findings = sort_findings(kept)
    return report


BASELINE_SCHEMA = "vizdoctor-baseline/v1"


def write_baseline(report: Report, path: str) -> int:
    """Every finding of the report (suppressed ones included), so a later run fails only on new ones."""
    entries = sorted(
        (
            {"fingerprint": fingerprint(f), "check": f.check, "title": f.title, "object": str(f.object or "")}
            for f in [*report.findings, *(s.finding for s in report.suppressed if s.kind != "skipped")]
        ),
        key=lambda e: (e["check"], e["title"], e["fingerprint"]),
    )
    Path(path).write_text(json.dumps({"schema": BASELINE_SCHEMA, "findings": entries}, indent=2) + "\n")
    return len(entries)


def read_baseline(path: str) -> set[str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--baseline {path}: cannot read it: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--baseline {path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if (
        not isinstance(data, dict)
        or data.get("schema") != BASELINE_SCHEMA
        or not isinstance(data.get("findings"), list)
    ):
        raise UsageError(f"--baseline {path}: not a vizdoctor baseline (create one with --create-baseline)")
    return {str(e.get("fingerprint")) for e in data["findings"] if isinstance(e, dict)}
