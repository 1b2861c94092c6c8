"""`-o markdown`: a pull-request comment. A summary table, then one section per error (warnings in one
list), each fix in a collapsible block so the comment stays short; suppressed findings at the end."""

from __future__ import annotations

from vizdoctor.findings import Finding
from vizdoctor.location import Location
from vizdoctor.report import Report, rel_path

_MARK = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}


def _esc(text: str) -> str:
    """User text in Markdown: no HTML, no table breaks, no accidental emphasis or links."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    for ch in "*_`[]":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def _where(loc: Location) -> str:
    """Repository-relative, as a PR reviewer reads it."""
    return str(Location(rel_path(loc.path), loc.line))


def _fence(body: str, lang: str) -> str:
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return f"{ticks}{lang}\n{body.rstrip()}\n{ticks}\n"


def _details(summary: str, body: str, lang: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{_fence(body, lang)}\n</details>\n"


def _section(f: Finding) -> str:
    parts = [f"### {_MARK[f.severity]} {_esc(f.title)}\n", f"`{f.check}`"]
    if f.location:
        parts[-1] += f" · `{_where(f.location)}`"
    elif f.object:
        parts[-1] += f" · {_esc(str(f.object))}"
    parts[-1] += "\n"
    parts.append(_esc(f.full_message) + "\n")
    if f.hint:
        parts.append(f"**Hint:** {_esc(f.hint)}\n")
    if f.fix and f.fix.terraform:
        where = f" in {_esc(_where(f.fix.where))}" if f.fix.where else ""
        parts.append(_details(f"Fix: Terraform{where}", f.fix.terraform, "hcl"))
    if f.fix and f.fix.aws_cli:
        parts.append(_details("Fix now: AWS CLI (Terraform will not know about it)", f.fix.aws_cli, "sh"))
    if f.fix and f.fix.manifest:
        parts.append(_details(f"Fix: {_esc(f.fix.note or 'corrected manifest')}", f.fix.manifest, "yaml"))
    parts.append(f"[Documentation]({f.docs_url})\n")
    return "\n".join(parts)


def render(report: Report) -> str:
    s = report.summary
    counts = {"open": 0, "blocked": 0, "unknown": 0}
    for p in report.paths:
        counts[p.status] += 1
    verdict = "❌ failing" if s["error"] else "⚠️ warnings" if s["warning"] else "✅ passing"
    out = [
        f"## vizdoctor {report.command}: {verdict}\n",
        "| errors | warnings | info | suppressed | paths open | blocked | unknown |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {s['error']} | {s['warning']} | {s['info']} | {len(report.suppressed)} | {counts['open']} | "
        f"{counts['blocked']} | {counts['unknown']} |\n",
    ]
    errors = [f for f in report.findings if f.severity == "error"]
    warnings = [f for f in report.findings if f.severity == "warning"]
    out += [_section(f) for f in errors]
    if warnings:
        out.append("### ⚠️ Warnings\n")
        out += [f"- `{f.check}` {_esc(f.title)}" for f in warnings]
        out.append("")
    if report.suppressed:
        out.append(f"<details><summary>{len(report.suppressed)} suppressed</summary>\n")
        for sup in report.suppressed:
            where = f" ({_esc(sup.where)})" if sup.where else ""
            out.append(
                f"- `{sup.finding.check}` {_esc(sup.finding.title)}: {sup.kind}: {_esc(sup.reason)}{where}"
            )
        out.append("\n</details>\n")
    return "\n".join(out) + "\n"
