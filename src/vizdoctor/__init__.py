"""vizdoctor: why the kube-apiserver cannot reach a webhook or aggregated API, and the fix.

The library API (the CLI is argument parsing and rendering around it):

    import vizdoctor
    report = vizdoctor.scan(["infra/", "manifests/"])          # offline: manifests + Terraform
    report = vizdoctor.check(vizdoctor.CheckOptions(context="prod"))  # live cluster, read-only
    explanation = vizdoctor.explainer("Websocket close error [1011: Internal Error] ...")
    result = vizdoctor.prober(vizdoctor.ProbeOptions(url="https://dashboard.example.com/"))

Every error is a `vizdoctor.VizdoctorError`. Names are loaded on first use, so `import vizdoctor` stays
cheap for the commands that need none of them.
"""

from __future__ import annotations

import importlib

# not `from typing import TYPE_CHECKING`: importing typing is most of what `vizdoctor --version` would cost
# (mypy treats a name TYPE_CHECKING as the typing constant)
TYPE_CHECKING = False

__version__ = "0.1.0"

# name -> (module, attribute)
_EXPORTS: dict[str, tuple[str, str]] = {
    "scan": ("vizdoctor.report", "scan"),
    "analyse": ("vizdoctor.report", "analyse"),
    "Report": ("vizdoctor.report", "Report"),
    "check": ("vizdoctor.live", "check"),
    "CheckOptions": ("vizdoctor.live", "CheckOptions"),
    "explain": ("vizdoctor.explainer", "classify"),
    "Explanation": ("vizdoctor.explainer", "Explanation"),
    "probe": ("vizdoctor.prober.run", "run_probe"),
    "ProbeOptions": ("vizdoctor.prober.model", "ProbeOptions"),
    "ProbeResult": ("vizdoctor.prober.model", "ProbeResult"),
    "Finding": ("vizdoctor.findings", "Finding"),
    "Fix": ("vizdoctor.findings", "Fix"),
    "CheckSpec": ("vizdoctor.catalogue", "CheckSpec"),
    "CATALOGUE": ("vizdoctor.catalogue", "CATALOGUE"),
    "VizdoctorError": ("vizdoctor.errors", "VizdoctorError"),
    "UsageError": ("vizdoctor.errors", "UsageError"),
    "NoInput": ("vizdoctor.errors", "NoInput"),
    "ClusterUnreachable": ("vizdoctor.errors", "ClusterUnreachable"),
    "ProbeUsageError": ("vizdoctor.errors", "ProbeUsageError"),
}
__all__ = [
    "CATALOGUE",
    "CheckOptions",
    "CheckSpec",
    "ClusterUnreachable",
    "Explanation",
    "Finding",
    "Fix",
    "NoInput",
    "ProbeOptions",
    "ProbeResult",
    "ProbeUsageError",
    "Report",
    "UsageError",
    "VizdoctorError",
    "__version__",
    "analyse",
    "check",
    "explain",
    "probe",
    "scan",
]

if TYPE_CHECKING:
    from typing import Any

    from vizdoctor.catalogue import CATALOGUE, CheckSpec
    from vizdoctor.errors import ClusterUnreachable, NoInput, ProbeUsageError, UsageError, VizdoctorError
    from vizdoctor.explainer import Explanation
    from vizdoctor.explainer import classify as explain
    from vizdoctor.findings import Finding, Fix
    from vizdoctor.live import CheckOptions, check
    from vizdoctor.prober.model import ProbeOptions, ProbeResult
    from vizdoctor.prober.run import run_probe as probe
    from vizdoctor.report import Report, analyse, scan


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'vizdoctor' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
