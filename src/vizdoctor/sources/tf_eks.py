"""The terraform-aws-eks module and its sub-modules as a network: the cluster, its node groups and the
security groups they carry, per module release (knowledge/eks_module.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from vizdoctor.knowledge import aws_sg
from vizdoctor.knowledge import eks_module as eks
from vizdoctor.location import Location
from vizdoctor.network.model import (
    UNRESOLVED,
    Cluster,
    FixTarget,
    IngressRule,
    NetworkModel,
    NetworkNote,
    Peer,
    Placement,
    Scenario,
    SecurityGroup,
)
from vizdoctor.sources.tf_eval import Ref, Scope, Unknown, evaluate
from vizdoctor.sources.tf_hcl import (
    TfDir,
    TfFile,
    _as_list,
    _block_line,
    _blocks,
    _count_condition,
    _line_of,
    _peers_for,
    _port,
    _protocol,
    _resources,
    _why,
    group_key,
)
from vizdoctor.sources.tf_version import ConstraintError, Version, constraint_interval, fmt, parse_version

# --- module: terraform-aws-eks --------------------------------------------------------------------


def _is_eks_root_module(source: Any) -> bool:
    if not isinstance(source, str):
        return False
    s = source.strip()
    if "//" in s.split("://", 1)[-1]:
        return False  # a submodule such as //modules/eks-managed-node-group
    s = re.sub(r"^(registry\.terraform\.io|app\.terraform\.io)/", "", s)
    if s.split("?")[0] in eks.REGISTRY_SOURCES:
        return True
    return eks.GIT_REPO in s


def _module_version(name: str, block: dict[str, Any], d: TfDir) -> tuple[Version, Version, str] | str:
    """[low, high) of admissible releases, and how that was learnt; or why it is unknown."""
    locked = d.module_versions.get(name)
    if locked and (v := parse_version(locked)):
        return v, (v[0], v[1], v[2] + 1), f"{locked} (.terraform/modules/modules.json)"
    source = str(block.get("source", ""))
    ref = re.search(r"[?&]ref=([^&]+)", source)
    if ref and (v := parse_version(ref.group(1))):
        return v, (v[0], v[1], v[2] + 1), f"{ref.group(1)} (git ref)"
    constraint = block.get("version")
    if isinstance(constraint, str):
        try:
            lo, hi = constraint_interval(constraint)
        except ConstraintError as exc:
            return str(exc)
        return lo, hi, f'version = "{constraint}"'
    if constraint is not None:
        return f"the version argument {constraint} cannot be resolved offline"
    return "the module has no version constraint, so `terraform init` takes whatever release is newest"


def _default_rule(key: str, r: eks.DefaultRule, node: str, cluster: str, loc: Location | None) -> IngressRule:
    peer = Peer("group", cluster) if r.source == "cluster" else Peer("self")
    return IngressRule(
        node,
        r.protocol,
        r.from_port,
        r.to_port,
        peer,
        name=f'module default "{r.key}"',
        description=r.description,
        default=True,
        location=loc,
    )


def _module_rule_from_map(
    key: str,
    spec: Any,
    node: str,
    cluster: str,
    era: eks.Era,
    mod: str,
    loc: Location | None,
    where: str = "node_security_group_additional_rules",
) -> list[IngressRule]:
    name = f'module.{mod} {where}["{key}"]'
    if isinstance(spec, Unknown):
        return [
            IngressRule(
                node, None, None, None, Peer("unknown", spec.why), name, unresolved=spec.why, location=loc
            )
        ]
    if not isinstance(spec, dict):
        return []
    rtype = spec.get("type", "ingress" if era.v21_names else None)
    if rtype != "ingress":
        if isinstance(rtype, Unknown):
            return [
                IngressRule(
                    node,
                    None,
                    None,
                    None,
                    Peer("unknown", rtype.why),
                    name,
                    unresolved=rtype.why,
                    location=loc,
                )
            ]
        return []  # egress rules never admit the control plane
    proto_raw = spec.get("protocol", "tcp" if era.v21_names else None)
    protocol = _protocol(proto_raw)
    from_port, to_port = _port(spec.get("from_port")), _port(spec.get("to_port"))
    unresolved = _why(proto_raw, spec.get("from_port"), spec.get("to_port"))
    if protocol is None and unresolved is None:
        unresolved = "protocol is not set"
    desc = spec.get("description") if isinstance(spec.get("description"), str) else None
    peers: list[Peer] = []
    flag = spec.get("source_cluster_security_group")
    sg_id = spec.get("source_security_group_id")
    # Precedence (sheet §4.1): v18 lets source_security_group_id win; v19.0.1+ lets the flag win.
    if flag is True and (sg_id is None or not era.label.startswith("v18")):
        peers.append(Peer("group", cluster))
    elif sg_id is not None:
        k = group_key(sg_id)
        peers.append(Peer("group", k) if k else Peer("unknown", _why(sg_id) or "unresolved source"))
    elif isinstance(flag, Unknown):
        peers.append(Peer("unknown", flag.why))
    if spec.get("self") is True:
        peers.append(Peer("self"))
    for c in _as_list(spec.get("cidr_blocks")) + _as_list(spec.get("ipv6_cidr_blocks")):
        peers.append(Peer("cidr", c) if isinstance(c, str) else Peer("unknown", _why(c) or "unresolved CIDR"))
    for p in _as_list(spec.get("prefix_list_ids")):
        peers.append(Peer("prefix_list", str(p)))
    if not peers:
        return []
    return [
        IngressRule(node, protocol, from_port, to_port, peer, name, desc, location=loc, unresolved=unresolved)
        for peer in peers
    ]


@dataclass
class _ModuleCtx:
    name: str
    block: dict[str, Any]
    file: TfFile
    loc: Location
    args: dict[str, Any]
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # aws_launch_template by name


def _arg(ctx: _ModuleCtx, name: str, era: eks.Era, default: Any = None) -> Any:
    if era.v21_names:
        name = eks.V21_RENAMES.get(name, name)
    return ctx.args.get(name, default)


@dataclass
class Instance:
    """One configuration directory as Terraform expands it: a root, or a local child module called from
    one (`source = "./modules/x"`), with its own variables and the address prefix of its resources."""

    d: TfDir
    scope: Scope


def _launch_templates(insts: list[Instance]) -> dict[str, dict[str, Any]]:
    return {
        f"{i.scope.prefix}aws_launch_template.{n}": evaluate(b, i.scope)
        for i in insts
        for tf in i.d.files
        for n, b in _resources(tf.body, "aws_launch_template")
    }


def _template_name(ref: Any) -> str | None:
    """`aws_launch_template.x.id` / `.name` (also `[0]`, also inside a local module) -> its address."""
    if isinstance(ref, Ref):
        m = re.match(
            r"^((?:module\.[\w-]+\.)*aws_launch_template\.[\w-]+)(\[[^\]]*\])?\.(id|name)$", ref.address
        )
        if m:
            return m.group(1)
    return None


def _template_placement(
    label: str,
    ref: Any,
    templates: dict[str, dict[str, Any]],
    primary: str,
    where: Location | None,
    managed: bool = True,
) -> Placement:
    """The nodes of a launch template: its `vpc_security_group_ids` (or its network interfaces' groups);
    none at all makes EKS attach the cluster primary SG to managed nodes (EKS user guide, launch templates,
    "Using custom security groups": without a security group in the template, EKS uses the cluster SG)."""
    name = _template_name(ref)
    tmpl = templates.get(name or "")
    if tmpl is None:
        what = ref.address if isinstance(ref, Ref) else repr(ref)
        return Placement(
            label, [f"{UNRESOLVED}its launch template ({what}) is not in the inputs"], location=where
        )
    sgs = _as_list(tmpl.get("vpc_security_group_ids"))
    for ni in _as_list(tmpl.get("network_interfaces")):
        if isinstance(ni, dict):
            sgs += _as_list(ni.get("security_groups"))
    if isinstance(tmpl.get("vpc_security_group_ids"), Unknown):
        sgs = [tmpl["vpc_security_group_ids"]]
    if not sgs and managed:
        return Placement(
            label,
            [primary],
            opens_all=f"its launch template {name} names no security group, so EKS "
            "gives its nodes the cluster primary security group, which admits all traffic from the control "
            "plane",
            location=where,
        )
    if not sgs:
        return Placement(
            label,
            [
                f"{UNRESOLVED}{name} names no security group, so the instances get the "
                "VPC's default security group, which is not in the inputs"
            ],
            location=where,
        )
    return Placement(label, [group_key(s) or f"{UNRESOLVED}{_why(s)}" for s in sgs], location=where)


def _managed_launch_template(cfg: dict[str, Any], era: eks.Era, key: str) -> tuple[str, str]:
    """Which launch template a managed node group of the root module uses: ("default", flag) for EKS's
    own (its nodes get the cluster primary SG), ("module", "") for the one the module creates with its
    security groups, ("unknown", why) otherwise.

    docs/UPGRADE-19.0.md: v19 added `use_custom_launch_template`; before it, EKS's default template
    needed `create_launch_template = false` and `launch_template_name = ""`, because the root module
    defaults `launch_template_name` to the node group's key (node_groups.tf).
    """
    create = cfg.get("create_launch_template", True)
    if era.since >= (19, 0, 0):
        use_custom = cfg.get("use_custom_launch_template", True)
        if use_custom is False:
            return "default", "use_custom_launch_template = false"
        unsure = _why(use_custom)
        name = cfg.get("launch_template_id") or cfg.get("launch_template_name", key)
    else:
        name = cfg.get("launch_template_name", key)
        if create is False and name == "":
            return "default", 'create_launch_template = false and launch_template_name = ""'
        unsure = _why(name) if create is False else None
    unsure = unsure or _why(create)
    if create is False and (tmpl := _template_name(cfg.get("launch_template_id") or name)):
        return "external", tmpl
    if unsure:
        return "unknown", unsure
    if create is False:
        return "unknown", (
            f"it uses the existing launch template {name!r} (create_launch_template = false), whose security "
            "groups are not in the inputs"
        )
    return "module", ""


def _node_group_security_group(
    ctx: _ModuleCtx,
    era: eks.Era,
    label: str,
    cfg: dict[str, Any],
    cluster: str,
    where: Location,
    rules: list[IngressRule],
    groups: dict[str, SecurityGroup],
    kind: str = "managed",
    ng_key: str = "",
) -> str | None:
    """The security group v18 and v21 node-group sub-modules create per node group (`create_security_group`,
    default true; removed in v19, back in v21), with its rules: v18 `security_group_rules` (the schema of
    node_security_group_additional_rules), v21 `security_group_ingress_rules` (the schema of
    aws_vpc_security_group_ingress_rule; `ip_protocol` defaults to tcp, `to_port` to `from_port`)."""
    if not (era.label == "v18" or era.v21_names):
        return None
    create = cfg.get("create_security_group", True)
    if create is False:
        return None
    if isinstance(create, Unknown | Ref):
        return f"{UNRESOLVED}{_why(create)}"
    attr = "security_group_ingress_rules" if era.v21_names else "security_group_rules"
    specs = cfg.get(attr) or {}
    if era.v21_names:
        # v21: `create_security_group = var.create && var.create_security_group &&
        # length(merge(local.security_group_ingress_rules, local.security_group_egress_rules)) > 0`
        # (modules/eks-managed-node-group/main.tf L684 at v21.0.0, self-managed L972): no rule, no group.
        # The only rules the sub-module adds itself are the EFA ones (enable_efa_support).
        parts = [specs, cfg.get("security_group_egress_rules") or {}, cfg.get("enable_efa_support", False)]
        unsure = next((p for p in parts if isinstance(p, Unknown | Ref)), None)
        if unsure is not None:
            return f"{UNRESOLVED}whether {label} gets its own security group is unknown: {_why(unsure)}"
        if eks.V21_OWN_GROUP_NEEDS_RULES and not specs and not parts[1] and parts[2] is not True:
            return None
        if kind == "self-managed" and not eks.V21_SELF_MANAGED_ATTACHES_OWN_GROUP:
            # v21 self-managed-node-group creates the group but leaves it off its launch template
            # (`security_group_ids = compact(concat([var.cluster_primary_security_group_id],
            # var.vpc_security_group_ids))`, main.tf L118 at v21.0.0, unchanged to v21.19.0).
            return None
    key = f"{label}:security_group"
    submodule_output = "eks_managed_node_groups" if kind == "managed" else "self_managed_node_groups"
    groups[key] = SecurityGroup(
        key,
        f"security group of {label}",
        location=where,
        terraform_ref=f'module.{ctx.name}.{submodule_output}["{ng_key}"].security_group_id',
    )
    if not isinstance(specs, dict):
        why = _why(specs) or f"{attr} is not a map"
        rules.append(
            IngressRule(
                key, None, None, None, Peer("unknown", why), f"{label}.{attr}", unresolved=why, location=where
            )
        )
        return key
    for rule_key, spec in specs.items():
        if not era.v21_names:
            rules.extend(
                _module_rule_from_map(rule_key, spec, key, cluster, era, ctx.name, where, f"{label}.{attr}")
            )
            continue
        name = f'{label}.{attr}["{rule_key}"]'
        if not isinstance(spec, dict):
            why = _why(spec) or "not an object"
            rules.append(
                IngressRule(key, None, None, None, Peer("unknown", why), name, unresolved=why, location=where)
            )
            continue
        proto_raw = spec.get("ip_protocol", "tcp")
        protocol = _protocol(proto_raw)
        from_port = _port(spec.get("from_port"))
        to_port = _port(spec.get("to_port")) if spec.get("to_port") is not None else from_port
        unresolved = (
            None if protocol == "all" else _why(proto_raw, spec.get("from_port"), spec.get("to_port"))
        )
        desc = spec.get("description") if isinstance(spec.get("description"), str) else None
        for peer in _peers_for(spec, aws_sg.VPC_INGRESS_RULE):
            rules.append(
                IngressRule(
                    key, protocol, from_port, to_port, peer, name, desc, location=where, unresolved=unresolved
                )
            )
    return key


def _node_group_placements(
    ctx: _ModuleCtx,
    era: eks.Era,
    node_keys: list[str],
    primary: str,
    cluster: str,
    rules: list[IngressRule],
    sgs: dict[str, SecurityGroup],
) -> list[Placement]:
    mod = ctx.name
    out: list[Placement] = []
    opens_primary = (
        "carries the cluster primary security group, which admits all traffic from the control plane"
    )

    def extra_groups(cfg: dict[str, Any]) -> list[str]:
        keys: list[str] = []
        for v in _as_list(cfg.get("vpc_security_group_ids")):
            k = group_key(v)
            keys.append(k if k else f"{UNRESOLVED}{_why(v)}")
        return keys

    for var, kind in (("eks_managed_node_groups", "managed"), ("self_managed_node_groups", "self-managed")):
        groups = ctx.args.get(var)
        defaults = ctx.args.get(var.replace("groups", "group_defaults"), {})
        if groups is None:
            continue
        where = Location(ctx.loc.path, _line_of(ctx.file.text, rf"^\s*{var}\s*=") or ctx.loc.line)
        if isinstance(groups, Unknown) or not isinstance(groups, dict):
            out.append(Placement(f"module.{mod} {var}", [f"{UNRESOLVED}{groups}"], location=where))
            continue
        for ng_name, cfg in groups.items():
            label = f'module.{mod} {var}["{ng_name}"]'
            if not isinstance(cfg, dict):
                out.append(Placement(label, [f"{UNRESOLVED}{cfg}"], location=where))
                continue
            cfg = {**(defaults if isinstance(defaults, dict) else {}), **cfg}
            attach = cfg.get("attach_cluster_primary_security_group", False)
            if attach is True:
                out.append(
                    Placement(
                        label,
                        [primary],
                        opens_all=f"{opens_primary} (attach_cluster_primary_security_group = true)",
                        location=where,
                    )
                )
                continue
            if kind == "managed":
                template, detail = _managed_launch_template(cfg, era, str(ng_name))
                if template == "default":
                    out.append(
                        Placement(
                            label,
                            [primary],
                            opens_all=f"uses EKS's default launch template ({detail}), so it {opens_primary}",
                            location=where,
                        )
                    )
                    continue
                if template == "unknown":
                    out.append(Placement(label, [f"{UNRESOLVED}{detail}"], location=where))
                    continue
                if template == "external":
                    ref = Ref(f"{detail}.id")
                    out.append(_template_placement(label, ref, ctx.templates, primary, where))
                    continue
            groups_here = [*node_keys, *extra_groups(cfg)]
            own = _node_group_security_group(
                ctx, era, label, cfg, cluster, where, rules, sgs, kind, str(ng_name)
            )
            if own:
                groups_here.append(own)
            if isinstance(attach, Unknown):
                groups_here.append(f"{UNRESOLVED}{attach.why}")
            if not groups_here and kind == "managed":
                # The module's launch template then names no security group (compact() drops the empty
                # ids), so EKS applies the cluster primary SG (launch-templates.adoc L105).
                out.append(
                    Placement(
                        label,
                        [primary],
                        opens_all=f"its launch template names no security group, so it {opens_primary}",
                        location=where,
                    )
                )
                continue
            if not groups_here:
                groups_here.append(
                    f"{UNRESOLVED}no security group is given, so the instances get the VPC's default "
                    "security group, which is not in the inputs"
                )
            out.append(Placement(label, groups_here, location=where))
    profiles = ctx.args.get("fargate_profiles")
    if isinstance(profiles, dict):
        for pname, cfg in profiles.items():
            selectors = _selectors(cfg.get("selectors") if isinstance(cfg, dict) else None)
            out.append(
                Placement(
                    f'module.{mod} fargate_profiles["{pname}"]',
                    [primary],
                    opens_all="Fargate pods use the cluster primary security group, which admits "
                    "all traffic from the control plane",
                    selectors=selectors,
                    location=ctx.loc,
                )
            )
    return out


def _submodule_kind(source: Any) -> str | None:
    """`terraform-aws-eks//modules/<kind>` (registry `terraform-aws-modules/eks/aws//modules/<kind>`)."""
    if not isinstance(source, str) or "//modules/" not in source:
        return None
    repo, sub = source.split("//modules/", 1)
    repo = re.sub(r"^(registry\.terraform\.io|app\.terraform\.io)/", "", repo.split("://", 1)[-1])
    if repo.split("?")[0] not in eks.REGISTRY_SOURCES and eks.GIT_REPO not in repo:
        return None
    return sub.split("?")[0].strip("/")


def _links_to(value: Any, refs: set[str], names: set[str]) -> bool | None:
    """A `cluster_name` argument that names this cluster: an output reference or the literal name. None when
    it cannot be resolved offline, so the nodes may belong to this cluster or to another one."""
    if isinstance(value, Ref):
        return value.address in refs
    if isinstance(value, Unknown):
        return None
    return isinstance(value, str) and value in names


def _maybe_ours(label: str, value: Any, where: Location | None) -> Placement:
    return Placement(
        label,
        [
            f"{UNRESOLVED}whether {label} joins this cluster is unknown: its cluster_name {_why(value) or value}"
        ],
        location=where,
    )


def _selectors(raw: Any) -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = []
    for sel in _as_list(raw):
        if isinstance(sel, dict) and isinstance(sel.get("namespace"), str):
            labels = sel.get("labels")
            pairs: dict[str, Any] = labels if isinstance(labels, dict) else {}
            out.append((sel["namespace"], {str(k): str(v) for k, v in pairs.items()}))
    return out


FARGATE_OPENS = (
    "Fargate pods use the cluster primary security group, which admits all traffic from the control plane"
)


def _standalone_submodule(
    name: str,
    kind: str,
    block: dict[str, Any],
    v: dict[str, Any],
    d: TfDir,
    primary: str,
    templates: dict[str, dict[str, Any]],
    where: Location,
) -> Placement:
    """A terraform-aws-eks sub-module called on its own for this cluster. Modelled where its inputs decide
    the nodes' groups; anything else is unknown, never blocked."""
    label = f"module.{name} ({kind})"
    if kind == "fargate-profile":
        return Placement(
            label,
            [primary],
            opens_all=FARGATE_OPENS,
            selectors=_selectors(v.get("selectors")),
            location=where,
        )
    if kind == "karpenter":
        return Placement(
            label,
            [
                f"{UNRESOLVED}Karpenter picks its nodes' security groups from the EC2NodeClass "
                "securityGroupSelectorTerms (a Kubernetes object), which is not in the Terraform inputs"
            ],
            location=where,
        )
    version = _module_version(name, block, d)
    if isinstance(version, str):
        return Placement(
            label, [f"{UNRESOLVED}which release of {kind} is used is unknown: {version}"], location=where
        )
    lo, hi, how = version
    if lo < (19, 0, 0):
        # v17/v18 sub-modules create their own node security group by default (v18 main.tf
        # `create_security_group = var.create && var.create_security_group`); not modelled.
        return Placement(label, [f"{UNRESOLVED}{kind} {how} before v19 is not modelled"], location=where)
    groups: list[str] = []
    attach = v.get("cluster_primary_security_group_id")
    if attach is not None:
        k = group_key(attach)
        if k == primary:
            return Placement(
                label,
                [primary],
                opens_all="cluster_primary_security_group_id names the cluster "
                "primary security group, which admits all traffic from the control plane",
                location=where,
            )
        groups.append(k or f"{UNRESOLVED}{_why(attach)}")
    for x in _as_list(v.get("vpc_security_group_ids")):
        groups.append(group_key(x) or f"{UNRESOLVED}{_why(x)}")
    own_rules = (
        v.get("security_group_ingress_rules")
        or v.get("security_group_egress_rules")
        or v.get("enable_efa_support")
    )
    if hi > (21, 0, 0) and own_rules and kind == "eks-managed-node-group":
        groups.append(
            f"{UNRESOLVED}the security group {label} creates for its security_group_*_rules is not modelled"
        )
    if kind == "eks-managed-node-group":
        use_custom = v.get("use_custom_launch_template", True)
        create = v.get("create_launch_template", True)
        if use_custom is False:
            return Placement(
                label,
                [primary],
                opens_all="use_custom_launch_template = false: EKS's default "
                "launch template gives its nodes the cluster primary security group",
                location=where,
            )
        if isinstance(use_custom, Unknown | Ref) or isinstance(create, Unknown | Ref):
            return Placement(label, [f"{UNRESOLVED}{_why(use_custom, create)}"], location=where)
        if create is False:
            return _template_placement(
                label, v.get("launch_template_id") or v.get("launch_template_name"), templates, primary, where
            )
        if not groups:
            # main.tf: `security_group_ids = compact(concat([var.cluster_primary_security_group_id],
            # var.vpc_security_group_ids))` is empty, so the template names no group and EKS uses the
            # cluster primary SG.
            return Placement(
                label,
                [primary],
                opens_all="its launch template names no security group, so EKS "
                "gives its nodes the cluster primary security group",
                location=where,
            )
        return Placement(label, groups, location=where)
    if kind == "self-managed-node-group":
        if v.get("create_launch_template", True) is not True:
            return _template_placement(
                label,
                v.get("launch_template_id") or v.get("launch_template_name"),
                templates,
                primary,
                where,
                managed=False,
            )
        if not groups:
            groups.append(
                f"{UNRESOLVED}{label} names no security group, so its instances get the VPC's "
                "default security group, which is not in the inputs"
            )
        return Placement(label, groups, location=where)
    return Placement(label, [f"{UNRESOLVED}sub-module {kind} is not modelled"], location=where)


def external_placements(
    insts: list[Instance], refs: set[str], names: set[str], primary: str, raw_cluster: str | None = None
) -> list[Placement]:
    """Nodes declared outside the cluster's own block that name the cluster: raw `aws_eks_node_group`s
    and stand-alone terraform-aws-eks sub-modules whose `cluster_name` is the cluster's output or name."""
    templates = _launch_templates(insts)
    configs = {
        f"{i.scope.prefix}aws_launch_configuration.{n}": (b, evaluate(b, i.scope))
        for i in insts
        for tf in i.d.files
        for n, b in _resources(tf.body, "aws_launch_configuration")
    }
    tokens = {*refs, *([raw_cluster + "."] if raw_cluster else [])}
    out: list[Placement] = []
    for inst, tf in ((i, tf) for i in insts for tf in i.d.files):
        d, scope = inst.d, inst.scope
        out += _asg_placements(inst, tf, tokens, names, primary, templates, configs)
        for ng_name, ng in _resources(tf.body, "aws_eks_node_group"):
            ngv = evaluate(ng, scope)
            cn = ngv.get("cluster_name")
            linked: bool | None = _links_to(cn, refs, names)
            if raw_cluster is not None and isinstance(cn, Ref) and cn.address.startswith(raw_cluster + "."):
                linked = True
            label = f"{scope.prefix}aws_eks_node_group.{ng_name}"
            where = Location(tf.path, _block_line(tf, "resource", "aws_eks_node_group", ng_name))
            if linked is False or not _count_condition(ng, scope)[0]:
                continue
            if linked is None:
                out.append(_maybe_ours(label, cn, where))
                continue
            lt = ngv.get("launch_template")
            lt = lt[0] if isinstance(lt, list) and lt else lt
            if not lt:
                out.append(
                    Placement(
                        label,
                        [primary],
                        opens_all="has no launch template, so EKS gives its nodes the cluster primary security "
                        "group, which admits all traffic from the control plane",
                        location=where,
                    )
                )
                continue
            ref = (lt.get("id") or lt.get("name")) if isinstance(lt, dict) else lt
            out.append(_template_placement(label, ref, templates, primary, where))
        for mod_name, block in _blocks(tf.body, "module"):
            kind = _submodule_kind(block.get("source"))
            if kind is None:
                continue
            v = {k: evaluate(x, scope) for k, x in block.items() if not k.startswith("__")}
            linked_module = _links_to(v.get("cluster_name"), refs, names)
            if linked_module is False or v.get("create") is False or v.get("count") == 0:
                continue
            where = Location(tf.path, _block_line(tf, "module", mod_name))
            if linked_module is None:
                out.append(
                    _maybe_ours(f"{scope.prefix}module.{mod_name} ({kind})", v.get("cluster_name"), where)
                )
                continue
            out.append(_standalone_submodule(mod_name, kind, block, v, d, primary, templates, where))
    return out


def _no_nodes_placement(name: str, loc: Location) -> Placement:
    return Placement(
        f"nodes of module.{name}",
        [
            f"{UNRESOLVED}module.{name} declares no node groups, and no node group, launch template or "
            "sub-module in the inputs names this cluster, so which security groups its nodes carry is not in "
            "the inputs"
        ],
        location=loc,
    )


def _names_cluster(raw: Any, value: Any, tokens: set[str], prefix: str, names: set[str]) -> bool:
    """Whether an Auto Scaling group (with its launch configuration or template) belongs to the cluster:
    its `kubernetes.io/cluster/<name>` tag (required on self-managed nodes: EKS user guide, "Launch
    self-managed Amazon Linux nodes") or a reference to the cluster (its bootstrap user data names it)."""
    text = json.dumps(raw, default=str) + repr(value)
    local = {t[len(prefix) :] for t in tokens if prefix and t.startswith(prefix)}
    if any(t in text for t in (*tokens, *local)):
        return True
    return any(f"kubernetes.io/cluster/{n}" in text for n in names)


_LC_REF = re.compile(r"^((?:module\.[\w-]+\.)*aws_launch_configuration\.[\w-]+)(\[[^\]]*\])?\.(id|name)$")


def _asg_placements(
    inst: Instance,
    tf: TfFile,
    tokens: set[str],
    names: set[str],
    primary: str,
    templates: dict[str, dict[str, Any]],
    configs: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> list[Placement]:
    """Classic self-managed workers: `aws_autoscaling_group` with an `aws_launch_configuration`
    (`security_groups`) or an `aws_launch_template`; their instances carry exactly those groups (no EKS
    default applies outside managed node groups)."""
    scope = inst.scope
    out: list[Placement] = []
    for name, asg in _resources(tf.body, "aws_autoscaling_group"):
        if not _count_condition(asg, scope)[0]:
            continue
        v = evaluate(asg, scope)
        lc_ref = v.get("launch_configuration")
        lt = v.get("launch_template")
        lt = lt[0] if isinstance(lt, list) and lt else lt
        if not lt:
            mip = v.get("mixed_instances_policy")
            mip = mip[0] if isinstance(mip, list) and mip else mip
            spec = mip.get("launch_template") if isinstance(mip, dict) else None
            spec = spec[0] if isinstance(spec, list) and spec else spec
            spec = spec.get("launch_template_specification") if isinstance(spec, dict) else None
            spec = spec[0] if isinstance(spec, list) and spec else spec
            if isinstance(spec, dict):
                lt = {"id": spec.get("launch_template_id") or spec.get("launch_template_name")}
        m = _LC_REF.match(lc_ref.address) if isinstance(lc_ref, Ref) else None
        config = configs.get(m.group(1)) if m else None
        tmpl_name = _template_name((lt.get("id") or lt.get("name")) if isinstance(lt, dict) else None)
        raw_parts = [asg, config[0] if config else None, templates.get(tmpl_name or "")]
        if not _names_cluster(raw_parts, [v, config[1] if config else None], tokens, scope.prefix, names):
            continue
        label = f"{scope.prefix}aws_autoscaling_group.{name}"
        where = Location(tf.path, _block_line(tf, "resource", "aws_autoscaling_group", name))
        if isinstance(lt, dict):
            ref = lt.get("id") or lt.get("name")
            out.append(_template_placement(label, ref, templates, primary, where, managed=False))
            continue
        if config is None:
            what = lc_ref.address if isinstance(lc_ref, Ref) else repr(lc_ref)
            out.append(
                Placement(
                    label,
                    [f"{UNRESOLVED}its launch configuration ({what}) is not in the inputs"],
                    location=where,
                )
            )
            continue
        sgs = config[1].get("security_groups")
        if isinstance(sgs, Unknown | Ref):
            out.append(Placement(label, [f"{UNRESOLVED}{_why(sgs)}"], location=where))
            continue
        groups = [group_key(x) or f"{UNRESOLVED}{_why(x)}" for x in _as_list(sgs)]
        if not groups:
            groups = [
                f"{UNRESOLVED}{m.group(1) if m else 'its launch configuration'} names no security group, so the "
                "instances get the VPC's default security group, which is not in the inputs"
            ]
        out.append(Placement(label, groups, location=where))
    return out


def _module_external(name: str, args: dict[str, Any], insts: list[Instance], prefix: str) -> list[Placement]:
    # v17-v20 name the cluster `cluster_name`, v21 `name` (docs/UPGRADE-21.0.md); the outputs
    # `cluster_name` (v18+) and `cluster_id` (the name up to v19; outposts id in v20+) are what others use.
    names = {v for v in (args.get(a) for a in eks.CLUSTER_NAME_ARGS) if isinstance(v, str) and v}
    refs = {f"{prefix}module.{name}.{out}" for out in eks.CLUSTER_NAME_OUTPUTS}
    return external_placements(insts, refs, names, f"module.{name}:primary")


def _v17_scenario(ctx: _ModuleCtx, era: eks.Era, label: str, external: list[Placement]) -> Scenario:
    mod = ctx.name
    node, cluster, primary = f"module.{mod}:node", f"module.{mod}:cluster", f"module.{mod}:primary"
    groups = {
        node: SecurityGroup(
            node,
            f"worker security group of module.{mod}",
            location=ctx.loc,
            terraform_ref=f"module.{mod}.worker_security_group_id",
        ),
        primary: SecurityGroup(primary, f"cluster primary security group of module.{mod} (created by EKS)"),
    }
    from_port = _port(ctx.args.get("worker_sg_ingress_from_port", eks.V17_WORKER_FROM_PORT_DEFAULT))
    rules: list[IngressRule] = []
    if ctx.args.get("worker_create_security_group", True) is not False:
        fp = from_port if from_port is not None else eks.V17_WORKER_FROM_PORT_DEFAULT
        specs = [
            (eks.V17_WORKER_RANGE_KEY, fp, eks.V17_WORKER_RANGE_TO),
            (eks.V17_HTTPS.key, eks.V17_HTTPS.from_port, eks.V17_HTTPS.to_port),
        ]
        if fp > eks.V17_KUBELET.from_port:  # otherwise the range already covers the kubelet
            specs.append((eks.V17_KUBELET.key, eks.V17_KUBELET.from_port, eks.V17_KUBELET.to_port))
        for key, lo, hi in specs:
            rules.append(
                IngressRule(
                    node,
                    "tcp",
                    lo,
                    hi,
                    Peer("group", cluster),
                    f"{key} (module default)",
                    default=True,
                    location=ctx.loc,
                )
            )
    else:
        ext = group_key(ctx.args.get("worker_security_group_id"))
        if ext:
            node = ext
    placements: list[Placement] = []
    for var in ("worker_groups", "worker_groups_launch_template"):
        wg = ctx.args.get(var)
        if isinstance(wg, list) and wg:
            extra = [
                group_key(x) or f"{UNRESOLVED}worker_additional_security_group_ids"
                for x in _as_list(ctx.args.get("worker_additional_security_group_ids"))
            ]
            placements.append(Placement(f"module.{mod} {var}", [node, *extra], location=ctx.loc))
    ng = ctx.args.get("node_groups")
    if isinstance(ng, dict):
        for name, cfg in ng.items():
            lt = cfg.get("create_launch_template", False) if isinstance(cfg, dict) else False
            existing = cfg.get("launch_template_id") if isinstance(cfg, dict) else None
            if lt is True:
                placements.append(Placement(f'module.{mod} node_groups["{name}"]', [node], location=ctx.loc))
            elif existing or not isinstance(lt, bool):
                why = (
                    f"it uses the existing launch template {existing}, whose security groups are not in the inputs"
                    if existing
                    else f"create_launch_template: {_why(lt) or lt}"
                )
                placements.append(
                    Placement(f'module.{mod} node_groups["{name}"]', [f"{UNRESOLVED}{why}"], location=ctx.loc)
                )
            else:
                placements.append(
                    Placement(
                        f'module.{mod} node_groups["{name}"]',
                        [primary],
                        location=ctx.loc,
                        opens_all="uses EKS's default launch template (v17 default), so it carries the cluster "
                        "primary security group, which admits all traffic from the control plane",
                    )
                )
    placements += external
    if not any(p.selectors is None for p in placements):
        placements.append(_no_nodes_placement(mod, ctx.loc))
    return Scenario(label, [primary, cluster], placements, rules, groups)


_MAP_SCAN = re.compile(r"[{}\n]|#[^\n]*")


def _duplicate_keys(f: TfFile, var: str, start: int) -> list[tuple[str, list[int]]]:
    """Keys written twice in a `var = { ... }` map: HCL libraries keep one silently."""
    m = re.compile(rf"^\s*{var}\s*=\s*\{{", re.MULTILINE).search(f.text, start)
    if not m:
        return []
    depth = 1
    keys: dict[str, list[int]] = {}
    # [ \t]*, not \s*: a blank line before a key must not let two newlines both match the same key.
    line_re = re.compile(r"[ \t]*\"?([\w-]+)\"?[ \t]*=[ \t]*\{")
    text = f.text
    # only braces, line breaks and comments matter: jump from one to the next rather than walk each character
    for sm in _MAP_SCAN.finditer(text, m.end()):
        c = sm.group()
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if not depth:
                break
        elif c == "\n" and depth == 1:
            km = line_re.match(text, sm.end())
            if km:
                keys.setdefault(km.group(1), []).append(text.count("\n", 0, km.start(1)) + 1)
        # a `#` comment: the pattern consumed it up to the line break
    return [(k, lines) for k, lines in keys.items() if len(lines) > 1]


def eks_module_cluster(
    name: str,
    block: dict[str, Any],
    f: TfFile,
    d: TfDir,
    scope: Scope,
    model: NetworkModel,
    insts: list[Instance] | None = None,
) -> Cluster:
    insts = insts if insts is not None else [Instance(d, scope)]
    loc = Location(f.path, _block_line(f, "module", name))
    args = {k: evaluate(v, scope) for k, v in block.items() if not k.startswith("__")}
    ctx = _ModuleCtx(name, block, f, loc, args, _launch_templates(insts))
    fix = FixTarget(
        "module",
        module=name,
        node_group_ref=f"module.{name}.node_security_group_id",
        source_group_ref=f"module.{name}.cluster_security_group_id",
    )
    if loc.line and "node_security_group_additional_rules" in block:
        # Point the fix at the map the user already has, inside this module block.
        start = sum(len(ln) + 1 for ln in f.text.splitlines()[: loc.line - 1])
        line = _line_of(f.text, r"^\s*node_security_group_additional_rules\s*=", start)
        fix.where = Location(f.path, line) if line else None
    version = _module_version(name, block, d)
    if isinstance(version, str):
        return Cluster(
            f"module.{name}",
            "terraform-aws-eks (version unknown)",
            [],
            fix,
            loc,
            why_unknown=f"which terraform-aws-eks release is used is unknown: {version}",
        )
    lo, hi, how = version
    eras = [e for e in eks.ERAS if max(lo, e.since) < min(hi, e.until)]
    kind = f"terraform-aws-eks {how}"
    if hi > eks.KNOWN_UNTIL:
        return Cluster(
            f"module.{name}",
            kind,
            [],
            fix,
            loc,
            why_unknown=(
                f"{how} admits releases from {fmt(max(lo, eks.KNOWN_UNTIL))} on, newer than the v21 line "
                "vizdoctor knows; pin the version or run `terraform init` so modules.json records it"
            ),
        )
    if not eras or lo < eks.ERAS[0].since:
        return Cluster(
            f"module.{name}",
            kind,
            [],
            fix,
            loc,
            why_unknown=f"{how} admits releases older than v17, which vizdoctor does not model",
        )

    dupes = _duplicate_keys(f, "node_security_group_additional_rules", 0)
    for key, lines in dupes:
        model.notes.append(
            NetworkNote(
                "duplicate-rule-key",
                "warning",
                f'module.{name} node_security_group_additional_rules declares "{key}" {len(lines)} times '
                f"(lines {', '.join(map(str, lines))}); only the last one takes effect (HCL keeps the last value of a "
                "repeated key), so the ports of the others are not opened (seen in linkerd/linkerd2#10341, where "
                "8089 was lost this way)",
                Location(f.path, lines[0]),
            )
        )

    scenarios: list[Scenario] = []
    external = _module_external(name, args, insts, scope.prefix)
    ignored_noted = False
    for era in eras:
        label = f"v{fmt(max(lo, era.since))}" + (
            ""
            if min(hi, era.until) == (lo[0], lo[1], lo[2] + 1)
            else f" to before v{fmt(min(hi, era.until))}"
        )
        if era.legacy_v17:
            scenarios.append(_v17_scenario(ctx, era, label, external))
            continue
        primary, cluster_key = f"module.{name}:primary", f"module.{name}:cluster"
        groups: dict[str, SecurityGroup] = {
            primary: SecurityGroup(
                primary,
                f"cluster primary security group of module.{name} (created by EKS)",
                terraform_ref=f"module.{name}.cluster_primary_security_group_id",
            ),
        }
        if _arg(ctx, "create_cluster_security_group", era, True) is False:
            ext = group_key(_arg(ctx, "cluster_security_group_id", era))
            cluster_key = ext or cluster_key
        else:
            groups[cluster_key] = SecurityGroup(
                cluster_key,
                f"cluster security group of module.{name}",
                location=loc,
                terraform_ref=f"module.{name}.cluster_security_group_id",
            )
        control_plane = [primary, cluster_key]
        for v in _as_list(_arg(ctx, "cluster_additional_security_group_ids", era)):
            k = group_key(v)
            if k:
                control_plane.append(k)

        create_node = args.get("create_node_security_group", True)
        node_keys: list[str] = []
        rules: list[IngressRule] = []
        if create_node is False:
            ext = group_key(args.get("node_security_group_id"))
            if ext:
                node_keys.append(ext)
            if args.get("node_security_group_additional_rules") and not ignored_noted:
                ignored_noted = True  # once per module, not once per release scenario
                model.notes.append(
                    NetworkNote(
                        "module-rules-ignored",
                        "warning",
                        f"module.{name} sets node_security_group_additional_rules but create_node_security_group = "
                        "false, so the module creates none of those rules",
                        loc,
                    )
                )
        elif isinstance(create_node, Unknown):
            node_keys.append(f"{UNRESOLVED}{create_node.why}")
        else:
            node = f"module.{name}:node"
            node_keys.append(node)
            groups[node] = SecurityGroup(
                node,
                f"node security group of module.{name}",
                location=loc,
                terraform_ref=f"module.{name}.node_security_group_id",
            )
            recommended = args.get("node_security_group_enable_recommended_rules", True)
            defaults: dict[str, list[IngressRule]] = {}
            for r in era.rules:
                if r.recommended and recommended is not True:
                    if isinstance(recommended, Unknown):
                        defaults[r.key] = [_default_rule(r.key, r, node, cluster_key, loc)]
                        defaults[r.key] = [
                            IngressRule(**{**defaults[r.key][0].__dict__, "conditional": recommended.why})
                        ]
                    continue
                defaults[r.key] = [_default_rule(r.key, r, node, cluster_key, loc)]
            extra = args.get("node_security_group_additional_rules", {}) or {}
            if isinstance(extra, Unknown):
                rules.append(
                    IngressRule(
                        node,
                        None,
                        None,
                        None,
                        Peer("unknown", extra.why),
                        f"module.{name} node_security_group_additional_rules",
                        unresolved=extra.why,
                        location=loc,
                    )
                )
            elif isinstance(extra, dict):
                # A repeated key keeps its last declaration: HCL's object constructor assigns the items in
                # order (hashicorp/hcl hclsyntax ObjectConsExpr.Value), and python-hcl2 does the same.
                last_line = {k: lines[-1] for k, lines in dupes}
                for key, spec in extra.items():
                    line = last_line.get(key) or _line_of(f.text, rf'^\s*"?{re.escape(key)}"?\s*=\s*\{{')
                    made = _module_rule_from_map(
                        key, spec, node, cluster_key, era, name, Location(f.path, line or loc.line)
                    )
                    defaults[key] = made  # a user key equal to a default key replaces it (merge())
            for made in defaults.values():
                rules.extend(made)
        placements = _node_group_placements(ctx, era, node_keys, primary, cluster_key, rules, groups)
        placements += external
        if not any(p.selectors is None for p in placements):
            # Never guess where nodes joined outside the module are: only what names their groups counts.
            placements.append(_no_nodes_placement(name, loc))
        scenarios.append(Scenario(label, control_plane, placements, rules, groups, dict(era.unsure_ports)))
    fix = _fix_target(name, args, eras, scenarios, model, fix)
    return Cluster(f"module.{name}", kind, scenarios, fix, loc)


def _fix_target(
    name: str,
    args: dict[str, Any],
    eras: list[eks.Era],
    scenarios: list[Scenario],
    model: NetworkModel,
    fix: FixTarget,
) -> FixTarget:
    """Where a new rule takes effect, in the vocabulary of the releases the root admits: the v18+ map
    `node_security_group_additional_rules` only exists from v18.0.0 and only feeds the node group the
    module creates (`create_node_security_group`); otherwise the rule goes on the group the nodes carry."""
    source = f"module.{name}.cluster_security_group_id"
    if all(e.legacy_v17 for e in eras):
        # v17: no rules map; the worker group is output `worker_security_group_id` (v17 outputs.tf), or the
        # user's own group when worker_create_security_group = false.
        ext = args.get("worker_security_group_id")
        ref = (
            _tf_ref(ext)
            if args.get("worker_create_security_group", True) is False and group_key(ext)
            else f"module.{name}.worker_security_group_id"
        )
        return FixTarget("raw", module=name, node_group_ref=ref, source_group_ref=source)
    if args.get("create_node_security_group", True) is not False:
        return fix
    refs: list[str] = []
    if group_key(args.get("node_security_group_id")):
        refs.append(_tf_ref(args.get("node_security_group_id")))
    last = scenarios[-1] if scenarios else None
    for p in last.placements if last else []:
        if p.opens_all or p.selectors is not None:
            continue
        for k in p.groups:
            g = (last.groups if last else {}).get(k) or model.groups.get(k)
            if g and g.terraform_ref and not k.endswith((":primary", ":cluster")):
                refs.append(g.terraform_ref)
    # Never the map the module ignores: without a named group the fix keeps a placeholder (not patched).
    return FixTarget(
        "raw",
        module=name,
        node_group_ref=refs[0] if refs else "<node-security-group-id>",
        source_group_ref=source,
    )


def _tf_ref(value: Any) -> str:
    if isinstance(value, Ref):
        return value.address
    if isinstance(value, str):
        return f'"{value}"'
    return "<node-security-group-id>"
