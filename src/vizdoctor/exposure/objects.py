"""Typed access to the raw objects the exposure checks read (manifests or live), namespaces resolved."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from vizdoctor.location import Location
from vizdoctor.model import Inventory, RawObject

HELM_VALUES_KIND = "HelmValues"  # pseudo-kind: a `--values FILE` (see vizdoctor.exposure.values)
HELM_VALUES_API = "vizdoctor.local/v1"


def get(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    """A scalar as Kubernetes would read it into a string field; None for missing or structured values."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Obj:
    """One object with its namespace resolved (the scan's default namespace when the document has none)."""

    raw: RawObject
    namespace: str

    @cached_property
    def doc(self) -> dict[str, Any]:
        # unpacked once per Obj (scan keeps RawObjects packed): kind, group, spec and labels read it
        return self.raw.doc

    @property
    def name(self) -> str:
        return self.raw.name

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind", ""))

    @property
    def location(self) -> Location | None:
        return self.raw.location

    @property
    def group(self) -> str | None:
        """API group from apiVersion; None when the document does not say (live list items)."""
        api = self.doc.get("apiVersion")
        if not isinstance(api, str):
            return None
        return api.split("/", 1)[0] if "/" in api else ""

    @property
    def spec(self) -> dict[str, Any]:
        return as_dict(self.doc.get("spec"))

    @property
    def labels(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in as_dict(get(self.doc, "metadata", "labels")).items()}

    @property
    def annotations(self) -> dict[str, str]:
        return {
            str(k): t
            for k, v in as_dict(get(self.doc, "metadata", "annotations")).items()
            if (t := text(v)) is not None
        }

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class Objects:
    """The inventory's raw objects, by kind, with namespaces resolved."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.default_namespace = _default_namespace(inv)

    def of(self, kind: str, *groups: str) -> Iterator[Obj]:
        """Objects of a kind; with groups, only those whose apiVersion names one of them (or none)."""
        for raw in self.inv.objects.get(kind, []):
            obj = Obj(raw, raw.namespace or self.default_namespace)
            if groups and obj.group is not None and obj.group not in groups:
                continue
            yield obj

    def find(self, kind: str, namespace: str | None, name: str, *groups: str) -> Obj | None:
        for obj in self.of(kind, *groups):
            if obj.name == name and (namespace is None or obj.namespace == namespace):
                return obj
        return None


def _default_namespace(inv: Inventory) -> str:
    """The namespace the scan gave objects that name none (`scan -n`)."""
    return inv.default_namespace


def parse_duration_s(value: Any) -> float | None:
    """Go/Kubernetes duration (`1h`, `300s`, `5m`, `1h30m`, `0s`) or bare seconds, in seconds; None if not one.
    `infinity` / `infinite` (Contour) is returned as float('inf')."""
    t = text(value)
    if t is None:
        return None
    t = t.strip().lower()
    if t in ("infinity", "infinite"):
        return float("inf")
    try:
        return float(t)
    except ValueError:
        pass
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total = 0.0
    num = ""
    i = 0
    if not t:
        return None
    while i < len(t):
        c = t[i]
        if c.isdigit() or c == ".":
            num += c
            i += 1
            continue
        unit = "ms" if t.startswith("ms", i) else c
        if unit not in units or not num:
            return None
        total += float(num) * units[unit]
        num = ""
        i += len(unit)
    if num:
        return None
    return total


def version_of(tag: str) -> tuple[int, int, int] | None:
    """`v1.12.1`, `1.12.1@sha256:...`, `controller-v1.9.0` -> (1, 12, 1)."""
    m = re.search(r"v?(\d+)\.(\d+)(?:\.(\d+))?", tag)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
