"""Terraform HCL -> network model: the readers' entry point.

The work is split by what is read: `tf_hcl` (files, tfvars, the module lock, the offline scope, shared
helpers), `tf_eks` (the terraform-aws-eks module and its sub-modules), `tf_raw` (raw AWS resources); this
module wires local child modules to their callers and runs the readers over each configuration.

Reads one configuration directory at a time (all its `.tf` files, `*.tfvars`, and the module lock in
`.terraform/modules/modules.json`), then builds:
- a `Cluster` for each terraform-aws-eks module call, one `Scenario` per group of module releases
  the version constraint admits (knowledge/eks_module.py);
- groups and rules for raw `aws_security_group` (inline `ingress`), `aws_security_group_rule` and
  `aws_vpc_security_group_ingress_rule` resources;
- a `Cluster` for a raw `aws_eks_cluster` with its `aws_eks_node_group`s.
"""

from __future__ import annotations

from typing import Any

from vizdoctor.network.model import NetworkModel
from vizdoctor.sources.tf_eval import is_known
from vizdoctor.sources.tf_hcl import (
    HCL_BLOCKS_READ,
    MAX_HCL_CHARS,
    TfDir,
    TfFile,
    _blocks,
    apply_cli_vars,
    build_scope,
    parse_hcl,
    read_modules_json,
    read_tfvars_json,
)
from vizdoctor.sources.tf_raw import (
    _instances,
    _load_instances,
    _local_source,
)

# The readers' entry points, re-exported: the loader and the tests know this module by its old name.
__all__ = [
    "HCL_BLOCKS_READ",
    "MAX_HCL_CHARS",
    "TfDir",
    "TfFile",
    "apply_cli_vars",
    "build_scope",
    "load_dir",
    "load_dirs",
    "parse_hcl",
    "read_modules_json",
    "read_tfvars_json",
]


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


def known(value: Any) -> bool:
    return is_known(value)
