"""`terraform show -json` plan or state files -> network model (placeholder until implemented)."""

from __future__ import annotations

from typing import Any

from vizdoctor.model import Problem
from vizdoctor.network.model import NetworkModel


def read_plan(path: str, data: dict[str, Any], model: NetworkModel, problems: list[Problem]) -> None:
    problems.append(Problem(path, None, "terraform plan/state JSON is not read yet"))
