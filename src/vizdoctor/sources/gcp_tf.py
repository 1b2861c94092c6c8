"""GKE private clusters in Terraform -> the cloud-neutral network model (network/model.py).

`google_container_cluster` with `private_cluster_config` (its `master_ipv4_cidr_block`), its node pools
(`node_config.tags`, `service_account`; `google_container_node_pool` resources that name it) and every
`google_compute_firewall` of the inputs. The control plane is one group (`gke:<cluster>:master`, the
control-plane range); each node pool a placement carrying GKE's own node tag, its own tags and service
account. GKE's `-master` rule (443, 10250) is a module default. A firewall rule whose source ranges hold
the control-plane range admits the control plane; one whose ranges cannot be evaluated might, so the verdict
is unknown. Deny rules are not ordered against allow rules here: their presence makes the verdict unknown.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from vizdoctor.knowledge import gke
from vizdoctor.location import Location
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
from vizdoctor.sources.tf_eval import Ref, Scope, Unknown, evaluate, is_known


def _first(block: Any) -> dict[str, Any]:
    if isinstance(block, list):
        block = block[0] if block else {}
    return block if isinstance(block, dict) else {}


def _strings(value: Any) -> list[str] | None:
    """A list of known strings, or None when any element is not known."""
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    out: list[str] = []
    for v in value:
        if not isinstance(v, str) or not is_known(v):
            return None
        out.append(v)
    return out


def _text(value: Any) -> str:
    return str(value.address if isinstance(value, Ref) else value)


def _ports(
    allow: dict[str, Any], scope: Scope
) -> list[tuple[str | None, int | None, int | None, str | None]]:
    """(protocol, from, to, why-unresolved) per port spec of one allow block."""
    proto = evaluate(allow.get("protocol"), scope)
    protocol = str(proto).lower() if isinstance(proto, str) else None
    if protocol == "all":
        return [("all", 0, 65535, None)]
    ports = evaluate(allow.get("ports"), scope) if "ports" in allow else None
    if ports is None:
        return [(protocol, 0, 65535, None if protocol else "protocol not resolved")]
    values = _strings(
        [str(p) if isinstance(p, int) else p for p in ports] if isinstance(ports, list) else ports
    )
    if values is None:
        return [(protocol, None, None, "ports not resolved")]
    out: list[tuple[str | None, int | None, int | None, str | None]] = []
    for p in values:
        m = re.fullmatch(r"\s*(\d+)(?:\s*-\s*(\d+))?\s*", p)
        if not m:
            out.append((protocol, None, None, f"port {p!r} not understood"))
            continue
        lo = int(m.group(1))
        out.append((protocol, lo, int(m.group(2) or lo), None))
    return out


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


def _resources(files: list[Any], rtype: str) -> list[tuple[Any, str, dict[str, Any], Scope]]:
    """Every `resource "<rtype>" "<name>"` of these (file, scope) pairs (python-hcl2's shape)."""
    out: list[tuple[Any, str, dict[str, Any], Scope]] = []
    for f, scope in files:
        for entry in f.body.get("resource", []) or []:
            if isinstance(entry, dict) and isinstance(entry.get(rtype), dict):
                out += [(f, n, b, scope) for n, b in entry[rtype].items() if isinstance(b, dict)]
    return out


def _block_line(f: Any, rtype: str, name: str) -> int | None:
    text = str(f.text)
    m = re.search(rf'^\s*resource\s+"?{re.escape(rtype)}"?\s+"?{re.escape(name)}"?\s*\{{', text, re.MULTILINE)
    if not m:
        return None
    return text.count("\n", 0, m.start() + len(m.group()) - len(m.group().lstrip())) + 1


def _placement(
    pname: str, cfg: dict[str, Any], pscope: Scope, ploc: Location, base: list[str], wanted_sas: bool
) -> Placement:
    """A node pool: GKE's node tag, every-instance group, its network tags and its service account."""
    tags = _strings(evaluate(cfg.get("tags"), pscope))
    keys = list(base)
    if tags is None:
        keys.append(f"{UNRESOLVED}the network tags of {pname} are not resolved")
    else:
        keys += [f"tag:{t}" for t in tags]
    sa = evaluate(cfg.get("service_account"), pscope) if cfg.get("service_account") is not None else None
    if isinstance(sa, str) and is_known(sa):
        keys.append(f"sa:{sa}")
    elif sa is not None and wanted_sas:
        keys.append(f"{UNRESOLVED}the service account of {pname} is not resolved")
    return Placement(pname, keys, location=ploc)


def _firewall_rules(
    firewalls: list[tuple[Any, str, dict[str, Any], Scope]],
    address: str,
    label: str,
    master: Any,
    master_refs: list[str],
    master_key: str,
    node_key: str,
    all_key: str,
) -> tuple[list[IngressRule], list[str]]:
    """The allow rules of every google_compute_firewall, as seen from one cluster; and the deny rules' names."""
    out: list[IngressRule] = []
    deny_notes: list[str] = []
    for ff, fname, fb, fscope in firewalls:
        faddr = f"{fscope.prefix}{gke.FIREWALL_RESOURCE}.{fname}"
        floc = Location(ff.path, _block_line(ff, gke.FIREWALL_RESOURCE, fname))
        direction = evaluate(fb.get("direction", gke.FIREWALL_DEFAULT_DIRECTION), fscope)
        if direction != "INGRESS" or evaluate(fb.get("disabled"), fscope) is True:
            continue
        if fb.get("deny"):
            deny_notes.append(faddr)
            continue
        targets: list[str] = []
        tags = _strings(evaluate(fb.get("target_tags"), fscope))
        sas = _strings(evaluate(fb.get("target_service_accounts"), fscope))
        if tags is None or sas is None:
            targets.append(f"{UNRESOLVED}{faddr}'s targets are not resolved")
        else:
            for t in tags:
                pattern = gke.NODE_TAG_PATTERN.format(cluster=re.escape(label))
                targets.append(node_key if re.match(pattern, t) else f"tag:{t}")
            targets += [f"sa:{s}" for s in sas]
            if not tags and not sas:
                targets.append(all_key)
        ranges_raw = evaluate(fb.get("source_ranges"), fscope)
        ranges = _strings(ranges_raw)
        src_ref = _text(ranges_raw) if isinstance(ranges_raw, Ref | Unknown) else ""
        if any(ref in src_ref for ref in master_refs) or (
            isinstance(ranges_raw, list) and any(ref in _text(r) for r in ranges_raw for ref in master_refs)
        ):
            peer = Peer("group", master_key)
        elif ranges is None:
            peer = Peer("unknown", f"source_ranges of {faddr} are not resolved")
        elif isinstance(master, str) and is_known(master):
            peer = (
                Peer("group", master_key)
                if _holds(ranges, master)
                else Peer("group", f"source ranges {', '.join(ranges) or 'none'}")
            )
        else:
            peer = Peer("unknown", f"the control-plane range of {address} is not resolved")
        for allow in fb.get("allow") or []:
            if not isinstance(allow, dict):
                continue
            for proto, lo, hi, why in _ports(allow, fscope):
                for target in targets:
                    out.append(IngressRule(target, proto, lo, hi, peer, faddr, location=floc, unresolved=why))
    return out, deny_notes


def _module_cluster(
    f: Any,
    mname: str,
    block: dict[str, Any],
    scope: Scope,
    firewalls: list[tuple[Any, str, dict[str, Any], Scope]],
) -> Cluster:
    """terraform-google-modules/kubernetes-engine: its private-cluster modules (control-plane-reachability.md
    §6.1, v44): every node pool is tagged `gke-<name>` (and `gke-<name>-<pool>`, plus node_pools_tags), and
    add_master_webhook_firewall_rules / add_cluster_firewall_rules create `gke-<name>-webhooks` admitting
    firewall_inbound_ports (default 8443, 9443, 15017) from the control-plane range to `gke-<name>`."""
    address = f"{scope.prefix}module.{mname}"
    loc = Location(f.path, _module_line(f, mname))
    source = str(block.get("source", ""))
    cname = evaluate(block.get("name"), scope)
    label = cname if isinstance(cname, str) and is_known(cname) else mname
    fix = FixTarget("module", module=mname, rule_resource=gke.FIREWALL_RESOURCE, where=loc)
    private = evaluate(block.get("enable_private_nodes"), scope)
    if not gke.MODULE_PRIVATE.search(source) or private is not True:
        why = (
            "the module's nodes are not private (enable_private_nodes is not true): GKE creates no control-plane "
            "firewall rule for them"
            if private is False or private is None
            else f"enable_private_nodes is not resolved ({private})"
        )
        return Cluster(
            address, "GKE cluster (module, not private)", [], fix, loc, why_unknown=why, aliases=[label]
        )
    master = evaluate(block.get("master_ipv4_cidr_block"), scope)
    master_key, node_key, all_key = f"gke:{address}:master", f"gke:{address}:node", f"gke:{address}:all"
    module_tag = f"gke-{label}"
    groups = {
        node_key: SecurityGroup(
            node_key, f"GKE's node tag {gke.NODE_TAG.format(cluster=label)}", location=loc
        ),
        all_key: SecurityGroup(all_key, f"every instance of the network of {address}", location=loc),
        master_key: SecurityGroup(master_key, f"the control-plane range of {address}"),
        f"tag:{module_tag}": SecurityGroup(
            f"tag:{module_tag}", f"network tag {module_tag} (the module's node tag)"
        ),
    }
    rules = [
        IngressRule(
            node_key,
            "tcp",
            port,
            port,
            Peer("group", master_key),
            gke.MASTER_RULE.format(cluster=label),
            "created by GKE for private clusters",
            default=True,
            location=loc,
        )
        for port in gke.MASTER_RULE_PORTS
    ]
    webhook_rules = any(evaluate(block.get(a), scope) is True for a in gke.MODULE_WEBHOOK_SWITCHES)
    ports_raw = (
        evaluate(block.get("firewall_inbound_ports"), scope)
        if "firewall_inbound_ports" in block
        else list(gke.MODULE_DEFAULT_INBOUND_PORTS)
    )
    ports = _strings(ports_raw)
    if webhook_rules:
        name = f"{address} gke-{label}-webhooks"
        if ports is None:
            rules.append(
                IngressRule(
                    f"tag:{module_tag}",
                    "tcp",
                    None,
                    None,
                    Peer("group", master_key),
                    name,
                    unresolved="firewall_inbound_ports is not resolved",
                    location=loc,
                )
            )
        for p in ports or []:
            lo, _, hi = p.partition("-")
            if lo.isdigit():
                rules.append(
                    IngressRule(
                        f"tag:{module_tag}",
                        "tcp",
                        int(lo),
                        int(hi or lo),
                        Peer("group", master_key),
                        name,
                        default=True,
                        location=loc,
                    )
                )
    pools_raw = (
        evaluate(block.get("node_pools"), scope) if "node_pools" in block else [{"name": "default-node-pool"}]
    )
    pool_tags = evaluate(block.get("node_pools_tags"), scope) if "node_pools_tags" in block else {}
    placements: list[Placement] = []
    if not isinstance(pools_raw, list) or not isinstance(pool_tags, dict):
        placements.append(
            Placement(
                f"{address} node pools",
                [node_key, all_key, f"{UNRESOLVED}node_pools of {address} are not resolved"],
                location=loc,
            )
        )
    else:
        for pool in pools_raw:
            pname = str(pool.get("name")) if isinstance(pool, dict) else "?"
            extra = _strings(pool_tags.get("all")) or []
            extra += _strings(pool_tags.get(pname)) or []
            keys = [
                node_key,
                all_key,
                f"tag:{module_tag}",
                f"tag:{module_tag}-{pname}",
                *(f"tag:{t}" for t in extra),
            ]
            placements.append(Placement(f"{address} node pool {pname}", keys, location=loc))
    more, denies = _firewall_rules(
        firewalls,
        address,
        label,
        master,
        [f"module.{mname}.", "master_ipv4_cidr_block"],
        master_key,
        node_key,
        all_key,
    )
    rules += more
    for placed in placements:
        for key in placed.groups:
            if key.startswith("tag:") and key not in groups:
                groups[key] = SecurityGroup(key, f"network tag {key[4:]}")
    if denies:
        for g in groups.values():
            g.complete = False
            g.why_incomplete = (
                f"deny rules ({', '.join(denies)}) are not ordered against allow rules by vizdoctor"
            )
    fix.node_group_ref = ", ".join(f'"{p}"' for p in (ports or list(gke.MODULE_DEFAULT_INBOUND_PORTS)))
    fix.node_group_id = module_tag
    fix.source_group_id = master if isinstance(master, str) and is_known(master) else "<master CIDR>"
    scenario = Scenario(
        f"{address} (private, terraform-google-modules)", [master_key], placements, rules, groups
    )
    return Cluster(
        address, "GKE private cluster (terraform-google-modules)", [scenario], fix, loc, aliases=[label]
    )


def _module_line(f: Any, name: str) -> int | None:
    text = str(f.text)
    m = re.search(rf'^\s*module\s+"?{re.escape(name)}"?\s*\{{', text, re.MULTILINE)
    return text.count("\n", 0, m.start() + len(m.group()) - len(m.group().lstrip())) + 1 if m else None


def gke_clusters(insts: list[Any], model: NetworkModel) -> None:
    """Add a Cluster per private google_container_cluster in these Terraform instances."""
    files = [(f, inst.scope) for inst in insts for f in inst.d.files]
    clusters = _resources(files, gke.CLUSTER_RESOURCE)
    modules = [
        (f, n, b, sc)
        for f, sc in files
        for entry in f.body.get("module", []) or []
        if isinstance(entry, dict)
        for n, b in entry.items()
        if isinstance(b, dict) and gke.MODULE_SOURCE.search(str(b.get("source", "")))
    ]
    if not clusters and not modules:
        return
    firewalls = _resources(files, gke.FIREWALL_RESOURCE)
    for mf, mname, mblock, mscope in modules:
        model.clusters.append(_module_cluster(mf, mname, mblock, mscope, firewalls))
    pools = _resources(files, gke.NODE_POOL_RESOURCE)
    for f, name, block, scope in clusters:
        address = f"{scope.prefix}{gke.CLUSTER_RESOURCE}.{name}"
        loc = Location(f.path, _block_line(f, gke.CLUSTER_RESOURCE, name))
        private = _first(block.get("private_cluster_config"))
        fix = FixTarget("raw", rule_resource=gke.FIREWALL_RESOURCE)
        cname = evaluate(block.get("name"), scope)
        label = cname if isinstance(cname, str) and is_known(cname) else name
        if not private or evaluate(private.get("enable_private_nodes"), scope) is False:
            model.clusters.append(
                Cluster(
                    address,
                    "GKE cluster (not private)",
                    [],
                    fix,
                    loc,
                    why_unknown="the cluster has no private nodes: GKE creates no control-plane firewall rule for it "
                    "and the inputs do not say how its control plane reaches the nodes",
                    aliases=[label],
                )
            )
            continue
        policy = _first(block.get("network_policy"))
        if evaluate(block.get("datapath_provider"), scope) == gke.DATAPATH_V2:
            model.policy_enforcers.append(
                f"GKE Dataplane V2 ({address} datapath_provider = {gke.DATAPATH_V2})"
            )
        elif policy and evaluate(policy.get("enabled"), scope) is True:
            model.policy_enforcers.append(
                f"GKE network policy enforcement ({address} network_policy.enabled)"
            )
        master = evaluate(private.get("master_ipv4_cidr_block"), scope)
        master_ref = f"{gke.CLUSTER_RESOURCE}.{name}.private_cluster_config[0].master_ipv4_cidr_block"
        master_key = f"gke:{address}:master"
        node_key = f"gke:{address}:node"
        all_key = f"gke:{address}:all"
        auto_tag = gke.NODE_TAG.format(cluster=label)
        groups = {
            node_key: SecurityGroup(node_key, f"GKE's node tag {auto_tag} of {address}", location=loc),
            all_key: SecurityGroup(all_key, f"every instance of the network of {address}", location=loc),
            master_key: SecurityGroup(
                master_key,
                f"the control-plane range {master if is_known(master) else '(unresolved)'} of {address}",
            ),
        }
        rules = [
            IngressRule(
                node_key,
                "tcp",
                port,
                port,
                Peer("group", master_key),
                gke.MASTER_RULE.format(cluster=label),
                f"created by GKE for private clusters (tcp {', '.join(map(str, gke.MASTER_RULE_PORTS))})",
                default=True,
                location=loc,
            )
            for port in gke.MASTER_RULE_PORTS
        ]
        # node pools: the cluster's default pool, and node pools that name this cluster
        placements: list[Placement] = []
        wanted_sas = any(fb.get("target_service_accounts") for _, _, fb, _ in firewalls)

        if evaluate(block.get("remove_default_node_pool"), scope) is not True:
            placements.append(
                _placement(
                    f"{address} default node pool",
                    _first(block.get("node_config")),
                    scope,
                    loc,
                    [node_key, all_key],
                    wanted_sas,
                )
            )
        for pf, pname, pblock, pscope in pools:
            cluster_ref = evaluate(pblock.get("cluster"), pscope)
            text = _text(cluster_ref)
            if f"{gke.CLUSTER_RESOURCE}.{name}" not in text and text != label:
                continue
            ploc = Location(pf.path, _block_line(pf, gke.NODE_POOL_RESOURCE, pname))
            paddr = f"{pscope.prefix}{gke.NODE_POOL_RESOURCE}.{pname}"
            placements.append(
                _placement(
                    paddr, _first(pblock.get("node_config")), pscope, ploc, [node_key, all_key], wanted_sas
                )
            )
        more, deny_notes = _firewall_rules(
            firewalls, address, label, master, [master_ref], master_key, node_key, all_key
        )
        rules += more
        for p in placements:
            for key in p.groups:
                if key.startswith(("tag:", "sa:")) and key not in groups:
                    groups[key] = SecurityGroup(
                        key,
                        f"instances with {key.replace('tag:', 'network tag ').replace('sa:', 'service account ')}",
                    )
        if deny_notes:
            for g in groups.values():
                g.complete = False
                g.why_incomplete = (
                    f"deny rules ({', '.join(deny_notes)}) are not ordered against allow rules by vizdoctor"
                )
        if not placements:
            placements.append(
                Placement(
                    f"{address} (no node pool in the inputs)",
                    [f"{UNRESOLVED}no node pool of {address} is in the inputs"],
                    location=loc,
                )
            )
        tags = [k[4:] for p in placements for k in p.groups if k.startswith("tag:")]
        network = evaluate(block.get("network"), scope)
        fix.node_group_ref = f'"{tags[0]}"' if tags else f'"{auto_tag}"'
        fix.node_group_id = tags[0] if tags else auto_tag
        fix.source_group_ref = master_ref
        fix.source_group_id = master if isinstance(master, str) and is_known(master) else "<master CIDR>"
        fix.module = (
            _text(network) if network is not None and not isinstance(network, Unknown) else "<network>"
        )
        if isinstance(network, str) and is_known(network):
            fix.module = f'"{network}"'
        fix.where = loc
        scenario = Scenario(f"{address} (private)", [master_key], placements, rules, groups)
        model.clusters.append(Cluster(address, "GKE private cluster", [scenario], fix, loc, aliases=[label]))
