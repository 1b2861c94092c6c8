"""`scan --diff` / `--fix` round trips: for every root with a blocked path, the patch applied to a copy opens
those paths, changes no other verdict, only adds lines, and leaves files that parse (and pass
`terraform fmt -check` where terraform is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT
from test_eks_roots import CLASSIC, LT_WITH_NODE_SG, RAW_NG, SIBLINGS, V21_NO_NODE_SG
from test_terraform_forms import RAW_CLUSTER, eks, manifests
from vizdoctor.report import scan
from vizdoctor.sources import hcl_ts

RAW_LT = (
    RAW_CLUSTER % "launch_template {\n    id      = aws_launch_template.lt.id\n    version = 1\n  }"
) + textwrap.dedent(
    """
    resource "aws_launch_template" "lt" {
      name                   = "lt"
      vpc_security_group_ids = [aws_security_group.node.id]
    }

    resource "aws_security_group" "node" {
      name = "node"
    }
    """
)

VPC_RULE = textwrap.dedent(
    """
    resource "aws_vpc_security_group_ingress_rule" "kubelet" {
      security_group_id            = aws_security_group.node.id
      referenced_security_group_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
      ip_protocol                  = "tcp"
      from_port                    = 10250
      to_port                      = 10250
    }
    """
)

V21_OWN_GROUP = V21_NO_NODE_SG.replace(
    "desired_size   = 2\n",
    "desired_size   = 2\n      security_group_ingress_rules = {\n"
    '        hooks = { from_port = 8443, cidr_ipv4 = "0.0.0.0/0" }\n      }\n',
)

ROOTS = {
    "module-without-map": eks(),
    "module-with-map": eks(
        textwrap.dedent(
            """\
            node_security_group_additional_rules = {
              ingress_vault = {
                description                   = "vault"
                protocol                      = "tcp"
                from_port                     = 8080
                to_port                       = 8080
                type                          = "ingress"
                source_cluster_security_group = true
              }
            }"""
        )
    ),
    "module-v21": eks(version="~> 21.0"),
    "module-v21-node-group-own-group": V21_OWN_GROUP,
    "module-v17-workers": eks(
        "worker_sg_ingress_from_port = 9000",
        version="17.24.0",
        node_groups='worker_groups = [{ name = "a" }]',
    ),
    "raw-node-group-of-module": eks(node_groups=None)
    + RAW_NG
    % (
        "cluster_name",
        "launch_template {\n    id      = aws_launch_template.workers.id\n    version = 1\n  }",
    )
    + LT_WITH_NODE_SG,
    "raw-cluster": RAW_LT,
    "raw-cluster-vpc-rules": RAW_LT + VPC_RULE,
}


def _statuses(root: Path) -> dict[str, str]:
    report = scan([str(root)])
    assert not report.inventory.problems, report.inventory.problems
    return {f"{p.target.kind} {p.target.name}": p.status for p in report.paths}


def _vizdoctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizdoctor", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def _terraform_fmt_ok(root: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        return  # the parse check above still ran
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull}
    r = subprocess.run(
        [terraform, "fmt", "-check", "-diff", "-recursive", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def _round_trip(root: Path, other_errors: bool = False) -> tuple[dict[str, str], str]:
    before = _statuses(root)
    blocked = {k for k, v in before.items() if v == "blocked"}
    assert blocked, before
    files = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    _terraform_fmt_ok(root)  # the input is formatted: any fmt failure after is the patch's

    diff = _vizdoctor("scan", str(root), "--diff")
    assert diff.returncode == 1, diff.stderr
    assert diff.stdout.startswith("--- a/"), diff.stdout
    assert {p: p.read_bytes() for p in files} == files  # --diff writes nothing
    changed = [ln for ln in diff.stdout.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed and all(ln.startswith("+") for ln in changed)  # only insertions

    fixed = _vizdoctor("scan", str(root), "--fix", "-o", "json")
    # exit 0 once the paths are open, unless findings of another kind remain (the example's Ingress)
    assert fixed.returncode == (1 if other_errors else 0), fixed.stdout[-2000:] + fixed.stderr
    after = _statuses(root)
    for key, status in before.items():
        assert after[key] == ("open" if key in blocked else status), key
    touched = [p for p, data in files.items() if p.read_bytes() != data]
    assert len(touched) == 1 and touched[0].suffix == ".tf"
    assert hcl_ts.loads(touched[0].read_text())[1] == []  # still parses
    assert not list(root.glob(".*.vizdoctor"))  # no temp file left behind
    _terraform_fmt_ok(root)
    return after, touched[0].read_text()


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_fix_round_trip(tmp_path: Path, name: str) -> None:
    (tmp_path / "k8s.yaml").write_text(manifests())
    (tmp_path / "main.tf").write_text(textwrap.dedent(ROOTS[name]))
    subprocess.run(
        [shutil.which("terraform") or "true", "fmt", str(tmp_path)],
        env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull},
        capture_output=True,
        check=False,
        timeout=60,
    )
    _, text = _round_trip(tmp_path)
    if name.startswith("raw-cluster-vpc"):
        assert 'resource "aws_vpc_security_group_ingress_rule" "ingress_' in text
    elif name.startswith("raw-cluster"):
        assert 'resource "aws_security_group_rule" "ingress_' in text
    elif name == "module-v17-workers":
        assert "node_security_group_additional_rules" not in text
        assert "module.eks.worker_security_group_id" in text
    elif name == "module-v21-node-group-own-group":
        assert 'module.eks.eks_managed_node_groups["example"].security_group_id' in text


def test_fix_round_trip_on_the_bundled_example(tmp_path: Path) -> None:
    root = tmp_path / "seed-eks"
    shutil.copytree(EXAMPLE, root)
    after, text = _round_trip(root, other_errors=True)
    assert set(after.values()) == {"open"}
    # the entry went into the map the user already has, next to the vault rule
    assert text.index("ingress_vault_agent_injector_mutating_webhook") < text.index(
        "ingress_linkerd_viz_tap_8089"
    )
    assert text.count("node_security_group_additional_rules") == 1


def test_existing_key_is_not_overwritten(tmp_path: Path) -> None:
    # a rule already named like the fix's key (on a wrong port) stays; the new one gets another key
    body = textwrap.dedent(
        """\
        node_security_group_additional_rules = {
          ingress_linkerd_viz_tap_8089 = {
            protocol                      = "tcp"
            from_port                     = 8088
            to_port                       = 8088
            type                          = "ingress"
            source_cluster_security_group = true
          }
        }"""
    )
    (tmp_path / "k8s.yaml").write_text(manifests())
    (tmp_path / "main.tf").write_text(eks(body))
    r = _vizdoctor("scan", str(tmp_path), "--diff")
    assert "+    ingress_linkerd_viz_tap_8089_2 = {" in r.stdout


def test_fix_round_trip_in_sibling_local_modules(tmp_path: Path) -> None:
    (tmp_path / "k8s.yaml").write_text(manifests())
    for name, text in SIBLINGS.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    subprocess.run(
        [shutil.which("terraform") or "true", "fmt", "-recursive", str(tmp_path)],
        env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull},
        capture_output=True,
        check=False,
        timeout=60,
    )
    _, text = _round_trip(tmp_path)
    assert (
        "referenced_security_group_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id" in text
    )


def test_fix_round_trip_classic_workers(tmp_path: Path) -> None:
    (tmp_path / "k8s.yaml").write_text(manifests())
    (tmp_path / "main.tf").write_text(CLASSIC % 9000)
    subprocess.run(
        [shutil.which("terraform") or "true", "fmt", str(tmp_path)],
        env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull},
        capture_output=True,
        check=False,
        timeout=60,
    )
    _round_trip(tmp_path)
