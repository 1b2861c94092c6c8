"""Text output in the manner of `linkerd check`: categories, one line per check with √ ‼ ×, and the
hint and fix under each failure. Colour only when writing to a terminal (rich decides; NO_COLOR works)."""

from __future__ import annotations

from typing import IO

from rich.console import Console
from rich.text import Text

from vizdoctor.findings import Finding
from vizdoctor.paths import describe
from vizdoctor.render.console import make_console
from vizdoctor.report import Report

GLYPH = {
    "ok": ("√", "green"),
    "error": ("×", "red"),
    "warning": ("‼", "yellow"),
    "info": ("i", "cyan"),
    "unknown": ("‼", "yellow"),  # a path the inputs cannot decide: never shown as a pass
}
INDENT = "    "


def _line(console: Console, glyph: str, text: str) -> None:
    mark, style = GLYPH[glyph]
    console.print(Text.assemble((mark, f"bold {style}"), " ", text), soft_wrap=True)


def _detail(console: Console, text: str, style: str = "") -> None:
    for ln in text.splitlines():
        console.print(Text(INDENT + ln, style=style), soft_wrap=True)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _header(console: Console, title: str) -> None:
    console.print()
    console.print(Text(title, style="bold"))
    console.print("-" * len(title))


def _finding(console: Console, f: Finding, shown: set[str], show_fix: bool = True) -> None:
    _line(console, f.severity, f"{f.title} [{f.check}]")
    _detail(console, f.full_message)
    if f.hint:
        _detail(console, f"hint: {f.hint}", "dim")
    refs = ", ".join(u for u in (f.hint_url, f.docs_url) if u)
    _detail(console, f"see {refs} for hints", "dim")
    if show_fix and f.fix and f.fix.terraform:
        _detail(console, f"fix{f' ({f.fix.where})' if f.fix.where else ''}:")
        _detail(console, "  " + f.fix.terraform.replace("\n", "\n  "), "cyan")
    manifest = f.fix.manifest if f.fix else None
    if show_fix and manifest:
        _detail(console, f"fix: {f.fix.note}" if f.fix and f.fix.note else "fix:")
        if manifest in shown:
            _detail(
                console,
                "  (the corrected manifest is printed under the first finding of this route above)",
                "dim",
            )
        else:
            shown.add(manifest)
            _detail(console, "  " + manifest.rstrip().replace("\n", "\n  "), "cyan")


def _source(report: Report) -> str:
    live = report.inventory.live
    if live is None:
        return f"{report.inventory.files_read} files"
    return f"cluster {live.context} ({live.server})"


def _short(report: Report, console: Console, quiet: bool, compact: bool, show_fix: bool) -> None:
    """--quiet (only failures) and --compact (one line per finding, with its check id)."""
    shown: set[str] = set()
    for f in report.findings:
        if quiet and f.severity == "info":
            continue
        if not compact:
            _finding(console, f, shown, show_fix)
            continue
        where = f" ({f.location})" if f.location else f" ({f.object})" if f.object else ""
        _line(console, f.severity, f"[{f.check}] {f.title}{where}")
        if show_fix and f.fix and f.fix.terraform:
            _detail(console, f"fix{f' ({f.fix.where})' if f.fix.where else ''}:")
            _detail(console, "  " + f.fix.terraform.replace("\n", "\n  "), "cyan")
    s = report.summary
    if quiet and not (s["error"] or s["warning"]):
        return
    console.print(Text(_status(report)))


def _status(report: Report) -> str:
    s = report.summary
    counts = {"open": 0, "blocked": 0, "unknown": 0}
    for p in report.paths:
        counts[p.status] += 1
    verdict = "×" if s["error"] else "‼" if s["warning"] or counts["unknown"] else "√"
    suppressed = f", {len(report.suppressed)} suppressed" if report.suppressed else ""
    return (
        f"Status check results are {verdict}  ({_n(s['error'], 'error')}, {_n(s['warning'], 'warning')}, "
        f"{s['info']} info{suppressed}; "
        f"paths: {counts['open']} open, {counts['blocked']} blocked, {counts['unknown']} unknown)"
    )


def render(
    report: Report,
    out: IO[str] | None = None,
    color: bool | None = None,
    *,
    quiet: bool = False,
    compact: bool = False,
    show_fix: bool = True,
) -> None:
    console = make_console(out, color)
    if quiet or compact:
        _short(report, console, quiet, compact, show_fix)
        return
    inv = report.inventory
    shown: set[str] = set()  # corrected manifests already printed: a route's findings share one
    clusters = ", ".join(f"{c.name} ({c.kind})" for c in inv.network.clusters) or "none"
    console.print(
        Text(
            f"vizdoctor {report.command}: {_source(report)}, {inv.objects_read} Kubernetes "
            f"objects, {len(report.paths)} control-plane paths; cluster network: {clusters}"
        )
    )
    by_cat: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_cat.setdefault(f.category, []).append(f)

    _header(console, "inputs")
    problems = [f for f in by_cat.get("inputs", []) if f.severity != "info"]
    _line(
        console,
        "warning" if problems else "ok",
        (f"{_source(report)} read" if inv.live else f"{inv.files_read} files read")
        + (f", {len(problems)} with problems" if problems else ""),
    )
    for f in by_cat.pop("inputs", []):
        _finding(console, f, shown)
    for c in inv.network.clusters:
        if c.why_unknown:
            _line(console, "info", f"{c.name}: network rules unknown")
            _detail(console, c.why_unknown)
        else:
            _line(
                console, "ok", f"{c.name}: {c.kind}; evaluated as {', '.join(s.label for s in c.scenarios)}"
            )

    _header(console, "control-plane paths")
    by_path = {str(f.extra.get("path")): f for f in by_cat.pop("control-plane paths", [])}
    undecided = 0
    if not report.paths:
        _line(console, "info", "no APIService, webhook or conversion webhook in the inputs")
    for p in report.paths:
        title = describe(p)
        finding = by_path.get(title)
        pod_side = [f for f in by_cat.get("pod network and policies", []) if f.extra.get("path") == title]
        if p.status == "open" and pod_side:
            # the network admits it, but something on the pod side does not (or may not): never a √
            why = f"opened by {p.verdict.opened_by.name}" if p.verdict and p.verdict.opened_by else "open"
            worst = "error" if any(f.severity == "error" for f in pod_side) else "warning"
            _line(console, worst, title + (" [inferred]" if p.target.inferred else ""))
            _detail(
                console,
                f"network: {why}; but: " + "; ".join(f.title.split(": ", 1)[-1] for f in pod_side),
                "dim",
            )
        elif p.status == "open":
            why = f" (opened by {p.verdict.opened_by.name})" if p.verdict and p.verdict.opened_by else ""
            _line(console, "ok", title + why + (" [inferred]" if p.target.inferred else ""))
        elif finding is not None and finding.check == "control-plane-path-unknown":
            # one line each: the reasons repeat when a whole input is missing
            _line(
                console,
                "unknown",
                title + (" [inferred]" if p.target.inferred else "") + f" [{finding.check}]",
            )
            _detail(console, f"unknown: {p.reason}", "dim")
            _detail(console, f"to decide: {finding.hint}", "dim")
            undecided += 1
        elif finding is not None and finding.check == "control-plane-unreachable":
            _finding(console, finding, shown)
    if undecided:
        _detail(
            console,
            f"hint: {undecided} path{'s are' if undecided > 1 else ' is'} undecided: add the missing "
            "input named above (Terraform or plan of the cluster, the Service and its workload; with `check`, "
            "the AWS read), see docs/checks.md#control-plane-path-unknown",
            "dim",
        )

    passed: dict[str, list[str]] = {}
    for ok in report.passed:
        passed.setdefault(ok.category, []).append(ok.title)
    for cat in [*passed, *(c for c in by_cat if c not in passed)]:
        _header(console, cat)
        for title in passed.get(cat, []):
            _line(console, "ok", title)
        for f in by_cat.get(cat, []):
            _finding(console, f, shown)

    if report.fixes:
        _header(console, "fix everything at once")
        for cf in report.fixes:
            ports = ", ".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in cf.ports)
            _line(console, "error", f"{cf.cluster}: allow tcp {ports} from the control plane")
            if cf.fix.note:
                _detail(console, cf.fix.note, "dim")
            if cf.paths > 1:
                _detail(console, "Terraform:")
                _detail(console, "  " + (cf.fix.terraform or "").replace("\n", "\n  "), "cyan")
            else:
                _detail(console, "Terraform: the fix shown under the failure above")
            cli = "gcloud" if (cf.fix.aws_cli or "").startswith("gcloud") else "the AWS CLI"
            _detail(console, f"or now, with {cli} (Terraform will not know about it):")
            _detail(console, "  " + (cf.fix.aws_cli or "").replace("\n", "\n  "), "cyan")

    if report.suppressed:
        _header(console, "suppressed")
        for sup in report.suppressed:
            where = f" ({sup.where})" if sup.where else ""
            _detail(
                console,
                f"- [{sup.finding.check}] {sup.finding.title}: {sup.kind}: {sup.reason}{where}",
                "dim",
            )
    console.print()
    console.print(Text(_status(report)))
