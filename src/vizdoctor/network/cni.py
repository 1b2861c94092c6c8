"""What the inputs say about the cluster's platform, pod network and NetworkPolicy enforcer.

Read from the objects every source keeps (`Inventory.objects`: manifests, rendered charts, or the live
cluster's lists), so `scan` and `check` decide alike. Every answer carries its evidence; where the inputs
cannot decide, the answer is None with the input that would decide it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from vizdoctor.knowledge import cni
from vizdoctor.model import Inventory, RawObject, Workload
from vizdoctor.objindex import by_name

Platform = str  # "eks" | "gke" | "kubeadm"


@dataclass
class PodNetwork:
    platform: Platform | None = None
    platform_evidence: str = ""
    cni: str | None = None  # the pod network's name, when one is seen
    # True: pod IPs are on an overlay the control plane cannot route to; False: routable; None: undecided
    overlay: bool | None = None
    overlay_evidence: str = ""
    enforcers: list[str] = field(default_factory=list)  # what enforces NetworkPolicies, with evidence
    # True when the inputs hold every DaemonSet of the cluster (a live read), so no enforcer seen means none
    complete: bool = False


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = (((doc.get("spec") or {}).get("template") or {}).get("spec")) or doc.get("spec") or {}
    out = [c for c in (spec.get("containers") or []) if isinstance(c, dict)]
    return out + [c for c in (spec.get("initContainers") or []) if isinstance(c, dict)]


def _env(doc: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in _containers(doc):
        for e in c.get("env") or []:
            if isinstance(e, dict) and isinstance(e.get("name"), str) and e.get("value") is not None:
                out[e["name"]] = str(e["value"])
    return out


def _args(doc: dict[str, Any], container: str | None = None) -> list[str]:
    out: list[str] = []
    for c in _containers(doc):
        if container is None or c.get("name") == container:
            out += [str(a) for a in (c.get("args") or []) + (c.get("command") or [])]
    return out


def _objects(inv: Inventory, kind: str) -> Iterator[RawObject]:
    yield from inv.objects.get(kind, [])


def _agent(doc: dict[str, Any]) -> cni.CniAgent | None:
    name = str((doc.get("metadata") or {}).get("name", ""))
    names = {str(c.get("name")) for c in _containers(doc)}
    for agent in cni.AGENTS:
        if name in agent.daemonsets:
            return agent
    for agent in cni.AGENTS:
        if names & set(agent.containers) and agent.name not in ("GKE Dataplane V2", "AWS VPC CNI"):
            return agent
    return None


def _configmap(inv: Inventory, name: str) -> dict[str, str] | None:
    for o in _objects(inv, "ConfigMap"):
        if o.name == name:
            data = o.doc.get("data") or {}
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return None


def _platform(inv: Inventory) -> tuple[Platform | None, str]:
    live = inv.live
    if live is not None:
        if ".eks.amazonaws.com" in live.server:
            return "eks", f"the API server {live.server} is an EKS endpoint"
        for node in live.objects.get("Node", []):
            labels = (node.get("metadata") or {}).get("labels") or {}
            name = (node.get("metadata") or {}).get("name")
            if any(str(k).startswith("eks.amazonaws.com/") for k in labels):
                return "eks", f"node {name} carries eks.amazonaws.com/ labels"
            if "cloud.google.com/gke-nodepool" in labels:
                return "gke", f"node {name} carries cloud.google.com/gke-nodepool"
        for pod in live.objects.get("Pod", []):
            meta = pod.get("metadata") or {}
            if meta.get("namespace") == "kube-system" and str(meta.get("name", "")).startswith(
                "kube-apiserver-"
            ):
                return "kubeadm", f"the kube-apiserver runs as pod kube-system/{meta.get('name')} on a node"
    if inv.network.clusters:
        first = inv.network.clusters[0]
        if first.kind.startswith("GKE"):
            return "gke", f"the inputs describe GKE cluster {first.name}"
        return "eks", f"the inputs describe EKS cluster {first.name}"
    return None, "no EKS or GKE cluster and no live nodes in the inputs"


def _calico_overlay(inv: Inventory, ds: dict[str, Any]) -> tuple[bool | None, str]:
    for inst in _objects(inv, "Installation"):
        spec = inst.doc.get("spec") or {}
        cni_type = str(((spec.get("cni") or {}).get("type")) or "Calico")
        if cni_type == cni.CALICO_POLICY_ONLY_CNI:
            return False, f"Installation {inst.name} sets cni.type: {cni_type} (Calico enforces policy only)"
        pools = ((spec.get("calicoNetwork") or {}).get("ipPools")) or []
        encaps = [
            str(p.get("encapsulation")) for p in pools if isinstance(p, dict) and p.get("encapsulation")
        ]
        over = [e for e in encaps if e in cni.CALICO_OVERLAY_ENCAPSULATION]
        if over:
            return True, f"Installation {inst.name} gives its IP pool encapsulation: {over[0]} (Calico IPAM)"
        if encaps:
            return None, (
                f"Installation {inst.name} uses Calico IPAM without encapsulation: pod IPs come from Calico's "
                "pool, routable from the control plane only if the VPC routes that pool"
            )
        return None, f"Installation {inst.name} names no IP pool encapsulation (the operator picks it)"
    env = _env(ds)
    if env.get("CALICO_NETWORKING_BACKEND", "").lower() == "none":
        return False, "calico-node sets CALICO_NETWORKING_BACKEND=none (Calico enforces policy only)"
    for key in cni.CALICO_ENV_POOL_MODES:
        if env.get(key, "").lower() in cni.CALICO_ENV_OVERLAY_VALUES:
            return True, f"calico-node sets {key}={env[key]} (Calico IPAM, encapsulated)"
    return (
        None,
        "calico-node's encapsulation is not in its env (CALICO_IPV4POOL_IPIP/VXLAN) nor an Installation",
    )


def _cilium_overlay(inv: Inventory) -> tuple[bool | None, str]:
    conf = _configmap(inv, "cilium-config")
    if conf is None:
        return None, "the cilium-config ConfigMap (routing-mode, tunnel, ipam) is not in the inputs"
    if conf.get("ipam") == "eni" or conf.get("cni-chaining-mode") in cni.CILIUM_CHAINED_AWS:
        return False, "cilium-config: pods get VPC addresses (ENI IPAM or chained to the AWS VPC CNI)"
    for key, native in cni.CILIUM_CONFIG_NATIVE.items():
        if conf.get(key) == native:
            return None, (
                f"cilium-config sets {key}: {native} with {conf.get('ipam', 'cluster-pool')} IPAM: pod IPs are "
                "routable from the control plane only if the VPC routes the pod CIDR"
            )
    mode = conf.get("routing-mode") or conf.get("tunnel") or conf.get("tunnel-protocol") or "vxlan (default)"
    return True, f"cilium-config: encapsulation ({mode}) with {conf.get('ipam', 'cluster-pool')} IPAM"


def _antrea_overlay(inv: Inventory) -> tuple[bool | None, str]:
    conf = _configmap(inv, "antrea-config") or {}
    text = conf.get("antrea-agent.conf")
    if text is None:
        for key, value in conf.items():
            if key.startswith("antrea-agent"):
                text = value
    if text is None:
        return None, "Antrea's antrea-agent.conf (trafficEncapMode) is not in the inputs"
    m = re.search(r"^\s*trafficEncapMode:\s*['\"]?(\w+)", text, re.MULTILINE)
    mode = m.group(1) if m else "encap"
    if mode in cni.ANTREA_NO_TUNNEL:
        return False if mode == "networkPolicyOnly" else None, f"antrea-agent.conf: trafficEncapMode {mode}"
    return True, f"antrea-agent.conf: trafficEncapMode {mode}" + ("" if m else " (the default)")


def _flannel_overlay(inv: Inventory) -> tuple[bool | None, str]:
    conf = _configmap(inv, "kube-flannel-cfg")
    if conf is None or "net-conf.json" not in conf:
        return None, "flannel's net-conf.json (Backend Type) is not in the inputs"
    m = re.search(r'"Type"\s*:\s*"(\w+)"', conf["net-conf.json"])
    kind = m.group(1) if m else "?"
    return (True if kind in ("vxlan", "ipip", "udp") else None), f"flannel backend {kind}"


def pod_network(inv: Inventory) -> PodNetwork:
    out = PodNetwork()
    out.platform, out.platform_evidence = _platform(inv)
    out.complete = inv.live is not None and not any(c.kind == "DaemonSet" for c in inv.live.cannot_read)
    out.enforcers += list(dict.fromkeys(inv.network.policy_enforcers))  # from the Terraform (EKS add-on)
    agents: list[tuple[cni.CniAgent, RawObject]] = []
    for o in _objects(inv, "DaemonSet"):
        agent = _agent(o.doc)
        if agent is not None:
            agents.append((agent, o))
    if any(True for _ in _objects(inv, "Installation")) and not any(a.name == "Calico" for a, _ in agents):
        inst = next(iter(_objects(inv, "Installation")))
        agents.append((cni.AGENTS[0], RawObject({"metadata": {"name": "calico-node"}}, inst.location)))
    for agent, o in agents:
        where = f"DaemonSet {o.namespace or '?'}/{o.name}"
        if agent.name == "AWS VPC CNI":
            if any(cni.VPC_CNI_POLICY_FLAG in a for a in _args(o.doc, cni.VPC_CNI_POLICY_AGENT)):
                out.enforcers.append(
                    f"the AWS VPC CNI's network policy agent ({where}, {cni.VPC_CNI_POLICY_FLAG})"
                )
            continue
        if agent.enforces_policy:
            out.enforcers.append(f"{agent.name} ({where})")
    overlay_agents = [(a, o) for a, o in agents if a.name != "AWS VPC CNI"]
    for agent, o in overlay_agents:
        if agent.overlay == "no":
            continue
        out.cni = agent.name
        if agent.overlay == "yes":
            out.overlay, out.overlay_evidence = True, f"{agent.name} routes pods over its own overlay"
        elif agent.name == "Calico":
            out.overlay, out.overlay_evidence = _calico_overlay(inv, o.doc)
        elif agent.name == "Cilium":
            out.overlay, out.overlay_evidence = _cilium_overlay(inv)
        elif agent.name == "Antrea":
            out.overlay, out.overlay_evidence = _antrea_overlay(inv)
        elif agent.name == "flannel":
            out.overlay, out.overlay_evidence = _flannel_overlay(inv)
        if out.overlay is not False:
            break
    return out


def on_fargate(inv: Inventory, w: Workload) -> str | None:
    """Why the workload's pods run on Fargate, or None when the inputs do not say so."""
    if inv.live is not None and w.node_name:
        for node in inv.live.objects.get("Node", []):
            meta = node.get("metadata") or {}
            labels = meta.get("labels") or {}
            if meta.get("name") == w.node_name and labels.get("eks.amazonaws.com/compute-type") == "fargate":
                return f"pod {w.name} runs on Fargate node {w.node_name}"
    for cluster in inv.network.clusters:
        for scenario in cluster.scenarios:
            for p in scenario.placements:
                if p.selectors is not None and p.takes(w.namespace, w.pod_labels):
                    return f"{p.name} selects its pods"
    return None


def raw_workload(inv: Inventory, w: Workload) -> dict[str, Any] | None:
    for o in by_name(inv, w.kind).get(w.name, []):
        if (o.namespace or inv.default_namespace) == w.namespace:
            return o.doc
    return None


def pod_template(doc: dict[str, Any]) -> dict[str, Any]:
    """The pod (metadata + spec) a workload object runs."""
    if doc.get("kind") == "Pod":
        return doc
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    tpl = spec.get("template")
    return tpl if isinstance(tpl, dict) else {}


def namespace_annotations(inv: Inventory, namespace: str) -> dict[str, str] | None:
    for o in by_name(inv, "Namespace").get(namespace, []):
        ann = (o.doc.get("metadata") or {}).get("annotations") or {}
        return {str(k): str(v) for k, v in ann.items()}
    return None


def namespace_labels(inv: Inventory, namespace: str) -> dict[str, str] | None:
    for o in by_name(inv, "Namespace").get(namespace, []):
        lab = (o.doc.get("metadata") or {}).get("labels") or {}
        return {str(k): str(v) for k, v in lab.items()}
    return None


def konnectivity(inv: Inventory) -> str | None:
    """Why the control plane reaches pods through Konnectivity (agent pods in kube-system), or None."""
    from vizdoctor.knowledge.gke import KONNECTIVITY_AGENT

    for kind in ("Deployment", "DaemonSet", "Pod"):
        for o in inv.objects.get(kind, []):
            if o.namespace == "kube-system" and o.name.startswith(KONNECTIVITY_AGENT):
                return f"{kind} kube-system/{o.name} runs"
    return None
