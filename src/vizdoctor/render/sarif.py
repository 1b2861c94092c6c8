"""SARIF 2.1.0 for GitHub code scanning (shared/knowledge/peers.md §4.2; GitHub's "SARIF support for code
scanning" page): rules from the catalogue with descriptions, help, an absolute helpUri, tags and
security-severity; results with partialFingerprints, repository-relative uris under %SRCROOT%, the fix
location (the Terraform rules map or security group) as a related location, and suppressed findings
with SARIF `suppressions` (never dropped)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vizdoctor import __version__
from vizdoctor.catalogue import CATALOGUE, PROJECT_URL, CheckSpec
from vizdoctor.findings import Finding
from vizdoctor.location import Location
from vizdoctor.report import Report, Suppressed, fingerprint, rel_path, source_root

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
# GitHub ranks security alerts by `security-severity` (a number as a string): over 9.0 critical, 7.0-8.9
# high, 4.0-6.9 medium, 0.1-3.9 low. A blocked control-plane path breaks admission or an API: high.
_SECURITY_SEVERITY = {"error": "7.5", "warning": "5.0", "info": "2.0"}
SRCROOT = "%SRCROOT%"
_LIVE_PREFIX = "cluster:"  # the Location of objects read by `check` (sources/kube.py)


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
        "properties": {
            "tags": list(dict.fromkeys(["kubernetes", *spec.tags]))[:20],
            "problem.severity": _LEVEL[spec.severity],
            "security-severity": _SECURITY_SEVERITY[spec.severity],
        },
    }


def _physical(loc: Location) -> dict[str, Any]:
    rel = rel_path(loc.path)
    if os.path.isabs(rel):  # outside the working tree: an absolute file URI, no base
        art: dict[str, Any] = {"uri": Path(rel).as_uri()}
    else:
        art = {"uri": rel, "uriBaseId": SRCROOT}
    phys: dict[str, Any] = {"artifactLocation": art}
    if loc.line:
        phys["region"] = {"startLine": loc.line}
    return phys


def _location(f: Finding, live_context: str | None) -> dict[str, Any] | None:
    loc = f.location
    if loc and not loc.path.startswith(_LIVE_PREFIX):
        return {"physicalLocation": _physical(loc)}
    if f.object or loc:
        # `check`: the object in the cluster, not a file (a `cluster:<context>` path is no artifact)
        context = loc.path[len(_LIVE_PREFIX) :] if loc else live_context
        name = str(f.object) if f.object else "cluster"
        fqn = f"{context}/{name}" if context else name
        return {"logicalLocations": [{"fullyQualifiedName": fqn, "name": name, "kind": "resource"}]}
    return None


def _result(
    f: Finding, rule_index: int, sup: Suppressed | None = None, live_context: str | None = None
) -> dict[str, Any]:
    text = f"{f.title}: {f.full_message}"
    res: dict[str, Any] = {
        "ruleId": f.check,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "partialFingerprints": {"vizdoctor/v1": fingerprint(f)},
    }
    loc = _location(f, live_context)
    if loc:
        res["locations"] = [loc]
    where = f.fix.where if f.fix else None
    if where and not where.path.startswith(_LIVE_PREFIX) and where != f.location:
        res["relatedLocations"] = [
            {"id": 1, "physicalLocation": _physical(where), "message": {"text": "where the fix goes"}}
        ]
        res["message"]["text"] = text + " The fix goes in [the rules here](1)."
    if f.fix and (f.fix.terraform or f.fix.aws_cli):
        res["properties"] = {"fix_terraform": f.fix.terraform, "fix_aws_cli": f.fix.aws_cli}
    if sup is not None:
        in_source = sup.kind in ("annotation", "comment")
        res["suppressions"] = [
            {
                "kind": "inSource" if in_source else "external",
                "status": "accepted",
                "justification": f"{sup.kind}: {sup.reason}" + (f" ({sup.where})" if sup.where else ""),
            }
        ]
    return res


def render(report: Report) -> str:
    every = [*report.findings, *(s.finding for s in report.suppressed)]
    rules = [rule(CATALOGUE[r]) for r in sorted({f.check for f in every})]
    index = {r["id"]: i for i, r in enumerate(rules)}
    ctx = report.inventory.live.context if report.inventory.live else None
    results = [_result(f, index[f.check], None, ctx) for f in report.findings]
    results += [_result(s.finding, index[s.finding.check], s, ctx) for s in report.suppressed]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "vizdoctor",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": PROJECT_URL,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": source_root().as_uri() + "/"}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
