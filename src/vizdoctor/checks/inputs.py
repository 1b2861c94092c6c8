"""input-unreadable: a file that could not be parsed; the rest of the inputs is still analysed."""

from __future__ import annotations

from vizdoctor.checks.context import Context
from vizdoctor.findings import Finding
from vizdoctor.location import Location
from vizdoctor.remediation import inputs as fix

CHECK_ID = "input-unreadable"


def check(ctx: Context) -> list[Finding]:
    return [
        Finding(
            CHECK_ID,
            "warning",
            "inputs",
            f"{Location(p.path, p.line)} cannot be read",
            f"{Location(p.path, p.line)}: {p.message}. Everything else was analysed; "
            + (
                "objects in this part of the file were not."
                if p.partial
                else "nothing in this file was (the whole file was left out)."
            ),
            p.hint or fix.SYNTAX,
            location=Location(p.path, p.line),
        )
        for p in ctx.inventory.problems
    ]
