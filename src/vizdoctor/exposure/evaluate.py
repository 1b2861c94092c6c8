"""Verdicts for one route: the Host the web pod sees, the Origin check, the controller's snippet policy."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from vizdoctor.exposure.re2 import Pattern, compile_re2
from vizdoctor.exposure.route import Route, split_host_port
from vizdoctor.knowledge.ingress import (
    CVE_SNIPPET_INJECTION,
    CVE_SNIPPETS,
    NGINX_ANNOTATION_RISK,
    NGINX_DENIED_RISK,
    NGINX_DENIED_SNIPPET,
    NGINX_DROP_LOG,
    NGINX_RISK_GROUP,
    RISK_LEVELS,
)

# What a browser's Host is for a catch-all rule: the load balancer's address, or any name pointing at it.
CATCH_ALL_SAMPLES = ("203.0.113.10", "lb.example.net")
_NGINX_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


@dataclass(frozen=True)
class HostCase:
    public: str  # the host the user browses to ("" for a catch-all sample: see sample)
    seen: str | None  # the Host header the web pod receives; None: cannot be computed
    how: str  # how it was computed
    ok: bool | None  # matches -enforced-host; None: not evaluated
    sample: bool = False  # a stand-in for "any host" (catch-all rule, wildcard)


@dataclass
class HostVerdict:
    pattern: Pattern
    cases: list[HostCase] = field(default_factory=list)
    literal_variables: list[str] = field(
        default_factory=list
    )  # `$service_name` copied into a non-nginx field
    unknown_variables: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[HostCase]:
        return [c for c in self.cases if c.ok is False]


def public_hosts(route: Route) -> list[tuple[str, bool]]:
    """(host the browser sends, is a stand-in) for each public host of the route."""
    if not route.hosts:
        return [(h, True) for h in CATCH_ALL_SAMPLES]
    out = []
    for h in route.hosts:
        if h.startswith("*."):
            out.append(("viz" + h[1:], True))
        else:
            out.append((h, False))
    return out


def expand_nginx(value: str, variables: dict[str, str], host: str) -> tuple[str, list[str]]:
    """Expand the variables ingress-nginx sets in every location block before proxying (its nginx.tmpl:
    `set $namespace`, `$ingress_name`, `$service_name`, `$service_port`) and nginx's `$host`, `$http_host`,
    `$best_http_host`; others are returned as unknown."""
    values = dict(variables)
    values["host"] = split_host_port(host)[0].lower()
    values["http_host"] = host
    values["best_http_host"] = host
    unknown: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in values:
            return values[name]
        unknown.append("$" + name)
        return m.group(0)

    return _NGINX_VAR.sub(sub, value), unknown


def host_verdict(route: Route) -> HostVerdict:
    pattern = compile_re2(route.target.regex)
    verdict = HostVerdict(pattern)
    for host, sample in public_hosts(route):
        rw = route.rewrite
        if rw is None:
            seen: str | None = host
            how = "no rewrite: the Host the browser sends"
        elif rw.nginx_variables is not None:
            seen, unknown = expand_nginx(rw.value, rw.nginx_variables, host)
            used = sorted({f"${m.group(1)}" for m in _NGINX_VAR.finditer(rw.value)} - set(unknown))
            shown = ", ".join(
                f"{v}={rw.nginx_variables.get(v[1:], host)}" for v in used if v[1:] in rw.nginx_variables
            )
            how = f"{rw.via} `{rw.value}`" + (f" ({shown})" if shown else "")
            if unknown:
                verdict.unknown_variables.extend(u for u in unknown if u not in verdict.unknown_variables)
                seen = None
        else:
            seen = rw.value
            how = f"{rw.via} `{rw.value}`"
            lits = [f"${m.group(1)}" for m in _NGINX_VAR.finditer(rw.value)]
            verdict.literal_variables.extend(v for v in lits if v not in verdict.literal_variables)
        ok = pattern.search(seen) if (seen is not None and pattern.compiled is not None) else None
        verdict.cases.append(HostCase(host, seen, how, ok, sample))
    return verdict


def origin_differs(case: HostCase) -> bool:
    """The browser's Origin host (the public host, no port on default ports) differs from Host."""
    return case.seen is not None and case.seen.lower() != case.public.lower()


SnippetState = Literal["kept", "dropped", "denied", "ignored", "unknown"]


@dataclass
class SnippetVerdict:
    state: SnippetState
    severity: Literal["error", "warning"] | None
    annotations: list[str]  # the offending annotations (without prefix)
    what_user_sees: str
    why: str


def _rank(level: str | None) -> int:
    try:
        return RISK_LEVELS.index(level or "")
    except ValueError:
        return -1


def snippet_verdict(route: Route) -> SnippetVerdict | None:
    cfg = route.nginx
    if cfg is None:
        return None
    prefix = cfg.prefix
    snippets = route.snippets
    level = cfg.risk_level.value
    risky = (
        [a for a in route.nginx_annotations if _rank(NGINX_ANNOTATION_RISK.get(a)) > _rank(level)]
        if level in RISK_LEVELS
        else []
    )
    if not snippets and not risky:
        return None
    webhook = cfg.webhook.value
    allow = cfg.allow_snippets.value
    ing = f"{route.namespace}/{route.name}"
    if snippets and allow is False:
        first = snippets[0]
        denied = NGINX_DENIED_SNIPPET.format(prefix=prefix, annotation=first)
        dropped = NGINX_DROP_LOG.format(ingress=ing, annotation=first)
        why = f"allow-snippet-annotations is false ({cfg.allow_snippets.source})"
        if webhook is True:
            return SnippetVerdict(
                "denied",
                "error",
                snippets,
                f"`kubectl apply` is denied by the admission webhook ({cfg.webhook.source}): `{denied}`",
                why,
            )
        if webhook is False:
            return SnippetVerdict(
                "dropped",
                "warning",
                snippets,
                "the controller silently drops the snippet and serves the Ingress without it (logged only at "
                f"verbosity 3: `{dropped}`)",
                why,
            )
        return SnippetVerdict(
            "denied",
            "error",
            snippets,
            f"with the admission webhook `kubectl apply` is denied (`{denied}`); without it the snippet is "
            "silently dropped",
            why,
        )
    if risky:  # (snippets with allow-snippet-annotations false were answered above)
        group = NGINX_RISK_GROUP.get(risky[0], "…")
        msg = NGINX_DENIED_RISK.format(group=group)
        why = f"annotations-risk-level is {level} ({cfg.risk_level.source}) and " + ", ".join(
            f"{a} is {NGINX_ANNOTATION_RISK[a]}" for a in risky
        )
        if allow is None and snippets:
            why += "; allow-snippet-annotations is unknown too"
        if webhook is False:
            sees = (
                "the controller refuses the Ingress and does not add it, so the host falls to the default backend "
                "(404) [derived from ingress-nginx code, not tested]"
            )
            return SnippetVerdict("ignored", "error", risky, sees, why)
        sees = f"`kubectl apply` is denied by the admission webhook: `{msg}`"
        if webhook is None:
            sees += (
                "; without the webhook the controller does not add the Ingress (404 from the default backend)"
            )
        return SnippetVerdict("denied", "error", risky, sees, why)
    if snippets and allow is None:
        return SnippetVerdict(
            "unknown",
            "warning",
            snippets,
            "from ingress-nginx v1.9.0 (chart 4.8.0) the default drops or refuses snippets, and from v1.12.0 (chart "
            "4.12.0) annotations-risk-level High refuses them even when allowed",
            f"{cfg.allow_snippets.source}; {cfg.version_from}",
        )
    return SnippetVerdict(
        "kept",
        None,
        snippets,
        "",
        f"allow-snippet-annotations {cfg.allow_snippets.value} ({cfg.allow_snippets.source})"
        + (f", annotations-risk-level {level} ({cfg.risk_level.source})" if level else ""),
    )


SECURITY_NOTE = (
    f"Snippets are a known security risk: {CVE_SNIPPETS} (a snippet can read the controller's ServiceAccount token "
    f"and every Secret in the cluster) and {CVE_SNIPPET_INJECTION} (command injection through "
    "configuration-snippet) are why they are off by default."
)
