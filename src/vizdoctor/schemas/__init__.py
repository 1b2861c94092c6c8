"""The published output contract: JSON Schemas of every command's `-o json` output ("vizdoctor/v1").

The version changes only when a field is removed or renamed, or its meaning or type changes; adding a
field, a check id, a cause or an enum value is compatible and keeps "vizdoctor/v1" (README, "JSON output").
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA = "vizdoctor/v1"
COMMAND_SCHEMAS = {"scan": "report", "check": "report", "explain": "explain", "probe": "probe"}


def load(name: str) -> dict[str, Any]:
    """The JSON Schema `name` (report, explain or probe)."""
    text = resources.files("vizdoctor.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
