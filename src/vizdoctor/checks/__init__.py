"""Checks: each module turns the inventory and paths into findings. Add a module, list it here."""

from __future__ import annotations

from collections.abc import Callable

from vizdoctor.checks.context import Context, Passed
from vizdoctor.findings import Finding

__all__ = ["Check", "Context", "Passed", "all_checks", "run_checks"]


Check = Callable[[Context], list[Finding]]


def all_checks() -> list[Check]:
    from vizdoctor.checks import (
        control_plane,
        exposure,
        inputs,
        linkerd_live,
        live_access,
        live_apiservices,
        live_webhooks,
        terraform_notes,
    )

    return [
        inputs.check,
        control_plane.check,
        terraform_notes.check,
        exposure.check,  # scan and check: routes to the viz dashboard
        # `vizdoctor check` only: they return nothing when inventory.live is None
        live_access.check,
        live_apiservices.check,
        live_webhooks.check,
        linkerd_live.check,
    ]


def run_checks(ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for check in all_checks():
        findings.extend(check(ctx))
    return findings
