"""Kubernetes objects that a Terraform root creates: `helm_release`, `kubernetes_manifest`,
`kubectl_manifest` (`yaml_body`) and the `kubernetes_*` / `kubernetes_*_v1` resources that decide a
control-plane path (Services, webhook configurations, APIServices, Deployments, DaemonSets).

A `helm_release` whose chart is on disk (`chart = "./charts/x"`, a `repository` folder, or Helm's cache of
downloaded archives) is rendered with the Helm engine and the release's literal values (`values = [file(..),
yamlencode(..)]`, `set {}` blocks). Otherwise a chart of `knowledge/charts.py` gives its paths, each marked
*inferred* with the chart source; any other chart is named as not analysed.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path
from typing import Any

import yaml

from vizdoctor.knowledge.charts import ChartEntry, default_port, find_chart, fullname, present
from vizdoctor.location import Location
from vizdoctor.model import (
    CallTarget,
    ContainerPort,
    Inventory,
    ObjectRef,
    Problem,
    Service,
    ServicePort,
    ServiceRef,
    Workload,
)
from vizdoctor.sources import helm, manifests
from vizdoctor.sources.options import LoadOptions, deep_merge, parse_set
from vizdoctor.sources.tf_eval import Scope, evaluate, is_known
from vizdoctor.sources.tf_hcl import (
    TfDir,
    TfFile,
    _block_line,
    _count_condition,
    _resources,
    build_scope,
    parse_hcl,
)

_FILE_CALL = re.compile(r'^\$\{\s*(?:file|templatefile)\(\s*"([^"]+)"\s*(?:,.*)?\)\s*\}$', re.DOTALL)
_YAMLENCODE = re.compile(r"^\$\{\s*(?:yamlencode|jsonencode)\((.*)\)\s*\}$", re.DOTALL)
_YAMLDECODE_FILE = re.compile(r'^\$\{\s*yamldecode\(\s*file\(\s*"([^"]+)"\s*\)\s*\)\s*\}$', re.DOTALL)
_HEREDOC = re.compile(r"^<<(-?)(\w+)\n(.*)\n\s*\2\s*$", re.DOTALL)

# kubernetes provider blocks that hold one object (unwrapped) vs. repeated blocks (pluralised).
_REPEATED = {
    "port": "ports",
    "container": "containers",
    "init_container": "initContainers",
    "webhook": "webhooks",
    "rule": "rules",
    "env": "env",
}


def _paths(text: str, d: TfDir) -> str:
    for ref in ("${path.module}", "${path.root}", "${path.cwd}"):
        text = text.replace(ref, d.path)
    return text


def _value(raw: Any, scope: Scope) -> Any:
    return evaluate(raw, scope)


def _str(raw: Any, scope: Scope) -> str | None:
    v = _value(raw, scope)
    return str(v) if isinstance(v, str | int) and not isinstance(v, bool) else None


def _heredoc(text: str) -> str:
    m = _HEREDOC.match(text.strip("\n"))
    if not m:
        return text
    body = m.group(3)
    return textwrap.dedent(body) if m.group(1) else body


def _release_values(
    block: dict[str, Any], d: TfDir, scope: Scope, problems: list[Problem], where: str
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in block.get("values") or []:
        if not isinstance(item, str):
            continue
        item = _paths(item, d)
        data: Any = None
        m = _FILE_CALL.match(item)
        enc = _YAMLENCODE.match(item)
        if m and not item.lstrip("${ ").startswith("templatefile"):
            p = Path(m.group(1))
            p = p if p.is_absolute() else Path(d.path) / p
            try:
                data = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                problems.append(Problem(where, None, f"values file {p} not applied: {exc}"))
                continue
        elif enc:
            parsed = parse_hcl(where, f"v = {enc.group(1)}\n", [])
            data = evaluate(parsed["v"], scope) if parsed and "v" in parsed else None
            if not is_known(data):
                problems.append(Problem(where, None, f"values entry not applied (not literal): {item[:80]}"))
                continue
        else:
            v = _value(item, scope)
            if isinstance(v, str):
                try:
                    data = yaml.safe_load(_heredoc(v))
                except yaml.YAMLError:
                    data = None
            if data is None:
                problems.append(Problem(where, None, f"values entry not applied (not literal): {item[:80]}"))
                continue
        if isinstance(data, dict):
            values = deep_merge(values, data)
    for kind in ("set", "set_string", "set_sensitive"):
        sets = block.get(kind) or []
        for s in sets if isinstance(sets, list) else []:
            if not isinstance(s, dict) or "name" not in s:
                continue
            name, val = _value(s.get("name"), scope), _value(s.get("value"), scope)
            if not isinstance(name, str) or not is_known(val) or isinstance(val, dict | list):
                problems.append(
                    Problem(where, None, f"{kind} {s.get('name')} not applied: its value is not literal")
                )
                continue
            raw = str(val).lower() if isinstance(val, bool) else str(val)
            try:
                set_v = parse_set(f"{name}={raw}")
            except ValueError:
                continue
            if kind == "set_string" or s.get("type") == "string":
                leaf = set_v
                keys = list(leaf)
                while isinstance(leaf[keys[0]], dict):
                    leaf = leaf[keys[0]]
                    keys = list(leaf)
                leaf[keys[0]] = raw  # strings stay strings (set_string, type = "string")
            values = deep_merge(values, set_v)
    return values


def _local_chart(block: dict[str, Any], d: TfDir, scope: Scope, version: str | None) -> Path | None:
    chart = _str(_paths(str(block.get("chart", "")), d), scope) or ""
    repo = _str(_paths(str(block.get("repository", "")), d), scope) if block.get("repository") else None
    candidates: list[Path] = []
    if chart and not chart.startswith(("oci://", "http://", "https://")):
        candidates.append(Path(chart) if Path(chart).is_absolute() else Path(d.path) / chart)
    if repo and "://" not in repo:
        candidates.append((Path(repo) if Path(repo).is_absolute() else Path(d.path) / repo) / chart)
    if chart and version:  # Helm's cache of downloaded archives ($HELM_CACHE_HOME/repository)
        cache = Path(os.environ.get("HELM_CACHE_HOME") or Path.home() / ".cache" / "helm") / "repository"
        candidates.append(cache / f"{chart.rsplit('/', 1)[-1]}-{version}.tgz")
    for c in candidates:
        if (c.is_dir() and helm.is_chart_dir(c)) or (c.is_file() and c.name.endswith(".tgz")):
            return c
    return None


def _get(values: dict[str, Any], dotted: str) -> Any:
    cur: Any = values
    for k in dotted.split("."):
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return cur


def _from_catalogue(
    entry: ChartEntry,
    release: str,
    ns: str,
    version: str | None,
    values: dict[str, Any],
    inv: Inventory,
    loc: Location,
    rname: str,
) -> None:
    full = fullname(release, entry.chart, values)
    seen_services: set[tuple[str, str]] = set()
    for cp in entry.paths:
        here = present(cp, version)
        if here is False:
            continue  # this chart version does not render it
        if cp.enabled_value and _get(values, cp.enabled_value) is False:
            continue
        port, version_note = default_port(cp, version)
        if cp.port_value:
            v = _get(values, cp.port_value)
            if isinstance(v, int) and not isinstance(v, bool):
                port, version_note = v, f"{cp.port_value}={v}"
            elif isinstance(v, str) and v.isdigit():
                port, version_note = int(v), f"{cp.port_value}={v}"
        host = bool(cp.host_network_value and _get(values, cp.host_network_value) is True)
        if here is None:
            inv.problems.append(
                Problem(
                    loc.path,
                    loc.line,
                    f"helm_release.{rname}: chart {entry.chart} renders "
                    f"{cp.kind} {cp.name} only in some versions and the version is not pinned: not analysed "
                    "(set `version`)",
                )
            )
            continue
        svc_name = cp.service.format(release=release, fullname=full)
        labels = {k: v.format(release=release, fullname=full) for k, v in cp.labels.items()}
        why = (
            f"helm_release.{rname} installs chart {entry.chart}"
            + (f" {version}" if version else "")
            + f"; not rendered (chart not on disk), so taken from the chart catalogue: {entry.source}; "
            f"checked for {entry.versions}" + (f"; {version_note}" if version_note else "")
        )
        if (ns, svc_name) not in seen_services:
            seen_services.add((ns, svc_name))
            inv.add_service(Service(ns, svc_name, labels, [ServicePort(cp.service_port, port, "https")], loc))
            inv.workloads.append(
                Workload(
                    "Deployment",
                    ns,
                    f"{svc_name} (from chart {entry.chart})",
                    labels,
                    [ContainerPort(cp.service, port, "https")],
                    host,
                    loc,
                )
            )
        if cp.runtime:
            continue  # registered at start: paths.py infers it from the Service (knowledge/addons.py)
        owner_kind = {
            "APIService": "APIService",
            "CRDConversion": "CustomResourceDefinition",
            "MutatingWebhook": "MutatingWebhookConfiguration",
        }.get(cp.kind, "ValidatingWebhookConfiguration")
        inv.targets.append(
            CallTarget(
                cp.kind,
                cp.name,
                ObjectRef(owner_kind, None, cp.configuration.format(release=release, fullname=full)),
                ServiceRef(ns, svc_name, cp.service_port),
                failure_policy=(cp.failure_policy or "Fail") if cp.kind.endswith("Webhook") else None,
                timeout_seconds=10 if cp.kind.endswith("Webhook") else None,
                inferred=True,
                inferred_from=why,
                location=loc,
            )
        )


def _helm_release(
    f: TfFile, rname: str, block: dict[str, Any], d: TfDir, scope: Scope, inv: Inventory, rendered: set[Path]
) -> None:
    loc = Location(f.path, _block_line(f, "resource", "helm_release", rname))
    where = str(loc)
    exists, conditional = _count_condition(block, scope)
    if not exists:
        return  # count = 0 / empty for_each: not installed
    if conditional:
        inv.problems.append(
            Problem(f.path, loc.line, f"helm_release.{rname}: {conditional}; analysed as if it is installed")
        )
    chart = _str(_paths(str(block.get("chart", "")), d), scope)
    release = _str(block.get("name"), scope)
    ns = _str(block.get("namespace"), scope) if "namespace" in block else "default"
    version = _str(block.get("version"), scope) if "version" in block else None
    if not chart or not release or not ns:
        inv.problems.append(
            Problem(
                where,
                loc.line,
                f"helm_release.{rname}: chart, name or namespace is not literal; "
                "its objects are not analysed (pass --var/--var-file for the variables)",
            )
        )
        return
    values = _release_values(block, d, scope, inv.problems, where)
    local = _local_chart(block, d, scope, version)
    if local is not None:
        r = helm.render(str(local), values, release, ns, inv.problems)
        if r is not None:
            rendered.add(local.resolve())
            for label, text in r.documents:
                manifests.read_yaml(f"{label} via helm_release.{rname}", text, inv, ns)
            return
    entry = find_chart(chart)
    if entry is None:
        inv.problems.append(
            Problem(
                where,
                loc.line,
                f"helm_release.{rname} (chart {chart}) is not rendered: the chart is "
                "not on disk and not in vizdoctor's chart catalogue, so its webhooks and "
                "APIServices, if any, are not analysed (scan its `helm template` output or "
                "chart folder too)",
            )
        )
        return
    _from_catalogue(entry, release, entry.fixed_namespace or ns, version, values, inv, loc, rname)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def provider_to_k8s(value: Any, key: str = "") -> Any:
    """The kubernetes provider's snake_case blocks -> the API's camelCase object."""
    if isinstance(value, list):
        items = [provider_to_k8s(v) for v in value]
        if key in _REPEATED or not all(isinstance(v, dict) for v in value):
            return items
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k.startswith("__"):
                continue
            if k in ("labels", "annotations", "selector", "match_labels", "data"):
                nk = _camel(k)
                out[nk] = provider_to_k8s(v, k) if k == "selector" and isinstance(v, list) else v
                if isinstance(out[nk], list) and len(out[nk]) == 1 and isinstance(out[nk][0], dict):
                    out[nk] = out[nk][0]
                continue
            block_list = isinstance(v, list) and all(isinstance(x, dict) for x in v)
            out[_REPEATED[k] if block_list and k in _REPEATED else _camel(k)] = provider_to_k8s(v, k)
        return out
    return value


_PROVIDER_KINDS = {
    "kubernetes_service": ("v1", "Service"),
    "kubernetes_deployment": ("apps/v1", "Deployment"),
    "kubernetes_daemonset": ("apps/v1", "DaemonSet"),
    "kubernetes_daemon_set": ("apps/v1", "DaemonSet"),
    "kubernetes_stateful_set": ("apps/v1", "StatefulSet"),
    "kubernetes_validating_webhook_configuration": (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    "kubernetes_mutating_webhook_configuration": (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    "kubernetes_api_service": ("apiregistration.k8s.io/v1", "APIService"),
}


def _manifests(f: TfFile, d: TfDir, scope: Scope, inv: Inventory) -> None:
    for rname, block in _resources(f.body, "kubernetes_manifest"):
        if not _count_condition(block, scope)[0]:
            continue
        loc = Location(f.path, _block_line(f, "resource", "kubernetes_manifest", rname))
        m = evaluate(block.get("manifest"), scope)
        if isinstance(m, dict):
            manifests.add_document(m, loc, inv, inv.default_namespace)
    for rname, block in _resources(f.body, "kubectl_manifest"):
        if not _count_condition(block, scope)[0]:
            continue
        loc = Location(f.path, _block_line(f, "resource", "kubectl_manifest", rname))
        raw = block.get("yaml_body")
        if not isinstance(raw, str):
            continue
        raw = _paths(raw, d)
        fm = _YAMLDECODE_FILE.match(raw) or _FILE_CALL.match(raw)
        if fm:
            p = Path(fm.group(1))
            try:
                text = (p if p.is_absolute() else Path(d.path) / p).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                inv.problems.append(Problem(str(loc), loc.line, f"kubectl_manifest.{rname}: {exc}"))
                continue
        else:
            v = evaluate(_heredoc(raw), scope)
            if not isinstance(v, str):
                inv.problems.append(
                    Problem(f.path, loc.line, f"kubectl_manifest.{rname}: yaml_body is not literal ({v})")
                )
                continue
            text = v
        manifests.read_yaml(f"{f.path}:{loc.line} kubectl_manifest.{rname}", text, inv, inv.default_namespace)
    for rtype, (api, kind) in _PROVIDER_KINDS.items():
        for suffix in ("", "_v1"):
            for rname, block in _resources(f.body, rtype + suffix):
                if not _count_condition(block, scope)[0]:
                    continue
                loc = Location(f.path, _block_line(f, "resource", rtype + suffix, rname))
                body = evaluate(block, scope)
                doc = provider_to_k8s(body)
                if isinstance(doc, dict):
                    doc = {"apiVersion": api, "kind": kind, **doc}
                    manifests.add_document(doc, loc, inv, inv.default_namespace)


def load_dir(d: TfDir, inv: Inventory, options: LoadOptions) -> set[Path]:
    """Objects created by the Terraform in `d`; returns the chart folders rendered (not rendered again)."""
    del options  # the release's own values apply, not the command line's --values
    rendered: set[Path] = set()
    if not any(
        any(
            t in (e or {})
            for e in f.body.get("resource", []) or []
            for t in ("helm_release", "kubernetes_manifest", "kubectl_manifest")
        )
        or any(
            k.startswith("kubernetes_")
            for e in f.body.get("resource", []) or []
            if isinstance(e, dict)
            for k in e
        )
        for f in d.files
    ):
        return rendered
    scope = build_scope(d)
    for f in d.files:
        for rname, block in _resources(f.body, "helm_release"):
            _helm_release(f, rname, block, d, scope, inv, rendered)
        _manifests(f, d, scope, inv)
    return rendered


__all__ = ["load_dir", "provider_to_k8s"]
