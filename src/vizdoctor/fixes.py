"""The change that opens a blocked path, written in the style of the user's own Terraform."""

from __future__ import annotations

import re

from vizdoctor.findings import Fix
from vizdoctor.network.model import Cluster

PortRange = tuple[int, int]
RuleSpec = tuple[PortRange, str, str]  # (ports, key, description)


def merge_ports(ports: list[int]) -> list[PortRange]:
    """Sorted ranges with adjacent and repeated ports merged: [8089, 8088, 9443] -> [(8088, 8089), (9443, 9443)]."""
    ranges: list[PortRange] = []
    for p in sorted(set(ports)):
        if ranges and p == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], p)
        else:
            ranges.append((p, p))
    return ranges


def rule_key(lo: int, hi: int, services: list[str]) -> str:
    ports = f"{lo}" if lo == hi else f"{lo}_{hi}"
    base = services[0] if len(set(services)) == 1 else "webhooks"
    slug = re.sub(r"[^a-z0-9]+", "_", base.lower()).strip("_")
    return f"ingress_{slug}_{ports}"


def _hcl_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'


def module_entries(rules: list[RuleSpec], step: str = "  ") -> str:
    """Entries of `node_security_group_additional_rules` (the v18-v21 schema: `type`, `protocol`, ports,
    `source_cluster_security_group`; variables.tf at v18.0.0 and v21.0.0), at column 0."""
    fields = ("description", "protocol", "from_port", "to_port", "type", "source_cluster_security_group")
    width = max(len(f) for f in fields)
    out = []
    for (lo, hi), key, desc in rules:
        values = (_hcl_string(desc), '"tcp"', str(lo), str(hi), '"ingress"', "true")
        body = "\n".join(f"{step}{f.ljust(width)} = {v}" for f, v in zip(fields, values, strict=True))
        out.append(f"{key} = {{\n{body}\n}}")
    return "\n".join(out)


def raw_rule_blocks(cluster: Cluster, rules: list[RuleSpec]) -> str:
    """`aws_security_group_rule` resources (or `aws_vpc_security_group_ingress_rule` where the root already
    writes its rules that way) from the control plane's group to the nodes' group."""
    fx = cluster.fix
    blocks = []
    for (lo, hi), key, desc in rules:
        if fx.rule_resource == "aws_vpc_security_group_ingress_rule":
            fields = [
                ("description", _hcl_string(desc)),
                ("security_group_id", fx.node_group_ref),
                ("referenced_security_group_id", fx.source_group_ref),
                ("ip_protocol", '"tcp"'),
                ("from_port", str(lo)),
                ("to_port", str(hi)),
            ]
        else:
            fields = [
                ("description", _hcl_string(desc)),
                ("type", '"ingress"'),
                ("protocol", '"tcp"'),
                ("from_port", str(lo)),
                ("to_port", str(hi)),
                ("security_group_id", fx.node_group_ref),
                ("source_security_group_id", fx.source_group_ref),
            ]
        width = max(len(f) for f, _ in fields)
        body = "\n".join(f"  {f.ljust(width)} = {v}" for f, v in fields)
        blocks.append(f'resource "{fx.rule_resource}" "{key}" {{\n{body}\n}}')
    return "\n\n".join(blocks)


def terraform_fix(cluster: Cluster, rules: list[RuleSpec]) -> str:
    fx = cluster.fix
    if fx.style == "module":
        body = "\n".join("    " + ln if ln else ln for ln in module_entries(rules).splitlines())
        return (
            f'module "{fx.module}" {{\n'
            f"  # ...\n"
            f"  node_security_group_additional_rules = {{\n"
            f"    # ... keep the entries you already have ...\n"
            f"{body}\n"
            f"  }}\n"
            f"}}"
        )
    return raw_rule_blocks(cluster, rules)


def _cli_desc(desc: str) -> str:
    # The CLI shorthand cannot hold commas, quotes or brackets unescaped; keep descriptions plain.
    return '"' + re.sub(r"[,'\"{}\[\]]", " ", desc) + '"'


def aws_cli_fix(cluster: Cluster, rules: list[RuleSpec]) -> str:
    fx = cluster.fix
    perms = " ".join(
        f"'IpProtocol=tcp,FromPort={lo},ToPort={hi},"
        f"UserIdGroupPairs=[{{GroupId={fx.source_group_id},Description={_cli_desc(desc)}}}]'"
        for (lo, hi), _, desc in rules
    )
    lines = []
    if fx.source_group_id.startswith("<"):
        lines.append(
            "# <cluster-security-group-id>: any security group of the control plane; the EKS-created one is "
            "aws eks describe-cluster --name <cluster-name> "
            "--query cluster.resourcesVpcConfig.clusterSecurityGroupId --output text"
        )
    if fx.node_group_id.startswith("<"):
        lines.append(f"# <node-security-group-id>: the id of {fx.node_group_ref} (terraform output or state)")
    lines += [
        "aws ec2 authorize-security-group-ingress \\",
        f"  --group-id {fx.node_group_id} \\",
        f"  --ip-permissions {perms}",
    ]
    return "\n".join(lines)


def make_fix(cluster: Cluster, rules: list[RuleSpec]) -> Fix:
    where = cluster.fix.where or cluster.location
    note = None
    if cluster.fix.style == "module":
        verb = "add to the existing" if cluster.fix.where else "add to"
        note = (
            f'{verb} node_security_group_additional_rules in module "{cluster.fix.module}"'
            f"{f' ({where})' if where else ''}, then terraform apply"
        )
    else:
        note = "add next to your other security-group rules, then terraform apply"
    return Fix(terraform_fix(cluster, rules), aws_cli_fix(cluster, rules), where, note)
