"""Probe output: text like `linkerd check` (√ ‼ × per step, details indented), or JSON "vizdoctor/v1"."""

from __future__ import annotations

import json
from typing import IO, Any

from rich.text import Text

from vizdoctor.catalogue import docs_url as page_url
from vizdoctor.prober.model import ProbeOptions, ProbeResult, Step
from vizdoctor.render.console import make_console
from vizdoctor.render.escape import one_line, safe_lines
from vizdoctor.schemas import SCHEMA

# Causes with their own section in docs/probe.md; other causes come from `vizdoctor explain` (a tap close
# reason it recognised) and share one section.
DOCUMENTED = frozenset(
    {
        "dashboard-host-rejected",
        "dashboard-origin-rejected",
        "dashboard-auth-required",
        "dashboard-forbidden",
        "dashboard-route-missing",
        "dashboard-backend-down",
        "dashboard-http-error",
        "dashboard-no-answer",
        "dashboard-unreachable",
        "dashboard-login-redirect",
        "dashboard-redirect-loop",
        "dashboard-redirect-downgrade",
        "dashboard-page-unexpected",
        "websocket-upgrade-stripped",
        "websocket-forbidden",
        "websocket-not-upgraded",
        "websocket-redirected",
        "websocket-no-answer",
        "websocket-handshake-invalid",
        "websocket-unreachable",
        "apiservice-unavailable",
        "rbac-forbidden",
        "tap-no-pods",
        "tap-error",
        "tap-no-events",
        "tap-closed",
        "websocket-dropped",
        "websocket-message-too-big",
        "websocket-idle-timeout",
        "websocket-closed-idle",
    }
)


def docs_url(cause: str | None) -> str | None:
    if cause is None:
        return None
    return page_url("probe.md", cause if cause in DOCUMENTED else "other-tap-close-reasons")


GLYPH = {"ok": ("√", "green"), "error": ("×", "red"), "warning": ("‼", "yellow"), "skipped": ("-", "dim")}
INDENT = "    "


def step_dict(s: Step) -> dict[str, Any]:
    return {
        "step": s.step,
        "status": s.status,
        "title": s.title,
        "cause": s.cause,
        "http_status": s.http_status,
        "close_code": s.close_code,
        "close_reason": s.close_reason,
        "elapsed": s.elapsed,
        "message": s.message,
        "hint": s.hint,
        "docs": docs_url(s.cause),
        **s.extra,
    }


def to_dict(result: ProbeResult, opts: ProbeOptions) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "command": "probe",
        "url": result.url,
        "resource": opts.resource,
        "namespace": opts.namespace,
        "steps": [step_dict(s) for s in result.steps],
        "summary": result.summary,
    }


def render_json(result: ProbeResult, opts: ProbeOptions) -> str:
    return json.dumps(to_dict(result, opts), indent=2, ensure_ascii=False) + "\n"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_text(
    result: ProbeResult, opts: ProbeOptions, out: IO[str] | None = None, color: bool | None = None
) -> None:
    console = make_console(out, color)

    def detail(text: str, style: str = "") -> None:
        for ln in safe_lines(text.rstrip("\n")):
            console.print(Text(INDENT + ln, style=style), soft_wrap=True)

    console.print(Text(one_line(f"vizdoctor probe {result.url} (tap {opts.resource} -n {opts.namespace})")))
    console.print()
    console.print(Text("linkerd-viz dashboard", style="bold"))
    console.print("-" * len("linkerd-viz dashboard"))
    for s in result.steps:
        mark, style = GLYPH[s.status]
        console.print(Text.assemble((mark, f"bold {style}"), " ", one_line(s.title)), soft_wrap=True)
        if s.status == "skipped":
            continue
        if s.message:
            detail(s.message.replace("\n", "\\n") if s.status == "ok" else s.message)
        if s.status != "ok" and s.cause:
            detail(f"cause: {s.cause}")
        if s.hint and "\n" in s.hint:
            detail("hint:", "dim")
            detail("\n".join(f"  - {h.rstrip(';')}" for h in s.hint.splitlines()), "dim")
        elif s.hint:
            detail(f"hint: {s.hint}", "dim")
        if s.status != "ok" and s.cause:
            detail(f"see {docs_url(s.cause)} for hints", "dim")
    sm = result.summary
    console.print()
    verdict = "×" if sm["error"] else "√"
    console.print(
        Text(
            f"Status check results are {verdict}  ({_n(sm['error'], 'error')}, {_n(sm['warning'], 'warning')}, "
            f"{sm['ok']} ok, {sm['skipped']} skipped)"
        )
    )
