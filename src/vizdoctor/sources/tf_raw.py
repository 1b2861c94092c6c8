"""Raw AWS resources as a network: `aws_security_group` (inline ingress), `aws_security_group_rule`,
`aws_vpc_security_group_ingress_rule`, `aws_eks_cluster` with its node groups, launch templates and classic
Auto Scaling workers."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from vizdoctor.knowledge import aws_sg
from vizdoctor.knowledge import eks_module as eks
from vizdoctor.location import Location
from vizdoctor.network.model import (
    UNKNOWN_GROUP,
    UNRESOLVED,
    Cluster,
    FixTarget,
    IngressRule,
    NetworkModel,
    Placement,
    Scenario,
    SecurityGroup,
)
from vizdoctor.sources.tf_eks import (
    Instance,
    _is_eks_root_module,
    eks_module_cluster,
    external_placements,
)
from vizdoctor.sources.tf_eval import Ref, Scope, Unknown, evaluate
from vizdoctor.sources.tf_hcl import (
    TfDir,
    TfFile,
    _as_list,
    _block_line,
    _blocks,
    _count_condition,
    _peers_for,
    _port,
    _protocol,
    _resources,
    _why,
    build_scope,
    group_key,
)


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
