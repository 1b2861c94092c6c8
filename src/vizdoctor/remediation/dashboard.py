"""The viz dashboard behind a proxy: how to make the web pod accept the Host, and Origin match it.

One voice for `scan`/`check` (exposure findings), `explain` (a pasted 400 body) and `probe` (a live 400/403).
The preferred fix needs no snippet: let the web pod accept the public host (`dashboard.enforcedHostRegexp`)
and do not rewrite Host, so Origin matches too (dashboard-exposure.md §1.1).
"""

from __future__ import annotations

import re

from vizdoctor.knowledge.ingress import (
    DEFAULT_CLUSTER_DOMAIN,
    DEFAULT_VIZ_NAMESPACE,
    HELM_REGEX_VALUE,
    NGINX_PREFIX,
    WEB_PORT,
)


def go_escape(literal: str) -> str:
    """Quote a literal for RE2 (only its metacharacters: hostnames stay readable)."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", literal)


def host_alternative(host: str) -> str:
    """A host as one alternative of the regex; `*.example.com` matches one label."""
    if host.startswith("*."):
        return r"[^.]+" + go_escape(host[1:])
    return go_escape(host)


def host_regex(host: str) -> str:
    """The -enforced-host regex that admits one host (any port): ^dashboard\\.example\\.com(:\\d+)?$"""
    bare = host[: host.index("]") + 1] if host.startswith("[") and "]" in host else re.sub(r":\d+$", "", host)
    return "^" + host_alternative(bare) + r"(:\d+)?$"


def helm_set_host(regex: str, namespace: str = DEFAULT_VIZ_NAMESPACE) -> str:
    """The helm upgrade that sets the regex. Helm's --set parser takes a backslash as an escape, so each
    backslash is doubled (inside single quotes the shell passes them as they are)."""
    return (
        f"helm upgrade linkerd-viz linkerd/linkerd-viz -n {namespace} --reuse-values "
        f"--set-string {HELM_REGEX_VALUE}='{regex.replace(chr(92), chr(92) * 2)}'"
    )


def web_service_host(namespace: str = DEFAULT_VIZ_NAMESPACE, domain: str = DEFAULT_CLUSTER_DOMAIN) -> str:
    return f"web.{namespace}.svc.{domain}"


def rewrite_hint(namespace: str = DEFAULT_VIZ_NAMESPACE, domain: str = DEFAULT_CLUSTER_DOMAIN) -> str:
    """How each proxy rewrites Host to the name the web pod accepts by default."""
    host = web_service_host(namespace, domain)
    return (
        f"nginx: `proxy_set_header Host {host}:{WEB_PORT};`; ingress-nginx: annotation "
        f"`{NGINX_PREFIX}/upstream-vhost: {host}:{WEB_PORT}`; Gateway API: "
        f"filter `URLRewrite` with `hostname: {host}`"
    )


# How each proxy removes Origin (dashboard-exposure.md §2: snippets off by default from controller v1.9,
# and need annotations-risk-level Critical from v1.12).
STRIP_ORIGIN_HINT = (
    'nginx: `proxy_set_header Origin "";`; ingress-nginx: the same line in a `configuration-snippet` '
    '(snippets are off by default from controller v1.9: `allow-snippet-annotations: "true"`, and from v1.12 '
    "also `annotations-risk-level: Critical`); Gateway API: `RequestHeaderModifier` with `remove: [Origin]`"
)
