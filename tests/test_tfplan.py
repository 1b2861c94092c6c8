"""terraform show -json (plan and state) -> network model -> control-plane verdicts and fixes.

Fixtures under tests/fixtures/tfplan/ follow Terraform's JSON output format
(developer.hashicorp.com/terraform/internals/json-format):
- eks_v20_plan: the seed's terraform-aws-eks v20 configuration, first apply: every security-group id
  is only known after apply (after_unknown), so the ids are traced through `configuration`.
- eks_v20_state: the same after apply, with real sg-... ids.
- raw_no_launch_template: aws_eks_cluster + aws_eks_node_group without a launch template.
- raw_references: hand-written cluster, groups, rules, launch template, node group, self-managed ASG
  and Fargate profile joined only by configuration references.
- malformed: a plan whose planned_values is a list, and a format_version 2.0 file.
manifests/linkerd.yaml: tap APIService (443 -> apiserver -> 8089), proxy-injector (8443),
policy-validator (9443).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from vizdoctor.model import Problem
from vizdoctor.network.model import NetworkModel, Peer
from vizdoctor.paths import ControlPlanePath
from vizdoctor.report import Report, scan
from vizdoctor.sources import tfplan

FIXTURES = Path(__file__).parent / "fixtures" / "tfplan"
MANIFESTS = str(FIXTURES / "manifests" / "linkerd.yaml")
EKS_PLAN = FIXTURES / "eks_v20_plan"
EKS_STATE = FIXTURES / "eks_v20_state"
NO_LT = FIXTURES / "raw_no_launch_template"
RAW_REFS = FIXTURES / "raw_references"
MALFORMED = FIXTURES / "malformed"

TAP, INJECTOR, POLICY = 8089, 8443, 9443


def by_port(report: Report) -> dict[int, ControlPlanePath]:
    out = {p.target_port: p for p in report.paths if p.target_port is not None}
    assert set(out) == {TAP, INJECTOR, POLICY}, [p.reason for p in report.paths]
    return out


def statuses(report: Report) -> dict[int, str]:
    return {port: p.status for port, p in by_port(report).items()}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# --- (a) terraform-aws-eks v20 plan, ids unknown until apply ----------------------------------------


def test_eks_plan_blocks_tap_and_names_the_node_security_group() -> None:
    report = scan([str(EKS_PLAN), MANIFESTS])
    assert report.inventory.problems == []
    paths = by_port(report)
    assert statuses(report) == {TAP: "blocked", INJECTOR: "open", POLICY: "open"}
    tap = paths[TAP].reason
    assert "module.eks.aws_security_group.node[0]" in tap
    assert 'module.eks.module.eks_managed_node_group["default"].aws_eks_node_group.this[0]' in tap
    # 8080 (the user's vault rule) is listed among what the node group does allow; 8089 is not.
    assert "tcp 8080" in tap and "8089" not in tap.split("allows only")[1]
    opened = paths[INJECTOR].verdict
    assert opened is not None and opened.opened_by is not None
    assert opened.opened_by.name == 'module.eks.aws_security_group_rule.node["ingress_cluster_8443_webhook"]'
    assert opened.opened_by.default is True


def test_eks_plan_fix_is_a_module_rule() -> None:
    report = scan([str(EKS_PLAN), MANIFESTS])
    assert len(report.fixes) == 1
    fix = report.fixes[0]
    assert fix.cluster == "module.eks.aws_eks_cluster.this[0]"
    assert fix.ports == [(TAP, TAP)]
    assert fix.fix.terraform is not None and fix.fix.aws_cli is not None
    assert 'module "eks" {' in fix.fix.terraform
    assert "node_security_group_additional_rules" in fix.fix.terraform
    assert "from_port                     = 8089" in fix.fix.terraform
    assert "source_cluster_security_group = true" in fix.fix.terraform
    # Ids are only known after apply: the CLI keeps placeholders and says where to find them.
    assert "--group-id <node-security-group-id>" in fix.fix.aws_cli
    assert "module.eks.node_security_group_id" in fix.fix.aws_cli


def test_eks_plan_traces_unknown_ids_through_the_configuration() -> None:
    report = scan([str(EKS_PLAN), MANIFESTS])
    network = report.inventory.network
    (cluster,) = network.clusters
    assert cluster.kind == "terraform plan" and cluster.why_unknown is None
    (scenario,) = cluster.scenarios
    assert scenario.label == "planned values"
    # local.cluster_security_group_id -> aws_security_group.cluster; var.cluster_additional_... = [] default
    assert scenario.control_plane_groups == [
        "module.eks.aws_eks_cluster.this:primary",
        "module.eks.aws_security_group.cluster",
    ]
    (placement,) = scenario.placements
    assert placement.groups == ["module.eks.aws_security_group.node"] and placement.opens_all is None
    rules = {r.name: r for r in network.rules}
    user = rules['module.eks.aws_security_group_rule.node["ingress_vault_agent_injector_mutating_webhook"]']
    assert (user.group, user.from_port, user.peer) == (
        "module.eks.aws_security_group.node",
        8080,
        Peer("group", "module.eks.aws_security_group.cluster"),
    )
    assert user.default is False
    ephemeral = rules['module.eks.aws_security_group_rule.node["ingress_nodes_ephemeral"]']
    assert ephemeral.peer == Peer("self")  # 1025-65535 from the nodes themselves does not admit 8089
    assert not any(r.name.endswith('["egress_all"]') for r in network.rules)
    assert all(g.complete for g in network.groups.values())


def test_eks_plan_without_constant_additional_rules_leaves_the_user_rule_unresolved(tmp_path: Path) -> None:
    # The seed writes `from_port = local.vault_injector_port`: the map is then not a constant in the plan,
    # so the source of the user's rule cannot be read; the module's default rules still can.
    data = load(EKS_PLAN / "plan.json")
    call = data["configuration"]["root_module"]["module_calls"]["eks"]
    call["expressions"]["node_security_group_additional_rules"] = {
        "references": ["local.vault_injector_port"]
    }
    (tmp_path / "plan.json").write_text(json.dumps(data))
    report = scan([str(tmp_path), MANIFESTS])
    rules = {r.name: r for r in report.inventory.network.rules}
    user = rules['module.eks.aws_security_group_rule.node["ingress_vault_agent_injector_mutating_webhook"]']
    assert user.peer.kind == "unknown"
    assert "node_security_group_additional_rules" in user.peer.value
    # Default keys whose planned values are exactly the module's defaults keep their known source.
    webhook = rules['module.eks.aws_security_group_rule.node["ingress_cluster_8443_webhook"]']
    assert webhook.peer == Peer("group", "module.eks.aws_security_group.cluster")
    # Port 8089 is not covered by the unresolved 8080 rule, so tap is still blocked; 8443 still opens.
    assert statuses(report) == {TAP: "blocked", INJECTOR: "open", POLICY: "open"}


# --- (b) the same cluster's state -------------------------------------------------------------------


def test_eks_state_joins_real_ids_and_prints_them_in_the_fix() -> None:
    report = scan([str(EKS_STATE), MANIFESTS])
    assert report.inventory.problems == []
    assert statuses(report) == {TAP: "blocked", INJECTOR: "open", POLICY: "open"}
    assert "module.eks.aws_security_group.node[0]" in by_port(report)[TAP].reason
    (cluster,) = report.inventory.network.clusters
    assert cluster.kind == "terraform state" and cluster.scenarios[0].label == "state"
    primary = cluster.scenarios[0].groups["module.eks.aws_eks_cluster.this:primary"]
    assert primary.aws_id == "sg-0e63f4a5b6c7d8e92"
    assert primary.label == "cluster primary security group (created by EKS)"
    # State has no configuration section; the module is recognised by what it creates.
    assert cluster.fix.style == "module" and cluster.fix.module == "eks"
    (fix,) = report.fixes
    assert fix.fix.aws_cli is not None
    assert "--group-id sg-0d52e3f4a5b6c7d81" in fix.fix.aws_cli
    assert "GroupId=sg-0c41d2e3f4a5b6c70" in fix.fix.aws_cli  # the module's cluster group
    assert "<node-security-group-id>" not in fix.fix.aws_cli
    assert "<cluster-security-group-id>" not in fix.fix.aws_cli


def test_eks_state_does_not_double_count_rules_mirrored_into_the_group() -> None:
    # aws_security_group.ingress in state repeats every aws_security_group_rule of the group.
    report = scan([str(EKS_STATE), MANIFESTS])
    rules = report.inventory.network.rules
    node_rules = [r for r in rules if r.group == "module.eks.aws_security_group.node"]
    assert len(node_rules) == 10
    assert all("aws_security_group_rule.node[" in r.name for r in node_rules)
    webhook = next(r for r in node_rules if r.from_port == 8443)
    assert webhook.peer == Peer("group", "module.eks.aws_security_group.cluster")


def test_launch_template_with_the_primary_group_opens_everything(tmp_path: Path) -> None:
    # attach_cluster_primary_security_group = true: the template lists the EKS-made group's id.
    data = load(EKS_STATE / "terraform.tfstate.json")
    (eks,) = data["values"]["root_module"]["child_modules"]
    (node_group_module,) = eks["child_modules"]
    template = next(r for r in node_group_module["resources"] if r["type"] == "aws_launch_template")
    template["values"]["vpc_security_group_ids"] = ["sg-0d52e3f4a5b6c7d81", "sg-0e63f4a5b6c7d8e92"]
    (tmp_path / "terraform.tfstate.json").write_text(json.dumps(data))
    report = scan([str(tmp_path), MANIFESTS])
    assert statuses(report) == {TAP: "open", INJECTOR: "open", POLICY: "open"}
    assert "cluster primary security group" in by_port(report)[TAP].reason
    assert report.fixes == []


def test_eks_plan_node_group_attached_to_the_primary_group(tmp_path: Path) -> None:
    data = load(EKS_PLAN / "plan.json")
    call = data["configuration"]["root_module"]["module_calls"]["eks"]
    call["expressions"]["eks_managed_node_groups"]["constant_value"]["default"][
        "attach_cluster_primary_security_group"
    ] = True
    (tmp_path / "plan.json").write_text(json.dumps(data))
    report = scan([str(tmp_path), MANIFESTS])
    assert statuses(report) == {TAP: "open", INJECTOR: "open", POLICY: "open"}
    (cluster,) = report.inventory.network.clusters
    (placement,) = cluster.scenarios[0].placements
    assert placement.groups == [
        "module.eks.aws_security_group.node",
        "module.eks.aws_eks_cluster.this:primary",
    ]


# --- (c) node group without a launch template ---------------------------------------------------------


def test_node_group_without_launch_template_carries_the_primary_group() -> None:
    report = scan([str(NO_LT), MANIFESTS])
    assert statuses(report) == {TAP: "open", INJECTOR: "open", POLICY: "open"}
    assert "cluster primary security group" in by_port(report)[TAP].reason
    assert "aws_eks_node_group.default" in by_port(report)[TAP].reason
    assert report.fixes == []
    (cluster,) = report.inventory.network.clusters
    (placement,) = cluster.scenarios[0].placements
    assert placement.groups == ["aws_eks_cluster.main:primary"] and placement.opens_all


# --- (e) hand-written resources joined by configuration references -----------------------------------


def test_raw_references_blocked_open_and_unknown() -> None:
    report = scan([str(RAW_REFS), MANIFESTS])
    assert report.inventory.problems == []
    paths = by_port(report)
    assert statuses(report) == {TAP: "blocked", INJECTOR: "open", POLICY: "unknown"}
    # Both the managed node group and the self-managed ASG use the template with aws_security_group.nodes.
    assert "aws_eks_node_group.workers" in paths[TAP].reason
    assert "aws_autoscaling_group.gpu" in paths[TAP].reason
    assert "aws_security_group.nodes allows only tcp 443, tcp 10250, tcp 8443" in paths[TAP].reason
    assert "aws_vpc_security_group_ingress_rule.nodes_webhook_8443" in paths[INJECTOR].reason
    # The 9443 rule's source is a local: never guessed, so the verdict is unknown with the reason.
    assert "local.webhook_source_sg_id" in paths[POLICY].reason


def test_raw_references_fix_names_terraform_addresses() -> None:
    report = scan([str(RAW_REFS), MANIFESTS])
    (fix,) = report.fixes
    assert fix.cluster == "aws_eks_cluster.main"
    assert fix.fix.terraform is not None
    assert 'resource "aws_security_group_rule" "ingress_linkerd_viz_tap_8089"' in fix.fix.terraform
    assert "security_group_id        = aws_security_group.nodes.id" in fix.fix.terraform
    assert (
        "source_security_group_id = aws_eks_cluster.main.vpc_config[0].cluster_security_group_id"
        in fix.fix.terraform
    )


def test_raw_references_model() -> None:
    report = scan([str(RAW_REFS), MANIFESTS])
    (cluster,) = report.inventory.network.clusters
    scenario = cluster.scenarios[0]
    assert scenario.control_plane_groups == [
        "aws_eks_cluster.main:primary",
        "aws_security_group.control_plane",
    ]
    placements = {p.name: p for p in scenario.placements}
    assert set(placements) == {
        "aws_eks_node_group.workers",
        "aws_autoscaling_group.gpu",
        "aws_eks_fargate_profile.web",
    }
    assert placements["aws_eks_fargate_profile.web"].selectors == [("linkerd-viz", {"component": "web"})]
    rules = {r.name: r for r in report.inventory.network.rules}
    assert rules["aws_security_group_rule.nodes_from_cluster_443"].peer == Peer(
        "group", "aws_eks_cluster.main:primary"
    )
    assert "aws_security_group_rule.nodes_egress" not in rules


def test_fargate_profile_takes_the_pods_it_selects(tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(
        """\
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1alpha1.web.example.io
spec:
  group: web.example.io
  version: v1alpha1
  service: {name: web, namespace: linkerd-viz}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: linkerd-viz}
spec:
  selector: {component: web}
  ports: [{name: https, port: 443, targetPort: 8089}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: linkerd-viz}
spec:
  selector: {matchLabels: {component: web}}
  template:
    metadata: {labels: {component: web}}
    spec:
      containers: [{name: web, image: web, ports: [{containerPort: 8089}]}]
"""
    )
    report = scan([str(RAW_REFS), str(manifest)])
    (path,) = report.paths
    # Same port as tap, which is blocked on the nodes; these pods run on Fargate.
    assert path.status == "open"
    assert "aws_eks_fargate_profile.web" in path.reason


# --- never guess: what cannot be traced makes the verdict unknown ------------------------------------


def test_rule_whose_group_cannot_be_traced_can_only_make_verdicts_unknown(tmp_path: Path) -> None:
    data = load(RAW_REFS / "plan.json")
    for res in data["configuration"]["root_module"]["resources"]:
        if res["address"] == "aws_vpc_security_group_ingress_rule.nodes_webhook_8443":
            res["expressions"]["security_group_id"] = {"references": ["local.worker_sg_id"]}
    (tmp_path / "plan.json").write_text(json.dumps(data))
    report = scan([str(tmp_path), MANIFESTS])
    # The 8443 rule may or may not sit on the nodes' group: 8443 is no longer open, nor blocked. It
    # cannot admit 8089, so tap stays blocked.
    assert statuses(report) == {TAP: "blocked", INJECTOR: "unknown", POLICY: "unknown"}
    reason = by_port(report)[INJECTOR].reason
    assert "aws_vpc_security_group_ingress_rule.nodes_webhook_8443 might allow it" in reason
    assert "local.worker_sg_id" in reason


def test_untraceable_control_plane_groups_make_the_cluster_unknown(tmp_path: Path) -> None:
    data = load(RAW_REFS / "plan.json")
    for res in data["configuration"]["root_module"]["resources"]:
        if res["address"] == "aws_eks_cluster.main":
            res["expressions"]["vpc_config"][0]["security_group_ids"] = {"references": ["each.value.groups"]}
    (tmp_path / "plan.json").write_text(json.dumps(data))
    report = scan([str(tmp_path), MANIFESTS])
    assert set(statuses(report).values()) == {"unknown"}
    assert "vpc_config.security_group_ids" in by_port(report)[TAP].reason


def test_missing_launch_template_is_unresolved_not_blocked(tmp_path: Path) -> None:
    data = load(RAW_REFS / "plan.json")
    data["planned_values"]["root_module"]["resources"] = [
        r for r in data["planned_values"]["root_module"]["resources"] if r["type"] != "aws_launch_template"
    ]
    (tmp_path / "plan.json").write_text(json.dumps(data))
    report = scan([str(tmp_path), MANIFESTS])
    assert statuses(report)[TAP] == "unknown"
    assert "launch template" in by_port(report)[TAP].reason


# --- (d) malformed input --------------------------------------------------------------------------


def test_malformed_plan_is_a_problem_not_a_crash() -> None:
    report = scan([str(MALFORMED), MANIFESTS])
    messages = {(Path(p.path).name, p.message) for p in report.inventory.problems}
    assert (
        "plan.json",
        "`planned_values` is not an object, so this terraform JSON cannot be read",
    ) in messages
    assert any(name == "future-format.json" and "'2.0' is not supported" in m for name, m in messages)
    assert report.inventory.network.clusters == []
    assert set(statuses(report).values()) == {"unknown"}
    assert any(f.check == "input-unreadable" for f in report.findings)


def _mutations(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_mutations(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_mutations(v, (*path, i)))
    return out


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy_ = copy.deepcopy(data)
    node = copy_
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy_


@pytest.mark.parametrize("fixture", [EKS_PLAN / "plan.json", RAW_REFS / "plan.json"])
def test_read_plan_never_raises_on_mangled_input(fixture: Path) -> None:
    data = load(fixture)
    paths = _mutations(data)[1:]
    step = max(1, len(paths) // 300)
    wrong: list[Any] = [None, [], {}, "x", 7, True, [None], {"a": None}]
    runs = 0
    for i, where in enumerate(paths[::step]):
        mangled = _replace(data, where, wrong[i % len(wrong)])
        model, problems = NetworkModel(), list[Problem]()
        tfplan.read_plan(str(fixture), mangled, model, problems)
        runs += 1
        assert all(p.path == str(fixture) for p in problems)
        for cluster in model.clusters:
            assert cluster.scenarios and all(s.placements for s in cluster.scenarios)
    assert runs >= 100


def test_self_managed_workers_from_a_launch_configuration(tmp_path: Path) -> None:
    """Classic workers: the ASG's launch configuration (name only known after apply, so traced through the
    configuration reference) names the nodes' groups."""
    plan = load(RAW_REFS / "plan.json")
    lc_values = {
        "image_id": "ami-0abc",
        "instance_type": "g5.xlarge",
        "name_prefix": "gpu-",
        "security_groups": ["sg-0aaaaaaaaaaaaaaa1"],
    }
    plan["planned_values"]["root_module"]["resources"].append(
        {
            "address": "aws_launch_configuration.gpu",
            "mode": "managed",
            "type": "aws_launch_configuration",
            "name": "gpu",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 0,
            "values": lc_values,
            "sensitive_values": {},
        }
    )
    for section in ("planned_values", "configuration"):
        for r in plan[section]["root_module"]["resources"]:
            if r["address"] == "aws_autoscaling_group.gpu":
                if section == "planned_values":
                    del r["values"]["launch_template"]
                else:
                    del r["expressions"]["launch_template"]
                    r["expressions"]["launch_configuration"] = {
                        "references": ["aws_launch_configuration.gpu.name", "aws_launch_configuration.gpu"]
                    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    report = scan([str(tmp_path), MANIFESTS])
    (cluster,) = report.inventory.network.clusters
    placements = {p.name: p for p in cluster.scenarios[0].placements}
    assert placements["aws_autoscaling_group.gpu"].groups == ["sg-0aaaaaaaaaaaaaaa1"]
    # the managed node group still blocks tap; the ASG's own group is not in the plan, so it says so
    assert statuses(report)[TAP] == "blocked"
    reason = by_port(report)[TAP].reason
    assert (
        "aws_autoscaling_group.gpu: sg-0aaaaaaaaaaaaaaa1 is attached to these nodes but its rules are not in the inputs"
        in reason
    )
