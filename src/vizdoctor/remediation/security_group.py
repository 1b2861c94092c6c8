"""The change that opens a blocked path on a security group: Terraform in the style of the user's own
configuration (a terraform-aws-eks module rules map, or raw `aws_security_group_rule`), and the AWS CLI
equivalent. `scan`, `check` and `explain` all print these; `explain` fills in placeholders for what a
pasted message does not say.
"""

from __future__ import annotations

import re

from vizdoctor.findings import Fix
from vizdoctor.network.model import Cluster

Port = int | str  # a port number, or a placeholder such as "<pod-port>" when the input does not say
PortRange = tuple[int, int]
RuleSpec = tuple[tuple[Port, Port], str, str]  # (ports, key, description)

# How to find the ids a command needs when the inputs do not give them.
CLUSTER_SG_LOOKUP = (
    "aws eks describe-cluster --name <cluster-name> "
    "--query cluster.resourcesVpcConfig.clusterSecurityGroupId --output text"
)
NODE_SG_LOOKUP = "aws ec2 describe-instances --instance-ids <node-instance-id> --query 'Reservations[].Instances[].SecurityGroups'"


def merge_ports(ports: list[int]) -> list[PortRange]:
    """Sorted ranges with adjacent and repeated ports merged: [8089, 8088, 9443] -> [(8088, 8089), (9443, 9443)]."""
    ranges: list[PortRange] = []
    for p in sorted(set(ports)):
        if ranges and p == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], p)
        else:
            ranges.append((p, p))
    return ranges


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


def rule_key(lo: Port, hi: Port, services: list[str]) -> str:
    """The map key / resource name of a rule: ingress_linkerd_viz_tap_8089."""
    ports = f"{lo}" if lo == hi else f"{lo}_{hi}"
    base = services[0] if len(set(services)) == 1 else "webhooks"
    return f"ingress_{slug(base)}_{ports}"


def hcl_string(s: str) -> str:
    """A quoted HCL string: backslashes, quotes and template sequences escaped."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{") + '"'


def module_entries(rules: list[RuleSpec], step: str = "  ") -> str:
    """Entries of `node_security_group_additional_rules` (the v18-v21 schema: `type`, `protocol`, ports,
    `source_cluster_security_group`; variables.tf at v18.0.0 and v21.0.0), at column 0."""
    fields = ("description", "protocol", "from_port", "to_port", "type", "source_cluster_security_group")
    width = max(len(f) for f in fields)
    out = []
    for (lo, hi), key, desc in rules:
        values = (hcl_string(desc), '"tcp"', str(lo), str(hi), '"ingress"', "true")
        body = "\n".join(f"{step}{f.ljust(width)} = {v}" for f, v in zip(fields, values, strict=True))
        out.append(f"{key} = {{\n{body}\n}}")
    return "\n".join(out)


def module_rules_hcl(module: str, rules: list[RuleSpec]) -> str:
    """The entries inside the module block, as printed with a finding."""
    body = "\n".join("    " + ln if ln else ln for ln in module_entries(rules).splitlines())
    return (
        f'module "{module}" {{\n'
        f"  # ...\n"
        f"  node_security_group_additional_rules = {{\n"
        f"    # ... keep the entries you already have ...\n"
        f"{body}\n"
        f"  }}\n"
        f"}}"
    )


def raw_rule_blocks(cluster: Cluster, rules: list[RuleSpec]) -> str:
    """`aws_security_group_rule` resources (or `aws_vpc_security_group_ingress_rule` where the root already
    writes its rules that way) from the control plane's group to the nodes' group."""
    fx = cluster.fix
    blocks = []
    for (lo, hi), key, desc in rules:
        if fx.rule_resource == "aws_vpc_security_group_ingress_rule":
            fields = [
                ("description", hcl_string(desc)),
                ("security_group_id", fx.node_group_ref),
                ("referenced_security_group_id", fx.source_group_ref),
                ("ip_protocol", '"tcp"'),
                ("from_port", str(lo)),
                ("to_port", str(hi)),
            ]
        else:
            fields = [
                ("description", hcl_string(desc)),
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
        return module_rules_hcl(fx.module or "<module>", rules)
    return raw_rule_blocks(cluster, rules)


def cli_description(desc: str) -> str:
    # The CLI shorthand cannot hold commas, quotes, brackets or `$` unescaped; keep descriptions plain.
    return '"' + re.sub(r"[,'\"{}\[\]$]", " ", desc) + '"'


def authorize_ingress_cli(
    node_group_id: str, source_group_id: str, rules: list[RuleSpec], node_group_help: str | None = None
) -> str:
    """`aws ec2 authorize-security-group-ingress` for the rules, with a comment line per placeholder id."""
    perms = " ".join(
        f"'IpProtocol=tcp,FromPort={lo},ToPort={hi},"
        f"UserIdGroupPairs=[{{GroupId={source_group_id},Description={cli_description(desc)}}}]'"
        for (lo, hi), _, desc in rules
    )
    lines = []
    if source_group_id.startswith("<"):
        lines.append(
            f"# {source_group_id}: any security group of the control plane; the EKS-created one is "
            + CLUSTER_SG_LOOKUP
        )
    if node_group_id.startswith("<"):
        lines.append(f"# {node_group_id}: {node_group_help or 'the security group of the nodes'}")
    lines += [
        "aws ec2 authorize-security-group-ingress \\",
        f"  --group-id {node_group_id} \\",
        f"  --ip-permissions {perms}",
    ]
    return "\n".join(lines)


def aws_cli_fix(cluster: Cluster, rules: list[RuleSpec]) -> str:
    fx = cluster.fix
    return authorize_ingress_cli(
        fx.node_group_id,
        fx.source_group_id,
        rules,
        f"the id of {fx.node_group_ref} (terraform output or state)",
    )


def make_fix(cluster: Cluster, rules: list[RuleSpec]) -> Fix:
    if cluster.fix.rule_resource == "google_compute_firewall":  # a GKE cluster: a firewall rule, gcloud
        from vizdoctor.remediation.gcloud import gke_fix

        return gke_fix(cluster, rules)
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
