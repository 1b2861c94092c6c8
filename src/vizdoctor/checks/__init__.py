"""Checks: each module turns the inventory and paths into findings. Add a module, list it here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vizdoctor.findings import Finding
from vizdoctor.model import Inventory
from vizdoctor.paths import ControlPlanePath


@dataclass(frozen=True)
class Passed:
    """A check that ran and found nothing wrong (printed as √, like `linkerd check`)."""

    category: str
    title: str


@dataclass
class Context:
    inventory: Inventory
    paths: list[ControlPlanePath]
    passed: list[Passed] = field(default_factory=list)


Check = Callable[[Context], list[Finding]]


def all_checks() -> list[Check]:
    from vizdoctor.checks import control_plane, inputs, terraform_notes

    return [inputs.check, control_plane.check, terraform_notes.check]


def run_checks(ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for check in all_checks():
        findings.extend(check(ctx))
    return findings
