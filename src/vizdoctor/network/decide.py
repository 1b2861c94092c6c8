"""Decide whether the control plane can open a TCP connection to a pod port.

A verdict is `open` only when a rule that certainly matches exists, `blocked` only when every rule
of every group on the destination is known and none matches; anything else is `unknown`, with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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


@dataclass(slots=True)
class Verdict:
    status: Status
    reason: str
    opened_by: IngressRule | None = None
    # for blocked verdicts: the clusters and groups that need a rule
    blocked_clusters: list[Cluster] = field(default_factory=list)
    groups_considered: list[str] = field(default_factory=list)
    # one (cluster name, status, reason) per cluster in the inputs: the inputs may not say which cluster
    # the manifests are applied to, so each cluster's own verdict is kept
    per_cluster: list[tuple[str, Status, str]] = field(default_factory=list)


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


@dataclass
class _View:
    """What every placement of one scenario needs, computed once (paths x placements is large)."""

    groups: dict[str, SecurityGroup]
    labels: dict[str, str]
    control_plane: set[str]
    by_group: dict[str, list[IngressRule]]
    floating: list[IngressRule]  # rules on groups vizdoctor cannot identify: they may be on any node


def _view(scenario: Scenario, model: NetworkModel) -> _View:
    groups = {**model.groups, **scenario.groups}
    by_group: dict[str, list[IngressRule]] = {}
    for r in (*scenario.rules, *model.rules):
        by_group.setdefault(r.group, []).append(r)
    floating = [r for r in model.rules if not _identified(r.group, groups)]
    return _View(
        groups,
        {k: g.label for k, g in groups.items()},
        set(scenario.control_plane_groups),
        by_group,
        floating,
    )


def _placement_verdict(port: int, placement: Placement, scenario: Scenario, view: _View) -> Verdict:
    groups, labels, control_plane = view.groups, view.labels, view.control_plane
    if placement.opens_all:
        return Verdict("open", f"{placement.name}: {placement.opens_all}")
    attached = set(placement.groups)
    rules = [r for k in dict.fromkeys(placement.groups) for r in view.by_group.get(k, [])]
    maybes: list[str] = []
    for rule in view.floating:
        if rule.group in attached:
            continue
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


class Decider:
    """Decides paths against one network model; per-scenario views and per-placement verdicts are cached,
    since a verdict depends only on (port, placement), not on which path asks."""

    def __init__(self, model: NetworkModel) -> None:
        self.model = model
        self._views: dict[int, _View] = {}
        self._verdicts: dict[tuple[int, int, int], Verdict] = {}
        self._no_network: Verdict | None = None

    def _placement(self, port: int, placement: Placement, scenario: Scenario) -> Verdict:
        key = (port, id(placement), id(scenario))
        cached = self._verdicts.get(key)
        if cached is None:
            view = self._views.get(id(scenario))
            if view is None:
                view = self._views[id(scenario)] = _view(scenario, self.model)
            cached = self._verdicts[key] = _placement_verdict(port, placement, scenario, view)
        # callers extend reasons and lists: hand out a copy
        return replace(
            cached,
            blocked_clusters=list(cached.blocked_clusters),
            groups_considered=list(cached.groups_considered),
        )

    def _scenario(
        self,
        port: int,
        namespace: str,
        labels: dict[str, str],
        scenario: Scenario,
        nodes: frozenset[str] | None,
    ) -> Verdict:
        # Where the pods run is known (live): only those nodes count.
        if nodes:
            on_nodes = [p for p in scenario.placements if p.nodes is not None and p.nodes & nodes]
            if on_nodes:
                return _worst(
                    [self._placement(port, p, scenario) for p in on_nodes],
                    "the pods run on several of these nodes",
                )
        # Fargate profiles capture the pods they select; other pods go to any node group.
        fargate = [p for p in scenario.placements if p.selectors is not None and p.takes(namespace, labels)]
        placements = fargate[:1] or [p for p in scenario.placements if p.selectors is None]
        if not placements:
            return Verdict("unknown", "no nodes are declared where these pods could run")
        return _worst(
            [self._placement(port, p, scenario) for p in placements],
            "pods may be scheduled on any of these nodes",
        )

    def cluster(
        self,
        port: int,
        namespace: str,
        labels: dict[str, str],
        cluster: Cluster,
        nodes: frozenset[str] | None,
    ) -> Verdict:
        if cluster.why_unknown:
            return Verdict("unknown", f"{cluster.name}: {cluster.why_unknown}")
        verdicts = [self._scenario(port, namespace, labels, s, nodes) for s in cluster.scenarios]
        statuses = {v.status for v in verdicts}
        if len(statuses) == 1:
            v = verdicts[-1]
            if len(verdicts) > 1:
                v.reason += (
                    f" (the same in every release allowed by {cluster.kind}; "
                    f"shown for {cluster.scenarios[-1].label})"
                )
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
        self, port: int, namespace: str, labels: dict[str, str], nodes: frozenset[str] | None = None
    ) -> Verdict:
        """`nodes`: the names of the nodes the pods run on, when known (live clusters)."""
        if not self.model.clusters:
            # One Verdict for every path (20,000 at 50,000 manifest objects): nothing changes a verdict once
            # decide() has returned it (only cluster() amends its own scenarios' verdicts, before that).
            if self._no_network is None:
                self._no_network = Verdict(
                    "unknown",
                    "no cluster network in the inputs (no EKS cluster found in Terraform, plan/state JSON or "
                    "the AWS API)",
                )
            return self._no_network
        clusters = self.model.clusters
        verdicts = [self.cluster(port, namespace, labels, c, nodes) for c in clusters]
        per_cluster = [(c.name, v.status, v.reason) for c, v in zip(clusters, verdicts, strict=True)]
        if len({v.status for v in verdicts}) > 1:
            # Which cluster the manifests go to is not in the inputs: show each verdict, never the worst alone.
            if len(clusters) <= 3:
                detail = "; ".join(
                    f"{c.name}: {v.status} ({v.reason})" for c, v in zip(clusters, verdicts, strict=True)
                )
            else:  # the reasons in full would bury the answer; JSON `clusters` has each one
                by_status: dict[str, list[str]] = {}
                for c, v in zip(clusters, verdicts, strict=True):
                    by_status.setdefault(v.status, []).append(c.name)
                detail = "; ".join(f"{status} on {', '.join(names)}" for status, names in by_status.items())
            merged = Verdict(
                "unknown",
                f"the inputs hold {len(clusters)} clusters and the answer differs between them: {detail}; "
                "pick the cluster these manifests are applied to with --cluster NAME",
            )
            merged.blocked_clusters = [c for v in verdicts for c in v.blocked_clusters]
        else:
            merged = _worst(verdicts, "the inputs hold several clusters")
        merged.per_cluster = per_cluster
        return merged


def decide(
    port: int,
    namespace: str,
    labels: dict[str, str],
    model: NetworkModel,
    nodes: frozenset[str] | None = None,
) -> Verdict:
    """One-off decision; use a `Decider` to decide many paths against the same model."""
    return Decider(model).decide(port, namespace, labels, nodes)
