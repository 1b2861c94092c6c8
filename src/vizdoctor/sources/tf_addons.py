"""The EKS VPC CNI add-on's network policy switch, as the Terraform declares it.

The VPC CNI enforces NetworkPolicies only with `enableNetworkPolicy: "true"` in the add-on's configuration
(docs.aws.amazon.com/eks cni-network-policy-configure; the add-on runs `aws-network-policy-agent` with
`--enable-network-policy=true`). Terraform sets it in the terraform-aws-eks module's `cluster_addons` (v20 and
before) or `addons` (v21) map, key `vpc-cni`, `configuration_values = jsonencode({enableNetworkPolicy =
"true"})`, or in a raw `aws_eks_addon` with `addon_name = "vpc-cni"`. python-hcl2 keeps `jsonencode(...)` as
text, so the setting is found in that text; anything it cannot see stays unknown.
"""

from __future__ import annotations

import re
from typing import Any

from vizdoctor.network.model import NetworkModel

EKS_MODULE = re.compile(r"terraform-aws-modules/eks/aws(?://)?$|^(?:git::)?.*terraform-aws-eks")
ADDON_MAPS = ("cluster_addons", "addons")
VPC_CNI = "vpc-cni"
ENABLED = re.compile(r"enableNetworkPolicy\W{0,6}(?:true)\b", re.IGNORECASE)


def _enabled(config: Any) -> bool:
    return bool(ENABLED.search(str(config))) if config is not None else False


def eks_addon_enforcers(insts: list[Any], model: NetworkModel) -> None:
    for inst in insts:
        for f in inst.d.files:
            for entry in f.body.get("module", []) or []:
                if not isinstance(entry, dict):
                    continue
                for name, block in entry.items():
                    if not isinstance(block, dict) or not EKS_MODULE.search(str(block.get("source", ""))):
                        continue
                    for arg in ADDON_MAPS:
                        addons = block.get(arg)
                        addon = addons.get(VPC_CNI) if isinstance(addons, dict) else None
                        if isinstance(addon, dict) and _enabled(addon.get("configuration_values")):
                            model.policy_enforcers.append(
                                f'the AWS VPC CNI with enableNetworkPolicy (module.{name} {arg}["{VPC_CNI}"], {f.path})'
                            )
            for entry in f.body.get("resource", []) or []:
                if not isinstance(entry, dict) or not isinstance(entry.get("aws_eks_addon"), dict):
                    continue
                for name, block in entry["aws_eks_addon"].items():
                    if (
                        isinstance(block, dict)
                        and block.get("addon_name") == VPC_CNI
                        and _enabled(block.get("configuration_values"))
                    ):
                        model.policy_enforcers.append(
                            f"the AWS VPC CNI with enableNetworkPolicy (aws_eks_addon.{name}, {f.path})"
                        )
