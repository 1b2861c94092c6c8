"""GKE private clusters from Terraform (`scan`): the control-plane range, node pools and their tags, GKE's own
-master rule (443, 10250) and google_compute_firewall rules; the fix as HCL and gcloud."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT
from vizdoctor import scan
from vizdoctor.report import Report

SEED = ROOT / "examples" / "seed-eks" / "manifests"
GKE = ROOT / "tests" / "fixtures" / "gke"


def run(tmp_path: Path, tf: str | None = None) -> Report:
    shutil.copytree(SEED, tmp_path / "manifests")
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "main.tf").write_text(tf if tf is not None else (GKE / "main.tf").read_text())
    report = scan([str(tmp_path)])
    assert not report.inventory.problems, report.inventory.problems
    return report


def status(report: Report, name: str) -> tuple[str, str]:
    p = next(p for p in report.paths if p.target.name == name)
    return p.status, p.reason


def test_webhook_rule_opens_8443_but_not_tap(tmp_path: Path) -> None:
    report = run(tmp_path)
    assert [c.kind for c in report.inventory.network.clusters] == ["GKE private cluster"]
    st, why = status(report, "linkerd-proxy-injector.linkerd.io")
    assert st == "open" and "google_compute_firewall.master_webhooks" in why
    st, why = status(report, "v1alpha1.tap.linkerd.io")
    assert st == "blocked", why
    assert "gke-viz-private-<hash>-master" in why or "tcp 443" in why
    f = next(f for f in report.findings if f.check == "control-plane-unreachable" and "tap" in f.title)
    assert f.fix is not None and f.fix.terraform is not None and f.fix.aws_cli is not None
    assert 'resource "google_compute_firewall"' in f.fix.terraform
    assert 'ports    = ["8089"]' in f.fix.terraform
    assert (
        "google_container_cluster.primary.private_cluster_config[0].master_ipv4_cidr_block" in f.fix.terraform
    )
    assert 'target_tags   = ["gke-nodes"]' in f.fix.terraform
    assert f.fix.aws_cli.startswith("gcloud compute firewall-rules create")
    assert "--source-ranges 172.16.0.0/28 --target-tags gke-nodes --allow tcp:8089" in f.fix.aws_cli


def test_gkes_own_master_rule_opens_10250(tmp_path: Path) -> None:
    tf = (GKE / "main.tf").read_text().replace('ports    = ["8443", "9443", "15017"]', 'ports    = ["15017"]')
    report = run(tmp_path, tf)
    assert status(report, "linkerd-proxy-injector.linkerd.io")[0] == "blocked"
    # metrics-server-like 10250 and 443 are GKE's own rule: no finding for a 10250 webhook here
    from vizdoctor.sources.gcp_tf import gke_clusters  # noqa: F401  (the module the root is read with)

    cluster = report.inventory.network.clusters[0]
    defaults = [r for r in cluster.scenarios[0].rules if r.default]
    assert sorted(r.from_port for r in defaults) == [443, 10250]


def test_rule_on_another_tag_does_not_count_and_unresolved_ranges_are_unknown(tmp_path: Path) -> None:
    tf = (GKE / "main.tf").read_text().replace('target_tags   = ["gke-nodes"]', 'target_tags   = ["bastion"]')
    report = run(tmp_path / "a", tf)
    assert status(report, "linkerd-proxy-injector.linkerd.io")[0] == "blocked"
    tf = (
        (GKE / "main.tf")
        .read_text()
        .replace(
            "source_ranges = [google_container_cluster.primary.private_cluster_config[0].master_ipv4_cidr_block]",
            "source_ranges = var.webhook_sources",
        )
    )
    report = run(tmp_path / "b", tf)
    st, why = status(report, "linkerd-proxy-injector.linkerd.io")
    assert st == "unknown", why


def test_a_literal_range_holding_the_master_range_admits_it(tmp_path: Path) -> None:
    tf = (
        (GKE / "main.tf")
        .read_text()
        .replace(
            "source_ranges = [google_container_cluster.primary.private_cluster_config[0].master_ipv4_cidr_block]",
            'source_ranges = ["172.16.0.0/16"]',
        )
    )
    report = run(tmp_path / "a", tf)
    assert status(report, "linkerd-proxy-injector.linkerd.io")[0] == "open"
    tf = tf.replace('"172.16.0.0/16"', '"10.0.0.0/8"')
    report = run(tmp_path / "b", tf)
    assert status(report, "linkerd-proxy-injector.linkerd.io")[0] == "blocked"


def test_public_cluster_is_unknown_not_open(tmp_path: Path) -> None:
    tf = (
        (GKE / "main.tf")
        .read_text()
        .replace("enable_private_nodes    = true", "enable_private_nodes    = false")
    )
    report = run(tmp_path, tf)
    st, why = status(report, "v1alpha1.tap.linkerd.io")
    assert st == "unknown" and "no private nodes" in why


KONNECTIVITY = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: konnectivity-agent, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: konnectivity-agent}}
  template:
    metadata: {labels: {k8s-app: konnectivity-agent}}
    spec:
      containers: [{name: konnectivity-agent, image: gke.gcr.io/proxy-agent:v0.30.3-gke.0}]
"""


def test_with_konnectivity_the_master_firewall_is_not_on_the_path(tmp_path: Path) -> None:
    shutil.copytree(SEED, tmp_path / "manifests")
    (tmp_path / "manifests" / "konnectivity.yaml").write_text(KONNECTIVITY)
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "main.tf").write_text((GKE / "main.tf").read_text())
    report = scan([str(tmp_path)])
    tap = [f for f in report.findings if "tap.linkerd.io" in f.title and f.check.startswith("control-plane")]
    assert [f.check for f in tap] == ["control-plane-path-unknown"]
    assert "Konnectivity" in tap[0].message and tap[0].fix is None


MODULE_ROOT = """
module "gke" {
  source  = "terraform-google-modules/kubernetes-engine/google//modules/private-cluster"
  version = "~> 44.0"

  project_id             = "example-project"
  name                   = "viz-private"
  region                 = "europe-west1"
  network                = "gke-vpc"
  subnetwork             = "gke-subnet"
  ip_range_pods          = "pods"
  ip_range_services      = "services"
  enable_private_nodes   = true
  master_ipv4_cidr_block = "172.16.0.0/28"

  add_master_webhook_firewall_rules = true

  node_pools = [
    { name = "general", machine_type = "e2-standard-4" },
  ]
}
"""


def test_terraform_google_modules_private_cluster_webhook_rules(tmp_path: Path) -> None:
    """The module's webhook rule admits its firewall_inbound_ports default (8443, 9443, 15017), not 8089."""
    report = run(tmp_path / "a", MODULE_ROOT)
    assert status(report, "linkerd-proxy-injector.linkerd.io")[0] == "open"
    st, why = status(report, "v1alpha1.tap.linkerd.io")
    assert st == "blocked", why
    f = next(f for f in report.findings if f.check == "control-plane-unreachable" and "tap" in f.title)
    assert f.fix is not None and f.fix.terraform is not None
    assert 'firewall_inbound_ports            = ["8443", "9443", "15017", "8089"]' in f.fix.terraform
    assert "--target-tags gke-viz-private --allow tcp:8089" in (f.fix.aws_cli or "")
    # without the switch, only GKE's own 443/10250 rule
    report = run(tmp_path / "b", MODULE_ROOT.replace("add_master_webhook_firewall_rules = true", ""))
    assert status(report, "linkerd-proxy-injector.linkerd.io")[0] == "blocked"
    # public nodes: GKE creates no master rule, the inputs cannot decide
    report = run(
        tmp_path / "c", MODULE_ROOT.replace("enable_private_nodes   = true", "enable_private_nodes   = false")
    )
    assert status(report, "v1alpha1.tap.linkerd.io")[0] == "unknown"


def test_gke_dataplane_v2_enforces_a_default_deny_policy(tmp_path: Path) -> None:
    deny = (ROOT / "tests" / "fixtures" / "pod_side" / "viz-default-deny.yaml").read_text()
    tf = (GKE / "main.tf").read_text()
    shutil.copytree(SEED, tmp_path / "a" / "manifests")
    (tmp_path / "a" / "manifests" / "deny.yaml").write_text(deny)
    (tmp_path / "a" / "terraform").mkdir()
    (tmp_path / "a" / "terraform" / "main.tf").write_text(tf)
    report = scan([str(tmp_path / "a")])
    [unknown] = [
        f for f in report.findings if f.check == "network-policy-blocks-apiserver" and "tap." in f.title
    ]
    assert unknown.severity == "warning" and "control-plane range" in unknown.message  # GKE's source named
    (tmp_path / "a" / "terraform" / "main.tf").write_text(
        tf.replace(
            "  remove_default_node_pool = true",
            '  datapath_provider        = "ADVANCED_DATAPATH"\n  remove_default_node_pool = true',
        )
    )
    report = scan([str(tmp_path / "a")])
    [blocked] = [
        f for f in report.findings if f.check == "network-policy-blocks-apiserver" and "tap." in f.title
    ]
    assert blocked.severity == "error" and "GKE Dataplane V2" in blocked.message
    assert "master_ipv4_cidr_block" in (blocked.fix.manifest if blocked.fix else "")
    # GKE is not EKS: no overlay finding however the pods are addressed
    assert not [f for f in report.findings if f.check == "pod-network-unreachable"]
