"""SARIF 2.1.0 for GitHub code scanning (shared/knowledge/peers.md §4.2): stable ruleIds, file and
line locations where the finding came from a file, a logical location otherwise."""

from __future__ import annotations

import json
from typing import Any

from vizdoctor import __version__
from vizdoctor.catalogue import CATALOGUE, PROJECT_URL, CheckSpec
from vizdoctor.findings import Finding
from vizdoctor.report import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def rule(spec: CheckSpec) -> dict[str, Any]:
    """A SARIF reportingDescriptor, all from the catalogue (GitHub code scanning reads every field below)."""
    return {
        "id": spec.id,
        "name": "".join(w.capitalize() for w in spec.id.split("-")),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": spec.summary},
        "help": {
            "text": f"{spec.remediation} See {spec.docs_url}",
            "markdown": f"{spec.summary}\n\n**Remediation:** {spec.remediation}\n\n[{spec.id}]({spec.docs_url})",
        },
        "helpUri": spec.docs_url,
        "defaultConfiguration": {"level": _LEVEL[spec.severity]},
        "properties": {"tags": list(spec.tags), "problem.severity": _LEVEL[spec.severity]},
    }


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    res: dict[str, Any] = {
        "ruleId": f.check,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": f"{f.title}: {f.full_message}"},
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
    rules = [rule(CATALOGUE[r]) for r in sorted({f.check for f in report.findings})]
    index = {r["id"]: i for i, r in enumerate(rules)}
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "vizdoctor",
                        "version": __version__,
                        "informationUri": PROJECT_URL,
                        "rules": rules,
                    }
                },
                "results": [_result(f, index[f.check]) for f in report.findings],
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
