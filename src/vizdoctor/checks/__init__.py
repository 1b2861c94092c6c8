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
        kubelet_port,
        linkerd_live,
        live_access,
        live_apiservices,
        live_webhooks,
        mesh_policy,
        network_policy,
        pod_network,
        terraform_notes,
        webhook_timeout,
    )

    return [
        inputs.check,
        control_plane.check,
        terraform_notes.check,
        exposure.check,  # scan and check: routes to the viz dashboard
        pod_network.check,  # scan and check: what stands between the control plane and the pods
        network_policy.check,
        kubelet_port.check,
        mesh_policy.check,
        webhook_timeout.check,
        # `vizdoctor check` only: they return nothing when inventory.live is None
        live_access.check,
        live_apiservices.check,
        live_webhooks.check,
        linkerd_live.check,
    ]


INTERNAL_ERROR = "internal-error"


def run_checks(ctx: Context) -> list[Finding]:
    """Run every check; one that raises becomes an `internal-error` finding and the others still run."""
    findings: list[Finding] = []
    for check in all_checks():
        try:
            findings.extend(check(ctx))
        except Exception as exc:  # isolation: one broken check never costs the rest of the report
            name = f"{check.__module__.rsplit('.', 1)[-1]}.{check.__name__}"
            findings.append(
                Finding(
                    INTERNAL_ERROR,
                    "error",
                    "internal errors",
                    f"check {name} failed",
                    f"The check {name} stopped with {type(exc).__name__}: {exc}. Its findings are missing from "
                    "this report; every other check ran.",
                    "This is a bug in vizdoctor: please report it with the inputs (or the smallest part of "
                    "them that shows it).",
                    extra={"check_function": name},
                )
            )
    return findings
