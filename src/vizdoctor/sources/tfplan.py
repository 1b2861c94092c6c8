"""`terraform show -json` plan or state files -> network model.

Format: Terraform's "JSON Output Format" (developer.hashicorp.com/terraform/internals/json-format):
- resources sit in `planned_values.root_module` (plan) or `values.root_module` (state), recursively in
  `child_modules[]`, each with `address`, `mode`, `type`, `name`, `index` and `values`;
- in a plan, values only known after apply are omitted or null in `values` and marked `true` in
  `resource_changes[].change.after_unknown`;
- `configuration` holds the unevaluated expressions: `constant_value`, or `references` with every
  traversal prefix ("Multi-step references will be unwrapped and duplicated for each significant
  traversal step"); expressions inside `dynamic` blocks are not included, and locals are not either.

Unknown security-group ids are traced through those references (resources, `var.*` through the module
call, `module.*` outputs). terraform-aws-eks routes them through locals, so its internals follow a
convention table (module sources v18-v21: `node_groups.tf`, `main.tf`,
`modules/eks-managed-node-group/main.tf`). Anything that cannot be traced stays unresolved (an
`unknown` peer or an `unresolved:` group), never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    Peer,
    Placement,
    Scenario,
    SecurityGroup,
)
from vizdoctor.sources.tf_hcl import _port, _protocol

_MAX_DEPTH = 24  # reference chains longer than this are reported unresolved (cycles, absurd nesting)

# Default node rules of terraform-aws-eks across all releases: key -> where traffic comes from. The
# keys keep their meaning in every era (knowledge/eks_module.py), so no version is needed here.
_EKS_DEFAULT_SOURCE: dict[str, str] = {r.key: r.source for era in eks.ERAS for r in era.rules}
# (protocol, from, to, description) of each default key, to recognise a default instance in a plan.
_EKS_DEFAULT_SHAPE: dict[str, set[tuple[str, int, int, str]]] = {}
for _era in eks.ERAS:
    for _rule in _era.rules:
        _EKS_DEFAULT_SHAPE.setdefault(_rule.key, set()).add(
            (_rule.protocol, _rule.from_port, _rule.to_port, _rule.description)
        )

# Module calls of terraform-aws-eks that create node groups (node_groups.tf, v18-v21).
_EKS_NODE_GROUP_CALLS = {
    "eks_managed_node_group": ("eks_managed_node_groups", "eks_managed_node_group_defaults"),
    "self_managed_node_group": ("self_managed_node_groups", "self_managed_node_group_defaults"),
}

_OPENS_PRIMARY = "carries the cluster primary security group, which admits all traffic from the control plane"


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _lst(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _first(value: Any) -> dict[str, Any]:
    """A nested block: a one-element list in values (`vpc_config[0]`), sometimes a bare object."""
    if isinstance(value, list):
        return _obj(value[0]) if value else {}
    return _obj(value)


def _key(address: str) -> str:
    """Group key: the resource address without a trailing count index [0]; for_each keys stay."""
    return address[:-3] if address.endswith("[0]") else address


@dataclass
class _Res:
    address: str
    module: str  # module instance address, "" in the root module
    type: str
    name: str
    index: Any
    values: dict[str, Any]
    unknown: Any  # after_unknown of its change; {} for state

    @property
    def local(self) -> str:
        """Address inside its module instance, e.g. `aws_security_group.node[0]`."""
        return self.address[len(self.module) + 1 :] if self.module else self.address

    @property
    def key(self) -> str:
        return _key(self.address)


@dataclass
class _Resolved:
    keys: list[str] = field(default_factory=list)
    whys: list[str] = field(default_factory=list)

    def add(self, other: _Resolved) -> None:
        self.keys.extend(k for k in other.keys if k not in self.keys)
        self.whys.extend(w for w in other.whys if w not in self.whys)

    def single(self, what: str) -> tuple[str | None, str | None]:
        if self.whys:
            return None, "; ".join(self.whys)
        if len(self.keys) == 1:
            return self.keys[0], None
        if not self.keys:
            return None, f"{what} resolves to nothing in the plan"
        return (
            None,
            f"{what} is one of {', '.join(self.keys)} depending on a condition the plan JSON does not record",
        )


def _split_modules(module: str) -> list[tuple[str, str]]:
    """`module.a["x"].module.b` -> [("a", '["x"]'), ("b", "")]."""
    out: list[tuple[str, str]] = []
    pattern = re.compile(r'module\.([A-Za-z0-9_-]+)((?:\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?)(?:\.|$)')
    pos = 0
    while pos < len(module):
        m = pattern.match(module, pos)
        if not m:
            return []
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    return out


def _parent(module: str) -> tuple[str, str, str] | None:
    """(parent instance, call name, instance key) of a module instance; None for the root."""
    parts = _split_modules(module)
    if not parts:
        return None
    parent = ".".join(f"module.{n}{k}" for n, k in parts[:-1])
    return parent, parts[-1][0], parts[-1][1]


def _instance_key(raw: str) -> str | None:
    """'["default"]' -> "default"."""
    m = re.fullmatch(r'\["((?:[^"\\]|\\.)*)"\]', raw)
    return m.group(1).replace('\\"', '"') if m else None


def _is_eks_source(source: Any) -> bool:
    """The root terraform-aws-eks module (registry or git), not one of its submodules."""
    if not isinstance(source, str):
        return False
    if "//" in source.split("://", 1)[-1]:
        return False  # e.g. terraform-aws-modules/eks/aws//modules/eks-managed-node-group
    return any(s in source for s in (*eks.REGISTRY_SOURCES, "terraform-aws-eks"))


def _drop_implied(refs: list[Any]) -> list[str]:
    """Keep the longest traversal of each reference (the JSON repeats every prefix)."""
    strs = [r for r in refs if isinstance(r, str)]
    return [
        r for r in dict.fromkeys(strs) if not any(o != r and o.startswith((r + ".", r + "[")) for o in strs)
    ]


_REF = re.compile(
    r'^(?P<type>[a-z][a-z0-9_]*)\.(?P<name>[A-Za-z0-9_-]+)(?P<index>\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?(?P<rest>.*)$'
)


class _Reader:
    def __init__(
        self,
        path: str,
        data: dict[str, Any],
        model: NetworkModel,
        problems: list[Problem],
        values: dict[str, Any],
        is_plan: bool,
    ) -> None:
        self.path = path
        self.data = data
        self.model = model
        self.problems = problems
        self.is_plan = is_plan
        self.loc = Location(path)
        self.resources: list[_Res] = []
        self._walk(_obj(values.get("root_module")), "", 0)
        unknown: dict[str, Any] = {}
        for rc in _lst(data.get("resource_changes")):
            rc = _obj(rc)
            if isinstance(rc.get("address"), str) and not rc.get("deposed"):
                unknown[rc["address"]] = _obj(rc.get("change")).get("after_unknown") or {}
        for r in self.resources:
            r.unknown = unknown.get(r.address, {})
        self.sg_ids: dict[str, str] = {}  # aws id -> group key
        self.sg_address: dict[str, str] = {}  # group key -> Terraform address
        self.primary_ids: dict[str, str] = {}

    # --- input walking ---------------------------------------------------------------------------

    def _walk(self, module: dict[str, Any], address: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        for r in _lst(module.get("resources")):
            r = _obj(r)
            addr, rtype, name = r.get("address"), r.get("type"), r.get("name")
            if r.get("mode", "managed") != "managed" or not (
                isinstance(addr, str) and isinstance(rtype, str) and isinstance(name, str)
            ):
                continue
            self.resources.append(_Res(addr, address, rtype, name, r.get("index"), _obj(r.get("values")), {}))
        for child in _lst(module.get("child_modules")):
            child = _obj(child)
            if isinstance(child.get("address"), str):
                self._walk(child, child["address"], depth + 1)

    def of_type(self, *types: str) -> list[_Res]:
        return [r for r in self.resources if r.type in types]

    def in_module(self, module: str, rtype: str, name: str) -> list[_Res]:
        return [r for r in self.resources if r.module == module and r.type == rtype and r.name == name]

    def is_unknown(self, res: _Res, *path: str | int) -> bool:
        node: Any = res.unknown
        for step in path:
            if node is True:
                return True
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and step < len(node) else None
            else:
                node = node.get(step) if isinstance(node, dict) else None
        return node is True

    # --- configuration ---------------------------------------------------------------------------

    def config_module(self, module: str) -> dict[str, Any] | None:
        node = _obj(_obj(self.data.get("configuration")).get("root_module"))
        if not module:
            return node if node else None
        parts = _split_modules(module)
        if not parts:
            return None
        for name, _ in parts:
            call = _obj(_obj(node.get("module_calls")).get(name))
            if not call:
                return None
            node = _obj(call.get("module"))
        return node

    def module_call(self, module: str) -> dict[str, Any]:
        """The `module` block (in its parent's configuration) that created this instance."""
        p = _parent(module)
        if p is None:
            return {}
        parent_cfg = self.config_module(p[0]) or {}
        return _obj(_obj(parent_cfg.get("module_calls")).get(p[1]))

    def is_eks_module(self, module: str) -> bool:
        call = self.module_call(module)
        return bool(module) and _is_eks_source(call.get("source") or call.get("resolved_source"))

    def looks_like_eks(self, module: str) -> bool:
        """A terraform-aws-eks instance: by its source, or (state JSON has no configuration) by the
        resources only that module makes: `aws_eks_cluster.this` with `aws_security_group_rule.node`
        instances keyed by its default rule names (node_groups.tf, v18-v21)."""
        if self.is_eks_module(module):
            return True
        if not module or self.module_call(module):
            return False
        rules = [
            *self.in_module(module, "aws_security_group_rule", "node"),
            *self.in_module(module, "aws_vpc_security_group_ingress_rule", "node"),
        ]
        keys = {r.index for r in rules if isinstance(r.index, str)}
        return (
            bool(self.in_module(module, "aws_eks_cluster", "this"))
            and {"ingress_cluster_443", "ingress_cluster_kubelet"} <= keys
        )

    def eks_node_group_call(self, module: str) -> tuple[str, str, str] | None:
        """(eks module instance, node-group call, instance key) for a terraform-aws-eks node-group submodule."""
        p = _parent(module)
        if p is None or p[1] not in _EKS_NODE_GROUP_CALLS or not self.is_eks_module(p[0]):
            return None
        return p

    def config_resource(self, res: _Res) -> dict[str, Any] | None:
        cfg = self.config_module(res.module)
        for c in _lst((cfg or {}).get("resources")):
            c = _obj(c)
            if (
                c.get("mode", "managed") == "managed"
                and c.get("type") == res.type
                and c.get("name") == res.name
            ):
                return c
        return None

    def config_expr(self, res: _Res, *path: str | int) -> dict[str, Any] | None:
        """The expression of an argument; nested blocks are lists of block expressions."""
        node: Any = _obj(self.config_resource(res)).get("expressions")
        for step in path:
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and step < len(node) else None
            else:
                node = node.get(step) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else None

    # --- resolving security-group references ------------------------------------------------------

    def id_key(self, sg_id: str) -> str:
        return self.sg_ids.get(sg_id) or self.primary_ids.get(sg_id) or sg_id

    def constant_groups(self, value: Any) -> _Resolved:
        out = _Resolved()
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v:
                out.add(_Resolved([self.id_key(v)]))
            elif v is not None and v != "":  # compact() drops nulls and empty strings
                out.whys.append(f"{v!r} is not a security group id")
        return out

    def expr_groups(self, module: str, expr: dict[str, Any] | None, what: str, depth: int = 0) -> _Resolved:
        if expr is None:
            return _Resolved(whys=[f"{what} is not in the plan's configuration"])
        if "constant_value" in expr:
            return self.constant_groups(expr["constant_value"])
        refs = _drop_implied(_lst(expr.get("references")))
        if not refs:
            return _Resolved(whys=[f"{what} has no value or reference in the plan's configuration"])
        out = _Resolved()
        for ref in refs:
            out.add(self.ref_groups(module, ref, depth + 1))
        return out

    def ref_groups(self, module: str, ref: str, depth: int) -> _Resolved:
        """Security-group keys a reference (in module instance `module`) can stand for."""
        where = f"{module}: " if module else ""
        if depth > _MAX_DEPTH:
            return _Resolved(whys=[f"{where}{ref} is nested too deeply to follow"])
        prefix = f"{module}." if module else ""
        head, _, rest = ref.partition(".")
        if head == "var":
            return self.var_groups(module, re.split(r"[.\[]", rest, maxsplit=1)[0], depth)
        if head == "local":
            return self.local_groups(module, re.split(r"[.\[]", rest, maxsplit=1)[0], depth)
        if head == "module":
            m = re.match(r'^([A-Za-z0-9_-]+)((?:\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?)\.([A-Za-z0-9_-]+)', rest)
            if not m:
                return _Resolved(whys=[f"{where}{ref} names a whole module, not one of its outputs"])
            call = _obj(_obj((self.config_module(module) or {}).get("module_calls")).get(m.group(1)))
            if not m.group(2) and ("for_each_expression" in call or "count_expression" in call):
                return _Resolved(whys=[f"{where}{ref} spans every instance of module.{m.group(1)}"])
            child = f"{prefix}module.{m.group(1)}{m.group(2)}"
            output = _obj(_obj((self.config_module(child) or {}).get("outputs")).get(m.group(3)))
            return self.expr_groups(
                child, _obj(output.get("expression")) or None, f"output {m.group(3)} of {child}", depth
            )
        if head == "data":
            m = _REF.match(rest)
            ids = self._data_ids(module, m.group("type"), m.group("name"), m.group("index")) if m else []
            if ids and m and m.group("rest") in ("", ".id"):
                return self.constant_groups(ids)
            return _Resolved(whys=[f"{where}{ref} (a data source) is not read before apply"])
        m = _REF.match(ref)
        if not m or head in ("each", "count", "self", "path", "terraform"):
            return _Resolved(whys=[f"{where}{ref} is not recorded in plan JSON"])
        rtype, name, index, attr = m.group("type"), m.group("name"), m.group("index") or "", m.group("rest")
        instances = [
            r for r in self.in_module(module, rtype, name) if not index or r.local == f"{rtype}.{name}{index}"
        ]
        if rtype == "aws_security_group":
            if attr not in ("", ".id"):
                return _Resolved(whys=[f"{where}{ref} is not a security group id"])
            # A referenced group absent from the plan is on a branch not taken (count = 0), so it
            # cannot be the value; it contributes nothing.
            return _Resolved([r.key for r in instances])
        if rtype == "aws_eks_cluster" and "cluster_security_group_id" in attr:
            return _Resolved([f"{r.key}:primary" for r in instances])
        return _Resolved(whys=[f"{where}{ref} is not a security group"])

    def _data_ids(self, module: str, rtype: str, name: str, index: str | None) -> list[str]:
        local = f"data.{rtype}.{name}{index or ''}"
        out: list[str] = []
        for r in _lst(self._values_module(module).get("resources")):
            r = _obj(r)
            addr = r.get("address")
            if (
                r.get("mode") != "data"
                or r.get("type") != rtype
                or r.get("name") != name
                or not isinstance(addr, str)
            ):
                continue
            if index and addr != (f"{module}.{local}" if module else local):
                continue
            sg_id = _str(_obj(r.get("values")).get("id"))
            if sg_id:
                out.append(sg_id)
        return out

    def _values_module(self, module: str) -> dict[str, Any]:
        values = _obj(self.data.get("planned_values") if self.is_plan else self.data.get("values"))
        node = _obj(values.get("root_module"))
        if not module:
            return node
        stack = [node]
        while stack:
            cur = stack.pop()
            for child in _lst(cur.get("child_modules")):
                child = _obj(child)
                if child.get("address") == module:
                    return child
                stack.append(child)
        return {}

    def var_groups(self, module: str, name: str, depth: int) -> _Resolved:
        if not module:
            var = _obj(self.data.get("variables")).get(name)
            if isinstance(var, dict) and "value" in var:
                return self.constant_groups(var["value"])
            return _Resolved(whys=[f"var.{name} has no value in the plan"])
        p = _parent(module)
        if p is None:
            return _Resolved(whys=[f"{module}: var.{name} cannot be traced"])
        call = self.module_call(module)
        expr = _obj(call.get("expressions")).get(name)
        if isinstance(expr, dict):
            return self.expr_groups(p[0], expr, f"{p[1]} argument {name}", depth)
        variable = _obj((self.config_module(module) or {}).get("variables")).get(name)
        if isinstance(variable, dict) and "default" in variable:
            return self.constant_groups(variable["default"])  # not set in the module block: its default
        return _Resolved(
            whys=[f"{module}: var.{name} is not set in module.{p[1]} and its default is not recorded"]
        )

    def local_groups(self, module: str, name: str, depth: int) -> _Resolved:
        where = f"{module}: " if module else ""
        # terraform-aws-eks main.tf / node_groups.tf (v18-v21):
        #   cluster_security_group_id = local.create_cluster_sg ? aws_security_group.cluster[0].id
        #                                                       : var.cluster_security_group_id
        #   node_security_group_id    = local.create_node_sg ? aws_security_group.node[0].id
        #                                                    : var.node_security_group_id
        if name in ("node_security_group_id", "cluster_security_group_id") and self.is_eks_module(module):
            return self.eks_group(module, name.split("_")[0], depth)
        ng = self.eks_node_group_call(module)
        if ng is not None and name == "security_group_ids":
            return self.eks_node_group_groups(module, depth)
        return _Resolved(whys=[f"{where}local.{name} is not evaluated in plan JSON"])

    def eks_group(self, module: str, role: str, depth: int) -> _Resolved:
        """The node or cluster security group of a terraform-aws-eks module instance."""
        own = self.in_module(module, "aws_security_group", role)
        if own:
            return _Resolved([r.key for r in own])
        # create_*_security_group = false: the id passed in (v21 renamed the cluster one).
        names = [f"{role}_security_group_id"] + (["security_group_id"] if role == "cluster" else [])
        expressions = _obj(self.module_call(module).get("expressions"))
        p = _parent(module)
        for n in names:
            if isinstance(expressions.get(n), dict) and p is not None:
                return self.expr_groups(p[0], expressions[n], f"module.{p[1]} {n}", depth)
        return _Resolved(whys=[f"{module} creates no {role} security group and none is passed in"])

    def eks_node_group_groups(self, module: str, depth: int) -> _Resolved:
        """Groups of a terraform-aws-eks node-group submodule instance (`local.security_group_ids`).

        node_groups.tf (v18-v21) passes
          vpc_security_group_ids = compact(concat([local.node_security_group_id],
                                   try(each.value.vpc_security_group_ids, <defaults>.vpc_security_group_ids, [])))
          cluster_primary_security_group_id = try(each.value.attach_cluster_primary_security_group,
                                   <defaults>.attach_cluster_primary_security_group, false)
                                   ? aws_eks_cluster.this[0].vpc_config[0].cluster_security_group_id : null
        and modules/eks-managed-node-group/main.tf sets
          security_group_ids = compact(concat([var.cluster_primary_security_group_id], var.vpc_security_group_ids))
        """
        ng = self.eks_node_group_call(module)
        if ng is None:
            return _Resolved(whys=[f"{module} is not a terraform-aws-eks node group"])
        eks_mod, call, raw_key = ng
        out = self.eks_group(eks_mod, "node", depth)
        groups_var, defaults_var = _EKS_NODE_GROUP_CALLS[call]
        expressions = _obj(self.module_call(eks_mod).get("expressions"))
        key = _instance_key(raw_key)
        cfg: dict[str, Any] = {}
        for var in (defaults_var, groups_var):
            expr = expressions.get(var)
            if expr is None:
                continue
            if not isinstance(expr, dict) or "constant_value" not in expr:
                out.whys.append(
                    f"{eks_mod} {var} is built from references, which plan JSON does not evaluate"
                )
                return out
            value = _obj(expr["constant_value"])
            cfg.update(_obj(value.get(key)) if var == groups_var and key is not None else value)
        out.add(self.constant_groups(cfg.get("vpc_security_group_ids", [])))
        if cfg.get("attach_cluster_primary_security_group") is True:
            out.add(
                _Resolved([f"{c.key}:primary" for c in self.in_module(eks_mod, "aws_eks_cluster", "this")])
            )
        return out

    def attr_groups(self, res: _Res, *path: str | int) -> _Resolved:
        """Security groups named by a (list or single) attribute, known or traced through configuration."""
        node: Any = res.values
        for step in path:
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and step < len(node) else None
            else:
                node = node.get(step) if isinstance(node, dict) else None
        out = _Resolved()
        unknown = self.is_unknown(res, *path)
        if isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, str) and v:
                    out.add(_Resolved([self.id_key(v)]))
                elif self.is_unknown(res, *path, i):
                    unknown = True
        elif isinstance(node, str) and node:
            out.add(_Resolved([self.id_key(node)]))
        if unknown:
            what = f"{res.address}.{'.'.join(str(p) for p in path)}"
            out.add(self.traced(res, path, what))
        return out

    def traced(self, res: _Res, path: tuple[str | int, ...], what: str) -> _Resolved:
        ng = self.eks_node_group_call(res.module)
        if ng is not None and res.type == "aws_launch_template":
            return self.eks_node_group_groups(res.module, 0)
        expr = self.config_expr(res, *path)
        if (
            expr is None
            and path
            and path[-1] in ("security_group_ids", "vpc_security_group_ids", "security_groups")
        ):
            return _Resolved(
                whys=[
                    f"{what} is only known after apply and its expression is not in the "
                    "configuration (a dynamic block, or no configuration section)"
                ]
            )
        resolved = self.expr_groups(res.module, expr, what)
        if resolved.whys:
            resolved.whys = [f"{what} is only known after apply: " + "; ".join(resolved.whys)]
        return resolved

    # --- building ----------------------------------------------------------------------------------

    def build(self) -> None:
        for r in self.of_type("aws_security_group"):
            sg_id = _str(r.values.get("id"))
            self.sg_address[r.key] = r.address
            if sg_id:
                self.sg_ids[sg_id] = r.key
        for c in self.of_type("aws_eks_cluster"):
            primary_id = _str(_first(c.values.get("vpc_config")).get("cluster_security_group_id"))
            if primary_id:
                self.primary_ids[primary_id] = f"{c.key}:primary"
        rules: list[IngressRule] = []
        for r in self.of_type("aws_security_group_rule", "aws_vpc_security_group_ingress_rule"):
            rules.extend(self.rule(r))
        for r in self.of_type("aws_security_group"):
            self.group(r, rules)
        self.model.rules.extend(rules)
        for c in self.of_type("aws_eks_cluster"):
            self.model.clusters.append(self.cluster(c))

    def group(self, r: _Res, standalone: list[IngressRule]) -> None:
        complete, why = True, None
        ingress = r.values.get("ingress")
        if self.is_unknown(r, "ingress") and not isinstance(ingress, list):
            # `ingress` is optional and computed: left out of the configuration it is the provider's
            # read-back of the separate rule resources, unknown before the first apply.
            config = self.config_resource(r)
            if config is None or "ingress" in _obj(config.get("expressions")):
                complete, why = False, "its inline ingress rules are only known after apply"
        self.model.groups[r.key] = SecurityGroup(
            r.key,
            r.address,
            complete,
            why,
            self.loc,
            terraform_ref=f"{r.address}.id",
            aws_id=_str(r.values.get("id")),
        )
        seen = {(x.group, x.protocol, x.from_port, x.to_port, x.peer) for x in standalone}
        for i, ing in enumerate(_lst(ingress)):
            if not isinstance(ing, dict):
                continue
            protocol, from_port, to_port = (
                _protocol(ing.get("protocol")),
                _port(ing.get("from_port")),
                _port(ing.get("to_port")),
            )
            unresolved = None
            if any(self.is_unknown(r, "ingress", i, a) for a in ("protocol", "from_port", "to_port")):
                unresolved = f"{r.address} ingress[{i}] ports are only known after apply"
            peers: list[Peer] = []
            for sg in _lst(ing.get("security_groups")):
                if isinstance(sg, str) and sg:
                    peers.append(Peer("group", self.id_key(sg)))
            for attr, kind in aws_sg.SECURITY_GROUP_INGRESS.peers:
                if kind == "group":
                    continue  # security_groups, above
                peers.extend(Peer(kind, c) for c in _lst(ing.get(attr)) if isinstance(c, str))
                if self.is_unknown(r, "ingress", i, attr) or any(
                    self.is_unknown(r, "ingress", i, attr, j) for j in range(len(_lst(ing.get(attr))))
                ):
                    peers.append(
                        Peer("unknown", f"{r.address} ingress[{i}].{attr} is only known after apply")
                    )
            if self.is_unknown(r, "ingress", i, "security_groups") or any(
                self.is_unknown(r, "ingress", i, "security_groups", j)
                for j in range(len(_lst(ing.get("security_groups"))))
            ):
                peers.append(
                    Peer("unknown", f"{r.address} ingress[{i}].security_groups is only known after apply")
                )
            if ing.get("self") is True:
                peers.append(Peer("self"))
            desc = _str(ing.get("description"))
            for peer in peers:
                if (r.key, protocol, from_port, to_port, peer) in seen:
                    continue  # state mirrors separate rule resources here; keep the resource's name
                self.model.rules.append(
                    IngressRule(
                        r.key,
                        protocol,
                        from_port,
                        to_port,
                        peer,
                        f"{r.address} ingress[{i}]",
                        desc,
                        location=self.loc,
                        unresolved=unresolved,
                    )
                )

    def rule(self, r: _Res) -> list[IngressRule]:
        """Ingress rules of a rule resource; [] for egress."""
        shape = aws_sg.RULE_RESOURCES[r.type]
        v = r.values
        type_unknown = shape.typed and self.is_unknown(r, "type")
        if shape.typed and v.get("type") != "ingress" and not type_unknown:
            return []  # egress rules never admit the control plane
        target, target_why = self.rule_group(r)
        proto_attr = shape.protocol_attr
        protocol = _protocol(v.get(proto_attr))
        from_port, to_port = _port(v.get("from_port")), _port(v.get("to_port"))
        unknown_attrs = [a for a in (proto_attr, "from_port", "to_port") if self.is_unknown(r, a)]
        unresolved = f"{', '.join(unknown_attrs)} only known after apply" if unknown_attrs else None
        if protocol is None and unresolved is None:
            unresolved = f"{proto_attr} is not set"
        eks_key = self.eks_node_rule_key(r)
        peers: list[Peer] = []
        for attr in (a for a, kind in shape.peers if kind == "group"):
            if _str(v.get(attr)):
                peers.append(Peer("group", self.id_key(v[attr])))
            elif self.is_unknown(r, attr):
                peers.append(self.rule_source(r, attr, eks_key))
        for attr, kind in shape.peers:
            if kind == "group":
                continue  # above
            raw = v.get(attr)
            for c in raw if isinstance(raw, list) else [raw]:
                if isinstance(c, str) and c:
                    peers.append(Peer(kind, c))
            if self.is_unknown(r, attr) or (
                isinstance(raw, list) and any(self.is_unknown(r, attr, j) for j in range(len(raw)))
            ):
                peers.append(Peer("unknown", f"{r.address} {attr} is only known after apply"))
        if v.get("self") is True:
            peers.append(Peer("self"))
        elif self.is_unknown(r, "self"):
            peers.append(Peer("unknown", f"{r.address} self is only known after apply"))
        desc = _str(v.get("description"))
        default = (
            eks_key is not None and eks_key in _EKS_DEFAULT_SOURCE and eks_key not in self.eks_additional(r)
        )
        whys = [target_why] if target_why else []
        if type_unknown:
            whys.append("its type (ingress or egress) is only known after apply")
        conditional = "; ".join(whys) or None
        return [
            IngressRule(
                target,
                protocol,
                from_port,
                to_port,
                peer,
                r.address,
                desc,
                default=default,
                location=self.loc,
                unresolved=unresolved,
                conditional=conditional,
            )
            for peer in peers
        ]

    def eks_node_rule_key(self, r: _Res) -> str | None:
        """The for_each key of a terraform-aws-eks node rule (`aws_security_group_rule.node["..."]`)."""
        if r.name == "node" and isinstance(r.index, str) and self.is_eks_module(r.module):
            return r.index
        return None

    def eks_additional(self, r: _Res) -> dict[str, Any]:
        expr = _obj(
            _obj(self.module_call(r.module).get("expressions")).get("node_security_group_additional_rules")
        )
        return _obj(expr.get("constant_value"))

    def rule_group(self, r: _Res) -> tuple[str, str | None]:
        """(group key, None), or (UNKNOWN_GROUP, why): such a rule may belong to any group, the nodes'
        included, so it can only make a verdict unknown."""
        attr = "security_group_id"
        if _str(r.values.get(attr)):
            return self.id_key(r.values[attr]), None
        if not self.is_unknown(r, attr):
            return UNKNOWN_GROUP, f"its {attr} is not in the plan"
        if r.name in ("node", "cluster") and self.is_eks_module(r.module):
            # terraform-aws-eks: `node` rules belong to the node group, `cluster` rules to the cluster group.
            key, _ = self.eks_group(r.module, r.name, 0).single(f"{r.address} {attr}")
            if key:
                return key, None
        key, why = self.traced(r, (attr,), f"{r.address} {attr}").single(f"{r.address} {attr}")
        if key:
            return key, None
        return UNKNOWN_GROUP, f"its security group cannot be resolved ({why})"

    def rule_source(self, r: _Res, attr: str, eks_key: str | None) -> Peer:
        what = f"{r.address} {attr}"
        if eks_key is not None:
            additional_expr = _obj(
                _obj(self.module_call(r.module).get("expressions")).get(
                    "node_security_group_additional_rules"
                )
            )
            additional = _obj(additional_expr.get("constant_value"))
            p = _parent(r.module)
            call = f"module.{p[1]}" if p else r.module
            spec = additional.get(eks_key)
            source: str | None = None
            if isinstance(spec, dict):
                # v19.0.1+: source_cluster_security_group wins over source_security_group_id (sheet §4.1).
                if spec.get("source_cluster_security_group") is True:
                    source = "cluster"
                elif spec.get("self") is True:
                    source = "self"
                elif _str(spec.get("source_security_group_id")):
                    return Peer("group", self.id_key(spec["source_security_group_id"]))
            elif additional_expr and "constant_value" not in additional_expr:
                # The user's map is not a constant and might redefine this key; an instance with exactly
                # a default's protocol, ports and description is taken as that default.
                v = r.values
                shape = (
                    _protocol(v.get("protocol")),
                    _port(v.get("from_port")),
                    _port(v.get("to_port")),
                    _str(v.get("description")),
                )
                if shape not in _EKS_DEFAULT_SHAPE.get(eks_key, set()):
                    return Peer(
                        "unknown",
                        f"{what} is only known after apply, and {call} "
                        "node_security_group_additional_rules is built from references, which plan JSON "
                        "does not evaluate",
                    )
                source = _EKS_DEFAULT_SOURCE[eks_key]
            elif eks_key in _EKS_DEFAULT_SOURCE:
                source = _EKS_DEFAULT_SOURCE[eks_key]
            if source == "cluster":
                key, why = self.eks_group(r.module, "cluster", 0).single(f"{call} cluster security group")
                return Peer("group", key) if key else Peer("unknown", why or what)
            if source == "self":
                return Peer("self")
        key, why = self.traced(r, (attr,), what).single(what)
        return Peer("group", key) if key else Peer("unknown", why or f"{what} cannot be traced")

    # --- clusters ----------------------------------------------------------------------------------

    def cluster(self, c: _Res) -> Cluster:
        primary = f"{c.key}:primary"
        vpc = _first(c.values.get("vpc_config"))
        primary_id = _str(vpc.get("cluster_security_group_id"))
        groups = {
            primary: SecurityGroup(
                primary,
                "cluster primary security group (created by EKS)",
                location=self.loc,
                terraform_ref=f"{c.address}.vpc_config[0].cluster_security_group_id",
                aws_id=primary_id,
            )
        }
        extra = self.attr_groups(c, "vpc_config", 0, "security_group_ids")
        control_plane = [primary, *(k for k in extra.keys if k != primary)]
        why_unknown = None
        if extra.whys:
            why_unknown = (
                "the security groups of the control plane (vpc_config.security_group_ids) cannot all "
                "be traced: " + "; ".join(extra.whys)
            )
        placements = self.placements(c, primary)
        if not any(p.selectors is None for p in placements):
            placements.append(
                Placement(
                    f"nodes of {c.address}", [f"{UNRESOLVED}no node groups in the plan"], location=self.loc
                )
            )
        kind = "terraform plan" if self.is_plan else "terraform state"
        label = "planned values" if self.is_plan else "state"
        # No location: a fix's location says which block to edit, and plan JSON does not say which .tf
        # file holds the cluster.
        return Cluster(
            c.address,
            kind,
            [Scenario(label, control_plane, placements, [], groups)],
            self.fix_target(c, placements, primary, primary_id),
            None,
            why_unknown,
        )

    def belongs(self, res: _Res, c: _Res) -> bool:
        name = _str(c.values.get("name"))
        if name and res.values.get("cluster_name") == name:
            return True
        if _str(res.values.get("cluster_name")):
            return False
        # cluster_name only known after apply: terraform-aws-eks node groups and Fargate profiles live in
        # submodules of the module that holds the cluster.
        if c.module and self.is_eks_module(c.module) and res.module.startswith(c.module + ".module."):
            return len(self.in_module(c.module, "aws_eks_cluster", c.name)) == 1
        resolved = self.config_expr(res, "cluster_name")
        refs = _drop_implied(_lst(_obj(resolved).get("references")))
        return res.module == c.module and any(
            re.match(rf"^aws_eks_cluster\.{re.escape(c.name)}(\[|\.|$)", ref) for ref in refs
        )

    def placements(self, c: _Res, primary: str) -> list[Placement]:
        out: list[Placement] = []
        for ng in self.of_type("aws_eks_node_group"):
            if not self.belongs(ng, c):
                continue
            lt_block = ng.values.get("launch_template")
            if self.is_unknown(ng, "launch_template") and not lt_block:
                out.append(
                    Placement(
                        ng.address,
                        [f"{UNRESOLVED}its launch template is only known after apply"],
                        location=self.loc,
                    )
                )
                continue
            if not _lst(lt_block) and not isinstance(lt_block, dict):
                # EKS docs (launch-templates): without a launch template, managed nodes get the cluster
                # security group.
                out.append(
                    Placement(
                        ng.address,
                        [primary],
                        opens_all=f"has no launch template, so it {_OPENS_PRIMARY}",
                        location=self.loc,
                    )
                )
                continue
            out.append(
                self.template_placement(ng, ("launch_template",), _first(lt_block), primary, managed=True)
            )
        for fp in self.of_type("aws_eks_fargate_profile"):
            if not self.belongs(fp, c):
                continue
            selectors: list[tuple[str, dict[str, str]]] = []
            for sel in _lst(fp.values.get("selector")):
                sel = _obj(sel)
                if isinstance(sel.get("namespace"), str):
                    labels = {str(k): str(v) for k, v in _obj(sel.get("labels")).items()}
                    selectors.append((sel["namespace"], labels))
            # EKS docs (sec-group-reqs): Fargate pods get the cluster security group.
            out.append(
                Placement(
                    fp.address,
                    [primary],
                    opens_all="Fargate pods use the cluster primary security "
                    "group, which admits all traffic from the control plane",
                    selectors=selectors,
                    location=self.loc,
                )
            )
        for asg in self.of_type("aws_autoscaling_group"):
            if not self.asg_belongs(asg, c):
                continue
            lt = _first(asg.values.get("launch_template"))
            path: tuple[str | int, ...] = ("launch_template",)
            if not lt:
                path = ("mixed_instances_policy", 0, "launch_template", 0, "launch_template_specification")
                spec = _first(
                    _first(_first(asg.values.get("mixed_instances_policy")).get("launch_template")).get(
                        "launch_template_specification"
                    )
                )
                lt = (
                    {"id": spec.get("launch_template_id"), "name": spec.get("launch_template_name")}
                    if spec
                    else {}
                )
            if not lt and (lc := self.find_launch_configuration(asg)) is not None:
                # Classic self-managed workers: the instances carry the configuration's security_groups.
                resolved = self.attr_groups(lc, "security_groups")
                keys = [*resolved.keys, *(f"{UNRESOLVED}{w}" for w in resolved.whys)]
                if not keys:
                    keys = [
                        f"{UNRESOLVED}{lc.address} names no security group, so the instances get the VPC's "
                        "default security group, which is not in the plan"
                    ]
                out.append(Placement(asg.address, keys, location=self.loc))
                continue
            if not lt:
                out.append(
                    Placement(
                        asg.address,
                        [
                            f"{UNRESOLVED}it uses no launch template or launch configuration vizdoctor can read"
                        ],
                        location=self.loc,
                    )
                )
                continue
            out.append(self.template_placement(asg, path, lt, primary, managed=False))
        return out

    def find_launch_configuration(self, asg: _Res) -> _Res | None:
        """The `aws_launch_configuration` of an Auto Scaling group: by its planned name, else by the
        reference in the configuration (names from `name_prefix` are only known after apply)."""
        configs = self.of_type("aws_launch_configuration")
        name = _str(asg.values.get("launch_configuration"))
        found = [lc for lc in configs if name and lc.values.get("name") == name]
        if len(found) == 1:
            return found[0]
        expr = self.config_expr(asg, "launch_configuration")
        for ref in _drop_implied(_lst(_obj(expr).get("references"))):
            m = _REF.match(ref)
            if m and m.group("type") == "aws_launch_configuration":
                found = [
                    lc
                    for lc in self.in_module(asg.module, "aws_launch_configuration", m.group("name"))
                    if not m.group("index") or lc.local.endswith(m.group("index"))
                ]
                if len(found) == 1:
                    return found[0]
        return None

    def asg_belongs(self, asg: _Res, c: _Res) -> bool:
        if c.module and self.is_eks_module(c.module) and asg.module.startswith(c.module + ".module."):
            return len(self.in_module(c.module, "aws_eks_cluster", c.name)) == 1
        name = _str(c.values.get("name"))
        # Self-managed nodes carry the tag kubernetes.io/cluster/<name> (EKS docs, worker nodes).
        tags = [_obj(t).get("key") for t in _lst(asg.values.get("tag"))]
        tags += list(_obj(asg.values.get("tags")).keys())
        return bool(name) and f"kubernetes.io/cluster/{name}" in tags

    def find_template(self, owner: _Res, path: tuple[str | int, ...], lt: dict[str, Any]) -> _Res | str:
        templates = self.of_type("aws_launch_template")
        lt_id, lt_name = _str(lt.get("id")), _str(lt.get("name"))
        if lt_id:
            found = [t for t in templates if t.values.get("id") == lt_id]
            return found[0] if found else f"its launch template {lt_id} is not in the plan"
        if lt_name:
            found = [t for t in templates if t.values.get("name") == lt_name]
            return found[0] if found else f"its launch template {lt_name} is not in the plan"
        if self.eks_node_group_call(owner.module) is not None:
            # modules/eks-managed-node-group/main.tf: launch_template_name =
            #   try(aws_launch_template.this[0].name, var.launch_template_name, null)
            found = self.in_module(owner.module, "aws_launch_template", "this")
            if len(found) == 1:
                return found[0]
        for attr in ("id", "name", "launch_template_id", "launch_template_name"):
            expr = self.config_expr(owner, *path, 0, attr) or self.config_expr(owner, *path, attr)
            for ref in _drop_implied(_lst(_obj(expr).get("references"))):
                m = _REF.match(ref)
                if m and m.group("type") == "aws_launch_template":
                    idx = m.group("index") or ""
                    found = [
                        t
                        for t in self.in_module(owner.module, "aws_launch_template", m.group("name"))
                        if not idx or t.local.endswith(idx)
                    ]
                    if len(found) == 1:
                        return found[0]
        return "its launch template is only known after apply and cannot be traced in the configuration"

    def template_placement(
        self, owner: _Res, path: tuple[str | int, ...], lt: dict[str, Any], primary: str, managed: bool
    ) -> Placement:
        tmpl = self.find_template(owner, path, lt)
        if isinstance(tmpl, str):
            return Placement(owner.address, [f"{UNRESOLVED}{tmpl}"], location=self.loc)
        resolved = self.attr_groups(tmpl, "vpc_security_group_ids")
        for i, _ in enumerate(_lst(tmpl.values.get("network_interfaces"))):
            resolved.add(self.attr_groups(tmpl, "network_interfaces", i, "security_groups"))
        keys = [*resolved.keys, *(f"{UNRESOLVED}{w}" for w in resolved.whys)]
        if primary in keys:
            return Placement(
                owner.address, keys, opens_all=f"{_OPENS_PRIMARY} (through {tmpl.address})", location=self.loc
            )
        if not keys:
            if managed:
                # EKS docs (launch-templates): a launch template without security groups gets the cluster
                # security group on managed nodes.
                return Placement(
                    owner.address,
                    [primary],
                    opens_all=f"its launch template {tmpl.address} names "
                    f"no security group, so EKS gives its nodes the cluster primary security group, "
                    "which admits all traffic from the control plane",
                    location=self.loc,
                )
            return Placement(
                owner.address,
                [
                    f"{UNRESOLVED}its launch template {tmpl.address} names no security "
                    "group, so its instances get the VPC's default security group"
                ],
                location=self.loc,
            )
        return Placement(owner.address, keys, location=self.loc)

    def fix_target(
        self, c: _Res, placements: list[Placement], primary: str, primary_id: str | None
    ) -> FixTarget:
        node_key = next(
            (
                k
                for p in placements
                if not p.opens_all
                for k in p.groups
                if k != primary and not k.startswith(UNRESOLVED)
            ),
            None,
        )
        node_id = None
        if node_key is not None:
            g = self.model.groups.get(node_key)
            node_id = g.aws_id if g else (node_key if node_key.startswith("sg-") else None)
        p = _parent(c.module) if c.module else None
        if (
            p is not None
            and self.looks_like_eks(c.module)
            and self.in_module(c.module, "aws_security_group", "node")
        ):
            own_node = self.in_module(c.module, "aws_security_group", "node")[0]
            cluster_sg = self.in_module(c.module, "aws_security_group", "cluster")
            return FixTarget(
                "module",
                module=p[1],
                node_group_ref=f"module.{p[1]}.node_security_group_id",
                source_group_ref=f"module.{p[1]}.cluster_security_group_id",
                node_group_id=_str(own_node.values.get("id")) or "<node-security-group-id>",
                source_group_id=(_str(cluster_sg[0].values.get("id")) if cluster_sg else None)
                or "<cluster-security-group-id>",
            )
        node_ref = "<node-security-group-id>"
        if node_key is not None:
            address = self.sg_address.get(node_key)
            node_ref = f"{address}.id" if address else f'"{node_key}"'
        return FixTarget(
            "raw",
            node_group_ref=node_ref,
            source_group_ref=f"{c.address}.vpc_config[0].cluster_security_group_id",
            node_group_id=node_id or "<node-security-group-id>",
            source_group_id=primary_id or "<cluster-security-group-id>",
        )


def read_plan(path: str, data: dict[str, Any], model: NetworkModel, problems: list[Problem]) -> None:
    """Read `terraform show -json` output (a plan or a state) into `model`; problems, never exceptions."""
    version = data.get("format_version")
    # "Reject any input which reports an unsupported major version" (json-format, format_version).
    if not isinstance(version, str) or version.split(".")[0] != "1":
        problems.append(
            Problem(
                path,
                None,
                f"terraform JSON format_version {version!r} is not supported "
                "(vizdoctor reads format 1.x, from `terraform show -json`)",
            )
        )
        return
    is_plan = "planned_values" in data
    values = data.get("planned_values") if is_plan else data.get("values")
    if values is None and not is_plan:
        problems.append(
            Problem(
                path,
                None,
                "terraform show -json output without `values` or `planned_values` "
                "(an empty state?): no resources to read",
            )
        )
        return
    if not isinstance(values, dict):
        what = "planned_values" if is_plan else "values"
        problems.append(
            Problem(path, None, f"`{what}` is not an object, so this terraform JSON cannot be read")
        )
        return
    if "root_module" in values and not isinstance(values["root_module"], dict):
        problems.append(
            Problem(path, None, "`root_module` is not an object, so this terraform JSON cannot be read")
        )
        return
    if is_plan and "configuration" in data and not isinstance(data["configuration"], dict):
        problems.append(
            Problem(
                path, None, "`configuration` is not an object; values only known after apply cannot be traced"
            )
        )
    reader = _Reader(path, data, model, problems, values, is_plan)
    reader.build()
