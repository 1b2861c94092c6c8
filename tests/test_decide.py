"""Edge cases of the decision that must end in `unknown`, never in a guess."""

from __future__ import annotations

from pathlib import Path

from conftest import EXAMPLE, eks_module
from vizdoctor.report import scan

TAP = (EXAMPLE / "manifests" / "linkerd-viz.yaml").read_text()


def _tap(report):  # type: ignore[no-untyped-def]
    return next(p for p in report.paths if p.target.name == "v1alpha1.tap.linkerd.io")


def test_rule_on_an_unresolvable_group_makes_a_blocked_path_unknown(tmp_path: Path) -> None:
    (tmp_path / "viz.yaml").write_text(TAP)
    (tmp_path / "main.tf").write_text(
        eks_module("~> 20.0")
        + """
resource "aws_security_group_rule" "tap" {
  type                     = "ingress"
  protocol                 = "tcp"
  from_port                = 8089
  to_port                  = 8089
  security_group_id        = data.terraform_remote_state.net.outputs.node_sg
  source_security_group_id = module.eks.cluster_security_group_id
}
"""
    )
    tap = _tap(scan([str(tmp_path)]))
    assert tap.status == "unknown"
    assert "aws_security_group_rule.tap might allow it" in tap.reason
    assert "data.terraform_remote_state.net.outputs.node_sg may be one of these nodes' groups" in tap.reason


def test_extra_group_id_on_nodes_is_named_without_internal_prefixes(tmp_path: Path) -> None:
    (tmp_path / "viz.yaml").write_text(TAP)
    groups = """
  eks_managed_node_groups = {
    default = { vpc_security_group_ids = ["sg-0abc", var.extra_sg] }
  }"""
    (tmp_path / "main.tf").write_text(eks_module("~> 20.0", node_groups=groups) + 'variable "extra_sg" {}\n')
    tap = _tap(scan([str(tmp_path)]))
    assert tap.status == "unknown"
    assert "sg-0abc is attached to these nodes but its rules are not in the inputs" in tap.reason
    assert "a security group of these nodes cannot be resolved (var.extra_sg has no default" in tap.reason
    assert "unresolved:" not in tap.reason


def test_fix_points_at_the_existing_rules_map(tmp_path: Path) -> None:
    (tmp_path / "viz.yaml").write_text(TAP)
    extra = """
  node_security_group_additional_rules = {
    ingress_x = {
      protocol = "tcp"
      from_port = 8080
      to_port = 8080
      type = "ingress"
      source_cluster_security_group = true
    }
  }"""
    text = eks_module("~> 20.0", extra=extra)
    (tmp_path / "main.tf").write_text(text)
    report = scan([str(tmp_path)])
    where = report.fixes[0].fix.where
    expected = text.splitlines().index("  node_security_group_additional_rules = {") + 1
    assert where is not None and where.line == expected
    assert "add to the existing node_security_group_additional_rules" in (report.fixes[0].fix.note or "")
