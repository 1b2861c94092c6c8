"""`vizdoctor probe URL`: do what the dashboard does, from the user's machine, step by step."""

from __future__ import annotations

from vizdoctor.prober.model import ProbeOptions, ProbeResult, ProbeUsageError, Step
from vizdoctor.prober.run import run_probe

__all__ = ["ProbeOptions", "ProbeResult", "ProbeUsageError", "Step", "run_probe"]
