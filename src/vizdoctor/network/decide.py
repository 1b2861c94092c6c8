"""Decide whether the control plane can open a TCP connection to a pod port.

A verdict is `open` only when a rule that certainly matches exists, `blocked` only when every rule
of every group on the destination is known and none matches; anything else is `unknown`, with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vizdoctor.network.model import (
    ANY_IPV4,
    UNKNOWN_GROUP,
    UNRESOLVED,
    Cluster,
    IngressRule,
    NetworkModel,
    Placement,
    Scenario,
    SecurityGroup,
)

Status = Literal["open", "blocked", "unknown"]


@dataclass
class Verdict:
    status: Status
    reason: str
    opened_by: IngressRule | None = None
    # for blocked verdicts: the clusters and groups that need a rule
    blocked_clusters: list[Cluster] = field(default_factory=list)
    groups_considered: list[str] = field(default_factory=list)


def _matches_control_plane(rule: IngressRule, control_plane: set[str]) -> bool | None:
    peer = rule.peer
    if peer.kind == "group":
        return peer.value in control_plane
    if peer.kind == "self":
        return rule.group in control_plane
    if peer.kind == "cidr":
        # Only 0.0.0.0/0 certainly contains the control-plane ENIs' addresses; any other range might.
        return True if peer.value == ANY_IPV4 else None
    return None  # prefix lists and unresolved sources might contain them


def _identified(key: str, groups: dict[str, SecurityGroup]) -> bool:
    """A group whose identity is known: declared in the inputs or a module/cluster role."""
    return key in groups or (":" in key and key != UNKNOWN_GROUP)


def _why_incomplete(key: str, groups: dict[str, SecurityGroup]) -> str:
    if key.startswith(UNRESOLVED):
        return f"a security group of these nodes cannot be resolved ({key[len(UNRESOLVED) :]})"
    if key in groups:
        return f"{groups[key].label}: {groups[key].why_incomplete}"
    return f"{key} is attached to these nodes but its rules are not in the inputs"


def _group_label(groups: dict[str, SecurityGroup], key: str) -> str:
    g = groups.get(key)
    return g.label if g else key


def _allowed_from_control_plane(
    rules: list[IngressRule], control_plane: set[str], labels: dict[str, str]
) -> str:
    parts = [r.ports_text() for r in rules if _matches_control_plane(r, control_plane)]
    return ", ".join(dict.fromkeys(parts)) if parts else "nothing"


def _placement_verdict(
    port: int,
    placement: Placement,
    scenario: Scenario,
    model: NetworkModel,
) -> Verdict:
    groups = {**model.groups, **scenario.groups}
    labels = {k: g.label for k, g in groups.items()}
    if placement.opens_all:
        return Verdict("open", f"{placement.name}: {placement.opens_all}")
    control_plane = set(scenario.control_plane_groups)
    attached = set(placement.groups)
    rules = [r for r in (*scenario.rules, *model.rules) if r.group in attached]
    # Rules on a group vizdoctor cannot identify (a literal id, a data source) may be on these nodes.
    floating = [r for r in model.rules if r.group not in attached and not _identified(r.group, groups)]
    maybes: list[str] = []
    for rule in floating:
        if rule.covers(port) is not False and _matches_control_plane(rule, control_plane) is not False:
            where = "a group" if rule.group == UNKNOWN_GROUP else rule.group
            guess = rule.conditional or where + " may be one of these nodes' groups"
            maybes.append(f"{rule.name} might allow it: {guess}")
    for rule in rules:
        covers = rule.covers(port)
        if covers is False:
            continue
        source = _matches_control_plane(rule, control_plane)
        if source is False:
            continue
        if covers and source and not rule.conditional:
            where = f" ({rule.location})" if rule.location else ""
            return Verdict(
                "open",
                f"{placement.name}: {rule.name}{where} allows {rule.ports_text()} from "
                f"{rule.peer.describe(labels)} to {_group_label(groups, rule.group)}",
                opened_by=rule,
            )
        why = rule.conditional or rule.unresolved
        if why is None and not source:
            why = f"its source {rule.peer.describe(labels)} may or may not contain the control plane"
        maybes.append(f"{rule.name} might allow it: {why}")
    if port in scenario.unsure_ports:
        maybes.append(scenario.unsure_ports[port])
    incomplete = [
        _why_incomplete(k, groups) for k in placement.groups if k not in groups or not groups[k].complete
    ]
    if maybes or incomplete:
        return Verdict("unknown", f"{placement.name}: " + "; ".join(maybes + incomplete))
    considered = [_group_label(groups, k) for k in placement.groups]
    allowed = _allowed_from_control_plane(rules, control_plane, labels)
    if not considered:
        reason = f"{placement.name}: no security group is attached and nothing else admits the control plane"
    else:
        reason = (
            f"{placement.name}: no rule admits tcp {port} from the control plane; "
            f"{', '.join(considered)} allow{'s' if len(considered) == 1 else ''} only {allowed} from it"
        )
    return Verdict("blocked", reason, groups_considered=considered)


def _scenario_verdict(
    port: int,
    namespace: str,
    labels: dict[str, str],
    scenario: Scenario,
    model: NetworkModel,
    nodes: frozenset[str] | None = None,
) -> Verdict:
    # Where the pods run is known (live): only those nodes count.
    if nodes:
        on_nodes = [p for p in scenario.placements if p.nodes is not None and p.nodes & nodes]
        if on_nodes:
            verdicts = [_placement_verdict(port, p, scenario, model) for p in on_nodes]
            return _worst(verdicts, "the pods run on several of these nodes")
    # Fargate profiles capture the pods they select; other pods go to any node group.
    fargate = [p for p in scenario.placements if p.selectors is not None and p.takes(namespace, labels)]
    placements = fargate[:1] or [p for p in scenario.placements if p.selectors is None]
    if not placements:
        return Verdict("unknown", "no nodes are declared where these pods could run")
    verdicts = [_placement_verdict(port, p, scenario, model) for p in placements]
    return _worst(verdicts, "pods may be scheduled on any of these nodes")


def _worst(verdicts: list[Verdict], joiner: str) -> Verdict:
    """Combine verdicts that are all real at once (node groups, clusters): any blocked wins."""
    for status in ("blocked", "unknown"):
        bad = [v for v in verdicts if v.status == status]
        if bad:
            others = [v.reason for v in verdicts if v.status != status]
            reason = "; ".join(v.reason for v in bad)
            if others and len(verdicts) > 1:
                reason += f" ({joiner}; elsewhere: " + "; ".join(others) + ")"
            merged = Verdict(status, reason)
            for v in bad:
                merged.groups_considered.extend(v.groups_considered)
                merged.blocked_clusters.extend(v.blocked_clusters)
            return merged
    return Verdict("open", "; ".join(v.reason for v in verdicts), opened_by=verdicts[0].opened_by)


def cluster_verdict(
    port: int,
    namespace: str,
    labels: dict[str, str],
    cluster: Cluster,
    model: NetworkModel,
    nodes: frozenset[str] | None = None,
) -> Verdict:
    if cluster.why_unknown:
        return Verdict("unknown", f"{cluster.name}: {cluster.why_unknown}")
    verdicts = [_scenario_verdict(port, namespace, labels, s, model, nodes) for s in cluster.scenarios]
    statuses = {v.status for v in verdicts}
    if len(statuses) == 1:
        v = verdicts[-1]
        if len(verdicts) > 1:
            v.reason += f" (the same in every release allowed by {cluster.kind}; shown for {cluster.scenarios[-1].label})"
        if v.status == "blocked":
            v.blocked_clusters = [cluster]
        return v
    detail = "; ".join(f"{s.label}: {v.status}" for s, v in zip(cluster.scenarios, verdicts, strict=True))
    return Verdict(
        "unknown",
        f"{cluster.name}: the answer depends on which module release is installed ({detail}); "
        "pin the version or run `terraform init` so .terraform/modules/modules.json records it",
    )


def decide(
    port: int,
    namespace: str,
    labels: dict[str, str],
    model: NetworkModel,
    nodes: frozenset[str] | None = None,
) -> Verdict:
    """`nodes`: the names of the nodes the pods run on, when known (live clusters)."""
    if not model.clusters:
        return Verdict(
            "unknown",
            "no cluster network in the inputs (no EKS cluster found in Terraform, plan/state JSON or the AWS API)",
        )
    verdicts = [cluster_verdict(port, namespace, labels, c, model, nodes) for c in model.clusters]
    return _worst(verdicts, "the inputs hold several clusters")
