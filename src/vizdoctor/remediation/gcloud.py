"""GKE: the firewall rule that admits the control plane's range to the nodes on a port."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

# The same shapes as remediation.security_group's (which calls gke_fix for GKE clusters: no import back)
Port = int | str
RuleSpec = tuple[tuple[Port, Port], str, str]


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


if TYPE_CHECKING:
    from vizdoctor.findings import Fix
    from vizdoctor.network.model import Cluster

# How to find the values a command needs (GKE private clusters: the master range and the nodes' tag, from
# the gke-<cluster>-<hash>-master rule GKE creates; control-plane-reachability.md §3).
MASTER_CIDR_LOOKUP = (
    "gcloud container clusters describe <cluster> --format 'value(privateClusterConfig.masterIpv4CidrBlock)'"
)
NODE_TAG_LOOKUP = "gcloud compute firewall-rules list --filter 'name~^gke-<cluster>-.*-master$' --format 'value(targetTags.list())'"


def firewall_rule_cli(service: str, port: Port, network: str = "<network>") -> str:
    name = f"gke-to-{slug(service).replace('_', '-')}-{port}"
    return (
        f"gcloud compute firewall-rules create {name} --network {network} --direction INGRESS "
        f"--allow tcp:{port} --source-ranges MASTER_CIDR --target-tags TAG --priority 1000"
    )


def _ports(rules: list[RuleSpec]) -> list[str]:
    return [f"{lo}" if lo == hi else f"{lo}-{hi}" for (lo, hi), _, _ in rules]


def firewall_hcl(cluster: Cluster, rules: list[RuleSpec]) -> str:
    """google_compute_firewall resources admitting the control-plane range to the nodes' tag."""
    t = cluster.fix
    blocks = []
    for (lo, hi), key, desc in rules:
        name = key.replace("ingress_", "gke_master_", 1)
        ports = f"{lo}" if lo == hi else f"{lo}-{hi}"
        blocks.append(
            "\n".join(
                [
                    f'resource "google_compute_firewall" "{name}" {{',
                    f'  name          = "{name.replace("_", "-")[:63]}"',
                    f"  network       = {t.module or '<network>'}",
                    f'  description   = "{desc}"',
                    '  direction     = "INGRESS"',
                    f"  source_ranges = [{t.source_group_ref}]",
                    f"  target_tags   = [{t.node_group_ref}]"
                    + (
                        "  # GKE's node tag: gcloud compute instances describe <node> --format 'value(tags.items)'"
                        if "<hash>" in t.node_group_ref
                        else ""
                    ),
                    "  allow {",
                    '    protocol = "tcp"',
                    f'    ports    = ["{ports}"]',
                    "  }",
                    "}",
                ]
            )
        )
    return "\n\n".join(blocks)


def firewall_cli(cluster: Cluster, rules: list[RuleSpec]) -> str:
    t = cluster.fix
    network = (t.module or "<network>").strip('"')
    if "." in network and not network.startswith(("projects/", "https:")):
        network = "<network>"
    allow = ",".join(f"tcp:{p}" for p in _ports(rules))
    name = (
        rules[0][1].replace("ingress_", "gke-master-", 1).replace("_", "-")[:63]
        if len(rules) == 1
        else "gke-master-to-webhooks"
    )
    return (
        f"gcloud compute firewall-rules create {name} --network {network} --direction INGRESS "
        f"--source-ranges {t.source_group_id} --target-tags {t.node_group_id} --allow {allow}"
    )


def module_hcl(cluster: Cluster, rules: list[RuleSpec]) -> str:
    """terraform-google-modules/kubernetes-engine: its own webhook firewall rule, with the port added."""
    t = cluster.fix
    ports = t.node_group_ref + "".join(f', "{p}"' for p in _ports(rules) if f'"{p}"' not in t.node_group_ref)
    return "\n".join(
        [
            f'module "{t.module}" {{',
            "  # ...",
            "  add_master_webhook_firewall_rules = true",
            f"  firewall_inbound_ports            = [{ports}]",
            "}",
        ]
    )


def gke_fix(cluster: Cluster, rules: list[RuleSpec]) -> Fix:
    from vizdoctor.findings import Fix

    if cluster.fix.style == "module":
        where = cluster.fix.where or cluster.location
        return Fix(
            module_hcl(cluster, rules),
            firewall_cli(cluster, rules),
            where,
            f'set in module "{cluster.fix.module}", then terraform apply (it creates gke-<name>-webhooks from the '
            "control-plane range to the module's node tag)",
        )

    note = (
        "add next to your other google_compute_firewall rules, then terraform apply; GKE's own -master rule "
        "admits only tcp 443 and 10250"
    )
    return Fix(
        firewall_hcl(cluster, rules),
        firewall_cli(cluster, rules),
        cluster.fix.where or cluster.location,
        note,
    )


def firewall_hint(pod_port: int, service_port: int) -> str:
    return (
        f"Allow TCP {pod_port} from the control-plane range (master_ipv4_cidr_block) to the nodes' network tag with "
        "an INGRESS firewall rule; GKE's own -master rule admits only TCP 443 and 10250. The kube-apiserver dials "
        f"the pod IP on the container port ({pod_port}), not the Service port {service_port}."
    )
