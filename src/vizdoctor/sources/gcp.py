"""A GKE cluster's control-plane firewall, live: the cluster and the VPC's firewall rules from the Google
Cloud APIs with the official clients (google-cloud-container, google-cloud-compute; the `vizdoctor[gcp]`
extra), application-default credentials, read-only (list and get calls only).

The model is the one the Terraform reader builds (sources/gcp_tf.py): the control-plane range is one group,
each node pool a placement carrying its network tags (GKE's own `gke-<cluster>-<hash>-node` tag is read from
the targets of GKE's `-master` rule) and service account. GKE's `-master` rule is in the firewall list
itself. A rule whose source ranges hold the control-plane range admits the control plane; deny rules make
the verdict unknown (not ordered here).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from vizdoctor.knowledge import gke
from vizdoctor.network.model import (
    UNRESOLVED,
    Cluster,
    FixTarget,
    IngressRule,
    NetworkModel,
    Peer,
    Placement,
    Scenario,
    SecurityGroup,
)

READ_ONLY_SCOPE = "https://www.googleapis.com/auth/cloud-platform.read-only"
MISSING_CLIENTS = (
    "the Google Cloud clients are not installed: pip install 'vizdoctor[gcp]' "
    "(google-cloud-container, google-cloud-compute)"
)


@dataclass
class GkeResult:
    model: NetworkModel = field(default_factory=NetworkModel)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cluster_name: str | None = None
    project: str | None = None


def _project_of(nodes: list[dict[str, Any]]) -> str | None:
    for n in nodes:
        pid = str((n.get("spec") or {}).get("providerID", ""))
        m = re.match(r"gce://([^/]+)/", pid)
        if m:
            return m.group(1)
    return None


def _node_pools(nodes: list[dict[str, Any]]) -> set[str]:
    return {
        str(((n.get("metadata") or {}).get("labels") or {}).get("cloud.google.com/gke-nodepool"))
        for n in nodes
        if ((n.get("metadata") or {}).get("labels") or {}).get("cloud.google.com/gke-nodepool")
    }


def _holds(ranges: list[str], master: str) -> bool:
    try:
        inner = ipaddress.ip_network(master, strict=False)
    except ValueError:
        return False
    for r in ranges:
        try:
            outer = ipaddress.ip_network(r, strict=False)
        except ValueError:
            continue
        if inner.version == outer.version and inner.subnet_of(outer):  # type: ignore[arg-type]
            return True
    return False


def _ports(protocol: str, ports: list[str]) -> list[tuple[str, int | None, int | None, str | None]]:
    proto = protocol.lower()
    if proto == "all":
        return [("all", 0, 65535, None)]
    if not ports:
        return [(proto, 0, 65535, None)]
    out: list[tuple[str, int | None, int | None, str | None]] = []
    for p in ports:
        m = re.fullmatch(r"\s*(\d+)(?:\s*-\s*(\d+))?\s*", p)
        if m:
            out.append((proto, int(m.group(1)), int(m.group(2) or m.group(1)), None))
        else:
            out.append((proto, None, None, f"port {p!r} not understood"))
    return out


def build_cluster(cluster: Any, firewalls: list[Any], project: str) -> Cluster:
    """The network model of one GKE cluster (container_v1.Cluster) and its VPC's firewall rules."""
    name = str(cluster.name)
    address = f"GKE cluster {project}/{cluster.location or '?'}/{name}"
    network = str(cluster.network or "default")
    private = cluster.private_cluster_config
    master = str(private.master_ipv4_cidr_block or "") if private else ""
    fix = FixTarget("raw", rule_resource=gke.FIREWALL_RESOURCE, module=f'"{network}"')
    if not private or not private.enable_private_nodes:
        return Cluster(
            address,
            "GKE cluster (not private)",
            [],
            fix,
            why_unknown="the cluster has no private nodes: GKE creates no control-plane firewall rule for it",
            aliases=[name],
        )
    master_key, all_key = f"gke:{address}:master", f"gke:{address}:all"
    groups = {
        master_key: SecurityGroup(master_key, f"the control-plane range {master or '(none)'} of {address}"),
        all_key: SecurityGroup(all_key, f"every instance of network {network}"),
    }
    auto = re.compile(rf"^gke-{re.escape(name)}-[0-9a-f]+-node$")
    on_network = [f for f in firewalls if str(f.network).rstrip("/").endswith(f"/{network}")]
    auto_tags = sorted({t for f in on_network for t in f.target_tags if auto.match(t)})
    placements: list[Placement] = []
    for pool in cluster.node_pools:
        keys = [all_key, *(f"tag:{t}" for t in auto_tags)]
        if not auto_tags:
            keys.append(f"{UNRESOLVED}GKE's node tag of {name} is on no firewall rule of network {network}")
        keys += [f"tag:{t}" for t in pool.config.tags]
        if pool.config.service_account:
            keys.append(f"sa:{pool.config.service_account}")
        placements.append(Placement(f"node pool {pool.name}", keys))
    rules: list[IngressRule] = []
    denies: list[str] = []
    for fw in on_network:
        if str(fw.direction or "INGRESS") != "INGRESS" or fw.disabled:
            continue
        if list(fw.denied):
            denies.append(str(fw.name))
            continue
        ranges = list(fw.source_ranges)
        if master and _holds(ranges, master):
            peer = Peer("group", master_key)
        else:
            peer = Peer("group", f"source ranges {', '.join(ranges) or 'none (source tags only)'}")
        targets = [f"tag:{t}" for t in fw.target_tags] + [f"sa:{s}" for s in fw.target_service_accounts]
        for target in targets or [all_key]:
            if target not in groups:
                groups[target] = SecurityGroup(
                    target, target.replace("tag:", "network tag ").replace("sa:", "service account ")
                )
            for allowed in fw.allowed:
                for proto, lo, hi, why in _ports(str(allowed.I_p_protocol), list(allowed.ports)):
                    rules.append(
                        IngressRule(target, proto, lo, hi, peer, f"firewall rule {fw.name}", unresolved=why)
                    )
    if denies:
        for g in groups.values():
            g.complete = False
            g.why_incomplete = (
                f"deny rules ({', '.join(denies)}) are not ordered against allow rules by vizdoctor"
            )
    for p in placements:
        for k in p.groups:
            if k.startswith(("tag:", "sa:")) and k not in groups:
                groups[k] = SecurityGroup(
                    k, k.replace("tag:", "network tag ").replace("sa:", "service account ")
                )
    tag = next((t for t in auto_tags), gke.NODE_TAG.format(cluster=name))
    fix.node_group_ref, fix.node_group_id = f'"{tag}"', tag
    fix.source_group_ref = f'"{master}"' if master else "<master CIDR>"
    fix.source_group_id = master or "<master CIDR>"
    scenario = Scenario(f"{address} (live)", [master_key], placements, rules, groups)
    return Cluster(address, "GKE private cluster", [scenario], fix, aliases=[name])


def read_gke_network(
    nodes: list[dict[str, Any]],
    *,
    project: str | None = None,
    location: str | None = None,
    cluster_name: str | None = None,
    endpoint_url: str | None = None,
    timeout: float = 10.0,
) -> GkeResult:
    """Read the cluster and its firewall rules; every failure becomes an error line, never an exception."""
    out = GkeResult(project=project or _project_of(nodes), cluster_name=cluster_name)
    try:
        from google.cloud import compute_v1, container_v1
    except ImportError:
        out.errors.append(MISSING_CLIENTS)
        return out
    if not out.project:
        out.errors.append(
            "the GCP project is not in the nodes' provider ids (gce://PROJECT/...): pass --gcp-project"
        )
        return out
    try:
        options: dict[str, Any] = {}
        if endpoint_url:  # tests: a local server with recorded answers, no credentials
            from google.auth.credentials import AnonymousCredentials

            credentials: Any = AnonymousCredentials()  # type: ignore[no-untyped-call]
            options = {"api_endpoint": endpoint_url}
        else:
            import google.auth

            credentials, _ = google.auth.default(scopes=[READ_ONLY_SCOPE])
        containers = container_v1.ClusterManagerClient(
            transport="rest", credentials=credentials, client_options=options or None
        )
        firewalls_api = compute_v1.FirewallsClient(
            transport="rest", credentials=credentials, client_options=options or None
        )
        listed = containers.list_clusters(
            parent=f"projects/{out.project}/locations/{location or '-'}", timeout=timeout
        ).clusters
        pools = _node_pools(nodes)
        if cluster_name:
            chosen = [c for c in listed if c.name == cluster_name]
        else:
            chosen = [c for c in listed if pools and pools <= {p.name for p in c.node_pools}]
        if len(chosen) != 1:
            have = ", ".join(c.name for c in listed) or "none"
            out.errors.append(
                f"cannot tell which GKE cluster of project {out.project} this is (clusters: {have}); pass --cluster-name"
            )
            return out
        cluster = chosen[0]
        out.cluster_name = str(cluster.name)
        firewalls = list(firewalls_api.list(project=out.project, timeout=timeout))
    except Exception as exc:  # credentials, permissions, transport: the paths stay unknown, said why
        out.errors.append(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
        return out
    out.model.clusters.append(build_cluster(cluster, firewalls, out.project))
    datapath = str(getattr(cluster.network_config, "datapath_provider", "") or "")
    if gke.DATAPATH_V2 in datapath or datapath == "2":  # the enum's name, or its number over REST
        out.model.policy_enforcers.append(f"GKE Dataplane V2 (cluster {cluster.name})")
    elif cluster.network_policy and cluster.network_policy.enabled:
        out.model.policy_enforcers.append(f"GKE network policy enforcement (cluster {cluster.name})")
    return out
