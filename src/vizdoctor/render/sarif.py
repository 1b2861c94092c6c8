"""SARIF 2.1.0 for GitHub code scanning (shared/knowledge/peers.md §4.2): stable ruleIds, file and
line locations where the finding came from a file, a logical location otherwise."""

from __future__ import annotations

import json
from typing import Any

from vizdoctor import __version__
from vizdoctor.findings import Finding
from vizdoctor.report import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_RULES = {
    "control-plane-unreachable": "The kube-apiserver cannot reach a webhook or aggregated API pod",
    "control-plane-path-unknown": "Whether the kube-apiserver reaches a webhook or aggregated API is undecided",
    "input-unreadable": "An input file could not be parsed",
    "internal-error": "A check failed inside vizdoctor; the other checks ran",
    "duplicate-rule-key": "A security-group rule key is declared more than once",
    "module-rules-ignored": "Module rules that the module will not create",
    "apiservice-unavailable": "An APIService is not Available",
    "webhook-no-endpoints": "A webhook's Service has no ready endpoint on its target port",
    "cannot-read": "A kind could not be read from the cluster",
    "aws-network-not-read": "The AWS network could not be read",
    "dashboard-host-rejected": "The viz web pod rejects the Host the route sends",
    "dashboard-origin-rejected": "The /api/tap websocket upgrade is refused: Host rewritten, Origin kept",
    "dashboard-snippet-disallowed": "The route relies on a snippet the ingress controller drops or refuses",
    "dashboard-idle-timeout": "A proxy idle timeout under one hour cuts idle Tap streams",
    "dashboard-unauthenticated": "The dashboard is reachable from outside with no authentication",
    "dashboard-no-tls": "The dashboard is served without TLS",
    "ingress-nginx-retired": "ingress-nginx is retired",
}


def _docs(report: Report, check: str) -> str:
    return next((f.docs_url for f in report.findings if f.check == check), f"docs/checks.md#{check}")


def _title(report: Report, check: str) -> str:
    return next((f.title for f in report.findings if f.check == check), check)


def _result(f: Finding) -> dict[str, Any]:
    res: dict[str, Any] = {
        "ruleId": f.check,
        "level": _LEVEL[f.severity],
        "message": {"text": f"{f.title}: {f.message}"},
        "partialFingerprints": {"vizdoctor/v1": f"{f.check}:{f.title}"},
    }
    if f.location:
        region = {"startLine": f.location.line} if f.location.line else None
        phys: dict[str, Any] = {"artifactLocation": {"uri": f.location.path}}
        if region:
            phys["region"] = region
        res["locations"] = [{"physicalLocation": phys}]
    elif f.object:
        res["locations"] = [{"logicalLocations": [{"fullyQualifiedName": str(f.object), "kind": "object"}]}]
    if f.fix and f.fix.terraform:
        res["properties"] = {"fix_terraform": f.fix.terraform, "fix_aws_cli": f.fix.aws_cli}
    return res


def render(report: Report) -> str:
    used = sorted({f.check for f in report.findings})
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "vizdoctor",
                        "version": __version__,
                        "informationUri": "https://github.com/vizdoctor/vizdoctor",
                        "rules": [
                            {
                                "id": r,
                                "name": r,
                                "shortDescription": {"text": _RULES.get(r, _title(report, r))},
                                "helpUri": _docs(report, r),
                            }
                            for r in used
                        ],
                    }
                },
                "results": [_result(f) for f in report.findings],
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
