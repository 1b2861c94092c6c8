"""`vizdoctor check` end to end with AWS: the real kubernetes client against the fake API server, and
boto3 against moto's server, both over HTTP on 127.0.0.1. The cluster is the seed's: the node security
group allows 443, 10250, 8443, 9443 from the cluster security group but not 8089."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kube_server import FakeKube, add_certificates, find, kubeconfig, load
from test_aws import REGION, World, build
from vizdoctor.cli import main

SEED_MESSAGE = (
    'failing or missing response from https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1: Get "https://'
    '10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1": dial tcp 10.0.1.23:8089: i/o timeout'
)


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dummy credentials, and never the instance metadata service: nothing leaves 127.0.0.1.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(k, raising=False)


def _seed_on(world: World) -> dict[str, list[dict[str, object]]]:
    """The recorded seed cluster, moved onto moto's instances: provider ids, node and pod addresses."""
    objects = load()
    text = json.dumps(objects)
    nodes = objects["Node"]
    free = {inst: list(world.pod_ips[inst]) for inst in world.instances}
    for node, inst in zip(nodes, world.instances, strict=True):
        old_provider = node["spec"]["providerID"]
        text = text.replace(old_provider, f"aws:///{REGION}a/{inst}")
        old_ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        text = text.replace(f'"{old_ip}"', f'"{world.node_ips[inst]}"')
        for pod in objects["Pod"]:
            if pod["spec"]["nodeName"] == node["metadata"]["name"]:
                text = text.replace(f'"{pod["status"]["podIP"]}"', f'"{free[inst].pop()}"')
    moved: dict[str, list[dict[str, object]]] = json.loads(text)
    return moved


def test_check_names_the_node_group_that_blocks_8089_and_the_fix(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build(endpoint, "seed", count=2)
    for inst in world.instances:  # room for every pod of the seed on its node
        eni = world.ec2.describe_instances(InstanceIds=[inst])["Reservations"][0]["Instances"][0]
        eni_id = eni["NetworkInterfaces"][0]["NetworkInterfaceId"]
        world.ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, SecondaryPrivateIpAddressCount=6)
        addrs = world.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
        world.pod_ips[inst] = [a["PrivateIpAddress"] for a in addrs["PrivateIpAddresses"] if not a["Primary"]]
    objects = _seed_on(world)
    tap_pod = next(
        p
        for p in objects["Pod"]
        if str(p["metadata"]["name"]).startswith("tap-")  # type: ignore[index]
        and "injector" not in str(p["metadata"]["name"])
    )  # type: ignore[index]
    tap_ip = tap_pod["status"]["podIP"]  # type: ignore[index]
    cond = find(objects, "APIService", "v1alpha1.tap.linkerd.io")["status"]["conditions"][0]
    cond.update(
        status="False", reason="FailedDiscoveryCheck", message=SEED_MESSAGE.replace("10.0.1.23", tap_ip)
    )
    secrets = add_certificates(objects).secrets
    with FakeKube(objects, secrets) as server:
        config = kubeconfig(tmp_path, server.url)
        rc = main(
            [
                "check",
                "--kubeconfig",
                str(config),
                "--aws",
                "--aws-endpoint-url",
                endpoint,
                "--region",
                REGION,
                "--cluster-name",
                "seed",
                "-o",
                "json",
            ]
        )
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert rc == 1
    doc = json.loads(out)
    paths = {p["name"]: p for p in doc["paths"]}
    tap = paths["v1alpha1.tap.linkerd.io"]
    assert tap["status"] == "blocked", tap["reason"]
    assert (
        world.node_sg in tap["reason"]
        and "allows only tcp 443, tcp 10250, tcp 8443, tcp 9443" in tap["reason"]
    )
    assert paths["linkerd-proxy-injector.linkerd.io"]["status"] == "open"  # 8443 from the cluster SG
    unreachable = next(f for f in doc["findings"] if f["check"] == "control-plane-unreachable")
    assert unreachable["object"]["name"] == "v1alpha1.tap.linkerd.io"
    fix = unreachable["fix"]
    assert f"--group-id {world.node_sg}" in fix["aws_cli"] and "FromPort=8089" in fix["aws_cli"]
    assert f"GroupId={world.primary_sg}" in fix["aws_cli"]
    assert f'security_group_id        = "{world.node_sg}"' in fix["terraform"]
    live = next(f for f in doc["findings"] if f["check"] == "apiservice-unavailable")
    assert live["extra"]["cause"] == "network-blocked" and live["extra"]["port"] == "8089"
    assert not [f for f in doc["findings"] if f["check"] == "aws-network-not-read"]
