"""Do the NetworkPolicies on a webhook pod admit the kube-apiserver on its port?

Evaluates `networking.k8s.io/v1` NetworkPolicy (kubernetes.io/docs/concepts/services-networking/
network-policies: a pod is isolated for ingress once a policy with Ingress in its policyTypes selects it;
rules are unioned; an empty `from` admits every source, empty `ports` every port; a named port is the
container port of that name), CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy (docs.cilium.io
security/policy/language: an endpoint is in default deny once a policy with ingress rules selects it;
`fromEntities`, `fromCIDR`, `fromCIDRSet`, `toPorts`) and Calico NetworkPolicy / GlobalNetworkPolicy
(projectcalico.org/v3 and crd.projectcalico.org/v1: `selector` expressions, ordered Allow/Deny rules).

The kube-apiserver is not a pod: a namespaceSelector or podSelector never matches it. Only an ipBlock /
CIDR that contains its source address, or an entity that stands for it, does; when that address is not in
the inputs the verdict is unknown, never blocked.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from vizdoctor.knowledge import cni
from vizdoctor.model import Inventory, RawObject

PolicyStatus = Literal["not-isolated", "allowed", "blocked", "unknown"]
Tri = bool | None


@dataclass
class PolicyVerdict:
    status: PolicyStatus
    reason: str
    selecting: list[RawObject] = field(default_factory=list)  # the policies that isolate the pod


def _match_expressions(exprs: Any, labels: dict[str, str]) -> bool:
    for e in exprs or []:
        if not isinstance(e, dict):
            continue
        key, op, values = str(e.get("key")), str(e.get("operator")), [str(v) for v in e.get("values") or []]
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def label_selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector; an empty one selects everything."""
    if not isinstance(selector, dict):
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(str(k)) != str(v):
            return False
    return _match_expressions(selector.get("matchExpressions"), labels)


def _cidr_holds(cidr: str, excepts: list[str], platform: str | None) -> Tri:
    """Does this CIDR certainly hold the kube-apiserver's source address? None: the inputs cannot say."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    if net.prefixlen == 0 and not excepts:
        return True
    return None


def _port_matches(rule_port: Any, protocol: Any, end_port: Any, port: int, port_name: str | None) -> bool:
    if str(protocol or "TCP").upper() != "TCP":
        return False
    if rule_port is None:
        return True
    if isinstance(rule_port, int) or (isinstance(rule_port, str) and rule_port.isdigit()):
        lo = int(rule_port)
        hi = int(end_port) if isinstance(end_port, int) else lo
        return lo <= port <= hi
    return port_name is not None and str(rule_port) == port_name


def _k8s_rule(
    rule: dict[str, Any], port: int, port_name: str | None, platform: str | None
) -> tuple[Tri, str]:
    ports = rule.get("ports") or []
    if ports and not any(
        isinstance(p, dict)
        and _port_matches(p.get("port"), p.get("protocol"), p.get("endPort"), port, port_name)
        for p in ports
    ):
        return False, "other ports"
    peers = rule.get("from") or []
    if not peers:
        return True, "admits every source" + (" on that port" if ports else "")
    undecided: list[str] = []
    for peer in peers:
        if not isinstance(peer, dict):
            continue
        block = peer.get("ipBlock")
        if isinstance(block, dict):
            holds = _cidr_holds(str(block.get("cidr")), list(block.get("except") or []), platform)
            if holds:
                return True, f"ipBlock {block.get('cidr')} holds every address"
            undecided.append(f"ipBlock {block.get('cidr')}")
    if undecided:
        return (
            None,
            f"whether {', '.join(undecided)} holds the kube-apiserver's source address is not in the inputs",
        )
    return (
        False,
        "admits pods and namespaces only (a namespaceSelector or podSelector never matches the kube-apiserver)",
    )


def _k8s(
    inv: Inventory,
    namespace: str,
    labels: dict[str, str],
    port: int,
    port_name: str | None,
    platform: str | None,
) -> list[tuple[RawObject, Tri, str]]:
    out: list[tuple[RawObject, Tri, str]] = []
    for pol in inv.objects.get("NetworkPolicy", []):
        if "projectcalico.org" in str(pol.doc.get("apiVersion", "")):
            continue  # Calico's own NetworkPolicy kind: evaluated below
        if (pol.namespace or inv.default_namespace) != namespace:
            continue
        spec = pol.doc.get("spec") or {}
        types = spec.get("policyTypes") or ["Ingress"]
        if "Ingress" not in types or not label_selector_matches(spec.get("podSelector") or {}, labels):
            continue
        best: tuple[Tri, str] = (False, "no ingress rule" if not spec.get("ingress") else "")
        whys: list[str] = []
        for i, rule in enumerate(spec.get("ingress") or []):
            if not isinstance(rule, dict):
                continue
            got, why = _k8s_rule(rule, port, port_name, platform)
            if got:
                best = (True, f"ingress[{i}] {why}")
                break
            if got is None:
                best = (None, f"ingress[{i}]: {why}")
            whys.append(f"ingress[{i}] {why}")
        if best[0] is False and whys:
            best = (False, "; ".join(whys))
        out.append((pol, *best))
    return out


def _cilium_labels(selector: Any) -> tuple[dict[str, Any], str | None]:
    """A Cilium endpointSelector with the `k8s:`/`any:` source prefixes dropped, and the namespace it names."""
    if not isinstance(selector, dict):
        return {}, None
    labels = {}
    ns = None
    for k, v in (selector.get("matchLabels") or {}).items():
        key = str(k).split(":", 1)[1] if str(k).startswith(("k8s:", "any:")) else str(k)
        if key == "io.kubernetes.pod.namespace":
            ns = str(v)
        else:
            labels[key] = v
    return {"matchLabels": labels, "matchExpressions": selector.get("matchExpressions") or []}, ns


def _cilium_rule(
    rule: dict[str, Any], port: int, port_name: str | None, platform: str | None
) -> tuple[Tri, str]:
    to_ports = rule.get("toPorts") or []
    if to_ports:
        wanted = [
            p
            for tp in to_ports
            if isinstance(tp, dict)
            for p in (tp.get("ports") or [])
            if isinstance(p, dict)
        ]
        if wanted and not any(
            _port_matches(p.get("port"), p.get("protocol"), p.get("endPort"), port, port_name) for p in wanted
        ):
            return False, "other ports"
    entities = [str(e) for e in rule.get("fromEntities") or []]
    cidrs = [str(c) for c in rule.get("fromCIDR") or []] + [
        str(c.get("cidr")) for c in rule.get("fromCIDRSet") or [] if isinstance(c, dict) and c.get("cidr")
    ]
    has_from = any(k.startswith("from") for k in rule)
    if not has_from:
        return (
            (True, "admits every source on that port")
            if to_ports
            else (False, "an empty rule admits nothing")
        )
    allow = cni.CILIUM_ENTITIES_FOR.get(platform or "", cni.CILIUM_ENTITIES_ALWAYS)
    hit = [e for e in entities if e in allow]
    if hit:
        return True, f"fromEntities {hit[0]}"
    if any(_cidr_holds(c, [], platform) for c in cidrs):
        return True, "fromCIDR 0.0.0.0/0"
    if cidrs or (
        platform is None and any(e in ("world", "cluster", "host", "remote-node") for e in entities)
    ):
        what = ", ".join(cidrs + entities)
        return (
            None,
            f"whether {what} holds the kube-apiserver's source is not in the inputs (platform unknown)",
        )
    shown = ", ".join(entities) or "endpoints only"
    return False, f"admits {shown}, which never stands for the kube-apiserver here"


def _cilium(
    inv: Inventory,
    namespace: str,
    labels: dict[str, str],
    port: int,
    port_name: str | None,
    platform: str | None,
) -> list[tuple[RawObject, Tri, str]]:
    out: list[tuple[RawObject, Tri, str]] = []
    for kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
        for pol in inv.objects.get(kind, []):
            if kind == "CiliumNetworkPolicy" and (pol.namespace or inv.default_namespace) != namespace:
                continue
            specs = [pol.doc.get("spec"), *list(pol.doc.get("specs") or [])]
            for spec in specs:
                if not isinstance(spec, dict) or not ("ingress" in spec or "ingressDeny" in spec):
                    continue
                selector, ns = _cilium_labels(spec.get("endpointSelector"))
                if ns is not None and ns != namespace:
                    continue
                if not label_selector_matches(selector, labels):
                    continue
                denied = any(
                    _cilium_rule(r, port, port_name, platform)[0]
                    for r in spec.get("ingressDeny") or []
                    if isinstance(r, dict)
                )
                if denied:
                    out.append((pol, False, "an ingressDeny rule drops the kube-apiserver on that port"))
                    continue
                verdict: tuple[Tri, str] = (False, "no ingress rule admits the kube-apiserver")
                for i, rule in enumerate(spec.get("ingress") or []):
                    if not isinstance(rule, dict):
                        continue
                    got, why = _cilium_rule(rule, port, port_name, platform)
                    if got:
                        verdict = (True, f"ingress[{i}] {why}")
                        break
                    if got is None:
                        verdict = (None, f"ingress[{i}]: {why}")
                out.append((pol, *verdict))
    return out


_CALICO_TERM = re.compile(r"^\s*(?:all\(\)|([\w./-]+)\s*==\s*['\"]([^'\"]*)['\"]|has\(([\w./-]+)\))\s*$")


def _calico_selector(expr: str, labels: dict[str, str]) -> Tri:
    """Calico selector expressions of `k == 'v'`, `has(k)`, `all()` joined by &&; None for anything else."""
    if not expr.strip():
        return True
    for term in expr.split("&&"):
        m = _CALICO_TERM.match(term)
        if not m:
            return None
        if m.group(1) and labels.get(m.group(1)) != m.group(2):
            return False
        if m.group(3) and m.group(3) not in labels:
            return False
    return True


def _calico(
    inv: Inventory,
    namespace: str,
    labels: dict[str, str],
    port: int,
    port_name: str | None,
    platform: str | None,
) -> list[tuple[RawObject, Tri, str]]:
    out: list[tuple[RawObject, Tri, str]] = []
    for kind in ("GlobalNetworkPolicy", "NetworkPolicy"):
        for pol in inv.objects.get(kind, []):
            api = str(pol.doc.get("apiVersion", ""))
            if "projectcalico.org" not in api:
                continue
            if kind == "NetworkPolicy" and (pol.namespace or inv.default_namespace) != namespace:
                continue
            spec = pol.doc.get("spec") or {}
            types = spec.get("types") or (
                ["Ingress"] if spec.get("ingress") or not spec.get("egress") else []
            )
            if "Ingress" not in types:
                continue
            selects = _calico_selector(str(spec.get("selector") or ""), labels)
            if selects is False:
                continue
            if selects is None:
                out.append(
                    (pol, None, f"its selector {spec.get('selector')!r} is beyond what vizdoctor evaluates")
                )
                continue
            verdict: tuple[Tri, str] = (False, "no ingress rule admits the kube-apiserver")
            for i, rule in enumerate(spec.get("ingress") or []):
                if not isinstance(rule, dict):
                    continue
                dest = rule.get("destination") or {}
                ports = dest.get("ports") or []
                if ports and not any(_calico_port(p, port, port_name) for p in ports):
                    continue
                if str(rule.get("protocol", "TCP")).upper() not in ("TCP", "6"):
                    continue
                src = rule.get("source") or {}
                nets = [str(n) for n in src.get("nets") or []]
                from_pods = any(
                    k in src for k in ("selector", "namespaceSelector", "serviceAccounts", "services")
                )
                if from_pods and not nets:
                    continue  # a selector matches workload endpoints only, never the kube-apiserver
                holds: Tri = (
                    True if not nets else (True if any(_cidr_holds(n, [], platform) for n in nets) else None)
                )
                action = str(rule.get("action", "Allow"))
                if holds is None:
                    verdict = (
                        None,
                        f"ingress[{i}] ({action}): whether {', '.join(nets)} holds the kube-apiserver's source is not in the inputs",
                    )
                    break
                if action == "Allow":
                    verdict = (True, f"ingress[{i}] allows it")
                    break
                if action == "Deny":
                    verdict = (False, f"ingress[{i}] denies it")
                    break
                if action == "Pass":
                    verdict = (
                        None,
                        f"ingress[{i}] passes it to the next tier, which vizdoctor does not order",
                    )
                    break
            out.append((pol, *verdict))
    return out


def _calico_port(p: Any, port: int, port_name: str | None) -> bool:
    if isinstance(p, int):
        return p == port
    text = str(p)
    if ":" in text:
        lo, hi = text.split(":", 1)
        return lo.isdigit() and hi.isdigit() and int(lo) <= port <= int(hi)
    return text == str(port) or text == port_name


def evaluate(
    inv: Inventory,
    namespace: str,
    labels: dict[str, str],
    port: int,
    port_name: str | None,
    platform: str | None,
) -> PolicyVerdict:
    results = (
        _k8s(inv, namespace, labels, port, port_name, platform)
        + _cilium(inv, namespace, labels, port, port_name, platform)
        + _calico(inv, namespace, labels, port, port_name, platform)
    )
    if not results:
        return PolicyVerdict("not-isolated", "no NetworkPolicy selects the pod")
    selecting = [pol for pol, _, _ in results]
    names = ", ".join(
        f"{p.doc.get('kind')} {p.namespace + '/' if p.namespace else ''}{p.name}" for p in selecting
    )
    calico_deny = [(p, why) for p, ok, why in results if ok is False and "denies it" in why]
    allowed = [(p, why) for p, ok, why in results if ok]
    if allowed and not calico_deny:
        p, why = allowed[0]
        return PolicyVerdict("allowed", f"{p.doc.get('kind')} {p.name}: {why}", selecting)
    unknown = [(p, why) for p, ok, why in results if ok is None]
    if unknown and not calico_deny:
        p, why = unknown[0]
        return PolicyVerdict("unknown", f"{p.doc.get('kind')} {p.name}: {why}", selecting)
    detail = "; ".join(f"{p.doc.get('kind')} {p.name}: {why}" for p, _, why in results)
    return PolicyVerdict(
        "blocked",
        f"{names} select the pod and none admits the kube-apiserver on TCP {port} ({detail})",
        selecting,
    )
