"""Terraform forms -> control-plane verdicts, through the real `scan` pipeline (no mocks).

Every case writes real `.tf` text next to one manifest file that holds:
- APIService v1alpha1.tap.linkerd.io -> Service linkerd-viz/tap 443 -> targetPort `apiserver` -> 8089,
- one ValidatingWebhookConfiguration per port in HOOK_PORTS, each behind Service hooks/hook-<port>.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from vizdoctor.paths import ControlPlanePath
from vizdoctor.report import Report, scan

TAP = 8089
HOOK_PORTS = (8443, 9443, 4443, 6443, 10250, 10251, 8080, 15017)
ALL_PORTS = frozenset((TAP, *HOOK_PORTS))
REGISTRY = "terraform-aws-modules/eks/aws"
ONE_NODE_GROUP = "eks_managed_node_groups = {\n    default = {}\n  }"


# --- helpers -------------------------------------------------------------------------------------


def manifests(extra_ports: tuple[int, ...] = ()) -> str:
    docs = [
        textwrap.dedent(
            """\
            apiVersion: apiregistration.k8s.io/v1
            kind: APIService
            metadata: {name: v1alpha1.tap.linkerd.io}
            spec:
              group: tap.linkerd.io
              version: v1alpha1
              groupPriorityMinimum: 1000
              versionPriority: 100
              service: {name: tap, namespace: linkerd-viz, port: 443}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: tap, namespace: linkerd-viz}
            spec:
              selector: {component: tap}
              ports: [{name: apiserver, port: 443, targetPort: apiserver}]
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: tap, namespace: linkerd-viz}
            spec:
              selector: {matchLabels: {component: tap}}
              template:
                metadata: {labels: {component: tap}}
                spec:
                  containers:
                  - name: tap
                    image: cr.l5d.io/linkerd/tap
                    ports: [{name: apiserver, containerPort: 8089}]
            """
        )
    ]
    for port in (*HOOK_PORTS, *extra_ports):
        docs.append(
            textwrap.dedent(
                f"""\
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingWebhookConfiguration
                metadata: {{name: hook-{port}}}
                webhooks:
                - name: hook-{port}.example.com
                  admissionReviewVersions: [v1]
                  sideEffects: None
                  failurePolicy: Fail
                  clientConfig:
                    service: {{name: hook-{port}, namespace: hooks, port: 443}}
                ---
                apiVersion: v1
                kind: Service
                metadata: {{name: hook-{port}, namespace: hooks}}
                spec:
                  selector: {{app: hook-{port}}}
                  ports: [{{port: 443, targetPort: {port}}}]
                """
            )
        )
    return "---\n".join(docs)


def scan_tf(
    tmp_path: Path, tf: str, files: dict[str, str] | None = None, extra_ports: tuple[int, ...] = ()
) -> Report:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "k8s.yaml").write_text(manifests(extra_ports))
    (tmp_path / "main.tf").write_text(textwrap.dedent(tf))
    for name, text in (files or {}).items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    report = scan([str(tmp_path)])
    assert not report.inventory.problems, report.inventory.problems
    return report


def statuses(report: Report) -> dict[int, str]:
    out = {p.target_port: p.status for p in report.paths}
    assert None not in out, [p.reason for p in report.paths if p.target_port is None]
    return {k: v for k, v in out.items() if k is not None}


def path(report: Report, port: int) -> ControlPlanePath:
    (found,) = [p for p in report.paths if p.target_port == port]
    return found


def opened(report: Report) -> set[int]:
    return {port for port, status in statuses(report).items() if status == "open"}


def eks(
    body: str = "",
    version: str | None = "~> 20.0",
    source: str = REGISTRY,
    node_groups: str | None = ONE_NODE_GROUP,
    name: str = "eks",
) -> str:
    """A terraform-aws-eks module call with the given extra arguments."""
    lines = [f'module "{name}" {{', f'  source = "{source}"']
    if version is not None:
        lines.append(f'  version = "{version}"')
    if node_groups:
        lines.append(f"  {node_groups}")
    lines.append(textwrap.indent(textwrap.dedent(body).strip(), "  "))
    lines.append("}")
    return "\n".join(lines) + "\n"


def rules(*entries: str) -> str:
    return "node_security_group_additional_rules = {\n" + "\n".join(entries) + "\n}"


def rule(
    key: str = "ingress_tap",
    from_port: str | int = TAP,
    to_port: str | int | None = None,
    protocol: str = '"tcp"',
    type_: str = '"ingress"',
    source: str = "source_cluster_security_group = true",
) -> str:
    to = from_port if to_port is None else to_port
    return textwrap.dedent(
        f"""\
          {key} = {{
            description = "rule {key}"
            type        = {type_}
            protocol    = {protocol}
            from_port   = {from_port}
            to_port     = {to}
            {source}
          }}"""
    )


# --- the version table ---------------------------------------------------------------------------

# §3.1 of the reachability sheet: ports open from the cluster SG with default node rules.
V18 = {10250}
V19_0 = {*V18, 8443, 9443}
V19_3 = {*V19_0, 4443}
V19_6 = {*V19_3, 6443}
V21_7 = {*V19_6, 10251}


@pytest.mark.parametrize(
    ("version", "expected_open"),
    [
        ("17.24.0", set(ALL_PORTS)),
        ("18.31.2", V18),
        ("19.0.4", V19_0),
        ("19.3.1", V19_3),
        ("19.6.0", V19_6),
        ("~> 20.0", V19_6),
        ("21.0.0", V19_6),
        ("~> 21.7", V21_7),
    ],
)
def test_version_table(tmp_path: Path, version: str, expected_open: set[int]) -> None:
    # v17 has no eks_managed_node_groups: its workers are worker_groups (v17 workers.tf).
    ng = 'worker_groups = [{ name = "a" }]' if version.startswith("17") else ONE_NODE_GROUP
    report = scan_tf(tmp_path, eks(version=version, node_groups=ng))
    assert statuses(report) == {port: "open" if port in expected_open else "blocked" for port in ALL_PORTS}


def test_v17_worker_group_opens_ephemeral_range_by_default(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(version="17.24.0", node_groups='worker_groups = [{ name = "a" }]'))
    assert opened(report) == set(ALL_PORTS)
    assert "workers_ingress_cluster" in path(report, TAP).reason


def test_v17_worker_sg_from_port_narrows_the_range(tmp_path: Path) -> None:
    report = scan_tf(
        tmp_path,
        eks(
            "worker_sg_ingress_from_port = 9000",
            version="17.24.0",
            node_groups='worker_groups = [{ name = "a" }]',
        ),
    )
    # workers_ingress_cluster becomes 9000-65535 (workers_ingress_cluster_kubelet is only added above 10250)
    assert opened(report) == {9443, 10250, 10251, 15017}


def test_v17_managed_node_groups_use_the_default_launch_template(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(version="17.24.0", node_groups="node_groups = {\n    a = {}\n  }"))
    assert opened(report) == set(ALL_PORTS)
    assert "default launch template" in path(report, TAP).reason


def test_v17_node_group_with_existing_launch_template_is_unknown(tmp_path: Path) -> None:
    ng = 'node_groups = {\n    a = { launch_template_id = "lt-1" }\n  }'
    report = scan_tf(tmp_path, eks(version="17.24.0", node_groups=ng))
    assert statuses(report)[TAP] == "unknown"
    assert "lt-1" in path(report, TAP).reason


def test_range_spanning_eras_is_unknown_only_where_they_disagree(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(version=">= 19.0, < 20.0"))
    st = statuses(report)
    assert st[6443] == "unknown"  # closed before v19.6.0, open from it
    assert "depends on which module release" in path(report, 6443).reason
    assert st[TAP] == "blocked"  # closed in every v19 release
    assert st[8080] == "blocked"
    assert st[9443] == "open"  # open in every v19 release
    assert "the same in every release" in path(report, 9443).reason


def test_v19_3_0_duplicate_key_leaves_4443_and_8443_unknown(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(version="19.3.0"))
    st = statuses(report)
    assert st[4443] == "unknown"
    assert st[8443] == "unknown"
    assert "v19.3.0" in path(report, 8443).reason
    assert st[9443] == "open"
    assert st[6443] == "blocked"


def test_modules_json_overrides_the_constraint(tmp_path: Path) -> None:
    lock = {
        "Modules": [
            {
                "Key": "eks",
                "Source": "registry.terraform.io/terraform-aws-modules/eks/aws",
                "Version": "19.2.0",
                "Dir": ".terraform/modules/eks",
            }
        ]
    }
    report = scan_tf(
        tmp_path,
        eks(version="~> 18.0"),  # v18 would leave 8443 and 9443 blocked
        files={".terraform/modules/modules.json": json.dumps(lock)},
    )
    assert opened(report) == V19_0


def test_git_source_ref_gives_the_version(tmp_path: Path) -> None:
    src = "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v18.31.2"
    report = scan_tf(tmp_path, eks(version=None, source=src))
    assert opened(report) == V18
    assert statuses(report)[8443] == "blocked"


def test_no_version_is_unknown_with_a_reason(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(version=None))
    assert set(statuses(report).values()) == {"unknown"}
    assert "no version constraint" in path(report, TAP).reason


def test_constraint_admitting_unknown_future_releases_is_unknown(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(version=">= 21.0"))
    assert set(statuses(report).values()) == {"unknown"}
    assert "newer than the v21 line" in path(report, TAP).reason


def test_single_component_pessimistic_constraint_is_open_ended(tmp_path: Path) -> None:
    # `~> 20` lets the major version increment (hashicorp/go-version): v21 and later are admitted.
    report = scan_tf(tmp_path, eks(version="~> 20"))
    assert set(statuses(report).values()) == {"unknown"}


def test_constraint_reaching_below_v17_is_unknown(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(version="< 18.0.0"))
    assert set(statuses(report).values()) == {"unknown"}
    assert "older than v17" in path(report, TAP).reason


def test_invalid_constraint_is_unknown(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(version="latest please"))
    assert set(statuses(report).values()) == {"unknown"}
    assert "not a version constraint" in path(report, TAP).reason


def test_eks_submodule_is_not_a_cluster(tmp_path: Path) -> None:
    report = scan_tf(
        tmp_path,
        eks(version="~> 20.0", source="terraform-aws-modules/eks/aws//modules/karpenter", node_groups=None),
    )
    assert set(statuses(report).values()) == {"unknown"}
    assert "no cluster network" in path(report, TAP).reason


# --- node_security_group_additional_rules --------------------------------------------------------


def test_seed_tap_rule_8088_8089_opens_8089(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(rules(rule("ingress_linkerd_tap", 8088, 8089))))
    st = statuses(report)
    assert st[TAP] == "open"
    assert 'node_security_group_additional_rules["ingress_linkerd_tap"]' in path(report, TAP).reason
    assert st[8080] == "blocked"
    assert st[15017] == "blocked"


@pytest.mark.parametrize(
    ("protocol", "from_port", "to_port"),
    [('"-1"', 0, 0), ("-1", 0, 0), ('"all"', 0, 0), ('"-1"', 8443, 8443)],
)
def test_all_protocols_open_every_port(tmp_path: Path, protocol: str, from_port: int, to_port: int) -> None:
    report = scan_tf(tmp_path, eks(rules(rule("ingress_cluster_all", from_port, to_port, protocol=protocol))))
    assert opened(report) == set(ALL_PORTS)
    assert "all traffic" in path(report, 15017).reason


def test_upper_case_tcp_works(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(rules(rule(protocol='"TCP"'))))
    assert statuses(report)[TAP] == "open"


def test_udp_does_not_open_tcp(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(rules(rule(protocol='"udp"'))))
    assert statuses(report)[TAP] == "blocked"


def test_user_key_replaces_the_default_rule(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(rules(rule("ingress_cluster_9443_webhook", 9444))))
    st = statuses(report)
    assert st[9443] == "blocked"
    assert st[8443] == "open"  # other defaults stay


def test_source_group_not_on_the_control_plane_does_not_open(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(rules(rule(source='source_security_group_id = "sg-123"'))))
    assert statuses(report)[TAP] == "blocked"


def test_source_group_on_the_control_plane_opens(tmp_path: Path) -> None:
    report = scan_tf(
        tmp_path,
        eks(
            'cluster_additional_security_group_ids = ["sg-cp"]\n'
            + rules(rule(source='source_security_group_id = "sg-cp"'))
        ),
    )
    assert statuses(report)[TAP] == "open"


@pytest.mark.parametrize(
    ("version", "expected"), [("18.31.2", "blocked"), ("19.21.0", "open"), ("~> 20.0", "open")]
)
def test_flag_versus_source_security_group_id_precedence(tmp_path: Path, version: str, expected: str) -> None:
    both = 'source_cluster_security_group = true\n    source_security_group_id = "sg-123"'
    report = scan_tf(tmp_path, eks(rules(rule(source=both)), version=version))
    assert statuses(report)[TAP] == expected


def test_private_cidr_is_unknown_and_any_ipv4_opens(tmp_path: Path) -> None:
    report = scan_tf(
        tmp_path,
        eks(
            rules(
                rule("private", source='cidr_blocks = ["10.0.0.0/8"]'),
                rule("world", 15017, source='cidr_blocks = ["0.0.0.0/0"]'),
            )
        ),
    )
    st = statuses(report)
    assert st[TAP] == "unknown"
    assert "10.0.0.0/8" in path(report, TAP).reason
    assert st[15017] == "open"
    assert st[8080] == "blocked"


def test_egress_rule_does_not_open(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(rules(rule(type_='"egress"'))))
    assert statuses(report)[TAP] == "blocked"


def test_v21_rule_defaults_to_ingress_tcp(tmp_path: Path) -> None:
    entry = "ingress_tap = {\n  from_port = 8089\n  to_port = 8089\n  source_cluster_security_group = true\n}"
    assert statuses(scan_tf(tmp_path, eks(rules(entry), version="21.3.0")))[TAP] == "open"


def test_v20_rule_without_type_opens_nothing(tmp_path: Path) -> None:
    entry = 'ingress_tap = {\n  protocol = "tcp"\n  from_port = 8089\n  to_port = 8089\n  source_cluster_security_group = true\n}'
    assert statuses(scan_tf(tmp_path, eks(rules(entry))))[TAP] == "blocked"


def test_variable_default(tmp_path: Path) -> None:
    tf = eks(rules(rule(from_port="var.tap_port"))) + 'variable "tap_port" {\n  default = 8089\n}\n'
    assert statuses(scan_tf(tmp_path, tf))[TAP] == "open"


def test_terraform_tfvars_overrides_the_default(tmp_path: Path) -> None:
    tf = eks(rules(rule(from_port="var.tap_port"))) + 'variable "tap_port" {\n  default = 1\n}\n'
    report = scan_tf(tmp_path, tf, files={"terraform.tfvars": "tap_port = 8089\n"})
    assert statuses(report)[TAP] == "open"


def test_auto_tfvars_overrides_terraform_tfvars(tmp_path: Path) -> None:
    tf = eks(rules(rule(from_port="var.tap_port"))) + 'variable "tap_port" {}\n'
    report = scan_tf(
        tmp_path,
        tf,
        files={"terraform.tfvars": "tap_port = 1\n", "z.auto.tfvars": "tap_port = 8089\n"},
    )
    assert statuses(report)[TAP] == "open"


def test_variable_without_any_value_is_unknown(tmp_path: Path) -> None:
    tf = eks(rules(rule(from_port="var.tap_port"))) + 'variable "tap_port" {}\n'
    report = scan_tf(tmp_path, tf)
    assert statuses(report)[TAP] == "unknown"
    assert "var.tap_port" in path(report, TAP).reason


def test_disagreeing_var_files_leave_the_value_unknown(tmp_path: Path) -> None:
    tf = eks(rules(rule(from_port="var.tap_port"))) + 'variable "tap_port" {}\n'
    report = scan_tf(tmp_path, tf, files={"dev.tfvars": "tap_port = 8089\n", "prod.tfvars": "tap_port = 1\n"})
    assert statuses(report)[TAP] == "unknown"
    assert "-var-file" in path(report, TAP).reason


def test_locals_and_merge(tmp_path: Path) -> None:
    tf = eks("node_security_group_additional_rules = merge(local.base_rules, { tap = local.tap_rule })") + (
        textwrap.dedent(
            """
            locals {
              tap_port = 8089
              base_rules = {
                webhook_15017 = {
                  type = "ingress"
                  protocol = "tcp"
                  from_port = 15017
                  to_port = 15017
                  source_cluster_security_group = true
                }
              }
              tap_rule = {
                type = "ingress"
                protocol = "tcp"
                from_port = local.tap_port
                to_port = local.tap_port
                source_cluster_security_group = true
              }
            }
            """
        )
    )
    report = scan_tf(tmp_path, tf)
    st = statuses(report)
    assert st[TAP] == "open"
    assert 'node_security_group_additional_rules["tap"]' in path(report, TAP).reason
    assert st[15017] == "open"
    assert st[8080] == "blocked"


def test_unresolvable_port_is_unknown_never_decided(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(rules(rule(from_port="data.aws_x.y.port", to_port="data.aws_x.y.port"))))
    st = statuses(report)
    assert st[TAP] == "unknown"
    assert st[15017] == "unknown"  # a rule of unknown range from the cluster SG might cover it
    assert "data.aws_x.y.port" in path(report, TAP).reason
    assert st[8443] == "open"  # a certain default rule still decides


def test_unresolvable_rules_map_is_unknown(tmp_path: Path) -> None:
    report = scan_tf(
        tmp_path, eks("node_security_group_additional_rules = var.rules") + 'variable "rules" {}\n'
    )
    st = statuses(report)
    assert st[TAP] == "unknown"
    assert st[10250] == "open"


def test_duplicate_rule_key_is_reported_and_the_last_declaration_wins(tmp_path: Path) -> None:
    # linkerd/linkerd2#10341: `ingress_linkerd_tap` twice, 8089 then 9443; HCL keeps the last one.
    report = scan_tf(
        tmp_path,
        eks(rules(rule("ingress_linkerd_tap", 8089), rule("ingress_linkerd_tap", 15017))),
    )
    dupes = [f for f in report.findings if f.check == "duplicate-rule-key"]
    assert len(dupes) == 1
    assert "ingress_linkerd_tap" in dupes[0].message
    st = statuses(report)
    assert st[TAP] == "blocked"
    assert st[15017] == "open"


def test_unknown_recommended_toggle_makes_recommended_ports_unknown(tmp_path: Path) -> None:
    tf = eks("node_security_group_enable_recommended_rules = var.rec") + 'variable "rec" {}\n'
    st = statuses(scan_tf(tmp_path, tf))
    assert st[8443] == "unknown"
    assert st[10250] == "open"
    assert st[TAP] == "blocked"


# --- module switches and node placement ----------------------------------------------------------


def test_recommended_rules_off_on_v20(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks("node_security_group_enable_recommended_rules = false"))
    assert opened(report) == V18


@pytest.mark.parametrize(
    "node_groups",
    [
        "eks_managed_node_groups = {\n    a = { attach_cluster_primary_security_group = true }\n  }",
        "eks_managed_node_group_defaults = { attach_cluster_primary_security_group = true }\n"
        "  eks_managed_node_groups = {\n    a = {}\n  }",
        "self_managed_node_groups = {\n    a = { attach_cluster_primary_security_group = true }\n  }",
    ],
)
def test_attach_cluster_primary_security_group_opens_everything(tmp_path: Path, node_groups: str) -> None:
    report = scan_tf(tmp_path, eks(node_groups=node_groups))
    assert opened(report) == set(ALL_PORTS)
    assert "attach_cluster_primary_security_group" in path(report, TAP).reason


@pytest.mark.parametrize(
    ("version", "node_group", "flag"),
    [
        # v19 added use_custom_launch_template (docs/UPGRADE-19.0.md)
        ("~> 20.0", "use_custom_launch_template = false", "use_custom_launch_template = false"),
        ("19.21.0", "use_custom_launch_template = false", "use_custom_launch_template = false"),
        ("~> 21.0", "use_custom_launch_template = false", "use_custom_launch_template = false"),
        # v18 needed both, because the root module defaults launch_template_name to the node group's key
        (
            "18.31.2",
            'create_launch_template = false, launch_template_name = ""',
            "create_launch_template = false",
        ),
    ],
)
def test_eks_default_launch_template_opens_everything(
    tmp_path: Path, version: str, node_group: str, flag: str
) -> None:
    ng = f"eks_managed_node_groups = {{\n    a = {{ {node_group} }}\n  }}"
    report = scan_tf(tmp_path, eks(node_groups=ng, version=version))
    assert opened(report) == set(ALL_PORTS)
    assert flag in path(report, TAP).reason
    assert "default launch template" in path(report, TAP).reason


@pytest.mark.parametrize(
    ("version", "node_group"),
    [
        # create_launch_template = false alone names an existing template (the node group's key by default)
        ("18.31.2", "create_launch_template = false"),
        ("19.21.0", "create_launch_template = false"),
        ("18.31.2", 'create_launch_template = false, launch_template_name = "mine"'),
        ("~> 20.0", 'create_launch_template = false, launch_template_id = "lt-1"'),
    ],
)
def test_existing_launch_template_is_unknown(tmp_path: Path, version: str, node_group: str) -> None:
    ng = f"eks_managed_node_groups = {{\n    a = {{ {node_group} }}\n  }}"
    report = scan_tf(tmp_path, eks(node_groups=ng, version=version))
    st = statuses(report)
    assert st[TAP] == "unknown"
    assert st[10250] == "unknown"
    assert "existing launch template" in path(report, TAP).reason


def test_unknown_launch_template_switch_is_unknown(tmp_path: Path) -> None:
    ng = "eks_managed_node_groups = {\n    a = { use_custom_launch_template = var.custom }\n  }"
    report = scan_tf(tmp_path, eks(node_groups=ng) + 'variable "custom" {}\n')
    assert statuses(report)[TAP] == "unknown"
    assert "var.custom" in path(report, TAP).reason


def test_mixed_node_groups_are_blocked_and_name_both(tmp_path: Path) -> None:
    ng = (
        "eks_managed_node_groups = {\n"
        "    open_ng = { attach_cluster_primary_security_group = true }\n"
        "    closed_ng = {}\n"
        "  }"
    )
    report = scan_tf(tmp_path, eks(node_groups=ng))
    assert statuses(report)[TAP] == "blocked"
    reason = path(report, TAP).reason
    assert '["closed_ng"]' in reason
    assert '["open_ng"]' in reason


def test_fargate_profile_selecting_the_tap_namespace(tmp_path: Path) -> None:
    body = textwrap.dedent(
        """\
        fargate_profiles = {
          viz = {
            selectors = [{ namespace = "linkerd-viz" }]
          }
        }"""
    )
    report = scan_tf(tmp_path, eks(body))
    st = statuses(report)
    assert st[TAP] == "open"
    assert "Fargate" in path(report, TAP).reason
    assert st[8080] == "blocked"  # namespace hooks is not selected: it runs on the node group


def test_fargate_selector_labels_must_match(tmp_path: Path) -> None:
    body = 'fargate_profiles = {\n  viz = {\n    selectors = [{ namespace = "linkerd-viz", labels = { component = "web" } }]\n  }\n}'
    assert statuses(scan_tf(tmp_path, eks(body)))[TAP] == "blocked"


def test_create_node_security_group_false_with_own_group(tmp_path: Path) -> None:
    tf = eks(
        "create_node_security_group = false\nnode_security_group_id = aws_security_group.nodes.id\n"
        + rules(rule("ignored_15017", 15017))
    ) + textwrap.dedent(
        """
        resource "aws_security_group" "nodes" {
          name = "nodes"
          ingress {
            description     = "tap"
            from_port       = 8089
            to_port         = 8089
            protocol        = "tcp"
            security_groups = [module.eks.cluster_security_group_id]
          }
        }
        """
    )
    report = scan_tf(tmp_path, tf)
    st = statuses(report)
    assert st[TAP] == "open"
    assert "aws_security_group.nodes ingress[0]" in path(report, TAP).reason
    assert st[10250] == "blocked"  # the module creates none of its node rules
    assert st[8443] == "blocked"
    assert st[15017] == "blocked"  # node_security_group_additional_rules are ignored
    assert any(f.check == "module-rules-ignored" for f in report.findings)
    fix = next(f.fix for f in report.findings if f.check == "control-plane-unreachable" and f.fix)
    assert fix.terraform is not None
    assert 'resource "aws_security_group_rule"' in fix.terraform
    assert "security_group_id        = aws_security_group.nodes.id" in fix.terraform


def test_create_node_security_group_false_without_any_group_uses_the_primary_sg(tmp_path: Path) -> None:
    # The launch template then names no security group, so EKS attaches the cluster primary SG.
    report = scan_tf(tmp_path, eks("create_node_security_group = false"))
    assert opened(report) == set(ALL_PORTS)


def test_v21_cluster_rules_do_not_open_node_ports(tmp_path: Path) -> None:
    body = textwrap.dedent(
        """\
        security_group_additional_rules = {
          ingress_tap = {
            type = "ingress"
            protocol = "tcp"
            from_port = 8089
            to_port = 8089
            source_node_security_group = true
          }
        }"""
    )
    report = scan_tf(tmp_path, eks(body, version="~> 21.0"))
    assert statuses(report)[TAP] == "blocked"


def test_v21_renamed_cluster_security_group_variables(tmp_path: Path) -> None:
    raw = textwrap.dedent(
        """
        resource "aws_security_group" "cp" {
          name = "cp"
        }
        resource "aws_security_group_rule" "tap" {
          type                     = "ingress"
          protocol                 = "tcp"
          from_port                = 8089
          to_port                  = 8089
          security_group_id        = module.eks.node_security_group_id
          source_security_group_id = aws_security_group.cp.id
        }
        """
    )
    body = "create_security_group = false\nsecurity_group_id = aws_security_group.cp.id"
    v21 = scan_tf(tmp_path / "v21", eks(body, version="~> 21.0") + raw)
    assert statuses(v21)[TAP] == "open"  # aws_security_group.cp is the control plane's group
    v20 = scan_tf(tmp_path / "v20", eks(body, version="~> 20.0") + raw)
    assert statuses(v20)[TAP] == "blocked"  # v20 ignores the v21 names


def test_v21_additional_security_group_ids(tmp_path: Path) -> None:
    body = 'additional_security_group_ids = ["sg-cp"]\n' + rules(
        rule(source='source_security_group_id = "sg-cp"')
    )
    assert statuses(scan_tf(tmp_path, eks(body, version="~> 21.0")))[TAP] == "open"


def test_v21_node_group_security_group_ingress_rules(tmp_path: Path) -> None:
    ng = textwrap.dedent(
        """\
        eks_managed_node_groups = {
            a = {
              security_group_ingress_rules = {
                tap = {
                  from_port = 8089
                  cidr_ipv4 = "0.0.0.0/0"
                }
                hooks = {
                  from_port = 15017
                  to_port   = 15017
                  cidr_ipv4 = "10.0.0.0/16"
                }
              }
            }
          }"""
    )
    report = scan_tf(tmp_path, eks(node_groups=ng, version="~> 21.7"))
    st = statuses(report)
    assert st[TAP] == "open"
    assert 'security_group_ingress_rules["tap"]' in path(report, TAP).reason
    assert st[15017] == "unknown"
    assert st[8080] == "blocked"


def test_v18_node_group_security_group_rules(tmp_path: Path) -> None:
    ng = (
        "eks_managed_node_groups = {\n    a = {\n      security_group_rules = {\n"
        + rule("tap")
        + "\n      }\n    }\n  }"
    )
    report = scan_tf(tmp_path, eks(node_groups=ng, version="18.31.2"))
    st = statuses(report)
    assert st[TAP] == "open"
    assert 'security_group_rules["tap"]' in path(report, TAP).reason
    assert st[8443] == "blocked"


# --- raw resources -------------------------------------------------------------------------------


def test_inline_ingress_on_an_extra_group_attached_to_nodes(tmp_path: Path) -> None:
    ng = (
        "eks_managed_node_groups = {\n    a = { vpc_security_group_ids = [aws_security_group.extra.id] }\n  }"
    )
    tf = eks(node_groups=ng) + textwrap.dedent(
        """
        resource "aws_security_group" "extra" {
          name = "extra"
          ingress {
            from_port       = 8089
            to_port         = 8089
            protocol        = "tcp"
            security_groups = [module.eks.cluster_security_group_id]
          }
        }
        """
    )
    report = scan_tf(tmp_path, tf)
    assert statuses(report)[TAP] == "open"
    assert "aws_security_group.extra ingress[0]" in path(report, TAP).reason


def test_inline_ingress_on_a_group_not_attached_to_nodes(tmp_path: Path) -> None:
    tf = eks() + textwrap.dedent(
        """
        resource "aws_security_group" "extra" {
          ingress {
            from_port       = 8089
            to_port         = 8089
            protocol        = "tcp"
            security_groups = [module.eks.cluster_security_group_id]
          }
        }
        """
    )
    assert statuses(scan_tf(tmp_path, tf))[TAP] == "blocked"


RAW_RULE = """
resource "aws_security_group_rule" "tap" {{
  {extra}
  type                     = "ingress"
  protocol                 = "tcp"
  from_port                = 8089
  to_port                  = 8089
  security_group_id        = module.eks.node_security_group_id
  source_security_group_id = module.eks.cluster_security_group_id
}}
"""


def test_aws_security_group_rule_opens(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks() + RAW_RULE.format(extra=""))
    assert statuses(report)[TAP] == "open"
    assert "aws_security_group_rule.tap" in path(report, TAP).reason


def test_aws_security_group_rule_count_zero_does_not_count(tmp_path: Path) -> None:
    assert statuses(scan_tf(tmp_path, eks() + RAW_RULE.format(extra="count = 0")))[TAP] == "blocked"


def test_aws_security_group_rule_count_from_var(tmp_path: Path) -> None:
    tf = eks() + RAW_RULE.format(extra="count = var.enable_tap ? 1 : 0")
    on = scan_tf(tmp_path / "on", tf + 'variable "enable_tap" {\n  default = true\n}\n')
    assert statuses(on)[TAP] == "open"
    unknown = scan_tf(tmp_path / "unknown", tf + 'variable "enable_tap" {}\n')
    assert statuses(unknown)[TAP] == "unknown"
    assert "count" in path(unknown, TAP).reason


def test_aws_security_group_rule_with_unknown_type_is_unknown(tmp_path: Path) -> None:
    tf = eks() + RAW_RULE.format(extra="").replace('"ingress"', "var.kind") + 'variable "kind" {}\n'
    assert statuses(scan_tf(tmp_path, tf))[TAP] == "unknown"


def test_aws_security_group_rule_egress_does_not_open(tmp_path: Path) -> None:
    tf = eks() + RAW_RULE.format(extra="").replace('"ingress"', '"egress"')
    assert statuses(scan_tf(tmp_path, tf))[TAP] == "blocked"


def test_aws_security_group_rule_with_unknown_to_port_says_why(tmp_path: Path) -> None:
    tf = eks() + RAW_RULE.format(extra="").replace(
        "to_port                  = 8089", "to_port = data.x.y.port"
    )
    report = scan_tf(tmp_path, tf)
    assert statuses(report)[TAP] == "unknown"
    assert "data.x.y.port" in path(report, TAP).reason


def test_vpc_security_group_ingress_rule(tmp_path: Path) -> None:
    tf = eks() + textwrap.dedent(
        """
        resource "aws_vpc_security_group_ingress_rule" "tap" {
          security_group_id            = module.eks.node_security_group_id
          referenced_security_group_id = module.eks.cluster_security_group_id
          ip_protocol                  = "tcp"
          from_port                    = 8089
          to_port                      = 8089
        }
        resource "aws_vpc_security_group_ingress_rule" "all_from_vpc" {
          security_group_id = module.eks.node_security_group_id
          cidr_ipv4         = "10.0.0.0/16"
          ip_protocol       = "-1"
        }
        """
    )
    report = scan_tf(tmp_path, tf)
    st = statuses(report)
    assert st[TAP] == "open"
    assert "aws_vpc_security_group_ingress_rule.tap" in path(report, TAP).reason
    assert st[15017] == "unknown"  # all traffic from 10.0.0.0/16 might include the control plane


RAW_CLUSTER = """
resource "aws_eks_cluster" "this" {
  name     = "c"
  role_arn = "arn:aws:iam::1:role/eks"
  vpc_config {
    subnet_ids = ["subnet-1", "subnet-2"]
  }
}

resource "aws_eks_node_group" "ng" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "ng"
  node_role_arn   = "arn:aws:iam::1:role/node"
  subnet_ids      = ["subnet-1"]
  scaling_config {
    desired_size = 1
    max_size     = 1
    min_size     = 1
  }
  %s
}
"""


def test_raw_cluster_node_group_without_launch_template(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, RAW_CLUSTER % "")
    assert opened(report) == set(ALL_PORTS)
    assert "no launch template" in path(report, TAP).reason


def test_raw_cluster_node_group_with_launch_template(tmp_path: Path) -> None:
    tf = (
        RAW_CLUSTER % "launch_template {\n    id      = aws_launch_template.lt.id\n    version = 1\n  }"
    ) + (
        textwrap.dedent(
            """
            resource "aws_launch_template" "lt" {
              name                   = "lt"
              vpc_security_group_ids = [aws_security_group.node.id]
            }

            resource "aws_security_group" "node" {
              name = "node"
              ingress {
                from_port       = 10250
                to_port         = 10250
                protocol        = "tcp"
                security_groups = [aws_eks_cluster.this.vpc_config[0].cluster_security_group_id]
              }
              ingress {
                from_port       = 15017
                to_port         = 15017
                protocol        = "TCP"
                security_groups = [aws_eks_cluster.this.vpc_config[0].cluster_security_group_id]
              }
            }
            """
        )
    )
    report = scan_tf(tmp_path, tf)
    assert opened(report) == {10250, 15017}
    assert statuses(report)[TAP] == "blocked"
    (cluster_fix,) = report.fixes
    assert cluster_fix.fix.terraform is not None
    assert 'resource "aws_security_group_rule"' in cluster_fix.fix.terraform
    assert "security_group_id        = aws_security_group.node.id" in cluster_fix.fix.terraform
    assert (
        "source_security_group_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id"
        in cluster_fix.fix.terraform
    )
    assert "node_security_group_additional_rules" not in cluster_fix.fix.terraform


def test_raw_cluster_without_node_groups_is_unknown(tmp_path: Path) -> None:
    tf = RAW_CLUSTER.split('resource "aws_eks_node_group"')[0]
    report = scan_tf(tmp_path, tf)
    assert set(statuses(report).values()) == {"unknown"}


# --- fixes ---------------------------------------------------------------------------------------


def test_module_fix_merges_adjacent_ports(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks(), extra_ports=(8088,))
    st = statuses(report)
    assert st[8088] == "blocked"
    assert st[TAP] == "blocked"
    (cluster_fix,) = report.fixes
    assert (8088, 8089) in cluster_fix.ports
    assert (8080, 8080) in cluster_fix.ports
    terraform = cluster_fix.fix.terraform
    assert terraform is not None
    assert 'module "eks"' in terraform
    assert "node_security_group_additional_rules" in terraform
    assert "from_port                     = 8088\n      to_port                       = 8089" in terraform
    assert "source_cluster_security_group = true" in terraform
    aws_cli = cluster_fix.fix.aws_cli
    assert aws_cli is not None
    assert "authorize-security-group-ingress" in aws_cli
    assert "FromPort=8088,ToPort=8089" in aws_cli


def test_per_path_fix_for_the_tap_port(tmp_path: Path) -> None:
    report = scan_tf(tmp_path, eks())
    finding = next(
        f for f in report.findings if f.check == "control-plane-unreachable" and "tap.linkerd.io" in f.title
    )
    assert finding.fix is not None
    assert finding.fix.aws_cli is not None
    assert "authorize-security-group-ingress" in finding.fix.aws_cli
    assert "FromPort=8089,ToPort=8089" in finding.fix.aws_cli
    assert finding.fix.terraform is not None
    assert "source_cluster_security_group = true" in finding.fix.terraform
    assert "from_port                     = 8089" in finding.fix.terraform


def test_the_fix_opens_the_path(tmp_path: Path) -> None:
    """Applying the emitted module rule to the input turns every blocked path open."""
    before = scan_tf(tmp_path / "before", eks(), extra_ports=(8088,))
    (cluster_fix,) = before.fixes
    terraform = cluster_fix.fix.terraform
    assert terraform is not None
    entries = terraform.split("node_security_group_additional_rules = {\n", 1)[1].rsplit("  }\n}", 1)[0]
    entries = "\n".join(line for line in entries.splitlines() if "# ..." not in line)
    after = scan_tf(tmp_path / "after", eks(rules(entries)), extra_ports=(8088,))
    assert set(statuses(after).values()) == {"open"}
