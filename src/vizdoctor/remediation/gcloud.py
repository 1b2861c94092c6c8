"""GKE: the firewall rule that admits the control plane's range to the nodes on a port."""

from __future__ import annotations

from vizdoctor.remediation.security_group import Port, slug

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
