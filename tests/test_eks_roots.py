"""Realistic terraform-aws-eks roots (modelled on the module's own examples and common public setups) whose
nodes carry the EKS-created cluster (primary) security group, or whose nodes are declared outside the module.

Module facts, read at the tags cited:
- v21.0.0 modules/eks-managed-node-group/main.tf L684 (self-managed L972):
  `create_security_group = var.create && var.create_security_group && length(merge(...rules)) > 0`;
- v21.0.0 node_groups.tf L370: `vpc_security_group_ids = compact(concat([local.node_security_group_id], ...))`,
  L74 `node_security_group_id = local.create_node_sg ? aws_security_group.node[0].id : var.node_security_group_id`;
- v21.0.0 modules/self-managed-node-group/main.tf L118: its own group is not on its launch template;
- v19.0.0-v21 modules/eks-managed-node-group/main.tf: `security_group_ids = compact(concat(
  [var.cluster_primary_security_group_id], var.vpc_security_group_ids ...))`;
- EKS user guide, launch templates, "Using custom security groups": a launch template without security
  groups makes EKS attach the cluster security group.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ROOT
from test_terraform_forms import ALL_PORTS, TAP, eks, opened, path, scan_tf, statuses

V21_NO_NODE_SG = """
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "ex-eks"
  kubernetes_version = "1.33"

  vpc_id     = "vpc-1234"
  subnet_ids = ["subnet-a", "subnet-b"]

  create_node_security_group = false

  eks_managed_node_groups = {
    example = {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = ["m6i.large"]
      min_size       = 1
      max_size       = 3
      desired_size   = 2
    }
  }
}
"""


# --- 1. v21 node-group groups exist only with rules ------------------------------------------------


def test_v21_without_node_security_group_reaches_every_port(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, V21_NO_NODE_SG)
    assert opened(report) == set(ALL_PORTS)
    assert "cluster primary security group" in path(report, TAP).reason
    assert report.exit_code == 0


def test_v21_healthy_root_exits_0_from_the_command_line(tmp_path: Path) -> None:
    scan_tf(tmp_path, V21_NO_NODE_SG)
    r = subprocess.run(
        [sys.executable, "-m", "vizdoctor", "scan", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "× APIService" not in r.stdout


def test_v21_node_group_with_its_own_rules_gets_its_own_group(tmp_path: Path) -> None:
    tf = V21_NO_NODE_SG.replace(
        "desired_size   = 2\n",
        "desired_size   = 2\n      security_group_ingress_rules = {\n"
        '        hooks = { from_port = 8443, cidr_ipv4 = "0.0.0.0/0" }\n      }\n',
    )
    report = scan_tf(tmp_path, tf)
    st = statuses(report)
    assert st[8443] == "open"
    assert st[TAP] == "blocked"  # the group exists, only 8443 is in it
    (fix,) = report.fixes
    assert fix.fix.terraform is not None
    assert 'module.eks.eks_managed_node_groups["example"].security_group_id' in fix.fix.terraform
    assert "node_security_group_additional_rules" not in fix.fix.terraform


def test_v21_node_group_egress_rules_alone_create_the_group(tmp_path: Path) -> None:
    tf = V21_NO_NODE_SG.replace(
        "desired_size   = 2\n",
        "desired_size   = 2\n      security_group_egress_rules = {\n"
        '        all = { ip_protocol = "-1", cidr_ipv4 = "0.0.0.0/0" }\n      }\n',
    )
    assert statuses(scan_tf(tmp_path, tf))[TAP] == "blocked"


def test_v21_self_managed_group_is_never_attached(tmp_path: Path) -> None:
    tf = (
        V21_NO_NODE_SG.replace("eks_managed_node_groups", "self_managed_node_groups").replace(
            "desired_size   = 2\n",
            "desired_size   = 2\n      vpc_security_group_ids = [aws_security_group.workers.id]\n"
            "      security_group_ingress_rules = {\n"
            '        tap = { from_port = 8089, cidr_ipv4 = "0.0.0.0/0" }\n      }\n',
        )
        + 'resource "aws_security_group" "workers" {\n  name = "workers"\n}\n'
    )
    # the 8089 rule lives on a group the v21 sub-module never puts on its launch template
    assert statuses(scan_tf(tmp_path, tf))[TAP] == "blocked"


# --- 2. node groups declared outside the module ---------------------------------------------------

RAW_NG = """
resource "aws_eks_node_group" "workers" {
  cluster_name    = module.eks.%s
  node_group_name = "workers"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = ["subnet-a"]
  scaling_config {
    desired_size = 2
    max_size     = 3
    min_size     = 1
  }
  %s
}
"""

LT_WITH_NODE_SG = """
resource "aws_launch_template" "workers" {
  name_prefix            = "workers-"
  vpc_security_group_ids = [module.eks.node_security_group_id]
}
"""


def test_raw_node_group_of_a_module_cluster_without_launch_template(tmp_path: Path) -> None:
    for output in ("cluster_name", "cluster_id"):
        report = scan_tf(tmp_path / output, eks(node_groups=None) + RAW_NG % (output, ""))
        assert opened(report) == set(ALL_PORTS), output
        assert "aws_eks_node_group.workers" in path(report, TAP).reason


def test_raw_node_group_with_a_launch_template_carrying_the_module_node_group(tmp_path: Path) -> None:
    lt = 'launch_template {\n    id      = aws_launch_template.workers.id\n    version = "$Latest"\n  }'
    report = scan_tf(tmp_path, eks(node_groups=None) + RAW_NG % ("cluster_name", lt) + LT_WITH_NODE_SG)
    st = statuses(report)
    assert st[TAP] == "blocked"
    assert st[8443] == "open"  # v20 recommended rule on module.eks's node group
    (fix,) = report.fixes
    assert fix.fix.terraform is not None and "node_security_group_additional_rules" in fix.fix.terraform


def test_raw_node_group_linked_by_the_literal_cluster_name(tmp_path: Path) -> None:
    tf = eks('cluster_name = "prod"', node_groups=None) + (RAW_NG % ("cluster_name", "")).replace(
        "module.eks.cluster_name", '"prod"'
    )
    assert opened(scan_tf(tmp_path, tf)) == set(ALL_PORTS)


def test_module_node_group_on_an_external_launch_template(tmp_path: Path) -> None:
    ng = textwrap.dedent(
        """\
        eks_managed_node_groups = {
            custom = {
              create_launch_template = false
              launch_template_id     = aws_launch_template.workers.id
            }
          }"""
    )
    no_sg = 'resource "aws_launch_template" "workers" {\n  name_prefix = "workers-"\n}\n'
    assert opened(scan_tf(tmp_path / "none", eks(node_groups=ng) + no_sg)) == set(ALL_PORTS)
    report = scan_tf(tmp_path / "node", eks(node_groups=ng) + LT_WITH_NODE_SG)
    assert statuses(report)[TAP] == "blocked"
    assert statuses(report)[9443] == "open"


# --- 3. no guessed placements ---------------------------------------------------------------------


def test_module_without_any_node_is_unknown_not_blocked(tmp_path: Path) -> None:
    for version in ("~> 20.0", "~> 18.0", "17.24.0"):
        report = scan_tf(tmp_path / version.strip("~> "), eks(version=version, node_groups=None))
        assert set(statuses(report).values()) <= {"open", "unknown"}, version
        assert statuses(report)[TAP] == "unknown", version
        assert "declares no node groups" in path(report, TAP).reason


# --- 4. create = false / count = 0 ----------------------------------------------------------------


def test_module_with_create_false_or_count_0_is_not_a_cluster(tmp_path: Path) -> None:
    disabled = eks("create = false", name="old") + eks("count = 0", name="older")
    report = scan_tf(tmp_path / "only", disabled)
    assert report.inventory.network.clusters == []
    report = scan_tf(tmp_path / "with", disabled + V21_NO_NODE_SG)
    assert [c.name for c in report.inventory.network.clusters] == ["module.eks"]
    assert opened(report) == set(ALL_PORTS)


def test_module_create_from_an_unset_variable_is_unknown(tmp_path: Path) -> None:
    tf = 'variable "enabled" { type = bool }\n' + eks("create = var.enabled")
    report = scan_tf(tmp_path, tf)
    assert set(statuses(report).values()) == {"unknown"}
    assert "creates a cluster" in path(report, TAP).reason


# --- 5. stand-alone sub-modules -------------------------------------------------------------------


def test_fargate_profile_submodule_puts_its_namespace_on_the_primary_group(tmp_path: Path) -> None:
    tf = eks() + textwrap.dedent(
        """
        module "viz_fargate" {
          source  = "terraform-aws-modules/eks/aws//modules/fargate-profile"
          version = "~> 20.0"

          name         = "viz"
          cluster_name = module.eks.cluster_name
          subnet_ids   = ["subnet-a"]
          selectors    = [{ namespace = "linkerd-viz" }]
        }
        """
    )
    report = scan_tf(tmp_path, tf)
    st = statuses(report)
    assert st[TAP] == "open"
    assert "module.viz_fargate" in path(report, TAP).reason
    assert st[8080] == "blocked"  # namespace hooks still runs on the node group


def test_managed_node_group_submodule(tmp_path: Path) -> None:
    sub = textwrap.dedent(
        """
        module "ng" {
          source  = "terraform-aws-modules/eks/aws//modules/eks-managed-node-group"
          version = "~> 20.0"

          name                 = "ng"
          cluster_name         = module.eks.cluster_name
          subnet_ids           = ["subnet-a"]
          %s
        }
        """
    )
    bare = scan_tf(tmp_path / "bare", eks(node_groups=None) + sub % "")
    assert opened(bare) == set(ALL_PORTS)
    with_node_sg = scan_tf(
        tmp_path / "sg",
        eks(node_groups=None) + sub % "vpc_security_group_ids = [module.eks.node_security_group_id]",
    )
    assert statuses(with_node_sg)[TAP] == "blocked"
    assert statuses(with_node_sg)[9443] == "open"
    unpinned = scan_tf(
        tmp_path / "unpinned", eks(node_groups=None) + (sub % "").replace('version = "~> 20.0"', "")
    )
    assert statuses(unpinned)[TAP] == "unknown"


def test_karpenter_submodule_is_unknown_never_blocked(tmp_path: Path) -> None:
    tf = eks(node_groups=None) + textwrap.dedent(
        """
        module "karpenter" {
          source  = "terraform-aws-modules/eks/aws//modules/karpenter"
          version = "~> 20.0"

          cluster_name = module.eks.cluster_name
        }
        """
    )
    report = scan_tf(tmp_path, tf)
    assert statuses(report)[TAP] == "unknown"
    assert "EC2NodeClass" in path(report, TAP).reason


# --- 8. fixes in the release's own vocabulary ------------------------------------------------------


def test_v17_fix_targets_the_worker_group_not_a_v18_map(tmp_path: Path) -> None:
    # v17 has no node_security_group_additional_rules (variables.tf at v17.24.0); its workers carry
    # output worker_security_group_id with workers_ingress_cluster from worker_sg_ingress_from_port.
    tf = eks(
        "worker_sg_ingress_from_port = 9000",
        version="17.24.0",
        node_groups='worker_groups = [{ name = "a", instance_type = "m5.large" }]',
    )
    report = scan_tf(tmp_path, tf)
    assert statuses(report)[TAP] == "blocked"
    (fix,) = report.fixes
    terraform = fix.fix.terraform
    assert terraform is not None
    assert "node_security_group_additional_rules" not in terraform
    assert "security_group_id        = module.eks.worker_security_group_id" in terraform
    assert "source_security_group_id = module.eks.cluster_security_group_id" in terraform


# --- 10. smaller defects --------------------------------------------------------------------------


def test_blank_line_before_a_map_key_is_not_a_duplicate(tmp_path: Path) -> None:
    body = textwrap.dedent(
        """\
        node_security_group_additional_rules = {

          ingress_tap = {
            type                          = "ingress"
            protocol                      = "tcp"
            from_port                     = 8089
            to_port                       = 8089
            source_cluster_security_group = true
          }

          ingress_vault = {
            type                          = "ingress"
            protocol                      = "tcp"
            from_port                     = 8080
            to_port                       = 8080
            source_cluster_security_group = true
          }
        }"""
    )
    report = scan_tf(tmp_path, eks(body))
    assert not [f for f in report.findings if f.check == "duplicate-rule-key"]
    assert statuses(report)[TAP] == "open"


def test_ignored_rules_warning_once_for_a_range_of_releases(tmp_path: Path) -> None:
    body = 'create_node_security_group = false\nnode_security_group_additional_rules = {\n  x = { type = "ingress", protocol = "tcp", from_port = 1, to_port = 1, self = true }\n}'
    report = scan_tf(tmp_path, eks(body, version="~> 19.0"))
    assert len(report.inventory.network.clusters[0].scenarios) > 1
    assert len([f for f in report.findings if f.check == "module-rules-ignored"]) == 1


def test_unreadable_hcl_says_cannot_be_read_and_the_whole_file(tmp_path: Path) -> None:
    (tmp_path / "broken.tf").write_text('module "eks" {\n  source = \n}\n')
    # beside something that can be analysed (a broken file alone is "nothing analysed": exit 2)
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\n")
    from vizdoctor.report import scan

    report = scan([str(tmp_path)])
    (finding,) = [f for f in report.findings if f.check == "input-unreadable"]
    assert "cannot be read" in finding.title
    assert "the whole file was left out" in finding.message


def test_terraform_0_11_interpolation_is_named(tmp_path: Path) -> None:
    (tmp_path / "workers.tf").write_text(
        textwrap.dedent(
            """\
            resource "aws_autoscaling_group" "workers" {
              name_prefix = "${aws_eks_cluster.this.name}-workers"
              tags = ["${concat(
                list(
                  map("key", "kubernetes.io/cluster/${aws_eks_cluster.this.name}", "value", "owned"),
                ),
                local.asg_tags)
              }"]
            }
            """
        )
    )
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\n")
    from vizdoctor.report import scan

    report = scan([str(tmp_path)])
    (problem,) = report.inventory.problems
    assert problem.path.endswith("workers.tf")
    assert problem.line == 3
    assert "Terraform 0.11 syntax" in problem.message


# --- 7. several clusters in one root --------------------------------------------------------------

TWO_CLUSTERS = eks('cluster_name = "legacy"', name="legacy") + V21_NO_NODE_SG


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizdoctor", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_clusters_that_disagree_show_each_verdict_not_the_worst(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, TWO_CLUSTERS)
    tap = path(report, TAP)
    assert tap.status == "unknown"
    assert "module.legacy: blocked" in tap.reason and "module.eks: open" in tap.reason
    assert "--cluster" in tap.reason
    assert tap.verdict is not None
    assert [(n, s) for n, s, _ in tap.verdict.per_cluster] == [
        ("module.legacy", "blocked"),
        ("module.eks", "open"),
    ]
    r = _cli("scan", str(tmp_path), "-o", "json")
    import json

    data = json.loads(r.stdout)
    (tap_json,) = [p for p in data["paths"] if p["target_port"] == TAP]
    assert [c["status"] for c in tap_json["clusters"]] == ["blocked", "open"]
    assert {c["name"]: c["aliases"] for c in data["inputs"]["clusters"]} == {
        "module.legacy": ["legacy"],
        "module.eks": ["ex-eks"],
    }


def test_clusters_that_agree_keep_the_common_verdict(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(name="a") + eks(name="b"))
    assert path(report, TAP).status == "blocked"
    assert {f.cluster for f in report.fixes} == {"module.a", "module.b"}


def test_cluster_option_picks_one(tmp_path: Path) -> None:
    scan_tf(tmp_path, TWO_CLUSTERS)
    legacy = _cli("scan", str(tmp_path), "--cluster", "module.legacy")
    assert legacy.returncode == 1, legacy.stderr
    assert "× APIService v1alpha1.tap.linkerd.io" in legacy.stdout
    for name in ("module.eks", "eks", "ex-eks"):
        picked = _cli("scan", str(tmp_path), "--cluster", name)
        assert picked.returncode == 0, name + picked.stdout
    missing = _cli("scan", str(tmp_path), "--cluster", "nope")
    assert missing.returncode == 2
    assert "module.legacy" in missing.stderr and "ex-eks" in missing.stderr


# --- 6. classic self-managed workers, sibling local modules ----------------------------------------

# Modelled on terraform-provider-aws examples/eks-getting-started (the original EKS walkthrough): workers in
# an Auto Scaling group from a launch configuration, tagged kubernetes.io/cluster/<name>, and a node group
# rule 1025-65535 from the cluster's own security group.
CLASSIC = """
variable "cluster-name" {
  default = "terraform-eks-demo"
}

resource "aws_security_group" "demo-cluster" {
  name   = "terraform-eks-demo-cluster"
  vpc_id = "vpc-1"
}

resource "aws_eks_cluster" "demo" {
  name     = var.cluster-name
  role_arn = aws_iam_role.demo-cluster.arn

  vpc_config {
    security_group_ids = [aws_security_group.demo-cluster.id]
    subnet_ids         = ["subnet-a"]
  }
}

resource "aws_security_group" "demo-node" {
  name   = "terraform-eks-demo-node"
  vpc_id = "vpc-1"
}

resource "aws_security_group_rule" "demo-node-ingress-cluster" {
  description              = "Allow worker Kubelets and pods to receive communication from the cluster control plane"
  from_port                = %s
  protocol                 = "tcp"
  security_group_id        = aws_security_group.demo-node.id
  source_security_group_id = aws_security_group.demo-cluster.id
  to_port                  = 65535
  type                     = "ingress"
}

locals {
  demo-node-userdata = <<USERDATA
#!/bin/bash
/etc/eks/bootstrap.sh --apiserver-endpoint '${aws_eks_cluster.demo.endpoint}' '${var.cluster-name}'
USERDATA
}

resource "aws_launch_configuration" "demo" {
  image_id         = "ami-1"
  instance_type    = "m4.large"
  name_prefix      = "terraform-eks-demo"
  security_groups  = [aws_security_group.demo-node.id]
  user_data_base64 = base64encode(local.demo-node-userdata)
}

resource "aws_autoscaling_group" "demo" {
  desired_capacity     = 2
  launch_configuration = aws_launch_configuration.demo.id
  max_size             = 2
  min_size             = 1
  name                 = "terraform-eks-demo"
  vpc_zone_identifier  = ["subnet-a"]

  tag {
    key                 = "kubernetes.io/cluster/${var.cluster-name}"
    value               = "owned"
    propagate_at_launch = true
  }
}
"""


def test_classic_workers_from_a_launch_configuration(tmp_path: Path) -> None:
    report = scan_tf(tmp_path / "wide", CLASSIC % 1025)
    assert opened(report) == set(ALL_PORTS)
    assert "aws_autoscaling_group.demo" in path(report, TAP).reason
    narrow = scan_tf(tmp_path / "narrow", CLASSIC % 9000)
    assert statuses(narrow)[TAP] == "blocked"
    assert statuses(narrow)[9443] == "open"
    (fix,) = narrow.fixes
    assert fix.fix.terraform is not None
    assert "security_group_id        = aws_security_group.demo-node.id" in fix.fix.terraform


def test_auto_scaling_group_that_names_no_cluster_is_not_taken_for_its_nodes(tmp_path: Path) -> None:
    tf = (
        (CLASSIC % 1025)
        .replace("kubernetes.io/cluster/${var.cluster-name}", "team")
        .replace("${aws_eks_cluster.demo.endpoint}", "https://example")
        .replace("'${var.cluster-name}'", "demo")
    )
    report = scan_tf(tmp_path, tf)
    assert statuses(report)[TAP] == "unknown"


SIBLINGS = {
    "main.tf": """
        module "cluster" {
          source = "./modules/cluster"
          name   = "demo"
        }

        module "nodes" {
          source                  = "./modules/nodes"
          cluster_name            = module.cluster.cluster_name
          node_security_group_ids = [module.cluster.node_security_group_id]
        }
        """,
    "modules/cluster/main.tf": """
        variable "name" {}

        resource "aws_eks_cluster" "this" {
          name     = var.name
          role_arn = "arn:aws:iam::111122223333:role/eks"
          vpc_config {
            subnet_ids = ["subnet-a"]
          }
        }

        resource "aws_security_group" "node" {
          name = "${var.name}-node"
        }

        resource "aws_vpc_security_group_ingress_rule" "kubelet" {
          security_group_id            = aws_security_group.node.id
          referenced_security_group_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
          ip_protocol                  = "tcp"
          from_port                    = 10250
          to_port                      = 10250
        }

        output "cluster_name" {
          value = aws_eks_cluster.this.name
        }

        output "node_security_group_id" {
          value = aws_security_group.node.id
        }
        """,
    "modules/nodes/main.tf": """
        variable "cluster_name" {}
        variable "node_security_group_ids" {}

        resource "aws_launch_template" "this" {
          name_prefix            = "nodes-"
          vpc_security_group_ids = var.node_security_group_ids
        }

        resource "aws_eks_node_group" "this" {
          cluster_name    = var.cluster_name
          node_group_name = "nodes"
          node_role_arn   = "arn:aws:iam::111122223333:role/node"
          subnet_ids      = ["subnet-a"]
          scaling_config {
            desired_size = 1
            max_size     = 1
            min_size     = 1
          }
          launch_template {
            id      = aws_launch_template.this.id
            version = aws_launch_template.this.latest_version
          }
        }
        """,
}


def test_cluster_and_node_groups_in_sibling_local_modules(tmp_path: Path) -> None:
    main, *others = SIBLINGS.items()
    report = scan_tf(tmp_path, main[1], dict(others))
    assert [c.name for c in report.inventory.network.clusters] == ["module.cluster.aws_eks_cluster.this"]
    st = statuses(report)
    assert st[10250] == "open"
    assert st[TAP] == "blocked"
    assert "module.nodes.aws_eks_node_group.this" in path(report, TAP).reason
    (fix,) = report.fixes
    assert fix.fix.terraform is not None
    # written for modules/cluster/main.tf, where the cluster is: names as that module sees them
    assert 'resource "aws_vpc_security_group_ingress_rule"' in fix.fix.terraform
    assert "security_group_id            = aws_security_group.node.id" in fix.fix.terraform
    assert fix.fix.where is not None and fix.fix.where.path.endswith("modules/cluster/main.tf")


def test_node_group_whose_cluster_cannot_be_resolved_may_be_ours(tmp_path: Path) -> None:
    # cluster_name from a variable without a value: these nodes may be module.eks's, so nothing is blocked
    tf = (
        'variable "cluster" {}\n'
        + eks(node_groups=None)
        + (RAW_NG % ("cluster_name", "")).replace("module.eks.cluster_name", "var.cluster")
    )
    report = scan_tf(tmp_path, tf)
    assert statuses(report)[TAP] == "unknown"
    assert "joins this cluster is unknown" in path(report, TAP).reason


def test_create_node_security_group_false_without_a_named_group_is_not_patched(tmp_path: Path) -> None:
    # v20, no node group of the module's own (the node group names an unresolvable extra group): the fix
    # must not be the ignored node_security_group_additional_rules map
    tf = (
        eks(
            "create_node_security_group = false",
            node_groups="eks_managed_node_groups = {\n    a = { vpc_security_group_ids = [data.aws_security_group.x.id] }\n  }",
        )
        + 'data "aws_security_group" "x" {\n  name = "x"\n}\nresource "aws_security_group_rule" "none" {\n  type = "ingress"\n  protocol = "tcp"\n  from_port = 1\n  to_port = 1\n  security_group_id = data.aws_security_group.x.id\n  cidr_blocks = ["10.0.0.0/8"]\n}\n'
    )
    report = scan_tf(tmp_path, tf)
    for fix in report.fixes:
        assert fix.fix.terraform is not None
        assert "node_security_group_additional_rules" not in fix.fix.terraform


def test_many_clusters_that_disagree_are_listed_by_verdict(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(name="a") + eks(name="b") + eks(name="c") + V21_NO_NODE_SG)
    reason = path(report, TAP).reason
    assert "blocked on module.a, module.b, module.c" in reason
    assert "open on module.eks" in reason
    assert path(report, TAP).verdict is not None
    assert len(path(report, TAP).verdict.per_cluster) == 4  # type: ignore[union-attr]
