"""The shapes of an AWS security-group ingress rule, as each source writes it: one table, read by the
Terraform reader (HCL), the plan/state reader and the EC2 API reader.

Sources: terraform-provider-aws docs of `aws_security_group` (inline `ingress` blocks),
`aws_security_group_rule` and `aws_vpc_security_group_ingress_rule`; the EC2 API reference of
`IpPermission` (DescribeSecurityGroups); control-plane-reachability.md §5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

PeerKind = Literal["group", "cidr", "prefix_list"]

# "-1" / "all" mean every protocol and every port; numbers are IANA protocol numbers (provider docs; EC2
# IpPermission.IpProtocol).
PROTOCOLS = {"-1": "all", "all": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def protocol(value: Any) -> str | None:
    """The protocol a rule admits, normalised ("tcp", "all", ...); None when it is not a plain value."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip().lower()
    return PROTOCOLS.get(text, text)


@dataclass(frozen=True)
class RuleShape:
    """Where one resource shape keeps a rule's protocol, direction and sources."""

    resource: str
    protocol_attr: str
    peers: tuple[tuple[str, PeerKind], ...]  # attribute -> what it names; list or single value
    typed: bool  # has `type = "ingress" | "egress"` (egress rules never admit the control plane)
    to_port_defaults_to_from_port: bool  # a missing to_port means the single from_port


SECURITY_GROUP_INGRESS = RuleShape(
    "aws_security_group.ingress",
    "protocol",
    (
        ("security_groups", "group"),
        ("cidr_blocks", "cidr"),
        ("ipv6_cidr_blocks", "cidr"),
        ("prefix_list_ids", "prefix_list"),
    ),
    typed=False,
    to_port_defaults_to_from_port=False,
)
SECURITY_GROUP_RULE = RuleShape(
    "aws_security_group_rule",
    "protocol",
    (
        ("source_security_group_id", "group"),
        ("cidr_blocks", "cidr"),
        ("ipv6_cidr_blocks", "cidr"),
        ("prefix_list_ids", "prefix_list"),
    ),
    typed=True,
    to_port_defaults_to_from_port=False,
)
VPC_INGRESS_RULE = RuleShape(
    "aws_vpc_security_group_ingress_rule",
    "ip_protocol",
    (
        ("referenced_security_group_id", "group"),
        ("cidr_ipv4", "cidr"),
        ("cidr_ipv6", "cidr"),
        ("prefix_list_id", "prefix_list"),
    ),
    typed=False,
    to_port_defaults_to_from_port=True,
)
RULE_RESOURCES = {s.resource: s for s in (SECURITY_GROUP_RULE, VPC_INGRESS_RULE)}

# The EC2 API's IpPermission: (list attribute, id or CIDR field in each item, what it names).
EC2_PERMISSION_PEERS: tuple[tuple[str, str, PeerKind], ...] = (
    ("UserIdGroupPairs", "GroupId", "group"),
    ("IpRanges", "CidrIp", "cidr"),
    ("Ipv6Ranges", "CidrIpv6", "cidr"),
    ("PrefixListIds", "PrefixListId", "prefix_list"),
)
