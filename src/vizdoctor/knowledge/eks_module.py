"""terraform-aws-modules/terraform-aws-eks: node security-group defaults by release.

Source: the module's tag history up to v21.19.0 (2026-04-27), summarised in
shared/knowledge/control-plane-reachability.md §3-§4:
- v17 `workers.tf` (`workers_ingress_cluster*` on `aws_security_group.workers`),
- v18 `node_groups.tf` `local.node_security_group_rules`,
- v19-v21 `node_groups.tf` recommended rules (`node_security_group_enable_recommended_rules`),
  #2353/#2354 (4443, v19.3.0 duplicate key), #2399 (6443, v19.6.0), #3562 (10251, v21.7.0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Version = tuple[int, int, int]
Source = Literal["cluster", "self"]

# Registry and git sources that mean "the root terraform-aws-eks module".
REGISTRY_SOURCES = ("terraform-aws-modules/eks/aws",)
GIT_REPO = "terraform-aws-modules/terraform-aws-eks"

# Newest release described by the table; a constraint that admits anything newer is undecided.
KNOWN_UNTIL: Version = (22, 0, 0)


@dataclass(frozen=True)
class DefaultRule:
    key: str
    protocol: str
    from_port: int
    to_port: int
    source: Source
    description: str
    recommended: bool = False  # only with node_security_group_enable_recommended_rules (v19+)


@dataclass(frozen=True)
class Era:
    """A run of releases whose node security-group defaults are the same."""

    label: str
    since: Version
    until: Version  # exclusive
    rules: tuple[DefaultRule, ...]
    has_recommended_toggle: bool
    # ports whose default is undecidable in this era, with why
    unsure_ports: tuple[tuple[int, str], ...] = ()
    v21_names: bool = False  # variables renamed in v21 (docs/UPGRADE-21.0.md)
    legacy_v17: bool = False


_BASE = (
    DefaultRule("ingress_cluster_443", "tcp", 443, 443, "cluster", "Cluster API to node groups"),
    DefaultRule("ingress_cluster_kubelet", "tcp", 10250, 10250, "cluster", "Cluster API to node kubelets"),
    DefaultRule("ingress_self_coredns_tcp", "tcp", 53, 53, "self", "Node to node CoreDNS"),
    DefaultRule("ingress_self_coredns_udp", "udp", 53, 53, "self", "Node to node CoreDNS UDP"),
)
_EPHEMERAL = DefaultRule(
    "ingress_nodes_ephemeral", "tcp", 1025, 65535, "self", "Node to node ingress on ephemeral ports", True
)
_R8443 = DefaultRule(
    "ingress_cluster_8443_webhook", "tcp", 8443, 8443, "cluster", "Cluster API to node 8443/tcp webhook", True
)  # "# Karpenter"
_R9443 = DefaultRule(
    "ingress_cluster_9443_webhook", "tcp", 9443, 9443, "cluster", "Cluster API to node 9443/tcp webhook", True
)  # "# ALB controller, NGINX"
_R4443 = DefaultRule(
    "ingress_cluster_4443_webhook", "tcp", 4443, 4443, "cluster", "Cluster API to node 4443/tcp webhook", True
)  # "# metrics-server"
_R6443 = DefaultRule(
    "ingress_cluster_6443_webhook", "tcp", 6443, 6443, "cluster", "Cluster API to node 6443/tcp webhook", True
)  # "# prometheus-adapter"
_R10251 = DefaultRule(
    "ingress_cluster_10251_webhook",
    "tcp",
    10251,
    10251,
    "cluster",
    "Cluster API to node 10251/tcp webhook",
    True,
)  # EKS metrics-server add-on

_DUPLICATE_KEY = (
    "v19.3.0 declares the recommended rule key ingress_cluster_8443_webhook twice (8443 and 4443; fixed "
    "in v19.3.1, #2354), and which one survives is not established"
)

ERAS: tuple[Era, ...] = (
    Era("v17", (17, 0, 0), (18, 0, 0), (), False, legacy_v17=True),
    Era("v18", (18, 0, 0), (19, 0, 0), _BASE, False),
    Era("v19.0", (19, 0, 0), (19, 3, 0), (*_BASE, _EPHEMERAL, _R8443, _R9443), True),
    Era(
        "v19.3.0",
        (19, 3, 0),
        (19, 3, 1),
        (*_BASE, _EPHEMERAL, _R9443),
        True,
        unsure_ports=((8443, _DUPLICATE_KEY), (4443, _DUPLICATE_KEY)),
    ),
    Era("v19.3", (19, 3, 1), (19, 6, 0), (*_BASE, _EPHEMERAL, _R4443, _R8443, _R9443), True),
    Era("v19.6+/v20", (19, 6, 0), (21, 0, 0), (*_BASE, _EPHEMERAL, _R4443, _R6443, _R8443, _R9443), True),
    Era(
        "v21.0",
        (21, 0, 0),
        (21, 7, 0),
        (*_BASE, _EPHEMERAL, _R4443, _R6443, _R8443, _R9443),
        True,
        v21_names=True,
    ),
    Era(
        "v21.7+",
        (21, 7, 0),
        KNOWN_UNTIL,
        (*_BASE, _EPHEMERAL, _R4443, _R6443, _R8443, _R9443, _R10251),
        True,
        v21_names=True,
    ),
)

# v17 worker security group (workers.tf): ingress from the cluster SG on
# var.worker_sg_ingress_from_port (default 1025)-65535, plus 443, plus 10250 when from_port > 10250.
V17_WORKER_FROM_PORT_DEFAULT = 1025
V17_WORKER_RANGE_KEY = "workers_ingress_cluster"  # from_port-65535, from_port from the variable above
V17_WORKER_RANGE_TO = 65535
V17_HTTPS = DefaultRule(
    "workers_ingress_cluster_https",
    "tcp",
    443,
    443,
    "cluster",
    "Allow pods running extension API servers on port 443 to receive communication",
)
# only created when the range above starts above it
V17_KUBELET = DefaultRule(
    "workers_ingress_cluster_kubelet",
    "tcp",
    10250,
    10250,
    "cluster",
    "Allow workers Kubelets receive communication from the cluster control plane",
)

# v21 renames (docs/UPGRADE-21.0.md); node variables keep their names.
V21_RENAMES = {
    "create_cluster_security_group": "create_security_group",
    "cluster_security_group_id": "security_group_id",
    "cluster_additional_security_group_ids": "additional_security_group_ids",
}


# Root-module outputs that name a security group, by role (outputs.tf at v17.24.0, v18.0.0, v20.0.0,
# v21.0.0): v17 calls the node group `worker_security_group_id`; no release has a plain `security_group_id`.
OUTPUT_ROLES = {
    "worker_security_group_id": "node",  # v17
    "node_security_group_id": "node",  # v18+
    "cluster_security_group_id": "cluster",
    "cluster_primary_security_group_id": "primary",
}

# What other resources use to name the cluster: outputs `cluster_name` (v18+) and `cluster_id` (the name up
# to v19; since v20 the outposts id), and the arguments `cluster_name` (v17-v20) and `name` (v21,
# docs/UPGRADE-21.0.md).
CLUSTER_NAME_OUTPUTS = ("cluster_name", "cluster_id")
CLUSTER_NAME_ARGS = ("cluster_name", "name")

# The map of extra node rules exists from v18.0.0 (variables.tf; v17.24.0 has none); before it, a rule on
# output `worker_security_group_id` is the way to open a port.
RULES_MAP = "node_security_group_additional_rules"
RULES_MAP_SINCE: Version = (18, 0, 0)

# Node-group sub-modules' own security group (modules/{eks-managed,self-managed}-node-group/main.tf):
# - v18.0.0: `create_security_group = var.create && var.create_security_group`, attached
#   (`vpc_security_group_ids = compact(concat([try(aws_security_group.this[0].id, "")], ...))`, L49/L58);
# - v19, v20: no own group;
# - v21.0.0+: created only with rules (`... && length(merge(local.security_group_ingress_rules,
#   local.security_group_egress_rules)) > 0`, managed L684, self-managed L972), the EFA rules counting when
#   `enable_efa_support`; attached by the managed sub-module only (managed L77 lists
#   `aws_security_group.this[*].id`; self-managed L118 does not, unchanged to v21.19.0).
V21_OWN_GROUP_NEEDS_RULES = True
V21_SELF_MANAGED_ATTACHES_OWN_GROUP = False


def era_for(version: Version) -> Era | None:
    for era in ERAS:
        if era.since <= version < era.until:
            return era
    return None
