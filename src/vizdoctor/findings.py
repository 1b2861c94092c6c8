"""Findings: what checks report and renderers print. Every finding's check id is in the catalogue, which
gives its default category and severity and its documentation."""

from __future__ import annotations

from dataclasses import dataclass, field

from vizdoctor.catalogue import SEVERITIES, CheckSpec, Severity, spec
from vizdoctor.location import Location
from vizdoctor.model import ObjectRef

__all__ = ["SEVERITIES", "Finding", "Fix", "Severity", "new"]


@dataclass(slots=True)
class Fix:
    terraform: str | None = None
    aws_cli: str | None = None
    where: Location | None = None  # the block the Terraform belongs in
    note: str | None = None
    manifest: str | None = None  # a corrected Kubernetes manifest (or Helm values) for the object


@dataclass(slots=True)
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
    notes: list[str] = field(default_factory=list)  # further facts about the object, shown after the message

    def __post_init__(self) -> None:
        # A finding the catalogue does not describe would have no docs and no SARIF rule: fail loudly in tests.
        s = spec(self.check)
        if self.severity not in s.severities:
            raise ValueError(f"{self.check}: severity {self.severity!r} is not one of {s.severities}")
        if self.category not in s.categories:
            raise ValueError(f"{self.check}: category {self.category!r} is not one of {s.categories}")

    @property
    def spec(self) -> CheckSpec:
        return spec(self.check)

    @property
    def docs_url(self) -> str:
        return self.spec.docs_url

    @property
    def full_message(self) -> str:
        """The message with the notes about the object, as printed."""
        return self.message + (f" Also: {'; '.join(self.notes)}." if self.notes else "")


def new(
    check: str,
    title: str,
    message: str,
    hint: str,
    *,
    severity: Severity | None = None,
    category: str | None = None,
    object: ObjectRef | None = None,
    location: Location | None = None,
    fix: Fix | None = None,
    hint_url: str | None = None,
    extra: dict[str, str] | None = None,
) -> Finding:
    """A finding with its category and severity taken from the catalogue unless given."""
    s = spec(check)
    return Finding(
        check,
        severity or s.severity,
        category or s.category,
        title,
        message,
        hint,
        object=object,
        location=location,
        fix=fix,
        hint_url=hint_url,
        extra=dict(extra or {}),
    )
