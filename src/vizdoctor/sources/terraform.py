"""Terraform HCL -> network model.

Reads one configuration directory at a time (all its `.tf` files, `*.tfvars`, and the module lock in
`.terraform/modules/modules.json`), then builds:
- a `Cluster` for each terraform-aws-eks module call, one `Scenario` per group of module releases
  the version constraint admits (knowledge/eks_module.py);
- groups and rules for raw `aws_security_group` (inline `ingress`), `aws_security_group_rule` and
  `aws_vpc_security_group_ingress_rule` resources;
- a `Cluster` for a raw `aws_eks_cluster` with its `aws_eks_node_group`s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from vizdoctor.knowledge import eks_module as eks
from vizdoctor.location import Location
from vizdoctor.model import Problem
from vizdoctor.network.model import (
    UNKNOWN_GROUP,
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
from vizdoctor.sources.manifests import parse_json
from vizdoctor.sources.parse_errors import hcl_error
from vizdoctor.sources.tf_eval import Ref, Scope, Unknown, evaluate, is_known
from vizdoctor.sources.tf_version import ConstraintError, Version, constraint_interval, fmt, parse_version

_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True)


@dataclass
class TfFile:
    path: str
    text: str
    body: dict[str, Any]


@dataclass
class TfDir:
    """One Terraform configuration directory (a root or child module)."""

    path: str
    files: list[TfFile] = field(default_factory=list)
    tfvars: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    module_versions: dict[str, str] = field(default_factory=dict)  # from modules.json


MAX_HCL_CHARS = 1_000_000  # see parse_hcl: ~250 MB of memory at most; real .tf files are < 100 kB


def parse_hcl(path: str, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    if len(text) > MAX_HCL_CHARS:
        # python-hcl2 (lark) needs ~230 bytes of memory per input byte (measured: a 1 MB heredoc peaks at
        # 250 MB, a 10 MB one at 2.1 GB)
        problems.append(
            Problem(
                path,
                None,
                f"not read: {len(text) / 1e6:.1f} MB of HCL is more than the {MAX_HCL_CHARS // 1_000_000} MB "
                "the HCL parser is given (it needs ~230 bytes of memory per byte)",
            )
        )
        return None
    try:
        body: dict[str, Any] = hcl2.loads(text, serialization_options=_OPTIONS)
        return body
    except RecursionError:
        problems.append(Problem(path, None, "not valid HCL: nested too deeply to read"))
        return None
    except Exception as exc:  # lark raises many types; all mean "not valid HCL"
        line, message = hcl_error(exc)  # never the offending token: it may be a secret
        problems.append(Problem(path, line, f"not valid HCL: {message}"))
        return None


def read_tfvars_json(path: str, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    data = parse_json(path, text, problems)  # bounded in size and depth, errors without values
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(Problem(path, 1, "a .tfvars.json file must hold an object"))
        return None
    return data


def read_modules_json(path: str, text: str, problems: list[Problem]) -> dict[str, str]:
    """`.terraform/modules/modules.json` records the exact version `terraform init` installed."""
    data = parse_json(path, text, problems)
    if data is None:
        return {}
    out: dict[str, str] = {}
    for m in data.get("Modules", []) if isinstance(data, dict) else []:
        if isinstance(m, dict) and m.get("Key") and m.get("Version"):
            out[str(m["Key"])] = str(m["Version"])
    return out


# --- helpers -------------------------------------------------------------------------------------


def _blocks(body: dict[str, Any], kind: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for entry in body.get(kind, []) or []:
        if isinstance(entry, dict):
            for label, content in entry.items():
                if isinstance(content, dict):
                    yield label, content


def _resources(body: dict[str, Any], rtype: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for entry in body.get("resource", []) or []:
        if isinstance(entry, dict) and rtype in entry and isinstance(entry[rtype], dict):
            for name, content in entry[rtype].items():
                if isinstance(content, dict):
                    yield name, content


def _line_of(text: str, pattern: str, start: int = 0) -> int | None:
    m = re.compile(pattern, re.MULTILINE).search(text, start)
    if not m:
        return None
    # `^\s*` may begin on an earlier blank line: count from the first non-blank character matched.
    pos = m.start() + len(m.group()) - len(m.group().lstrip())
    return text.count("\n", 0, pos) + 1


def _block_line(f: TfFile, kind: str, *labels: str) -> int | None:
    pattern = rf"^\s*{kind}" + "".join(rf'\s+"?{re.escape(lbl)}"?' for lbl in labels) + r"\s*\{"
    return _line_of(f.text, pattern)


def group_key(value: Any) -> str | None:
    """Map an evaluated security-group id expression to a stable group key."""
    if isinstance(value, Ref):
        a = value.address
        m = re.match(r"^module\.([\w-]+)\.(\w+)$", a)
        if m:
            role = {
                "node_security_group_id": "node",
                "cluster_security_group_id": "cluster",
                "cluster_primary_security_group_id": "primary",
                "security_group_id": "cluster",  # v21 output name of the cluster SG
            }.get(m.group(2))
            if role:
                return f"module.{m.group(1)}:{role}"
            return a
        a = re.sub(r"\[[^\]]*\]", "", a)  # aws_security_group.x[0].id -> aws_security_group.x.id
        if a.endswith(".id"):
            a = a[:-3]
        if a.startswith("aws_eks_cluster.") and "cluster_security_group_id" in a:
            return a.split(".vpc_config")[0] + ":primary"
        return a
    if isinstance(value, str) and value:
        return value
    return None


def _protocol(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, Unknown | Ref):
        return None
    text = str(value).strip().lower()
    # "-1" and "all" mean every protocol and every port (terraform-provider-aws docs, §5 of the sheet).
    return {"-1": "all", "all": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}.get(text, text)


def _port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _why(*values: Any) -> str | None:
    for v in values:
        if isinstance(v, Unknown):
            return v.why
        if isinstance(v, Ref):
            return f"{v.address} is only known after apply"
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


# --- scope ---------------------------------------------------------------------------------------


def build_scope(d: TfDir) -> Scope:
    scope = Scope()
    for f in d.files:
        for name, block in _blocks(f.body, "variable"):
            if "default" in block:
                scope.variables[name] = evaluate(block["default"], Scope())
            else:
                scope.variables[name] = Unknown(f"var.{name} has no default and no value in a .tfvars file")
        for entry in f.body.get("locals", []) or []:
            if isinstance(entry, dict):
                scope.locals_raw.update({k: v for k, v in entry.items() if not k.startswith("__")})

    # terraform.tfvars, then *.auto.tfvars in name order (Terraform's own precedence); other
    # .tfvars files are only applied with -var-file, so two that disagree leave the value unknown.
    def order(item: tuple[str, dict[str, Any]]) -> tuple[int, str]:
        name = Path(item[0]).name
        rank = 0 if name in ("terraform.tfvars", "terraform.tfvars.json") else 1 if ".auto." in name else 2
        return rank, name

    explicit: dict[str, list[tuple[str, Any]]] = {}
    for path, values in sorted(d.tfvars, key=order):
        auto = order((path, values))[0] < 2
        for k, v in values.items():
            if k.startswith("__"):
                continue
            if auto:
                scope.variables[k] = evaluate(v, Scope())
            else:
                explicit.setdefault(k, []).append((path, evaluate(v, Scope())))
    for k, settings in explicit.items():
        distinct = {json.dumps(v, sort_keys=True, default=str) for _, v in settings}
        if len(distinct) == 1:
            scope.variables[k] = settings[0][1]
        else:
            files = ", ".join(Path(p).name for p, _ in settings)
            scope.variables[k] = Unknown(
                f"var.{k} is set differently in {files}, and which -var-file is used is unknown"
            )
    return scope


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


def _arg(ctx: _ModuleCtx, name: str, era: eks.Era, default: Any = None) -> Any:
    if era.v21_names:
        name = eks.V21_RENAMES.get(name, name)
    return ctx.args.get(name, default)


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
    key = f"{label}:security_group"
    groups[key] = SecurityGroup(key, f"security group of {label}", location=where)
    attr = "security_group_ingress_rules" if era.v21_names else "security_group_rules"
    specs = cfg.get(attr) or {}
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
        for peer in _peers_for(spec, singular=True):
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
            groups_here = [*node_keys, *extra_groups(cfg)]
            own = _node_group_security_group(ctx, era, label, cfg, cluster, where, rules, sgs)
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
            selectors: list[tuple[str, dict[str, str]]] = []
            for sel in _as_list(cfg.get("selectors") if isinstance(cfg, dict) else None):
                if isinstance(sel, dict) and isinstance(sel.get("namespace"), str):
                    raw_labels = sel.get("labels")
                    labels: dict[str, Any] = raw_labels if isinstance(raw_labels, dict) else {}
                    selectors.append((sel["namespace"], {str(k): str(v) for k, v in labels.items()}))
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


def _v17_scenario(ctx: _ModuleCtx, era: eks.Era, label: str) -> Scenario:
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
    if not placements:
        placements.append(Placement(f"nodes joined outside module.{mod}", [node], location=ctx.loc))
    return Scenario(label, [primary, cluster], placements, rules, groups)


def _duplicate_keys(f: TfFile, var: str, start: int) -> list[tuple[str, list[int]]]:
    """Keys written twice in a `var = { ... }` map: HCL libraries keep one silently."""
    m = re.compile(rf"^\s*{var}\s*=\s*\{{", re.MULTILINE).search(f.text, start)
    if not m:
        return []
    depth, i = 1, m.end()
    keys: dict[str, list[int]] = {}
    line_re = re.compile(r"\s*\"?([\w-]+)\"?\s*=\s*\{")
    while i < len(f.text) and depth:
        c = f.text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "\n" and depth == 1:
            km = line_re.match(f.text, i + 1)
            if km:
                keys.setdefault(km.group(1), []).append(f.text.count("\n", 0, km.start(1)) + 1)
        elif c == "#":
            j = f.text.find("\n", i)
            i = (j if j >= 0 else len(f.text)) - 1
        i += 1
    return [(k, lines) for k, lines in keys.items() if len(lines) > 1]


def eks_module_cluster(
    name: str, block: dict[str, Any], f: TfFile, d: TfDir, scope: Scope, model: NetworkModel
) -> Cluster:
    loc = Location(f.path, _block_line(f, "module", name))
    args = {k: evaluate(v, scope) for k, v in block.items() if not k.startswith("__")}
    ctx = _ModuleCtx(name, block, f, loc, args)
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
    for era in eras:
        label = f"v{fmt(max(lo, era.since))}" + (
            ""
            if min(hi, era.until) == (lo[0], lo[1], lo[2] + 1)
            else f" to before v{fmt(min(hi, era.until))}"
        )
        if era.legacy_v17:
            scenarios.append(_v17_scenario(ctx, era, label))
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
            if args.get("node_security_group_additional_rules"):
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
        if not any(p.selectors is None for p in placements):
            if node_keys:
                placements.append(
                    Placement(
                        f"nodes joined outside module.{name} (it declares no node groups)",
                        node_keys,
                        location=loc,
                    )
                )
            else:
                placements.append(
                    Placement(
                        f"nodes of module.{name}",
                        [
                            f"{UNRESOLVED}module.{name} declares no node groups and no node security group, "
                            "so where its pods run is not in the inputs"
                        ],
                        location=loc,
                    )
                )
        scenarios.append(Scenario(label, control_plane, placements, rules, groups, dict(era.unsure_ports)))
    if create_node_raw := (args.get("create_node_security_group", True) is False):
        ext_key = group_key(args.get("node_security_group_id"))
        if ext_key and not ext_key.startswith("module."):
            fix = FixTarget(
                "raw",
                module=name,
                node_group_ref=_tf_ref(args.get("node_security_group_id")),
                source_group_ref=f"module.{name}.cluster_security_group_id",
            )
    del create_node_raw
    return Cluster(f"module.{name}", kind, scenarios, fix, loc)


def _tf_ref(value: Any) -> str:
    if isinstance(value, Ref):
        return value.address
    if isinstance(value, str):
        return f'"{value}"'
    return "<node-security-group-id>"


# --- raw resources -------------------------------------------------------------------------------


def _count_condition(block: dict[str, Any], scope: Scope) -> tuple[bool, str | None]:
    """(exists, conditional-why) for a resource's count/for_each."""
    if "count" in block:
        c = evaluate(block["count"], scope)
        if isinstance(c, int) and not isinstance(c, bool):
            return c > 0, None
        return True, f"count = {block['count']} cannot be resolved offline"
    if "for_each" in block:
        fe = evaluate(block["for_each"], scope)
        if isinstance(fe, dict | list):
            return len(fe) > 0, None
        return True, f"for_each = {block['for_each']} cannot be resolved offline"
    return True, None


def _peers_for(values: dict[str, Any], singular: bool) -> list[Peer]:
    peers: list[Peer] = []
    keys = (
        (
            ("referenced_security_group_id", "group"),
            ("cidr_ipv4", "cidr"),
            ("cidr_ipv6", "cidr"),
            ("prefix_list_id", "prefix_list"),
        )
        if singular
        else (
            ("source_security_group_id", "group"),
            ("security_groups", "group"),
            ("cidr_blocks", "cidr"),
            ("ipv6_cidr_blocks", "cidr"),
            ("prefix_list_ids", "prefix_list"),
        )
    )
    for attr, kind in keys:
        for v in _as_list(values.get(attr)):
            if kind == "group":
                k = group_key(v)
                peers.append(Peer("group", k) if k else Peer("unknown", _why(v) or f"unresolved {attr}"))
            elif isinstance(v, str):
                peers.append(Peer(kind, v))  # type: ignore[arg-type]
            else:
                peers.append(Peer("unknown", _why(v) or f"unresolved {attr}"))
    if values.get("self") is True:
        peers.append(Peer("self"))
    elif isinstance(values.get("self"), Unknown):
        peers.append(Peer("unknown", values["self"].why))
    return peers


def raw_resources(f: TfFile, scope: Scope, model: NetworkModel) -> None:
    for name, block in _resources(f.body, "aws_security_group"):
        key = f"aws_security_group.{name}"
        loc = Location(f.path, _block_line(f, "resource", "aws_security_group", name))
        has_dynamic = "dynamic" in block
        model.groups[key] = SecurityGroup(
            key,
            key,
            complete=not has_dynamic,
            why_incomplete="its ingress comes from a dynamic block" if has_dynamic else None,
            location=loc,
            terraform_ref=f"{key}.id",
        )
        exists, cond = _count_condition(block, scope)
        if not exists:
            continue
        for i, ing in enumerate(_as_list(block.get("ingress"))):
            if not isinstance(ing, dict):
                continue
            v = evaluate(ing, scope)
            for peer in _peers_for(v, singular=False):
                model.rules.append(
                    IngressRule(
                        key,
                        _protocol(v.get("protocol")),
                        _port(v.get("from_port")),
                        _port(v.get("to_port")),
                        peer,
                        f"{key} ingress[{i}]",
                        v.get("description") if isinstance(v.get("description"), str) else None,
                        location=loc,
                        unresolved=_why(v.get("protocol"), v.get("from_port"), v.get("to_port")),
                        conditional=cond,
                    )
                )
    for rtype, singular in (
        ("aws_security_group_rule", False),
        ("aws_vpc_security_group_ingress_rule", True),
    ):
        for name, block in _resources(f.body, rtype):
            address = f"{rtype}.{name}"
            loc = Location(f.path, _block_line(f, "resource", rtype, name))
            v = evaluate(block, scope)
            direction = v.get("type")
            if not singular and direction != "ingress" and not isinstance(direction, Unknown | Ref):
                continue
            exists, cond = _count_condition(block, scope)
            if not exists:
                continue
            if not singular and direction != "ingress":
                cond = cond or f"type: {_why(direction)}"
            target = group_key(v.get("security_group_id"))
            if target is None:
                # It may belong to any group, the nodes' included: it can only make a verdict unknown.
                target = UNKNOWN_GROUP
                cond = (
                    cond or f"its security_group_id cannot be resolved ({_why(v.get('security_group_id'))})"
                )
            proto_attr = "ip_protocol" if singular else "protocol"
            protocol = _protocol(v.get(proto_attr))
            from_port, to_port = _port(v.get("from_port")), _port(v.get("to_port"))
            if singular and to_port is None and from_port is not None and "to_port" not in v:
                to_port = from_port
            unresolved = _why(
                v.get(proto_attr), *((v.get("from_port"), v.get("to_port")) if protocol != "all" else ())
            )
            for peer in _peers_for(v, singular):
                model.rules.append(
                    IngressRule(
                        target,
                        protocol,
                        from_port,
                        to_port,
                        peer,
                        address,
                        v.get("description") if isinstance(v.get("description"), str) else None,
                        location=loc,
                        unresolved=unresolved,
                        conditional=cond,
                    )
                )


def raw_eks_clusters(f: TfFile, scope: Scope, model: NetworkModel, all_files: list[TfFile]) -> None:
    """`aws_eks_cluster` with `aws_eks_node_group`s: node groups without a launch template carry the
    cluster primary SG (EKS docs, launch-templates.adoc L105)."""
    for name, block in _resources(f.body, "aws_eks_cluster"):
        address = f"aws_eks_cluster.{name}"
        loc = Location(f.path, _block_line(f, "resource", "aws_eks_cluster", name))
        primary = f"{address}:primary"
        v = evaluate(block, scope)
        vpc = v.get("vpc_config")
        vpc = vpc[0] if isinstance(vpc, list) and vpc else vpc if isinstance(vpc, dict) else {}
        control_plane = [primary] + [
            k for k in (group_key(x) for x in _as_list(vpc.get("security_group_ids"))) if k
        ]
        groups = {
            primary: SecurityGroup(
                primary,
                f"cluster primary security group of {address} (created by EKS)",
                terraform_ref=f"{address}.vpc_config[0].cluster_security_group_id",
            )
        }
        placements: list[Placement] = []
        templates = {
            n: evaluate(b, scope) for tf in all_files for n, b in _resources(tf.body, "aws_launch_template")
        }
        for tf in all_files:
            for ng_name, ng in _resources(tf.body, "aws_eks_node_group"):
                ngv = evaluate(ng, scope)
                if not (
                    isinstance(ngv.get("cluster_name"), Ref)
                    and ngv["cluster_name"].address.startswith(address)
                ):
                    continue
                label = f"aws_eks_node_group.{ng_name}"
                lt = ngv.get("launch_template")
                lt = lt[0] if isinstance(lt, list) and lt else lt
                if not lt:
                    placements.append(
                        Placement(
                            label,
                            [primary],
                            opens_all="has no launch template, so EKS gives "
                            "its nodes the cluster primary security group, which admits all "
                            "traffic from the control plane",
                        )
                    )
                    continue
                ref = lt.get("id") or lt.get("name") if isinstance(lt, dict) else None
                lt_name = (
                    ref.address.split(".")[1]
                    if isinstance(ref, Ref) and ref.address.startswith("aws_launch_template.")
                    else None
                )
                tmpl = templates.get(lt_name or "")
                if tmpl is None:
                    placements.append(
                        Placement(label, [f"{UNRESOLVED}its launch template is not in the inputs"])
                    )
                    continue
                sgs = _as_list(tmpl.get("vpc_security_group_ids"))
                for ni in _as_list(tmpl.get("network_interfaces")):
                    if isinstance(ni, dict):
                        sgs += _as_list(ni.get("security_groups"))
                if not sgs:
                    placements.append(
                        Placement(
                            label,
                            [primary],
                            opens_all="its launch template names no security "
                            "group, so EKS gives its nodes the cluster primary security group",
                        )
                    )
                else:
                    placements.append(
                        Placement(label, [group_key(s) or f"{UNRESOLVED}{_why(s)}" for s in sgs])
                    )
        if not placements:
            placements.append(
                Placement(
                    f"nodes of {address}",
                    [f"{UNRESOLVED}no aws_eks_node_group of {address} is in the inputs"],
                    location=loc,
                )
            )
        node_ref = next(
            (
                model.groups[k].terraform_ref
                for p in placements
                for k in p.groups
                if k in model.groups and model.groups[k].terraform_ref
            ),
            None,
        )
        fix = FixTarget(
            "raw",
            node_group_ref=node_ref or "<node-security-group-id>",
            source_group_ref=f"{address}.vpc_config[0].cluster_security_group_id",
        )
        model.clusters.append(
            Cluster(
                address,
                "aws_eks_cluster",
                [Scenario("as written", control_plane, placements, [], groups)],
                fix,
                loc,
            )
        )


def load_dir(d: TfDir, model: NetworkModel) -> None:
    scope = build_scope(d)
    for f in d.files:
        for name, block in _blocks(f.body, "module"):
            if _is_eks_root_module(block.get("source")):
                model.clusters.append(eks_module_cluster(name, block, f, d, scope, model))
        raw_resources(f, scope, model)
    for f in d.files:
        raw_eks_clusters(f, scope, model, d.files)


def known(value: Any) -> bool:
    return is_known(value)
