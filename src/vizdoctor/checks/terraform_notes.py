"""Findings about the Terraform itself (duplicated rule keys, rules the module ignores)."""

from __future__ import annotations

from vizdoctor.catalogue import spec
from vizdoctor.checks.context import Context
from vizdoctor.findings import Finding, new


def check(ctx: Context) -> list[Finding]:
    return [
        new(
            n.check,
            n.message.split(";")[0],
            n.message,
            spec(n.check).remediation,
            severity=n.severity,
            location=n.location,
        )
        for n in ctx.inventory.network.notes
    ]
