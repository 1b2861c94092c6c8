"""`--format json`: the schema documented in the README ("vizdoctor/v1")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from vizdoctor.findings import Finding, Fix
from vizdoctor.location import Location
from vizdoctor.model import LiveState
from vizdoctor.paths import ControlPlanePath
from vizdoctor.report import Report, fingerprint
from vizdoctor.schemas import SCHEMA


def _loc(loc: Location | None) -> str | None:
    return str(loc) if loc else None


def _fix(fix: Fix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "terraform": fix.terraform,
        "aws_cli": fix.aws_cli,
        "where": _loc(fix.where),
        "note": fix.note,
        "manifest": fix.manifest,
    }


def path_dict(p: ControlPlanePath) -> dict[str, Any]:
    t = p.target
    opened = p.verdict.opened_by if p.verdict else None
    return {
        "kind": t.kind,
        "name": t.name,
        "owner": {"kind": t.owner.kind, "name": t.owner.name},
        "service": {"namespace": t.service.namespace, "name": t.service.name, "port": t.service.port}
        if t.service
        else None,
        "url": t.url,
        "target_port": p.target_port,
        "port_name": p.service_port.target_port
        if p.service_port and isinstance(p.service_port.target_port, str)
        else None,
        "host_network": p.host_network,
        "workloads": [f"{w.kind} {w.namespace}/{w.name}" for w in p.workloads],
        "failure_policy": t.failure_policy,
        "status": p.status,
        "reason": p.reason,
        "opened_by": {"rule": opened.name, "location": _loc(opened.location)} if opened else None,
        "clusters": [
            {"cluster": name, "status": status, "reason": reason}
            for name, status, reason in (p.verdict.per_cluster if p.verdict else [])
        ],
        "inferred": t.inferred,
        "inferred_from": t.inferred_from,
        "location": _loc(t.location),
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "check": f.check,
        "fingerprint": fingerprint(f),
        "severity": f.severity,
        "category": f.category,
        "title": f.title,
        "object": {"kind": f.object.kind, "namespace": f.object.namespace, "name": f.object.name}
        if f.object
        else None,
        "location": _loc(f.location),
        "message": f.full_message,
        "notes": list(f.notes),
        "hint": f.hint,
        "hint_url": f.hint_url,
        "docs": f.docs_url,
        "fix": _fix(f.fix),
        "extra": dict(f.extra),  # e.g. `cause` (the explain cause id) for live findings
    }


def _live(live: LiveState | None) -> dict[str, Any] | None:
    """`vizdoctor check` only: the cluster read and what could not be read."""
    if live is None:
        return None
    return {
        "context": live.context,
        "server": live.server,
        "objects": {kind: len(items) for kind, items in live.objects.items()},
        "cannot_read": [
            {
                "kind": c.kind,
                "group": c.group,
                "resource": c.resource,
                "status": c.status,
                "message": c.message,
            }
            for c in live.cannot_read
        ],
        "viz_namespace": live.viz_namespace,
        "linkerd_namespace": live.linkerd_namespace,
    }


def _fields(report: Report) -> dict[str, Any]:
    """The report's top-level fields in schema order; the three that grow with the input (paths,
    findings, suppressed) as generators, so that `write` never holds them as dicts all at once."""
    inv = report.inventory
    statuses = {"open": 0, "blocked": 0, "unknown": 0}
    for p in report.paths:
        statuses[p.status] += 1
    return {
        "schema": SCHEMA,
        "command": report.command,
        "inputs": {
            "files": inv.files_read,
            "objects": inv.objects_read,
            "clusters": [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "location": _loc(c.location),
                    "scenarios": [s.label for s in c.scenarios],
                    "unknown": c.why_unknown,
                    "aliases": list(c.aliases),
                }
                for c in inv.network.clusters
            ],
        },
        "live": _live(inv.live),
        "paths": (path_dict(p) for p in report.paths),
        "findings": (finding_dict(f) for f in report.findings),
        "fixes": [
            {"cluster": cf.cluster, "ports": [list(r) for r in cf.ports], **(_fix(cf.fix) or {})}
            for cf in report.fixes
        ],
        "passed": [{"category": p.category, "title": p.title} for p in report.passed],
        "suppressed": (
            {
                **finding_dict(s.finding),
                "suppression": {"kind": s.kind, "reason": s.reason, "where": s.where},
            }
            for s in report.suppressed
        ),
        "summary": report.summary,
        "path_summary": statuses,
    }


def to_dict(report: Report) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, Iterator) else v for k, v in _fields(report).items()}


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def render(report: Report) -> str:
    return _dumps(to_dict(report)) + "\n"


def write(report: Report, out: TextIO) -> None:
    """Write exactly `render(report)` to `out`, one path or finding at a time. At 50,000 objects the
    report is ~48 MB of JSON; `json.dumps` of the whole dict held the dicts, the encoder's chunks and the
    string at once (peak +290 MB over the analysis), this holds one element. Byte-identical because JSON
    strings never contain a raw newline: an element encoded alone is re-indented by prefixing its lines."""
    out.write("{")
    first = True
    for key, value in _fields(report).items():
        out.write("\n  " if first else ",\n  ")
        first = False
        out.write(_dumps(key) + ": ")
        if not isinstance(value, Iterator):
            out.write(_dumps(value).replace("\n", "\n  "))
            continue
        sep = "[\n    "
        for item in value:
            out.write(sep + _dumps(item).replace("\n", "\n    "))
            sep = ",\n    "
        out.write("[]" if sep == "[\n    " else "\n  ]")
    out.write("\n}\n" if not first else "}\n")
