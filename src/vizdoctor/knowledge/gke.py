"""GKE private clusters: what decides whether the control plane reaches a node port.

Sources: cloud.google.com/kubernetes-engine/docs/concepts/firewall-rules (the auto-created
`gke-<cluster>-<hash>-master` rule of private clusters: source the control-plane range, target the nodes'
tag `gke-<cluster>-<hash>-node`, TCP 443 and 10250 only); the private-clusters guide "Adding firewall rules
for specific use cases" (webhooks on other ports need an INGRESS rule from the control-plane range);
terraform-provider-google `google_compute_firewall` (direction defaults to INGRESS, `ports` strings with
ranges "a-b", no `ports` = every port, priority 1000 by default, `disabled`); shared/knowledge/
control-plane-reachability.md §6. Konnectivity: on clusters whose control plane reaches nodes through
`konnectivity-agent` pods (kube-system), webhook calls come from those pods, not from the master range.
"""

from __future__ import annotations

import re

MASTER_RULE_PORTS = (443, 10250)
MASTER_RULE = "gke-{cluster}-<hash>-master"
NODE_TAG = "gke-{cluster}-<hash>-node"  # the tag GKE puts on every node of the cluster
NODE_TAG_PATTERN = r"^gke-{cluster}-[0-9a-f]+-node$"
FIREWALL_DEFAULT_DIRECTION = "INGRESS"
KONNECTIVITY_AGENT = "konnectivity-agent"
CLUSTER_RESOURCE = "google_container_cluster"
NODE_POOL_RESOURCE = "google_container_node_pool"
FIREWALL_RESOURCE = "google_compute_firewall"

# terraform-google-modules/terraform-google-kubernetes-engine (v44.2.0; control-plane-reachability.md §6.1)
MODULE_SOURCE = re.compile(
    r"terraform-google-modules/kubernetes-engine/google|terraform-google-kubernetes-engine"
)
MODULE_PRIVATE = re.compile(r"//modules/(?:beta-)?private-cluster")
MODULE_WEBHOOK_SWITCHES = ("add_master_webhook_firewall_rules", "add_cluster_firewall_rules")
MODULE_DEFAULT_INBOUND_PORTS = ("8443", "9443", "15017")
# NetworkPolicy enforcement on GKE: Dataplane V2 (datapath_provider ADVANCED_DATAPATH, `anetd`), or
# network_policy { enabled = true } (Calico) (terraform-provider-google google_container_cluster)
DATAPATH_V2 = "ADVANCED_DATAPATH"
