"""Checks: each module turns the inventory and paths into findings. Add a module, list it here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vizdoctor.findings import Finding
from vizdoctor.model import Inventory
from vizdoctor.paths import ControlPlanePath


@dataclass
class Context:
    inventory: Inventory
    paths: list[ControlPlanePath]


Check = Callable[[Context], list[Finding]]


def all_checks() -> list[Check]:
    from vizdoctor.checks import control_plane, inputs, terraform_notes

    return [inputs.check, control_plane.check, terraform_notes.check]


def run_checks(ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for check in all_checks():
        findings.extend(check(ctx))
    return findings
