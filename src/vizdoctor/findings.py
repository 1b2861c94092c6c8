"""Findings: what checks report and renderers print."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vizdoctor.location import Location
from vizdoctor.model import ObjectRef

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
DOCS = "docs/checks.md"  # shipped in the repository; anchors are check ids
# Checks documented in a page of their own.
DOCS_PAGES = {"dashboard-": "docs/exposure.md", "ingress-nginx-retired": "docs/exposure.md"}


@dataclass
class Fix:
    terraform: str | None = None
    aws_cli: str | None = None
    where: Location | None = None  # the block the Terraform belongs in
    note: str | None = None


@dataclass
class Finding:
    check: str
    severity: Severity
    category: str
    title: str  # one line, like a `linkerd check` description
    message: str
    hint: str
    object: ObjectRef | None = None
    location: Location | None = None
    fix: Fix | None = None
    hint_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def docs_url(self) -> str:
        page = next((p for prefix, p in DOCS_PAGES.items() if self.check.startswith(prefix)), DOCS)
        return f"{page}#{self.check}"
