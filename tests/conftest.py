"""Shared test helpers. The corpus lives beside the repository in ../shared; tests that need it skip
with a clear message where it is absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "charts"
EXAMPLE = ROOT / "examples" / "seed-eks"


@pytest.fixture(autouse=True)
def _no_cloud_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach the instance metadata service or a real cloud: boto3's credential chain would."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto's server, on the loopback address only (boto3 reaches it with endpoint_url)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"needs the chart corpus at {CORPUS} (../shared/corpus/charts beside the repository)")
    return CORPUS


def eks_module(version: str, extra: str = "", node_groups: str | None = None) -> str:
    """A terraform-aws-eks module call with one managed node group on the module's launch template."""
    groups = (
        node_groups
        if node_groups is not None
        else """
  eks_managed_node_groups = {
    default = { instance_types = ["m6i.large"] }
  }"""
    )
    return f'''
module "eks" {{
  source  = "terraform-aws-modules/eks/aws"
  version = "{version}"
  cluster_name = "test"
{groups}
{extra}
}}
'''
