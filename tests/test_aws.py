"""The AWS read (`sources/aws.py`) against moto's server over real HTTP, decided by the real `decide`.

One moto server per module (loopback only). Every test builds its own VPC, groups, instances and EKS
cluster under its own name, so the tests do not share state.

moto's DescribeCluster has no `clusterSecurityGroupId` (real EKS always returns the EKS-created cluster
security group there). Tests that need it register a botocore `after-call` hook on their session that
adds the field to the parsed answer, as real EKS would return it; the HTTP round trip is still moto's.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest

from conftest import EXAMPLE
from vizdoctor.model import Workload
from vizdoctor.network.decide import decide
from vizdoctor.report import analyse
from vizdoctor.sources.aws import read_aws_network
from vizdoctor.sources.loader import load

REGION = "ap-northeast-2"
AZ = "ap-northeast-2a"
TAP = {"linkerd.io/extension": "viz", "component": "tap"}
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


_LOADER = botocore.loaders.create_loader()  # service models parsed once for the module, not per session


def _session(region: str = REGION, cluster_sg: str | None = None, **creds: str) -> Any:
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    s = boto3.Session(botocore_session=core, region_name=region, **(creds or CREDS))
    if cluster_sg:

        def add_cluster_sg(parsed: dict[str, Any], **_: Any) -> None:
            parsed["cluster"]["resourcesVpcConfig"]["clusterSecurityGroupId"] = cluster_sg

        s.events.register("after-call.eks.DescribeCluster", add_cluster_sg)
    return s


@dataclass
class World:
    name: str
    ec2: Any
    subnet: str
    primary_sg: str  # the EKS-created cluster security group (all traffic from itself)
    node_sg: str  # the node security group, like terraform-aws-eks's
    instances: list[str]
    node_ips: dict[str, str]  # instance -> primary private address
    pod_ips: dict[str, list[str]]  # instance -> secondary addresses the VPC CNI would hand to pods

    def node(self, i: int) -> str:
        return f"ip-{self.name}-{i}.{REGION}.compute.internal"


def build(
    endpoint: str,
    name: str,
    *,
    count: int = 1,
    primary_on_nodes: bool = False,
    cluster_in_security_group_ids: bool = True,
    tag_instances: bool = False,
    extra_group_first: bool = False,
) -> World:
    s = _session()
    ec2 = s.client("ec2", endpoint_url=endpoint)
    eks = s.client("eks", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=AZ)["Subnet"]["SubnetId"]
    owned = [
        {
            "ResourceType": "security-group",
            "Tags": [{"Key": f"kubernetes.io/cluster/{name}", "Value": "owned"}],
        }
    ]
    primary = ec2.create_security_group(
        GroupName=f"eks-cluster-sg-{name}-1234", Description="EKS created", VpcId=vpc, TagSpecifications=owned
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=primary, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": primary}]}]
    )
    node_sg = ec2.create_security_group(
        GroupName=f"{name}-node",
        Description="EKS node shared security group",
        VpcId=vpc,
        TagSpecifications=owned,
    )["GroupId"]

    def from_cluster(port: int, desc: str) -> dict[str, Any]:
        return {
            "IpProtocol": "tcp",
            "FromPort": port,
            "ToPort": port,
            "UserIdGroupPairs": [{"GroupId": primary, "Description": desc}],
        }

    ec2.authorize_security_group_ingress(
        GroupId=node_sg,
        IpPermissions=[
            # terraform-aws-eks v18 always-on rules, then the v19+ recommended webhook rules
            from_cluster(443, "Cluster API to node groups"),
            from_cluster(10250, "Cluster API to node kubelets"),
            from_cluster(8443, "Cluster API to node 8443/tcp webhook"),
            from_cluster(9443, "Cluster API to node 9443/tcp webhook"),
            {
                "IpProtocol": "tcp",
                "FromPort": 1025,
                "ToPort": 65535,
                "UserIdGroupPairs": [
                    {"GroupId": node_sg, "Description": "Node to node ingress on ephemeral ports"}
                ],
            },
        ],
    )
    module_sg = ec2.create_security_group(
        GroupName=f"{name}-cluster", Description="EKS cluster group", VpcId=vpc
    )
    groups = [primary, node_sg] if primary_on_nodes else [node_sg]
    if extra_group_first:  # a group of the user's own (vpc_security_group_ids), not tagged for the cluster
        extra = ec2.create_security_group(GroupName=f"{name}-extra", Description="bastion access", VpcId=vpc)
        groups.insert(0, extra["GroupId"])
    tags = (
        [{"ResourceType": "instance", "Tags": [{"Key": "eks:cluster-name", "Value": name}]}]
        if tag_instances
        else []
    )
    run = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=count,
        MaxCount=count,
        # groups on the interface (as launch templates set them), not SecurityGroupIds: moto adds an
        # instance's SecurityGroupIds to every interface attached later, which EC2 does not
        NetworkInterfaces=[
            {
                "DeviceIndex": 0,
                "SubnetId": subnet,
                "Groups": groups,
            }
        ],
        TagSpecifications=tags,
    )
    ids = [i["InstanceId"] for i in run["Instances"]]
    node_ips: dict[str, str] = {}
    pod_ips: dict[str, list[str]] = {}
    for inst in run["Instances"]:
        eni = inst["NetworkInterfaces"][0]
        ec2.assign_private_ip_addresses(
            NetworkInterfaceId=eni["NetworkInterfaceId"], SecondaryPrivateIpAddressCount=2
        )
    for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for inst in r["Instances"]:
            addrs = inst["NetworkInterfaces"][0]["PrivateIpAddresses"]
            node_ips[inst["InstanceId"]] = next(a["PrivateIpAddress"] for a in addrs if a["Primary"])
            pod_ips[inst["InstanceId"]] = [a["PrivateIpAddress"] for a in addrs if not a["Primary"]]
    eks.create_cluster(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={
            "subnetIds": [subnet],
            # moto returns no clusterSecurityGroupId: without the hook the primary group stands in as the
            # additional group; with it, the additional group is a module-style cluster group.
            "securityGroupIds": [primary if cluster_in_security_group_ids else module_sg["GroupId"]],
        },
    )
    return World(name, ec2, subnet, primary, node_sg, ids, node_ips, pod_ips)


def node(
    name: str,
    instance: str,
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
        "spec": {"providerID": f"aws:///{AZ}/{instance}"},
    }


def pod(
    ns: str,
    name: str,
    node_name: str,
    ip: str,
    *,
    host_network: bool = False,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"namespace": ns, "name": name, "labels": dict(TAP), "annotations": annotations or {}},
        "spec": {"nodeName": node_name, "hostNetwork": host_network, "containers": [{"name": "c"}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]},
    }


def cluster_nodes(w: World) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Nodes labelled with the cluster name; the tap pod and a hostNetwork aws-node pod on each."""
    label = {"alpha.eksctl.io/cluster-name": w.name}
    nodes = [node(w.node(i), inst, labels=label) for i, inst in enumerate(w.instances)]
    pods = []
    for i, inst in enumerate(w.instances):
        pods.append(pod("linkerd-viz", f"tap-{i}", w.node(i), w.pod_ips[inst][0]))
        pods.append(pod("kube-system", f"aws-node-{i}", w.node(i), w.node_ips[inst], host_network=True))
    return nodes, pods


def verdict(result: Any, port: int, node_name: str) -> Any:
    return decide(port, "linkerd-viz", dict(TAP), result.model, frozenset({node_name}))


# --- tests ----------------------------------------------------------------------------------------


def test_node_security_group_blocks_8089_and_opens_8443(endpoint: str) -> None:
    w = build(endpoint, "blocked")
    nodes, pods = cluster_nodes(w)
    # The session's default region is elsewhere: the region must come from the nodes' providerIDs.
    result = read_aws_network(
        nodes, pods, cluster_name=None, region=None, endpoint_url=endpoint, session=_session("us-east-1")
    )
    assert result.errors == []
    assert result.region == REGION and result.cluster_name == "blocked"
    name = w.node(0)
    tap = verdict(result, 8089, name)
    assert tap.status == "blocked", tap.reason
    assert f"node {name} ({w.instances[0]})" in tap.reason
    assert f"{w.node_sg} (blocked-node) allows only tcp 443, tcp 10250, tcp 8443, tcp 9443" in tap.reason
    assert tap.blocked_clusters and tap.blocked_clusters[0].name == "blocked"
    ok = verdict(result, 8443, name)
    assert ok.status == "open"
    assert f"{w.node_sg} (blocked-node) ingress tcp 8443 from {w.primary_sg}" in ok.reason
    assert '"Cluster API to node 8443/tcp webhook"' in ok.reason
    # the node-to-node rule (source: the node group itself) does not admit the control plane
    assert verdict(result, 30000, name).status == "blocked"
    assert any("no clusterSecurityGroupId" in n and w.primary_sg in n for n in result.notes)


def test_fix_names_the_owned_node_group_and_the_cluster_group(endpoint: str) -> None:
    w = build(endpoint, "fixtarget", extra_group_first=True)
    nodes, pods = cluster_nodes(w)
    result = read_aws_network(
        nodes, pods, cluster_name="fixtarget", region=REGION, endpoint_url=endpoint, session=_session()
    )
    (cluster,) = result.model.clusters
    assert cluster.fix.style == "raw"
    assert cluster.fix.node_group_id == w.node_sg
    assert cluster.fix.source_group_id == w.primary_sg
    assert cluster.fix.node_group_ref == f'"{w.node_sg}"'
    assert cluster.fix.source_group_ref == f'"{w.primary_sg}"'
    (scenario,) = cluster.scenarios
    assert scenario.label == "AWS API"
    assert scenario.control_plane_groups == [w.primary_sg]
    (placement,) = scenario.placements
    assert len(placement.groups) == 2 and placement.groups[1] == w.node_sg  # the untagged group comes first
    assert placement.nodes == frozenset({w.node(0)})
    sg = scenario.groups[w.node_sg]
    assert (sg.label, sg.aws_id, sg.complete) == (f"{w.node_sg} (fixtarget-node)", w.node_sg, True)


def test_authorizing_8089_from_the_cluster_group_opens_it(endpoint: str) -> None:
    w = build(endpoint, "authorize")
    nodes, pods = cluster_nodes(w)

    def read() -> Any:
        return read_aws_network(
            nodes, pods, cluster_name="authorize", region=REGION, endpoint_url=endpoint, session=_session()
        )

    assert verdict(read(), 8089, w.node(0)).status == "blocked"
    w.ec2.authorize_security_group_ingress(
        GroupId=w.node_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8089,
                "ToPort": 8089,
                "UserIdGroupPairs": [{"GroupId": w.primary_sg, "Description": "linkerd tap"}],
            }
        ],
    )
    after = verdict(read(), 8089, w.node(0))
    assert after.status == "open", after.reason
    assert after.opened_by is not None and after.opened_by.description == "linkerd tap"


def test_cluster_name_from_instance_tags(endpoint: str) -> None:
    w = build(endpoint, "tagged", tag_instances=True)
    nodes = [node(w.node(0), w.instances[0])]  # no cluster-name label
    result = read_aws_network(
        nodes, [], cluster_name=None, region=REGION, endpoint_url=endpoint, session=_session()
    )
    assert result.errors == []
    assert result.cluster_name == "tagged"
    assert any("taken from the instance tags" in n for n in result.notes)
    # no pods listed: the node's only interface decides
    assert verdict(result, 8089, w.node(0)).status == "blocked"


def test_cluster_security_group_on_the_nodes_opens_every_port(endpoint: str) -> None:
    w = build(endpoint, "primary", primary_on_nodes=True, cluster_in_security_group_ids=False)
    nodes, pods = cluster_nodes(w)
    result = read_aws_network(
        nodes,
        pods,
        cluster_name="primary",
        region=REGION,
        endpoint_url=endpoint,
        session=_session(cluster_sg=w.primary_sg),
    )
    assert result.errors == []
    tap = verdict(result, 8089, w.node(0))
    assert tap.status == "open", tap.reason
    assert f"ingress all traffic from {w.primary_sg} (self)" in tap.reason
    assert not any("no clusterSecurityGroupId" in n for n in result.notes)
    assert any(f"carry the cluster security group {w.primary_sg}" in n for n in result.notes)
    # the fix targets the node group, never the cluster group the nodes also carry
    assert result.model.clusters[0].fix.node_group_id == w.node_sg


def test_fargate_pods_are_decided_by_the_cluster_security_group(endpoint: str) -> None:
    w = build(endpoint, "fargate", cluster_in_security_group_ids=False)
    fargate = {
        "metadata": {"name": "fargate-ip-10-0-1-9", "labels": {"eks.amazonaws.com/compute-type": "fargate"}},
        "spec": {"providerID": f"aws:///{AZ}/0123456789abcdef/fargate-ip-10-0-1-9.{REGION}.compute.internal"},
    }
    pods = [pod("linkerd-viz", "tap-f", "fargate-ip-10-0-1-9", "10.0.1.9")]

    def read(cluster_sg: str | None) -> Any:
        return read_aws_network(
            [fargate],
            pods,
            cluster_name="fargate",
            region=REGION,
            endpoint_url=endpoint,
            session=_session(cluster_sg=cluster_sg),
        )

    result = read(w.primary_sg)
    tap = verdict(result, 8089, "fargate-ip-10-0-1-9")
    assert tap.status == "open", tap.reason
    assert "Fargate node fargate-ip-10-0-1-9" in tap.reason
    assert result.model.clusters[0].fix.node_group_id == w.primary_sg
    w.ec2.revoke_security_group_ingress(
        GroupId=w.primary_sg,
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": w.primary_sg}]}],
    )
    blocked = verdict(read(w.primary_sg), 8089, "fargate-ip-10-0-1-9")
    assert blocked.status == "blocked", blocked.reason
    assert f"{w.primary_sg} (eks-cluster-sg-fargate-1234) allows only nothing" in blocked.reason
    # Without clusterSecurityGroupId (moto as is) the Fargate pods' group is unknown, not guessed.
    unknown = verdict(read(None), 8089, "fargate-ip-10-0-1-9")
    assert unknown.status == "unknown"
    assert "cluster security group, whose id DescribeCluster did not return" in unknown.reason


def test_pod_eni_and_foreign_pod_addresses_make_only_their_nodes_unknown(endpoint: str) -> None:
    w = build(endpoint, "podeni", count=3)
    nodes, pods = cluster_nodes(w)
    pods.append(
        pod(
            "payments",
            "api-0",
            w.node(1),
            "10.0.1.200",
            annotations={
                "vpc.amazonaws.com/pod-eni": '[{"eniId":"eni-0abc","privateIp":"10.0.1.200","vlanId":1}]'
            },
        )
    )
    pods.append(pod("calico", "overlay-0", w.node(2), "192.168.5.5"))
    result = read_aws_network(
        nodes, pods, cluster_name="podeni", region=REGION, endpoint_url=endpoint, session=_session()
    )
    assert result.errors == []
    assert verdict(result, 8089, w.node(0)).status == "blocked"
    eni = verdict(result, 8089, w.node(1))
    assert eni.status == "unknown"
    assert (
        "payments/api-0 on this node uses security groups for pods (vpc.amazonaws.com/pod-eni)" in eni.reason
    )
    assert "unresolved:" not in eni.reason
    foreign = verdict(result, 8089, w.node(2))
    assert foreign.status == "unknown"
    assert "192.168.5.5) is on none of the network interfaces" in foreign.reason
    assert any(w.node(1) in n and "security groups for pods" in n for n in result.notes)


def test_custom_networking_reads_the_groups_of_the_pods_interface(endpoint: str) -> None:
    w = build(endpoint, "custom")
    ec2, inst = w.ec2, w.instances[0]
    vpc = ec2.describe_subnets(SubnetIds=[w.subnet])["Subnets"][0]["VpcId"]
    pods_sg = ec2.create_security_group(GroupName="custom-eniconfig", Description="ENIConfig", VpcId=vpc)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=pods_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8089,
                "ToPort": 8089,
                "UserIdGroupPairs": [{"GroupId": w.primary_sg}],
            }
        ],
    )
    # Custom networking: the pods' interfaces sit in their own subnet, with the ENIConfig's groups.
    pod_subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone=AZ)["Subnet"][
        "SubnetId"
    ]
    eni = ec2.create_network_interface(SubnetId=pod_subnet, Groups=[pods_sg], PrivateIpAddress="10.0.2.150")
    eni_id = eni["NetworkInterface"]["NetworkInterfaceId"]
    ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=inst, DeviceIndex=1)
    ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=["10.0.2.151"])
    nodes = [node(w.node(0), inst, annotations={"k8s.amazonaws.com/eniConfig": "ap-northeast-2a-pods"})]
    tap = pod("linkerd-viz", "tap-0", w.node(0), "10.0.2.151")

    def read(pods: list[dict[str, Any]]) -> Any:
        return read_aws_network(
            nodes, pods, cluster_name="custom", region=REGION, endpoint_url=endpoint, session=_session()
        )

    result = read([tap])
    assert result.errors == []
    opened = verdict(result, 8089, w.node(0))
    assert opened.status == "open", opened.reason
    assert f"{pods_sg} (custom-eniconfig) ingress tcp 8089" in opened.reason
    # 8443 is open on the node group only, which is not on the pods' interface
    closed = verdict(result, 8443, w.node(0))
    assert (
        closed.status == "blocked" and f"{pods_sg} (custom-eniconfig) allows only tcp 8089" in closed.reason
    )
    assert any("custom networking" in n and w.node(0) in n for n in result.notes)
    # A hostNetwork pod on the same node answers on the primary interface: per node, that is ambiguous.
    mixed = verdict(
        read([tap, pod("kube-system", "aws-node", w.node(0), w.node_ips[inst], host_network=True)]),
        8089,
        w.node(0),
    )
    assert mixed.status == "unknown"
    assert (
        "ENIConfig 'ap-northeast-2a-pods'" in mixed.reason
        and "hostNetwork pods (kube-system/aws-node)" in mixed.reason
    )


def test_unknown_cluster_name_is_an_error_not_an_exception(endpoint: str) -> None:
    w = build(endpoint, "named")
    nodes, pods = cluster_nodes(w)
    result = read_aws_network(
        nodes, pods, cluster_name="nope", region=REGION, endpoint_url=endpoint, session=_session()
    )
    assert len(result.errors) == 1
    assert result.errors[0].startswith("eks:DescribeCluster failed: ResourceNotFoundException")
    assert f"is it in {REGION}" in result.errors[0]
    v = verdict(result, 8089, w.node(0))
    assert v.status == "unknown" and "eks:DescribeCluster failed" in v.reason


def test_unreachable_endpoint_gives_errors_quickly(endpoint: str) -> None:
    w = build(endpoint, "unreachable")
    nodes, pods = cluster_nodes(w)
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    start = time.monotonic()
    result = read_aws_network(
        nodes,
        pods,
        cluster_name="unreachable",
        region=REGION,
        endpoint_url=f"http://127.0.0.1:{closed}",
        session=_session(),
        timeout=1,
    )
    assert time.monotonic() - start < 15
    assert any(e.startswith("ec2:DescribeInstances failed") for e in result.errors)
    assert any(e.startswith("eks:DescribeCluster failed") for e in result.errors)
    assert verdict(result, 8089, w.node(0)).status == "unknown"


def test_no_region_anywhere_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    bare = {"metadata": {"name": "n1"}, "spec": {}}
    result = read_aws_network([bare], [], cluster_name="x", region=None, session=boto3.Session(**CREDS))
    assert result.errors and result.errors[0].startswith("no AWS region")
    assert result.model.clusters[0].why_unknown is not None
    assert decide(8089, "linkerd-viz", TAP, result.model, frozenset({"n1"})).status == "unknown"


def _with_iam_enforced(endpoint: str, allowed: list[str], name: str) -> Any:
    """A session for a moto IAM user allowed only `allowed`."""
    iam = _session().client("iam", endpoint_url=endpoint)
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="vizdoctor", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return _session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])


def _moto_auth(endpoint: str, count: str) -> None:
    """moto's switch for IAM enforcement: requests after the first `count` are authorised."""
    req = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200


def test_access_denied_names_the_iam_action_and_decides_nothing(endpoint: str) -> None:
    w = build(endpoint, "denied")
    nodes, pods = cluster_nodes(w)
    no_groups = _with_iam_enforced(endpoint, ["eks:DescribeCluster", "ec2:DescribeInstances"], "no-groups")
    no_instances = _with_iam_enforced(
        endpoint, ["eks:DescribeCluster", "ec2:DescribeSecurityGroups"], "no-instances"
    )
    _moto_auth(endpoint, "0")
    try:
        groups_denied = read_aws_network(
            nodes, pods, cluster_name="denied", region=REGION, endpoint_url=endpoint, session=no_groups
        )
        instances_denied = read_aws_network(
            nodes, pods, cluster_name="denied", region=REGION, endpoint_url=endpoint, session=no_instances
        )
    finally:
        _moto_auth(endpoint, "inf")

    sg_error = next(e for e in groups_denied.errors if e.startswith("ec2:DescribeSecurityGroups"))
    assert "was denied (AccessDenied" in sg_error and "grant ec2:DescribeSecurityGroups" in sg_error
    assert not any("ec2:DescribeInstances" in e for e in groups_denied.errors)
    node_sg = groups_denied.model.clusters[0].scenarios[0].groups[w.node_sg]
    assert (
        node_sg.complete is False
        and node_sg.why_incomplete
        and "ec2:DescribeSecurityGroups was denied" in node_sg.why_incomplete
    )
    assert verdict(groups_denied, 8089, w.node(0)).status == "unknown"

    inst_error = next(e for e in instances_denied.errors if e.startswith("ec2:DescribeInstances"))
    assert "grant ec2:DescribeInstances" in inst_error
    placement = instances_denied.model.clusters[0].scenarios[0].placements[0]
    assert (
        placement.groups[0].startswith("unresolved:")
        and "ec2:DescribeInstances was denied" in placement.groups[0]
    )
    assert verdict(instances_denied, 8089, w.node(0)).status == "unknown"


def test_check_pipeline_prints_the_aws_cli_fix_with_the_real_group_ids(endpoint: str) -> None:
    w = build(endpoint, "pipeline")
    nodes, pods = cluster_nodes(w)
    result = read_aws_network(
        nodes, pods, cluster_name="pipeline", region=REGION, endpoint_url=endpoint, session=_session()
    )
    inv = load([str(EXAMPLE / "manifests")])
    deploy = next(wl for wl in inv.workloads if wl.namespace == "linkerd-viz" and wl.name == "tap")
    inv.workloads.append(
        Workload(
            "Pod",
            "linkerd-viz",
            "tap-0",
            dict(deploy.pod_labels),
            list(deploy.ports),
            node_name=w.node(0),
            pod_ip=w.pod_ips[w.instances[0]][0],
        )
    )
    inv.network = result.model
    report = analyse("check", inv)
    tap = next(p for p in report.paths if p.target.name == "v1alpha1.tap.linkerd.io")
    assert tap.status == "blocked" and tap.target_port == 8089, tap.reason
    finding = next(
        f
        for f in report.findings
        if f.check == "control-plane-unreachable" and "v1alpha1.tap.linkerd.io" in f.title
    )
    assert finding.fix is not None and finding.fix.aws_cli is not None
    cli = finding.fix.aws_cli
    assert f"--group-id {w.node_sg}" in cli
    assert "FromPort=8089" in cli and f"GroupId={w.primary_sg}" in cli
    assert "<" not in cli  # no placeholder left
    assert (
        finding.fix.terraform is not None
        and f'security_group_id        = "{w.node_sg}"' in finding.fix.terraform
    )


def _read_timed(
    endpoint: str, nodes: list[dict[str, Any]], pods: list[dict[str, Any]], cluster_name: str | None
) -> tuple[Any, dict[str, list[float]]]:
    """read_aws_network with 0.3 s before each request is sent; (result, operation -> [sent, answered])."""
    spans: dict[str, list[float]] = {}
    s = _session()

    def before_send(event_name: str, **_: Any) -> None:
        spans[event_name.split(".", 1)[1]] = [time.monotonic(), 0.0]
        time.sleep(0.3)

    def after_call(event_name: str, **_: Any) -> None:
        spans[event_name.split(".", 1)[1]][1] = time.monotonic()

    s.events.register("before-send", before_send)
    s.events.register("after-call", after_call)
    result = read_aws_network(
        nodes, pods, cluster_name=cluster_name, region=REGION, endpoint_url=endpoint, session=s
    )
    return result, spans


@pytest.mark.parametrize("cluster_name", [None, "nope"])  # from the node labels; a DescribeCluster that fails
def test_describe_calls_overlap_and_give_what_a_sequential_read_gives(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, cluster_name: str | None
) -> None:
    from vizdoctor.sources import aws

    w = build(endpoint, f"overlap-{cluster_name}", count=2)
    nodes, pods = cluster_nodes(w)
    monkeypatch.setattr(aws, "AWS_CONCURRENCY", 1)
    sequential, seq_spans = _read_timed(endpoint, nodes, pods, cluster_name)
    monkeypatch.setattr(aws, "AWS_CONCURRENCY", 4)
    concurrent, spans = _read_timed(endpoint, nodes, pods, cluster_name)

    instances, cluster = spans["ec2.DescribeInstances"], spans["eks.DescribeCluster"]
    assert max(instances[0], cluster[0]) < min(instances[1], cluster[1])  # both in flight at once
    s_inst, s_cluster = seq_spans["ec2.DescribeInstances"], seq_spans["eks.DescribeCluster"]
    assert s_inst[1] <= s_cluster[0]  # one after the other
    # the same verdicts, errors and notes, in the same order
    assert concurrent.errors == sequential.errors and concurrent.notes == sequential.notes
    assert concurrent.model == sequential.model and concurrent.cluster_name == sequential.cluster_name
    if cluster_name == "nope":
        assert [e.split(":")[0] for e in concurrent.errors] == ["eks"]
        assert concurrent.errors[0].startswith("eks:DescribeCluster failed: ResourceNotFoundException")
    else:
        assert concurrent.errors == [] and verdict(concurrent, 8089, w.node(0)).status == "blocked"
