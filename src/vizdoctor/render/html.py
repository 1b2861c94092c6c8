"""`-o html`: one self-contained page (inline style and script, no fetch of any kind) with the summary,
every control-plane path drawn hop by hop (API server -> Service -> pod port -> node group -> security
group) and the dashboard path (browser -> ingress -> web -> API server -> tap) with the broken hop
marked, the fixes with a copy button, and filters by status."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from vizdoctor import __version__
from vizdoctor.findings import Finding
from vizdoctor.paths import ControlPlanePath, describe
from vizdoctor.report import Report

# Which hop of the dashboard path each dashboard check is about (docs/exposure.md).
_DASHBOARD_HOP = {
    "dashboard-no-tls": "ingress",
    "dashboard-unauthenticated": "ingress",
    "dashboard-idle-timeout": "ingress",
    "dashboard-snippet-disallowed": "ingress",
    "ingress-nginx-retired": "ingress",
    "dashboard-host-rejected": "web",
    "dashboard-origin-rejected": "web",
}
_TAP_APISERVICE = "v1alpha1.tap.linkerd.io"


@dataclass
class Hop:
    label: str
    detail: str
    state: str  # ok | broken | unknown | warn


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def control_plane_hops(p: ControlPlanePath) -> list[Hop]:
    t = p.target
    svc = t.service
    broken_net = p.status == "blocked"
    unknown_net = p.status == "unknown"
    hops = [Hop("API server", "kube-apiserver", "ok")]
    if t.url:
        hops.append(Hop("URL", t.url, "unknown" if unknown_net else "ok"))
    elif svc:
        found = p.service is not None
        hops.append(
            Hop(
                "Service",
                f"{svc.namespace}/{svc.name}:{svc.port}",
                "ok" if found else "unknown" if unknown_net else "broken",
            )
        )
    port = str(p.target_port) if p.target_port is not None else "?"
    workloads = ", ".join(f"{w.kind} {w.name}" for w in p.workloads) or "no workload in the inputs"
    pod_state = "ok" if p.target_port is not None and p.workloads else "unknown"
    hops.append(
        Hop("pod port", f"{port} ({workloads})" + (" hostNetwork" if p.host_network else ""), pod_state)
    )
    clusters = [c for c, _, _ in p.verdict.per_cluster] if p.verdict else []
    hops.append(
        Hop("node group", ", ".join(clusters) or "not in the inputs", "unknown" if not clusters else "ok")
    )
    if p.status == "open":
        rule = p.verdict.opened_by.name if p.verdict and p.verdict.opened_by else "allowed"
        hops.append(Hop("security group / firewall", f"opened by {rule}", "ok"))
    else:
        hops.append(
            Hop(
                "security group / firewall",
                p.reason,
                "broken" if broken_net else "unknown",
            )
        )
    return hops


def dashboard_hops(report: Report) -> list[tuple[Hop, list[Finding]]] | None:
    """The dashboard path, when the inputs expose the dashboard (or a dashboard check spoke)."""
    dash = [f for f in report.findings if f.check in _DASHBOARD_HOP]
    exposed = any(report.inventory.objects.get(k) for k in ("Ingress", "HTTPRoute", "IngressRoute"))
    if not dash and not exposed:
        return None
    tap = next((p for p in report.paths if p.target.name == _TAP_APISERVICE), None)

    def state(hop: str) -> tuple[str, list[Finding]]:
        fs = [f for f in dash if _DASHBOARD_HOP[f.check] == hop]
        if any(f.severity == "error" for f in fs):
            return "broken", fs
        return ("warn" if fs else "ok"), fs

    ing, ing_f = state("ingress")
    web, web_f = state("web")
    if tap is None:
        tap_state, tap_detail = "unknown", "no tap APIService in the inputs"
    else:
        tap_state = {"open": "ok", "blocked": "broken", "unknown": "unknown"}[tap.status]
        tap_detail = describe(tap)
    tap_f = [f for f in report.findings if f.extra.get("path") == (describe(tap) if tap else None)]
    return [
        (Hop("browser", "your browser", "ok"), []),
        (Hop("ingress", "the proxy in front of the dashboard", ing), ing_f),
        (Hop("web", "linkerd-viz web (Host and Origin checks)", web), web_f),
        (Hop("API server", "kube-apiserver (aggregated API)", "ok"), []),
        (Hop("tap", tap_detail, tap_state), tap_f),
    ]


def _hops_html(hops: list[Hop]) -> str:
    cells = []
    for i, h in enumerate(hops):
        if i:
            cells.append('<span class="arrow" aria-hidden="true">&rarr;</span>')
        mark = {"ok": "✔", "broken": "✘ broken here", "unknown": "? unknown", "warn": "!"}[h.state]
        cells.append(
            f'<span class="hop {h.state}" data-hop="{_e(h.label)}"><b>{_e(h.label)}</b>'
            f"<small>{_e(h.detail)}</small><i>{_e(mark)}</i></span>"
        )
    return f'<div class="hops">{"".join(cells)}</div>'


def _copyable(title: str, body: str, open_: bool = False) -> str:
    return (
        f'<details class="fix"{" open" if open_ else ""}><summary class="fixhead">{_e(title)} '
        f'<button type="button" class="copy">copy</button></summary><pre>{_e(body.rstrip())}</pre></details>'
    )


def _finding_html(f: Finding) -> str:
    parts = [
        f'<div class="finding {f.severity}" data-status="{f.severity}">',
        f"<h4>{_e(f.title)} <code>{_e(f.check)}</code></h4>",
        f"<p>{_e(f.full_message)}</p>",
    ]
    if f.location:
        parts.append(f"<p class='where'>{_e(f.location)}</p>")
    if f.hint:
        parts.append(f"<p class='hint'>hint: {_e(f.hint)}</p>")
    if f.fix and f.fix.terraform:
        where = f" ({f.fix.where})" if f.fix.where else ""
        parts.append(_copyable(f"Fix: Terraform{where}", f.fix.terraform, open_=True))
    if f.fix and f.fix.aws_cli:
        parts.append(_copyable("Fix now: AWS CLI (Terraform will not know about it)", f.fix.aws_cli))
    if f.fix and f.fix.manifest:
        parts.append(_copyable(f"Fix: {f.fix.note or 'corrected manifest'}", f.fix.manifest))
    parts.append(f'<p><a href="{_e(f.docs_url)}">documentation</a></p></div>')
    return "".join(parts)


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f23;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.summary span{display:inline-block;margin-right:1em;padding:.2em .6em;border-radius:4px;background:#f1f3f5}
.path{border:1px solid #ddd;border-radius:6px;padding:.6em;margin:.6em 0}
.path h3{font-size:1em;margin:0 0 .4em}
.hops{display:flex;flex-wrap:wrap;align-items:center;gap:.3em}
.hop{display:inline-flex;flex-direction:column;border:2px solid #2da44e;border-radius:6px;padding:.3em .6em;min-width:8em}
.hop small{color:#555;max-width:28em}.hop i{font-style:normal;font-size:.85em}
.hop.broken{border-color:#cf222e;background:#ffebe9}.hop.unknown{border-color:#bf8700;background:#fff8c5}
.hop.warn{border-color:#bf8700}.arrow{font-size:1.4em;color:#666}
.finding{border-left:4px solid #999;padding:.2em .8em;margin:.6em 0}
.finding.error{border-color:#cf222e}.finding.warning{border-color:#bf8700}.finding.info{border-color:#0969da}
.fix pre{background:#f6f8fa;padding:.6em;overflow:auto}.fixhead{font-weight:600}
.filters label{margin-right:1em}.hidden{display:none}code{background:#f1f3f5;padding:0 .3em}
.suppressed li{color:#555}
"""

_JS = """
document.querySelectorAll('.filters input').forEach(function(box){
  box.addEventListener('change', function(){
    document.querySelectorAll('[data-status="'+box.value+'"]').forEach(function(el){
      el.classList.toggle('hidden', !box.checked);
    });
  });
});
document.querySelectorAll('button.copy').forEach(function(b){
  b.addEventListener('click', function(){
    var text = b.closest('.fix').querySelector('pre').textContent;
    if (navigator.clipboard) { navigator.clipboard.writeText(text); }
    b.textContent = 'copied';
  });
});
"""


def render(report: Report) -> str:
    s = report.summary
    counts = {"open": 0, "blocked": 0, "unknown": 0}
    for p in report.paths:
        counts[p.status] += 1
    by_path: dict[str, list[Finding]] = {}
    for f in report.findings:
        if "path" in f.extra:
            by_path.setdefault(f.extra["path"], []).append(f)
    body = [
        f"<h1>vizdoctor {_e(report.command)}</h1>",
        '<div class="summary">'
        f"<span>{s['error']} errors</span><span>{s['warning']} warnings</span><span>{s['info']} info</span>"
        f"<span>{len(report.suppressed)} suppressed</span>"
        f"<span>paths: {counts['open']} open, {counts['blocked']} blocked, {counts['unknown']} unknown</span></div>",
        '<div class="filters">filter: '
        + "".join(
            f'<label><input type="checkbox" value="{st}" checked> {st}</label>'
            for st in ("blocked", "unknown", "open", "error", "warning", "info")
        )
        + "</div>",
    ]
    dash = dashboard_hops(report)
    if dash is not None:
        body.append("<h2>dashboard path</h2>")
        worst = "blocked" if any(h.state == "broken" for h, _ in dash) else "open"
        body.append(f'<div class="path dashboard" data-status="{worst}"><h3>browser to tap</h3>')
        body.append(_hops_html([h for h, _ in dash]))
        body += [_finding_html(f) for _, fs in dash for f in fs]
        body.append("</div>")
    body.append("<h2>control-plane paths</h2>")
    if not report.paths:
        body.append("<p>no APIService, webhook or conversion webhook in the inputs</p>")
    for p in report.paths:
        title = describe(p)
        body.append(f'<div class="path" data-status="{p.status}"><h3>{_e(title)} — {p.status}</h3>')
        body.append(_hops_html(control_plane_hops(p)))
        body += [_finding_html(f) for f in by_path.get(title, [])]
        body.append("</div>")
    others = [f for f in report.findings if "path" not in f.extra and f.check not in _DASHBOARD_HOP]
    if others:
        body.append("<h2>other findings</h2>")
        body += [_finding_html(f) for f in others]
    if report.suppressed:
        body.append('<h2>suppressed</h2><ul class="suppressed">')
        for sup in report.suppressed:
            where = f" ({sup.where})" if sup.where else ""
            body.append(
                f"<li><code>{_e(sup.finding.check)}</code> {_e(sup.finding.title)}: {_e(sup.kind)}: "
                f"{_e(sup.reason)}{_e(where)}</li>"
            )
        body.append("</ul>")
    body.append(f"<p><small>vizdoctor {_e(__version__)}</small></p>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        # The page loads nothing: no scripts, fonts, images or styles from anywhere, even by accident.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>vizdoctor {_e(report.command)} report</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + f"<script>{_JS}</script></body></html>\n"
    )
