"""A cloud-neutral model of the network rules between the control plane and the pods.

Terraform HCL, plan JSON (and later the AWS API) all produce this; `decide` reads only this.
Security groups are named by stable keys: a Terraform address (`aws_security_group.nodes`), a module
role (`module.eks:node`), or a literal id (`sg-0abc`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vizdoctor.location import Location

PeerKind = Literal["group", "self", "cidr", "prefix_list", "unknown"]
ANY_IPV4 = "0.0.0.0/0"
UNKNOWN_GROUP = "?"  # the group a rule is attached to when its security_group_id cannot be resolved
UNRESOLVED = "unresolved:"  # prefix of a placement's group key that could not be resolved, then the why


@dataclass(frozen=True)
class Peer:
    """Where an ingress rule admits traffic from."""

    kind: PeerKind
    value: str = ""

    def describe(self, labels: dict[str, str]) -> str:
        if self.kind == "group":
            return labels.get(self.value, self.value)
        if self.kind == "self":
            return "itself (self)"
        if self.kind == "cidr":
            return self.value
        if self.kind == "prefix_list":
            return f"prefix list {self.value}"
        return f"an unresolved source ({self.value})"


@dataclass(frozen=True)
class IngressRule:
    group: str  # key of the security group the rule belongs to
    protocol: str | None  # "tcp", "udp", "icmp", "all", a protocol number; None when unresolved
    from_port: int | None
    to_port: int | None
    peer: Peer
    name: str  # how the user finds it: a Terraform address or a module map key
    description: str | None = None
    default: bool = False  # a module default rather than something the user wrote
    location: Location | None = None
    unresolved: str | None = None  # why protocol or ports could not be resolved
    conditional: str | None = None  # a count/for_each vizdoctor could not resolve

    def ports_text(self) -> str:
        if self.protocol == "all":
            return "all traffic"
        proto = self.protocol or "?"
        if self.from_port is None or self.to_port is None:
            return f"{proto} ?"
        if self.from_port == self.to_port:
            return f"{proto} {self.from_port}"
        return f"{proto} {self.from_port}-{self.to_port}"

    def covers(self, port: int, protocol: str = "tcp") -> bool | None:
        """True/False when decided, None when the rule's protocol or ports are unresolved."""
        if self.protocol == "all":
            return True
        if self.protocol is None:
            return None
        if self.protocol != protocol:
            return False
        if self.from_port is None or self.to_port is None:
            return None
        return self.from_port <= port <= self.to_port


@dataclass
class SecurityGroup:
    key: str
    label: str  # e.g. "node security group of module.eks"
    complete: bool = True  # all of its ingress rules are in the inputs
    why_incomplete: str | None = None
    location: Location | None = None
    terraform_ref: str | None = None  # expression that names its id in the user's Terraform
    aws_id: str | None = None


@dataclass
class Placement:
    """A set of nodes (or Fargate) where pods may run, with the groups on their network interfaces."""

    name: str
    groups: list[str]
    opens_all: str | None = None  # why all traffic from the control plane is allowed here
    # Fargate profiles only take pods they select: (namespace, labels) pairs. None = any pod.
    selectors: list[tuple[str, dict[str, str]]] | None = None
    location: Location | None = None
    # Live inputs know the nodes: the names of the nodes this placement stands for. None = unknown.
    nodes: frozenset[str] | None = None

    def takes(self, namespace: str, labels: dict[str, str]) -> bool:
        if self.selectors is None:
            return True
        return any(
            ns == namespace and all(labels.get(k) == v for k, v in want.items())
            for ns, want in self.selectors
        )


@dataclass
class Scenario:
    """One consistent reading of a cluster's network; several exist when the module version is a range."""

    label: str
    control_plane_groups: list[str]
    placements: list[Placement]
    rules: list[IngressRule] = field(default_factory=list)
    groups: dict[str, SecurityGroup] = field(default_factory=dict)
    # Rule keys whose effect is undecidable in this scenario (e.g. the v19.3.0 duplicate key).
    unsure_ports: dict[int, str] = field(default_factory=dict)


FixStyle = Literal["module", "raw"]


@dataclass
class FixTarget:
    """What a fix must name: where to add the rule, in the user's own format."""

    style: FixStyle
    module: str | None = None  # module block name for style "module"
    node_group_ref: str = "<node-security-group-id>"  # Terraform expression of the destination group
    source_group_ref: str = "<cluster-security-group-id>"  # Terraform expression of the source group
    node_group_id: str = "<node-security-group-id>"  # for the AWS CLI
    source_group_id: str = "<cluster-security-group-id>"
    where: Location | None = None  # where the new rule goes, when more precise than the cluster's block
    rule_resource: str = "aws_security_group_rule"  # for style "raw": the resource type the root uses

    def placeholder(self) -> bool:
        """True when the fix cannot name a group of the user's own configuration."""
        return self.style == "raw" and (
            self.node_group_ref.startswith("<") or self.source_group_ref.startswith("<")
        )


@dataclass
class Cluster:
    name: str  # e.g. "module.eks"
    kind: str  # e.g. "terraform-aws-eks 20.x"
    scenarios: list[Scenario]
    fix: FixTarget
    location: Location | None = None
    why_unknown: str | None = None  # the cluster exists but its network cannot be modelled
    aliases: list[str] = field(default_factory=list)  # other names that pick it (--cluster): its EKS name

    def answers_to(self, name: str) -> bool:
        return name in (self.name, *self.aliases) or f"module.{name}" == self.name


@dataclass(frozen=True)
class NetworkNote:
    """Something about the rules worth a finding of its own (e.g. a duplicated map key)."""

    check: str
    severity: Literal["error", "warning", "info"]
    message: str
    location: Location | None = None


@dataclass
class NetworkModel:
    clusters: list[Cluster] = field(default_factory=list)
    groups: dict[str, SecurityGroup] = field(default_factory=dict)  # groups declared outside modules
    rules: list[IngressRule] = field(default_factory=list)  # rules declared outside modules
    notes: list[NetworkNote] = field(default_factory=list)
    # what enforces NetworkPolicies, as the Terraform declares it (the EKS VPC CNI add-on's
    # enableNetworkPolicy): a description each, read by network/cni.py
    policy_enforcers: list[str] = field(default_factory=list)

    def merge(self, other: NetworkModel) -> None:
        self.clusters.extend(other.clusters)
        self.groups.update(other.groups)
        self.rules.extend(other.rules)
        self.notes.extend(other.notes)
        self.policy_enforcers.extend(other.policy_enforcers)
