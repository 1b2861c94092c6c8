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
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vizdoctor.knowledge import aws_sg
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
from vizdoctor.sources import hcl_ts
from vizdoctor.sources.manifests import parse_json
from vizdoctor.sources.tf_eval import Ref, Scope, Unknown, evaluate, is_known
from vizdoctor.sources.tf_version import ConstraintError, Version, constraint_interval, fmt, parse_version


@dataclass
class TfFile:
    path: str
    text: str
    body: dict[str, Any]
    # (block type, labels...) -> line of its first header, built on first use (see _block_line)
    headers: dict[tuple[str, ...], int] | None = field(default=None, repr=False, compare=False)


@dataclass
class TfDir:
    """One Terraform configuration directory (a root or child module)."""

    path: str
    files: list[TfFile] = field(default_factory=list)
    tfvars: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    module_versions: dict[str, str] = field(default_factory=dict)  # from modules.json
    # --var-file / --var, as given to `terraform plan` (see apply_cli_vars); None: no --var-file given
    var_files: list[tuple[str, dict[str, Any]]] | None = None
    cli_vars: dict[str, Any] = field(default_factory=dict)


# `"${concat(` then a line break before the closing `}"`: Terraform 0.11 configurations (e.g. terraform-aws-eks
# v1-v4 workers.tf) wrap whole expressions in a quoted interpolation over several lines; the HCL2 parser
# rejects many of them, and the generic parser message would not say why.
_TF011_INTERPOLATION = re.compile(r'"\$\{[^"}\n]*\n')


MAX_HCL_CHARS = 1_000_000  # real .tf files are < 100 kB; a larger one is not hand-written configuration


# The top-level block types some reader in sources/ looks at (`_blocks(body, X)`, `body.get(X)`): values are
# built for these only, so providers, data sources, moved/import blocks cost their parse alone. A reader
# of a new block type adds it here (tests/test_hcl_parity.py checks that every one used is listed).
HCL_BLOCKS_READ = frozenset({"resource", "module", "variable", "locals", "output"})


def parse_hcl(path: str, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    """The file's values (sources/hcl_ts.py). A syntax error costs only the top-level block it is in:
    one problem with its line per broken block, and the rest of the file is still read."""
    if len(text) > MAX_HCL_CHARS:
        problems.append(
            Problem(
                path,
                None,
                f"not read: {len(text) / 1e6:.1f} MB of HCL is more than the {MAX_HCL_CHARS // 1_000_000} MB "
                "vizdoctor reads from one .tf file",
            )
        )
        return None
    try:
        body, errors = hcl_ts.loads(text, HCL_BLOCKS_READ)
    except RecursionError:
        problems.append(Problem(path, None, "not valid HCL: nested too deeply to read"))
        return None
    if not errors:
        return body
    legacy = _TF011_INTERPOLATION.search(text)
    if legacy:
        problems.append(
            Problem(
                path,
                text.count("\n", 0, legacy.start()) + 1,
                'Terraform 0.11 syntax: a quoted interpolation "${...}" spans several lines; vizdoctor '
                "reads Terraform 0.12+ syntax (HCL2), and `terraform 0.12upgrade` rewrites this file to it",
            )
        )
        return None
    for e in errors:
        problems.append(
            Problem(path, e.line, f"not valid HCL: {e.message}; this block is skipped", partial=bool(body))
        )
    return body


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


# a block header on one line: type, labels (quoted or bare), `{`
_HEADER = re.compile(
    r'^[ \t]*([A-Za-z_][\w-]*)((?:[ \t]+(?:"[^"\n]*"|[A-Za-z_][\w-]*))*)[ \t]*\{', re.MULTILINE
)
_LABEL = re.compile(r'"([^"\n]*)"|([A-Za-z_][\w-]*)')


def _block_line(f: TfFile, kind: str, *labels: str) -> int | None:
    """The line of the first `kind "label"... {` header. One pass over the file builds an index of every
    header, so that a file of many resources costs one scan, not one regular expression per resource."""
    if f.headers is None:
        f.headers = {}
        line, pos = 1, 0
        for m in _HEADER.finditer(f.text):
            line += f.text.count("\n", pos, m.start(1))
            pos = m.start(1)
            key = (m.group(1), *(q if q or not b else b for q, b in _LABEL.findall(m.group(2))))
            f.headers.setdefault(key, line)
    return f.headers.get((kind, *labels))


def group_key(value: Any) -> str | None:
    """Map an evaluated security-group id expression to a stable group key."""
    if isinstance(value, Ref):
        a = value.address
        # a node group's own group, as the fix names it: module.eks.eks_managed_node_groups["k"].security_group_id
        m = re.match(
            r"""^module\.([\w-]+)\.(eks_managed_node_groups|self_managed_node_groups)\[["']([^"']+)["']\]"""
            r"\.security_group_id$",
            a,
        )
        if m:
            return f'module.{m.group(1)} {m.group(2)}["{m.group(3)}"]:security_group'
        # `module.<name>.<output>`, also as seen from inside a local child module (`module.c.module.eks.x`)
        m = re.match(r"^(?:module\.[\w-]+\.)*module\.([\w-]+)\.(\w+)$", a)
        if m:
            role = eks.OUTPUT_ROLES.get(m.group(2))
            if role:
                return f"module.{m.group(1)}:{role}"
            return a
        a = re.sub(r"\[[^\]]*\]", "", a)  # aws_security_group.x[0].id -> aws_security_group.x.id
        if a.endswith(".id"):
            a = a[:-3]
        if re.match(r"^(module\.[\w-]+\.)*aws_eks_cluster\.", a) and "cluster_security_group_id" in a:
            return a.split(".vpc_config")[0] + ":primary"
        return a
    if isinstance(value, str) and value:
        return value
    return None


def _protocol(value: Any) -> str | None:
    if isinstance(value, Unknown | Ref):
        return None
    return aws_sg.protocol(value)


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
        if not auto and d.var_files is not None:
            continue  # with --var-file, only the files named are applied (as Terraform does)
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
                f"var.{k} is set differently in {files}, and which -var-file is used is unknown "
                "(pass the one you apply with --var-file)"
            )
    for _path, values in d.var_files or []:  # -var-file after the automatic files, in order
        for k, v in values.items():
            if not k.startswith("__"):
                scope.variables[k] = evaluate(v, Scope())
    scope.variables.update(d.cli_vars)  # -var wins over every file
    return scope


def apply_cli_vars(d: TfDir, options: Any, problems: list[Problem]) -> None:
    """--var-file FILE and --var NAME=VALUE from the command line (`LoadOptions`), like `terraform plan`."""
    if options.var_files:
        d.var_files = []
        for f in options.var_files:
            try:
                text = Path(f).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Problem(f, None, f"--var-file cannot be read: {exc}"))
                continue
            values = (
                read_tfvars_json(f, text, problems) if f.endswith(".json") else parse_hcl(f, text, problems)
            )
            if values is not None:
                d.var_files.append((f, values))
    for name, raw in options.variables.items():
        value: Any = raw
        if raw[:1] in ("{", "["):  # complex values are HCL expressions, as with terraform -var
            parsed = parse_hcl("--var", f"v = {raw}\n", problems)
            value = evaluate(parsed["v"], Scope()) if parsed and "v" in parsed else raw
        d.cli_vars[name] = value


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


def _duplicate_keys(f: TfFile, var: str, start: int) -> list[tuple[str, list[int]]]:
    """Keys written twice in a `var = { ... }` map: HCL libraries keep one silently."""
    m = re.compile(rf"^\s*{var}\s*=\s*\{{", re.MULTILINE).search(f.text, start)
    if not m:
        return []
    depth, i = 1, m.end()
    keys: dict[str, list[int]] = {}
    # [ \t]*, not \s*: a blank line before a key must not let two newlines both match the same key.
    line_re = re.compile(r"[ \t]*\"?([\w-]+)\"?[ \t]*=[ \t]*\{")
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


def _peers_for(values: dict[str, Any], shape: aws_sg.RuleShape) -> list[Peer]:
    peers: list[Peer] = []
    for attr, kind in shape.peers:
        for v in _as_list(values.get(attr)):
            if kind == "group":
                k = group_key(v)
                peers.append(Peer("group", k) if k else Peer("unknown", _why(v) or f"unresolved {attr}"))
            elif isinstance(v, str):
                peers.append(Peer(kind, v))
            else:
                peers.append(Peer("unknown", _why(v) or f"unresolved {attr}"))
    if values.get("self") is True:
        peers.append(Peer("self"))
    elif isinstance(values.get("self"), Unknown):
        peers.append(Peer("unknown", values["self"].why))
    return peers


def raw_resources(f: TfFile, scope: Scope, model: NetworkModel) -> None:
    for name, block in _resources(f.body, "aws_security_group"):
        key = f"{scope.prefix}aws_security_group.{name}"
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
            for peer in _peers_for(v, aws_sg.SECURITY_GROUP_INGRESS):
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
    for rtype, shape in aws_sg.RULE_RESOURCES.items():
        for name, block in _resources(f.body, rtype):
            address = f"{scope.prefix}{rtype}.{name}"
            loc = Location(f.path, _block_line(f, "resource", rtype, name))
            v = evaluate(block, scope)
            direction = v.get("type")
            if shape.typed and direction != "ingress" and not isinstance(direction, Unknown | Ref):
                continue
            exists, cond = _count_condition(block, scope)
            if not exists:
                continue
            if shape.typed and direction != "ingress":
                cond = cond or f"type: {_why(direction)}"
            target = group_key(v.get("security_group_id"))
            if target is None:
                # It may belong to any group, the nodes' included: it can only make a verdict unknown.
                target = UNKNOWN_GROUP
                cond = (
                    cond or f"its security_group_id cannot be resolved ({_why(v.get('security_group_id'))})"
                )
            proto_attr = shape.protocol_attr
            protocol = _protocol(v.get(proto_attr))
            from_port, to_port = _port(v.get("from_port")), _port(v.get("to_port"))
            if (
                shape.to_port_defaults_to_from_port
                and to_port is None
                and from_port is not None
                and "to_port" not in v
            ):
                to_port = from_port
            unresolved = _why(
                v.get(proto_attr), *((v.get("from_port"), v.get("to_port")) if protocol != "all" else ())
            )
            for peer in _peers_for(v, shape):
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


def raw_eks_clusters(f: TfFile, scope: Scope, model: NetworkModel, insts: list[Instance]) -> None:
    """`aws_eks_cluster` with `aws_eks_node_group`s: node groups without a launch template carry the
    cluster primary SG (EKS docs, launch-templates.adoc L105)."""
    for name, block in _resources(f.body, "aws_eks_cluster"):
        if not _count_condition(block, scope)[0]:
            continue
        address = f"{scope.prefix}aws_eks_cluster.{name}"
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
        names = {v["name"]} if isinstance(v.get("name"), str) else set()
        placements = external_placements(insts, set(), names, primary, raw_cluster=address)
        if not placements:
            placements.append(
                Placement(
                    f"nodes of {address}",
                    [f"{UNRESOLVED}no aws_eks_node_group of {address} is in the inputs"],
                    location=loc,
                )
            )
        # The rule goes into the cluster's own file, so it names groups as that module sees them.
        node_ref = next(
            (
                ref[len(scope.prefix) :]
                for p in placements
                for k in p.groups
                if k in model.groups
                and (ref := model.groups[k].terraform_ref)
                and ref.startswith(scope.prefix)
                and not ref[len(scope.prefix) :].startswith("module.")
            ),
            None,
        )
        fix = FixTarget(
            "raw",
            node_group_ref=node_ref or "<node-security-group-id>",
            source_group_ref=f"aws_eks_cluster.{name}.vpc_config[0].cluster_security_group_id",
        )
        model.clusters.append(
            Cluster(
                address,
                "aws_eks_cluster",
                [Scenario("as written", control_plane, placements, [], groups)],
                fix,
                loc,
                aliases=[v["name"]] if isinstance(v.get("name"), str) else [],
            )
        )


def _module_creates(block: dict[str, Any], scope: Scope) -> bool | str:
    """False when the module call creates nothing (`create = false` — terraform-aws-eks guards every
    resource with `count = local.create ? 1 : 0` — or `count = 0` / an empty `for_each`); a string says why
    that is unknown."""
    create = evaluate(block["create"], scope) if "create" in block else True
    if create is False:
        return False
    exists, cond = _count_condition(block, scope)
    if not exists:
        return False
    why = _why(create) if create is not True else None
    if why or cond:
        return f"whether the module creates a cluster is unknown: {why or cond}"
    return True


_META_ARGS = ("source", "version", "count", "for_each", "providers", "depends_on")


def _local_source(d: TfDir, source: Any) -> str | None:
    """The directory of a local module (`./modules/x`, `../x`): Terraform reads it from the caller's folder."""
    if isinstance(source, str) and source.startswith(("./", "../")):
        return os.path.normpath(os.path.join(d.path, source))
    return None


def _instances(
    d: TfDir,
    dirs: dict[str, TfDir],
    prefix: str = "",
    inputs: dict[str, Any] | None = None,
    stack: tuple[str, ...] = (),
) -> list[Instance]:
    """`d` and, recursively, the local modules it calls whose folders are among the inputs; module
    arguments become the child's variables and `module.<name>.<output>` reads the child's outputs."""
    scope = build_scope(d)
    scope.prefix = prefix
    if inputs is not None:
        scope.variables.update(inputs)
    calls: dict[str, tuple[dict[str, Any], TfDir]] = {}
    for f in d.files:
        for name, block in _blocks(f.body, "module"):
            path = _local_source(d, block.get("source"))
            if path in dirs and path not in stack and path != d.path:
                calls[name] = (block, dirs[path])
    built: dict[str, list[Instance]] = {}
    building: set[str] = set()

    def child(name: str) -> list[Instance] | None:
        if name in built or name in building:
            return built.get(name)
        building.add(name)
        block, cdir = calls[name]
        args = {
            k: evaluate(v, scope) for k, v in block.items() if k not in _META_ARGS and not k.startswith("__")
        }
        built[name] = _instances(cdir, dirs, f"{prefix}module.{name}.", args, (*stack, d.path))
        return built[name]

    def outputs(name: str) -> Callable[[str], Any]:
        def read(output: str) -> Any:
            insts = child(name)
            if not insts:
                return Unknown(f"module.{name} depends on its own outputs")
            for f in insts[0].d.files:
                for oname, oblock in _blocks(f.body, "output"):
                    if oname == output:
                        return evaluate(oblock.get("value"), insts[0].scope)
            return Unknown(f"module.{name} has no output {output!r} in the inputs")

        return read

    for name in calls:
        scope.modules[name] = outputs(name)
    out = [Instance(d, scope)]
    for name, (block, _) in calls.items():
        if _module_creates(block, scope) is False:
            continue  # count = 0
        out.extend(child(name) or [])
    return out


def load_dirs(dirs: list[TfDir], model: NetworkModel) -> None:
    """Every configuration in the inputs; a folder that another one calls as a local module is read as
    that module (with the caller's arguments), not as a root of its own."""
    by_path = {d.path: d for d in dirs}
    called = {
        path
        for d in dirs
        for f in d.files
        for _, block in _blocks(f.body, "module")
        if (path := _local_source(d, block.get("source"))) in by_path and path != d.path
    }
    roots = [d for d in dirs if d.path not in called] or dirs
    for root in roots:
        _load_instances(_instances(root, by_path), model)


def load_dir(d: TfDir, model: NetworkModel) -> None:
    load_dirs([d], model)


def _load_instances(insts: list[Instance], model: NetworkModel) -> None:
    first = len(model.clusters)
    for inst in insts:
        d, scope = inst.d, inst.scope
        for f in d.files:
            for name, block in _blocks(f.body, "module"):
                if _is_eks_root_module(block.get("source")):
                    created = _module_creates(block, scope)
                    if created is False:
                        continue  # `create = false` / `count = 0`: every resource has count 0 (main.tf L2 ff.)
                    cluster = eks_module_cluster(name, block, f, d, scope, model, insts)
                    if scope.prefix:
                        cluster.name = f"{scope.prefix}{cluster.name}"
                    for arg in eks.CLUSTER_NAME_ARGS:
                        value = evaluate(block[arg], scope) if arg in block else None
                        if isinstance(value, str) and value:
                            cluster.aliases.append(value)
                    if isinstance(created, str):
                        cluster.why_unknown = created
                    model.clusters.append(cluster)
            raw_resources(f, scope, model)
    for inst in insts:
        for f in inst.d.files:
            raw_eks_clusters(f, inst.scope, model, insts)
    from vizdoctor.sources.gcp_tf import gke_clusters  # GKE private clusters and their firewall rules
    from vizdoctor.sources.tf_addons import eks_addon_enforcers  # the VPC CNI's enableNetworkPolicy

    gke_clusters(insts, model)
    eks_addon_enforcers(insts, model)
    if any(
        True
        for i in insts
        for f in i.d.files
        for _ in _resources(f.body, "aws_vpc_security_group_ingress_rule")
    ):
        for cluster in model.clusters[first:]:
            cluster.fix.rule_resource = "aws_vpc_security_group_ingress_rule"  # the root's own style


def known(value: Any) -> bool:
    return is_known(value)
