"""AWS API -> network model, for the live `check` command.

`check` lists the cluster's Nodes and Pods, then calls `read_aws_network`, which makes only read-only
calls (the IAM actions in `IAM_ACTIONS`, documented in docs/aws.md):

- eks:DescribeCluster: the groups on the control-plane network interfaces (the EKS-created cluster
  security group, `clusterSecurityGroupId`, plus the additional `securityGroupIds`);
- ec2:DescribeInstances: the groups on every network interface of every node's instance;
- ec2:DescribeSecurityGroups: the ingress rules of every group involved.

It builds one `Cluster` with one `Scenario` ("AWS API") whose placements are pinned to node names, so
`network.decide` reaches its verdict from the real rules. Whatever cannot be read or modelled (a denied
call, security groups for pods, an ambiguous node) becomes an `unresolved:` group or an incomplete group:
an `unknown` verdict with the reason, never a guess.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

from vizdoctor.knowledge import aws_sg
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

SCENARIO = "AWS API"
DESCRIBE_CLUSTER = "eks:DescribeCluster"
DESCRIBE_INSTANCES = "ec2:DescribeInstances"
DESCRIBE_SECURITY_GROUPS = "ec2:DescribeSecurityGroups"
IAM_ACTIONS = (DESCRIBE_CLUSTER, DESCRIBE_INSTANCES, DESCRIBE_SECURITY_GROUPS)

CLUSTER_NAME_LABELS = ("eks.amazonaws.com/cluster-name", "alpha.eksctl.io/cluster-name")
COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type"
ENI_CONFIG_KEY = "k8s.amazonaws.com/eniConfig"  # VPC CNI custom networking: node annotation or label
POD_ENI_KEY = "vpc.amazonaws.com/pod-eni"  # security groups for pods: pod annotation and resource name
CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"
CLUSTER_NAME_TAG = "eks:cluster-name"

_PROVIDER_ID = re.compile(r"^aws:///(?P<az>[^/]*)/(?P<rest>.+)$")
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]+$")
_REGION = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)")  # us-west-2-lax-1a -> us-west-2
_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"}
)
_BAD_CREDENTIALS = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
_FILTER_VALUES = 200  # EC2 accepts at most 200 values per filter
_DONE_PHASES = ("Succeeded", "Failed")
_NOT_EC2 = ("fargate", "hybrid")

IpNet = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class AwsResult:
    model: NetworkModel  # one Cluster, one Scenario "AWS API", placements pinned to node names
    notes: list[str] = field(default_factory=list)  # facts worth telling the user
    errors: list[str] = field(default_factory=list)  # AWS calls that failed, naming the IAM action
    cluster_name: str | None = None  # the EKS cluster read (given, or found on the nodes)
    region: str | None = None


# --- Kubernetes objects ---------------------------------------------------------------------------


def _get(d: Any, *keys: str) -> Any:
    """The first of `keys` present in `d` (API JSON is camelCase; kubernetes-client dicts snake_case)."""
    if not isinstance(d, dict):
        return None
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


@dataclass
class _Node:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    provider_id: str
    az: str | None
    instance_id: str | None

    @property
    def compute_type(self) -> str:
        return self.labels.get(COMPUTE_TYPE_LABEL, "")

    @property
    def eni_config(self) -> str | None:
        return self.annotations.get(ENI_CONFIG_KEY) or self.labels.get(ENI_CONFIG_KEY)


@dataclass
class _Pod:
    namespace: str
    name: str
    node: str | None
    host_network: bool
    ips: list[str]
    pod_eni: bool

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def _node(raw: dict[str, Any]) -> _Node | None:
    meta = _get(raw, "metadata") or {}
    name = _get(meta, "name")
    if not name:
        return None
    provider = str(_get(_get(raw, "spec"), "providerID", "provider_id") or "")
    az = instance = None
    m = _PROVIDER_ID.match(provider)
    if m:
        az = m.group("az") or None
        last = m.group("rest").rsplit("/", 1)[-1]
        instance = last if _INSTANCE_ID.match(last) else None
    return _Node(
        str(name), _str_map(_get(meta, "labels")), _str_map(_get(meta, "annotations")), provider, az, instance
    )


def _uses_pod_eni(raw: dict[str, Any], annotations: dict[str, str]) -> bool:
    if POD_ENI_KEY in annotations:
        return True
    # The VPC resource controller's webhook adds the resource to pods a SecurityGroupPolicy selects.
    for c in _get(_get(raw, "spec"), "containers") or []:
        res = _get(c, "resources") or {}
        for part in ("limits", "requests"):
            if POD_ENI_KEY in (_get(res, part) or {}):
                return True
    return False


def _pod(raw: dict[str, Any]) -> _Pod | None:
    meta = _get(raw, "metadata") or {}
    spec = _get(raw, "spec") or {}
    status = _get(raw, "status") or {}
    if _get(status, "phase") in _DONE_PHASES:
        return None  # finished pods hold no address
    ips = [str(_get(p, "ip")) for p in _get(status, "podIPs", "pod_i_ps", "pod_ips") or [] if _get(p, "ip")]
    first = _get(status, "podIP", "pod_ip")
    if first and str(first) not in ips:
        ips.insert(0, str(first))
    annotations = _str_map(_get(meta, "annotations"))
    node = _get(spec, "nodeName", "node_name")
    return _Pod(
        str(_get(meta, "namespace") or "default"),
        str(_get(meta, "name") or "?"),
        str(node) if node else None,
        bool(_get(spec, "hostNetwork", "host_network")),
        ips,
        _uses_pod_eni(raw, annotations),
    )


def _refs(pods: list[_Pod], limit: int = 3) -> str:
    names = [p.ref for p in pods[:limit]]
    more = f" and {len(pods) - limit} more" if len(pods) > limit else ""
    return ", ".join(names) + more


def _names(items: Iterable[str], limit: int = 5) -> str:
    seq = list(items)
    more = f" and {len(seq) - limit} more" if len(seq) > limit else ""
    return ", ".join(seq[:limit]) + more


# --- AWS calls ------------------------------------------------------------------------------------


# What an AWS call can fail with. ResponseParserError (not a BotoCoreError) is a 200 whose body is no AWS
# answer: a proxy's or captive portal's HTML page; KeyError/TypeError: JSON of the wrong shape.
AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError, KeyError, TypeError)


def _explain(action: str, exc: BaseException, hint: str = "") -> str:
    """One line for `errors`: the IAM action, what AWS said, and what to do."""
    if isinstance(exc, ResponseParserError | KeyError | TypeError):
        return (
            f"{action} failed: the answer is not an AWS API answer (a proxy's or a captive portal's page?); "
            "check HTTPS_PROXY and the AWS endpoint"
        )
    if isinstance(exc, ClientError):
        err = exc.response.get("Error") or {}
        code = str(err.get("Code") or "")
        message = " ".join(str(err.get("Message") or exc).split())[:300]
        if code in _DENIED:
            return (
                f"{action} was denied ({code}: {message}); grant {action} to the identity vizdoctor runs "
                "as (docs/aws.md has the read-only policy)"
            )
        if code in _BAD_CREDENTIALS:
            return f"{action} failed: AWS rejected the credentials ({code}: {message})"
        return f"{action} failed: {code}: {message}{hint}"
    if isinstance(exc, NoCredentialsError):
        return (
            f"{action} failed: no AWS credentials were found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY)"
        )
    return f"{action} failed: {exc}"


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(values), _FILTER_VALUES):
        yield values[i : i + _FILTER_VALUES]


T = TypeVar("T")
AWS_CONCURRENCY = (
    4  # Describe calls in flight at once (the clients are made first: sessions are not thread-safe)
)


def _parallel(calls: list[Callable[[], T]]) -> list[T | Exception]:
    """Each call's result (or the exception it raised), in the order of `calls`, never of completion, so
    that errors and notes come out as a sequential read gives them. Up to AWS_CONCURRENCY at once, on
    daemon threads rather than a ThreadPoolExecutor: `check` abandons the AWS read at its deadline
    (live._within), and an executor's workers would hold the process at exit until a hanging call times out.
    """
    out: list[T | Exception] = []
    if AWS_CONCURRENCY <= 1 or len(calls) <= 1:
        for call in calls:
            try:
                out.append(call())
            except Exception as exc:  # handed back in order; the caller raises or reports it
                out.append(exc)
        return out
    results: list[list[T | Exception]] = [[] for _ in calls]
    gate = threading.Semaphore(AWS_CONCURRENCY)

    def run(i: int) -> None:
        with gate:
            try:
                results[i].append(calls[i]())
            except Exception as exc:
                results[i].append(exc)

    threads = [
        threading.Thread(target=run, args=(i,), name="vizdoctor-aws", daemon=True) for i in range(len(calls))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r[0] for r in results]


def _merged(parts: list[dict[str, dict[str, Any]] | Exception]) -> dict[str, dict[str, Any]]:
    """The chunks' answers in chunk order; the first failed chunk's error, as a sequential read raises it."""
    out: dict[str, dict[str, Any]] = {}
    for part in parts:
        if isinstance(part, Exception):
            raise part
        out.update(part)
    return out


def _instances_chunk(ec2: Any, chunk: list[str]) -> dict[str, dict[str, Any]]:
    # A filter (not InstanceIds) so that one terminated instance does not fail the whole call.
    out: dict[str, dict[str, Any]] = {}
    for page in ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-id", "Values": chunk}]
    ):
        for reservation in page.get("Reservations") or []:
            for inst in reservation.get("Instances") or []:
                out[str(inst["InstanceId"])] = inst
    return out


def _describe_instances(ec2: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    return _merged(_parallel([functools.partial(_instances_chunk, ec2, c) for c in _chunks(ids)]))


def _groups_chunk(ec2: Any, chunk: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for page in ec2.get_paginator("describe_security_groups").paginate(
        Filters=[{"Name": "group-id", "Values": chunk}]
    ):
        for sg in page.get("SecurityGroups") or []:
            out[str(sg["GroupId"])] = sg
    return out


def _describe_security_groups(ec2: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    return _merged(_parallel([functools.partial(_groups_chunk, ec2, c) for c in _chunks(ids)]))


# --- network interfaces ---------------------------------------------------------------------------


@dataclass
class _Eni:
    id: str
    device: int
    groups: tuple[str, ...]
    nets: list[IpNet]

    def holds(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr.version == n.version and addr in n for n in self.nets)

    def describe(self) -> str:
        return f"{self.id} ({', '.join(self.groups) or 'no groups'})"


def _net(value: Any) -> IpNet | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def _enis(instance: dict[str, Any]) -> list[_Eni]:
    out: list[_Eni] = []
    for eni in instance.get("NetworkInterfaces") or []:
        raw: list[Any] = [a.get("PrivateIpAddress") for a in eni.get("PrivateIpAddresses") or []]
        raw += [eni.get("PrivateIpAddress")]
        raw += [a.get("Ipv6Address") for a in eni.get("Ipv6Addresses") or []]
        raw += [p.get("Ipv4Prefix") for p in eni.get("Ipv4Prefixes") or []]  # prefix delegation
        raw += [p.get("Ipv6Prefix") for p in eni.get("Ipv6Prefixes") or []]
        nets = [n for n in (_net(v) for v in raw if v) if n is not None]
        groups = tuple(dict.fromkeys(str(g["GroupId"]) for g in eni.get("Groups") or [] if g.get("GroupId")))
        device = (eni.get("Attachment") or {}).get("DeviceIndex")
        out.append(
            _Eni(
                str(eni.get("NetworkInterfaceId", "?")),
                device if isinstance(device, int) else 99,
                groups,
                nets,
            )
        )
    return sorted(out, key=lambda e: e.device)


def _unresolved(why: str) -> str:
    return f"{UNRESOLVED}{why}"


@dataclass
class _NodeGroups:
    groups: list[str]
    custom_networking: bool = False  # resolved from the interfaces that hold the pods' addresses


def _ec2_node_groups(node: _Node, instance: dict[str, Any], pods: list[_Pod]) -> _NodeGroups:
    """The groups that admit traffic to the pods of one EC2 node, from its network interfaces."""
    enis = _enis(instance)
    if not enis:
        return _NodeGroups(
            [_unresolved(f"DescribeInstances lists no network interface on {node.instance_id}")]
        )
    primary = enis[0]
    own = [p for p in pods if not p.host_network and p.ips]
    host = [p for p in pods if p.host_network]
    sgp = [p for p in pods if p.pod_eni and not p.host_network]
    if sgp:
        return _NodeGroups(
            [
                _unresolved(
                    f"pod {_refs(sgp)} on this node use{'s' if len(sgp) == 1 else ''} security groups for pods "
                    f"({POD_ENI_KEY}): the groups of a SecurityGroupPolicy sit on a branch network interface "
                    "vizdoctor does not read, and the decision is made per node"
                )
            ]
        )
    placed: dict[tuple[str, ...], list[_Pod]] = {}
    stray: list[_Pod] = []
    for p in own:
        eni = next((e for e in enis if any(e.holds(ip) for ip in p.ips)), None)
        if eni is None:
            stray.append(p)
        else:
            placed.setdefault(eni.groups, []).append(p)
    if stray:
        return _NodeGroups(
            [
                _unresolved(
                    f"the address of pod {_refs(stray)} ({stray[0].ips[0]}) is on none of the network interfaces "
                    f"of {node.instance_id}: the pod uses security groups for pods, or an overlay CNI (Calico, "
                    "Cilium) whose pod addresses the EKS control plane cannot reach"
                )
            ]
        )
    sets = list(dict.fromkeys(e.groups for e in enis))
    custom = bool(node.eni_config) or len(sets) > 1
    # hostNetwork pods answer on the node's own address, on the primary interface.
    candidates = list(placed)
    if host and primary.groups not in candidates:
        candidates.append(primary.groups)
    if not candidates:
        if not custom:
            return _NodeGroups(list(sets[0]))
        if node.eni_config:
            why = (
                f"the node uses VPC CNI custom networking (ENIConfig {node.eni_config!r}) and no pod on it has an "
                "address to show which network interface, and so which of the ENIConfig's groups, its pods use"
            )
        else:
            why = (
                f"its network interfaces carry different security groups ({'; '.join(e.describe() for e in enis)}) "
                "and no pod on it has an address to show which its pods use"
            )
        return _NodeGroups([_unresolved(why)])
    if len(candidates) == 1:
        return _NodeGroups(list(candidates[0]), custom_networking=custom)
    parts = [
        f"pods with their own address ({_refs(ps)}) are behind {', '.join(gs) or 'no group'}"
        for gs, ps in placed.items()
    ]
    if host and primary.groups not in placed:
        parts.append(
            f"hostNetwork pods ({_refs(host)}) are behind the primary interface {primary.id}'s "
            f"{', '.join(primary.groups) or 'no group'}"
        )
    cn = f" (VPC CNI custom networking, ENIConfig {node.eni_config!r})" if node.eni_config else ""
    why = (
        f"pods on this node sit behind different security groups{cn}: {'; '.join(parts)}; the decision is made "
        "per node, so which of them a webhook's pods use is not told apart"
    )
    return _NodeGroups([*_common(candidates), _unresolved(why)])


def _common(sets: list[tuple[str, ...]]) -> list[str]:
    """Groups on every candidate interface: a rule on one of them applies whichever the pod uses."""
    return [g for g in sets[0] if all(g in s for s in sets[1:])] if sets else []


# --- security group rules -------------------------------------------------------------------------


def _port(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _group_label(sg: dict[str, Any]) -> str:
    gid = str(sg.get("GroupId"))
    name = sg.get("GroupName")
    return f"{gid} ({name})" if name else gid


def _sg_rules(sg: dict[str, Any], ip_family: str | None) -> tuple[list[IngressRule], int]:
    """Ingress rules of one described group; the count of CIDR sources of the other IP family left out."""
    gid = str(sg["GroupId"])
    owner = sg.get("OwnerId")
    label = _group_label(sg)
    rules: list[IngressRule] = []
    skipped = 0
    for perm in sg.get("IpPermissions") or []:
        protocol = aws_sg.protocol(perm.get("IpProtocol"))
        lo, hi = _port(perm.get("FromPort")), _port(perm.get("ToPort"))
        if protocol == "all":
            lo = hi = None
        unresolved = None
        if protocol is None:
            unresolved = "the rule has no protocol"
        elif protocol in ("tcp", "udp") and (lo is None or hi is None):
            unresolved = "the rule has no port range"
        sources: list[tuple[Peer, str, Any]] = []
        for pair in perm.get("UserIdGroupPairs") or []:
            other = pair.get("GroupId")
            if not other:
                why = f"a group named {pair.get('GroupName', '?')} without an id"
                sources.append((Peer("unknown", why), why, pair.get("Description")))
            elif other == gid:
                sources.append((Peer("self"), f"{gid} (self)", pair.get("Description")))
            else:
                account = pair.get("UserId")
                text = (
                    f"{other} (account {account})" if account and owner and account != owner else str(other)
                )
                sources.append((Peer("group", str(other)), text, pair.get("Description")))
        for r in perm.get("IpRanges") or []:
            if ip_family == "ipv6":
                skipped += 1
                continue
            sources.append((Peer("cidr", str(r.get("CidrIp"))), str(r.get("CidrIp")), r.get("Description")))
        for r in perm.get("Ipv6Ranges") or []:
            if ip_family == "ipv4":
                skipped += 1
                continue
            sources.append(
                (Peer("cidr", str(r.get("CidrIpv6"))), str(r.get("CidrIpv6")), r.get("Description"))
            )
        for r in perm.get("PrefixListIds") or []:
            pl = str(r.get("PrefixListId"))
            sources.append((Peer("prefix_list", pl), f"prefix list {pl}", r.get("Description")))
        for peer, text, desc in sources:
            description = str(desc) if desc else None
            rule = IngressRule(
                gid, protocol, lo, hi, peer, name="", description=description, unresolved=unresolved
            )
            name = f"{label} ingress {rule.ports_text()} from {text}"
            if description:
                name += f' "{description}"'
            rules.append(replace(rule, name=name))
    return rules, skipped


# --- the fix --------------------------------------------------------------------------------------


def _owned(sg: dict[str, Any] | None, cluster_name: str | None) -> bool:
    for tag in (sg or {}).get("Tags") or []:
        key, value = str(tag.get("Key", "")), str(tag.get("Value", ""))
        if value == "owned" and (
            key == f"{CLUSTER_TAG_PREFIX}{cluster_name}"
            if cluster_name
            else key.startswith(CLUSTER_TAG_PREFIX)
        ):
            return True
    return False


def _fix_target(
    node_groups: dict[str, list[str]],
    primary: str | None,
    control_plane: list[str],
    described: dict[str, dict[str, Any]],
    cluster_name: str | None,
    fargate_only: bool,
    notes: list[str],
) -> FixTarget:
    """The node group to add a rule to: the one tagged kubernetes.io/cluster/<name> = owned, else the
    first group on the node's interfaces that is not the cluster security group."""
    choice: dict[str, str] = {}
    for node, groups in node_groups.items():
        own = [g for g in groups if g != primary and not g.startswith(UNRESOLVED)]
        if own:
            choice[node] = next((g for g in own if _owned(described.get(g), cluster_name)), own[0])
    fix = FixTarget("raw")
    if choice:
        counts = Counter(choice.values())
        fix.node_group_id = counts.most_common(1)[0][0]
        others = sorted({g for g in choice.values() if g != fix.node_group_id})
        if others:
            elsewhere = _names(n for n, g in sorted(choice.items()) if g != fix.node_group_id)
            notes.append(
                f"The fix adds the rule to {fix.node_group_id}; nodes {elsewhere} use {', '.join(others)} "
                "instead: add the same rule there if their pods must be reached"
            )
    elif fargate_only and primary:
        fix.node_group_id = primary  # Fargate pods carry the cluster security group
    source = primary or (control_plane[0] if control_plane else None)
    if source:
        fix.source_group_id = source
        fix.source_group_ref = f'"{source}"'
    if not fix.node_group_id.startswith("<"):
        fix.node_group_ref = f'"{fix.node_group_id}"'
    return fix


# --- the whole read -------------------------------------------------------------------------------


def _region_from_nodes(nodes: list[_Node], notes: list[str]) -> str | None:
    regions = Counter(m.group(1) for n in nodes if n.az and (m := _REGION.match(n.az)))
    if not regions:
        return None
    region = regions.most_common(1)[0][0]
    if len(regions) > 1:
        notes.append(
            f"The nodes' providerIDs name several regions ({', '.join(sorted(regions))}); {region} was read"
        )
    return region


def _cluster_name_from_nodes(
    nodes: list[_Node], instances: dict[str, dict[str, Any]]
) -> tuple[set[str], str]:
    labelled = {n.labels[k] for n in nodes for k in CLUSTER_NAME_LABELS if n.labels.get(k)}
    if labelled:
        return labelled, "node labels"
    tagged: set[str] = set()
    for inst in instances.values():
        for tag in inst.get("Tags") or []:
            key, value = str(tag.get("Key", "")), str(tag.get("Value", ""))
            if key == CLUSTER_NAME_TAG and value:
                tagged.add(value)
            elif key.startswith(CLUSTER_TAG_PREFIX) and value in ("owned", "shared"):
                tagged.add(key[len(CLUSTER_TAG_PREFIX) :])
    return tagged, "instance tags"


@dataclass
class _ControlPlane:
    primary: str | None = None  # the EKS-created cluster security group
    groups: list[str] = field(default_factory=list)  # every group on the control-plane interfaces
    ip_family: str | None = None
    version: str = ""


@dataclass
class _Placements:
    placements: list[Placement] = field(default_factory=list)
    node_groups: dict[str, list[str]] = field(default_factory=dict)  # EC2 node -> its pods' groups
    fargate: list[str] = field(default_factory=list)
    custom: list[str] = field(default_factory=list)
    with_primary: list[str] = field(default_factory=list)
    pod_eni: list[str] = field(default_factory=list)


class _Reader:
    """One read: the clients, and why the cluster cannot be decided once that is known."""

    def __init__(self, result: AwsResult, nodes: list[_Node], pods: list[_Pod]) -> None:
        self.result = result
        self.nodes = nodes
        self.pods_by_node: dict[str, list[_Pod]] = {}
        for p in pods:
            if p.node:
                self.pods_by_node.setdefault(p.node, []).append(p)
        self.ec2: Any = None
        self.eks: Any = None
        self.why_unknown: str | None = None

    def connect(self, session: Any, region: str | None, endpoint_url: str | None, timeout: float) -> None:
        try:
            sess = session if session is not None else boto3.Session()
            self.result.region = (
                region or _region_from_nodes(self.nodes, self.result.notes) or sess.region_name
            )
            if not self.result.region:
                self.why_unknown = "the AWS region is unknown (no --region, no aws:/// providerID on the nodes, no default region)"
                self.result.errors.append(
                    f"no AWS region: pass --region or set AWS_REGION; {self.why_unknown}"
                )
                return
            cfg = Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"total_max_attempts": 2, "mode": "standard"},
            )
            self.ec2 = sess.client(
                "ec2", region_name=self.result.region, endpoint_url=endpoint_url, config=cfg
            )
            self.eks = sess.client(
                "eks", region_name=self.result.region, endpoint_url=endpoint_url, config=cfg
            )
        except (BotoCoreError, ValueError) as exc:
            self.why_unknown = f"no AWS client could be made: {exc}"
            self.result.errors.append(f"AWS session failed: {exc}")

    def instances(self) -> tuple[dict[str, dict[str, Any]], str | None]:
        ids = sorted(
            {str(n.instance_id) for n in self.nodes if n.instance_id and n.compute_type not in _NOT_EC2}
        )
        if not ids:
            return {}, None
        if self.ec2 is None:
            return {}, self.why_unknown or "no AWS client"
        try:
            return _describe_instances(self.ec2, ids), None
        except AWS_ERRORS as exc:
            error = _explain(DESCRIBE_INSTANCES, exc)
            self.result.errors.append(error)
            return {}, error

    def early_cluster_name(self, given: str | None) -> str | None:
        """The name `cluster_name` will settle on when it does not need the instances' tags (given, or one
        name on the nodes' labels): DescribeCluster can then run beside DescribeInstances."""
        if given or self.why_unknown:
            return given
        found, _ = _cluster_name_from_nodes(self.nodes, {})
        return next(iter(found)) if len(found) == 1 else None

    def cluster_name(self, given: str | None, instances: dict[str, dict[str, Any]]) -> str | None:
        if given or self.why_unknown:
            return given
        found, how = _cluster_name_from_nodes(self.nodes, instances)
        if len(found) == 1:
            name = found.pop()
            self.result.notes.append(f"EKS cluster name {name!r} taken from the {how}")
            return name
        if found:
            self.why_unknown = (
                f"the {how} name several EKS clusters ({', '.join(sorted(found))}); pass --cluster-name"
            )
        else:
            self.why_unknown = (
                "the EKS cluster name is unknown (no cluster-name label on the nodes, no eks:cluster-name tag on "
                "their instances); pass --cluster-name"
            )
        return None

    def describe_cluster(self, name: str) -> Any:
        return self.eks.describe_cluster(name=name)

    def control_plane(self, name: str | None, fetched: Any = None) -> _ControlPlane:
        """`fetched`: DescribeCluster's answer for `name` (or the exception it raised), when it ran early."""
        cp = _ControlPlane()
        if self.eks is None or not name or self.why_unknown:
            return cp
        try:
            if isinstance(fetched, Exception):
                raise fetched
            info = (fetched if fetched is not None else self.describe_cluster(name))["cluster"]
        except AWS_ERRORS as exc:
            code = (exc.response.get("Error") or {}).get("Code") if isinstance(exc, ClientError) else None
            hint = (
                f" (is {name!r} the cluster's name, and is it in {self.result.region}?)"
                if code == "ResourceNotFoundException"
                else ""
            )
            message = _explain(DESCRIBE_CLUSTER, exc, hint)
            self.result.errors.append(message)
            self.why_unknown = f"the control plane's security groups are unknown: {message}"
            return cp
        vpc = info.get("resourcesVpcConfig") or {}
        # Real EKS returns clusterSecurityGroupId except for clusters from before 1.14; moto never does.
        cp.primary = str(vpc["clusterSecurityGroupId"]) if vpc.get("clusterSecurityGroupId") else None
        additional = [str(g) for g in vpc.get("securityGroupIds") or []]
        cp.groups = list(dict.fromkeys([*([cp.primary] if cp.primary else []), *additional]))
        cp.ip_family = str((info.get("kubernetesNetworkConfig") or {}).get("ipFamily") or "ipv4")
        cp.version = str(info.get("version") or "")
        if not cp.primary:
            self.result.notes.append(
                f"DescribeCluster returned no clusterSecurityGroupId for {name!r} (clusters created before "
                "Kubernetes 1.14 have none): the control plane is taken to carry only its "
                f"securityGroupIds ({', '.join(additional) or 'none'}), and the group of Fargate pods is unknown"
            )
        if not cp.groups:
            self.why_unknown = "DescribeCluster returned no security group for the control plane"
        return cp

    def placements(
        self, cp: _ControlPlane, instances: dict[str, dict[str, Any]], instances_error: str | None
    ) -> _Placements:
        out = _Placements()
        for node in self.nodes:
            here = self.pods_by_node.get(node.name, [])
            pinned = frozenset({node.name})
            sgp = [p for p in here if p.pod_eni and not p.host_network]
            if sgp:
                out.pod_eni.append(node.name)
            if node.compute_type == "fargate":
                out.fargate.append(node.name)
                if sgp:
                    groups = [_unresolved(f"pod {_refs(sgp)} uses security groups for pods ({POD_ENI_KEY})")]
                elif cp.primary:
                    groups = [cp.primary]
                elif self.why_unknown:
                    groups = [
                        _unresolved(
                            f"Fargate pods carry the cluster security group, unknown: {self.why_unknown}"
                        )
                    ]
                else:
                    groups = [
                        _unresolved(
                            "Fargate pods carry the cluster security group, whose id DescribeCluster did not return"
                        )
                    ]
                out.placements.append(Placement(f"Fargate node {node.name}", groups, nodes=pinned))
                continue
            if node.compute_type == "hybrid":
                why = "a hybrid node: the control plane reaches it through your own network, which vizdoctor does not read"
                out.placements.append(Placement(f"hybrid node {node.name}", [_unresolved(why)], nodes=pinned))
                continue
            if not node.instance_id:
                why = (
                    f"its providerID {node.provider_id!r} names no EC2 instance"
                    if node.provider_id
                    else "it has no providerID"
                )
                out.placements.append(Placement(f"node {node.name}", [_unresolved(why)], nodes=pinned))
                continue
            if instances_error is not None:
                groups = [
                    _unresolved(f"the security groups of {node.instance_id} are unknown: {instances_error}")
                ]
            elif node.instance_id not in instances:
                groups = [
                    _unresolved(
                        f"DescribeInstances did not return {node.instance_id} (terminated, or in another account or region)"
                    )
                ]
            else:
                resolved = _ec2_node_groups(node, instances[node.instance_id], here)
                groups = resolved.groups
                out.node_groups[node.name] = groups
                if resolved.custom_networking:
                    out.custom.append(node.name)
                if cp.primary and cp.primary in groups:
                    out.with_primary.append(node.name)
            out.placements.append(Placement(f"node {node.name} ({node.instance_id})", groups, nodes=pinned))
        return out

    def groups(
        self, wanted: list[str], ip_family: str | None
    ) -> tuple[dict[str, SecurityGroup], list[IngressRule], dict[str, dict[str, Any]]]:
        described: dict[str, dict[str, Any]] = {}
        error: str | None = None
        if self.ec2 is None:
            error = self.why_unknown or "no AWS client"
        elif wanted:
            try:
                described = _describe_security_groups(self.ec2, wanted)
            except AWS_ERRORS as exc:
                error = _explain(DESCRIBE_SECURITY_GROUPS, exc)
                self.result.errors.append(error)
        groups: dict[str, SecurityGroup] = {}
        rules: list[IngressRule] = []
        skipped = 0
        for gid in wanted:
            sg = described.get(gid)
            if sg is None:
                why = (
                    f"its rules could not be read: {error}"
                    if error
                    else "DescribeSecurityGroups did not return it (deleted, or owned by another account)"
                )
                groups[gid] = SecurityGroup(gid, gid, complete=False, why_incomplete=why, aws_id=gid)
                continue
            made, n = _sg_rules(sg, ip_family)
            rules.extend(made)
            skipped += n
            groups[gid] = SecurityGroup(gid, _group_label(sg), complete=True, aws_id=gid)
        if skipped:
            other = "IPv6" if ip_family == "ipv4" else "IPv4"
            self.result.notes.append(
                f"{skipped} {other} source range{'s' if skipped > 1 else ''} left out: the cluster is {ip_family}, "
                f"so the control plane connects to pods over {ip_family}"
            )
        return groups, rules, described


def _placement_notes(found: _Placements, cp: _ControlPlane, no_nodes: bool, notes: list[str]) -> None:
    if no_nodes:
        notes.append("No nodes were listed, so no node's security groups were read")
    if found.fargate:
        where = f"the cluster security group {cp.primary}" if cp.primary else "the cluster security group"
        notes.append(
            f"Fargate nodes {_names(found.fargate)}: their pods use {where} (the EKS default; a SecurityGroupPolicy "
            "selecting them would replace it, and vizdoctor does not read SecurityGroupPolicies)"
        )
    if found.with_primary:
        notes.append(
            f"Nodes {_names(found.with_primary)} carry the cluster security group {cp.primary} (as nodes on the EKS "
            "default launch template do); its rules, read like any other, decide their ports"
        )
    if found.pod_eni:
        notes.append(
            f"Pods on nodes {_names(found.pod_eni)} use security groups for pods ({POD_ENI_KEY}): their groups sit "
            "on branch network interfaces, which vizdoctor does not read (that would need "
            "ec2:DescribeNetworkInterfaces), so verdicts for those nodes are unknown"
        )
    if found.custom:
        notes.append(
            f"Nodes {_names(found.custom)} use VPC CNI custom networking (their interfaces carry differing groups): "
            "their pods' groups were read from the network interfaces that hold the pods' addresses (the "
            "ENIConfig's groups), not from ENIConfig objects"
        )
    if cp.ip_family == "ipv6":
        notes.append(
            "The cluster is IPv6: vizdoctor treats every IPv6 source range, ::/0 included, as one that may or "
            "may not contain the control plane, so such rules give unknown rather than open"
        )


def read_aws_network(
    nodes: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    *,
    cluster_name: str | None,
    region: str | None,
    endpoint_url: str | None = None,
    session: boto3.Session | None = None,
    timeout: float = 10.0,
) -> AwsResult:
    """Read the security groups between the EKS control plane and the listed nodes.

    `nodes`/`pods`: Kubernetes Node and Pod objects as the API returns them. Region: `region`, else the
    nodes' providerIDs, else the session's default. Cluster name: `cluster_name`, else the nodes' labels,
    else their instances' tags. Never raises for AWS failures: they go to `errors`, and what they leave
    undecided is marked in the model (the cluster's `why_unknown`, `unresolved:` groups, incomplete groups).
    """
    result = AwsResult(NetworkModel())
    knodes = [n for n in (_node(raw) for raw in nodes) if n is not None]
    kpods = [p for p in (_pod(raw) for raw in pods) if p is not None]
    reader = _Reader(result, knodes, kpods)
    reader.connect(session, region, endpoint_url, timeout)
    early = reader.early_cluster_name(cluster_name)
    fetched: Any = None
    if early and reader.eks is not None:
        # DescribeInstances and DescribeCluster side by side; their answers are used in the sequential order
        calls: list[Callable[[], Any]] = [reader.instances, functools.partial(reader.describe_cluster, early)]
        both = _parallel(calls)
        if isinstance(both[0], Exception):
            raise both[0]
        instances, instances_error = both[0]
        fetched = both[1]
    else:
        instances, instances_error = reader.instances()
    name = result.cluster_name = reader.cluster_name(cluster_name, instances)
    cp = reader.control_plane(name, fetched if name == early else None)
    found = reader.placements(cp, instances, instances_error)
    attached = (g for p in found.placements for g in p.groups if not g.startswith(UNRESOLVED))
    wanted = list(dict.fromkeys([*cp.groups, *attached]))
    groups, rules, described = reader.groups(wanted, cp.ip_family)
    _placement_notes(found, cp, not knodes, result.notes)
    fix = _fix_target(
        found.node_groups,
        cp.primary,
        cp.groups,
        described,
        name,
        fargate_only=bool(found.fargate) and not found.node_groups,
        notes=result.notes,
    )
    kind = f"EKS{' ' + cp.version if cp.version else ''} (AWS API, {result.region or 'region unknown'})"
    scenario = Scenario(SCENARIO, cp.groups, found.placements, rules, groups)
    result.model.clusters.append(
        Cluster(name or "EKS cluster (name unknown)", kind, [scenario], fix, why_unknown=reader.why_unknown)
    )
    return result
