"""Findings about the Terraform itself (duplicated rule keys, rules the module ignores)."""

from __future__ import annotations

from vizdoctor.checks import Context
from vizdoctor.findings import Finding

_HINTS = {
    "duplicate-rule-key": "Give every entry of node_security_group_additional_rules its own key.",
    "module-rules-ignored": "Put the rules on the security group you pass in (node_security_group_id), or let "
    "the module create the node security group.",
}


def check(ctx: Context) -> list[Finding]:
    return [
        Finding(
            n.check,
            n.severity,
            "terraform",
            n.message.split(";")[0],
            n.message,
            _HINTS.get(n.check, ""),
            location=n.location,
        )
        for n in ctx.inventory.network.notes
    ]
