"""What every check receives: the inventory, the control-plane paths, and where to record passes."""

from __future__ import annotations

from dataclasses import dataclass, field

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
