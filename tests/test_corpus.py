"""The 12 real charts of ../shared/corpus: every control-plane path with its pod port, and the status
each terraform-aws-eks release gives it (shared/corpus/README.md, control-plane-reachability.md §3.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import eks_module
from vizdoctor.report import scan

ALB = "kube-system/aws-load-balancer-webhook-service:443"
KEDA_HOOKS = "keda/keda-admission-webhooks:443"

# Transcribed from the table in shared/corpus/README.md: (kind, name, service, pod port). 33 rows.
EXPECTED = {
    *{
        ("MutatingWebhook", f"{n}.elbv2.k8s.aws", ALB, 9443)
        for n in (
            "mpod",
            "quicid",
            "mservice",
            "alb-target-control.namespace",
            "alb-target-control.object",
            "mtargetgroupbinding",
        )
    },
    *{
        ("ValidatingWebhook", f"{n}.elbv2.k8s.aws", ALB, 9443)
        for n in ("vingressclassparams", "vtargetgroupbinding", "vingress")
    },
    ("MutatingWebhook", "webhook.cert-manager.io", "cert-manager/cert-manager-webhook:443", 10250),
    ("ValidatingWebhook", "webhook.cert-manager.io", "cert-manager/cert-manager-webhook:443", 10250),
    *{
        (
            "ValidatingWebhook",
            f"validate.{n}.external-secrets.io",
            "external-secrets/external-secrets-webhook:443",
            10250,
        )
        for n in ("secretstore", "clustersecretstore", "externalsecret")
    },
    ("MutatingWebhook", "mutation.gatekeeper.sh", "gatekeeper-system/gatekeeper-webhook-service:443", 8443),
    (
        "ValidatingWebhook",
        "validation.gatekeeper.sh",
        "gatekeeper-system/gatekeeper-webhook-service:443",
        8443,
    ),
    (
        "ValidatingWebhook",
        "check-ignore-label.gatekeeper.sh",
        "gatekeeper-system/gatekeeper-webhook-service:443",
        8443,
    ),
    (
        "ValidatingWebhook",
        "validate.nginx.ingress.kubernetes.io",
        "ingress-nginx/ingress-nginx-controller-admission:443",
        8443,
    ),
    ("APIService", "v1beta1.external.metrics.k8s.io", "keda/keda-operator-metrics-apiserver:443", 6443),
    *{
        ("ValidatingWebhook", f"{n}.kb.io", KEDA_HOOKS, 9443)
        for n in (
            "vscaledobject",
            "vscaledjob",
            "vstriggerauthentication",
            "vsclustertriggerauthentication",
            "vcloudeventsource",
            "vclustercloudeventsource",
        )
    },
    ("ValidatingWebhook", "linkerd-sp-validator.linkerd.io", "linkerd/linkerd-sp-validator:443", 8443),
    (
        "ValidatingWebhook",
        "linkerd-policy-validator.linkerd.io",
        "linkerd/linkerd-policy-validator:443",
        9443,
    ),
    ("MutatingWebhook", "linkerd-proxy-injector.linkerd.io", "linkerd/linkerd-proxy-injector:443", 8443),
    ("MutatingWebhook", "tap-injector.linkerd.io", "linkerd-viz/tap-injector:443", 8443),
    ("APIService", "v1alpha1.tap.linkerd.io", "linkerd-viz/tap:443", 8089),
    ("APIService", "v1beta1.metrics.k8s.io", "kube-system/metrics-server:443", 10250),
    ("APIService", "v1beta1.custom.metrics.k8s.io", "monitoring/prometheus-adapter:443", 6443),
    ("MutatingWebhook", "vault.hashicorp.com", "vault/vault-agent-injector-svc:443", 8080),
}


def _key(p) -> tuple[str, str, str, int | None]:  # type: ignore[no-untyped-def]
    s = p.target.service
    return (p.target.kind, p.target.name, f"{s.namespace}/{s.name}:{s.port}", p.target_port)


def test_corpus_paths_match_the_readme_table(corpus: Path) -> None:
    report = scan([str(corpus)])
    declared = [p for p in report.paths if not p.target.inferred]
    assert len(EXPECTED) == 33
    assert len(declared) == 33
    assert {_key(p) for p in declared} == EXPECTED


def test_kyverno_runtime_webhooks_are_inferred_on_9443(corpus: Path) -> None:
    report = scan([str(corpus / "kyverno.yaml")])
    inferred = [p for p in report.paths if p.target.inferred]
    assert {p.target.name for p in inferred} == {"validate.kyverno.svc-fail", "mutate.kyverno.svc-fail"}
    assert {p.target_port for p in inferred} == {9443}
    assert all("kyverno/kyverno pkg/config/config.go" in (p.target.inferred_from or "") for p in inferred)


def test_without_terraform_every_path_is_unknown_not_guessed(corpus: Path) -> None:
    report = scan([str(corpus)])
    assert {p.status for p in report.paths} == {"unknown"}
    assert all("no cluster network" in p.reason for p in report.paths)
    assert report.exit_code == 0


# Pod ports in the corpus: 6443, 8080, 8089, 8443, 9443, 10250.
BLOCKED_BY_VERSION = {
    "17.24.0": set(),  # worker SG allows 1025-65535 from the cluster SG
    "18.31.2": {6443, 8080, 8089, 8443, 9443},
    "19.0.4": {6443, 8080, 8089},
    "19.5.1": {6443, 8080, 8089},
    "19.6.0": {8080, 8089},
    "19.21.0": {8080, 8089},
    "~> 20.0": {8080, 8089},
    "21.0.0": {8080, 8089},
    "~> 21.7": {8080, 8089},
}


@pytest.mark.parametrize("version", sorted(BLOCKED_BY_VERSION))
def test_each_module_release_blocks_exactly_its_ports(corpus: Path, tmp_path: Path, version: str) -> None:
    node_groups = (
        """
  worker_groups = [{ instance_type = "m5.large" }]"""
        if version.startswith("17")
        else None
    )
    (tmp_path / "main.tf").write_text(eks_module(version, node_groups=node_groups))
    report = scan([str(corpus), str(tmp_path)])
    by_port: dict[int, set[str]] = {}
    for p in report.paths:
        assert p.target_port is not None
        by_port.setdefault(p.target_port, set()).add(p.status)
    assert all(len(s) == 1 for s in by_port.values()), by_port
    blocked = {port for port, s in by_port.items() if s == {"blocked"}}
    opened = {port for port, s in by_port.items() if s == {"open"}}
    assert blocked == BLOCKED_BY_VERSION[version]
    assert opened == set(by_port) - blocked
    assert 10250 in opened


def test_v18_fix_merges_nothing_but_lists_every_blocked_port(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(eks_module("18.31.2"))
    report = scan([str(corpus), str(tmp_path)])
    assert len(report.fixes) == 1
    fix = report.fixes[0]
    assert fix.ports == [(6443, 6443), (8080, 8080), (8089, 8089), (8443, 8443), (9443, 9443)]
    assert (
        fix.fix.terraform is not None and fix.fix.terraform.count("source_cluster_security_group = true") == 5
    )
    errors = [f for f in report.findings if f.check == "control-plane-unreachable" and f.severity == "error"]
    warnings = [
        f for f in report.findings if f.check == "control-plane-unreachable" and f.severity == "warning"
    ]
    # failurePolicy Ignore webhooks (Linkerd's, Vault's) are warnings; APIServices and Fail webhooks errors.
    assert any("linkerd-proxy-injector" in f.title for f in warnings)
    assert any("v1alpha1.tap.linkerd.io" in f.title for f in errors)
    assert report.exit_code == 1
