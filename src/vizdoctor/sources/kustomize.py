"""kustomize folders (`kustomization.yaml`): the objects `kubectl apply -k` would send.

With `kubectl` on PATH, `kubectl kustomize DIR` builds them (kustomize itself, every feature). Without it,
a documented subset is built natively and everything outside it is named as skipped, never read raw:
`resources` (files and folders, recursively), `namespace` (with the webhook and APIService Service
references kustomize's namespace transformer also rewrites), `namePrefix`/`nameSuffix` (with the Service
references in webhooks and APIServices), `commonLabels`, `patches` / `patchesStrategicMerge` as strategic
merge patches (lists of named items merge by `name`), and `helmCharts` whose chart is vendored under
`charts/<name>` (rendered with the Helm engine). Reference: https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from vizdoctor.model import Problem
from vizdoctor.sources import helm
from vizdoctor.sources.options import LoadOptions, deep_merge

FILENAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
NATIVE = {
    "apiVersion",
    "kind",
    "resources",
    "bases",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "patches",
    "patchesStrategicMerge",
    "helmCharts",
    "helmGlobals",
}
CLUSTER_SCOPED = {
    "Namespace",
    "CustomResourceDefinition",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "StorageClass",
    "IngressClass",
    "GatewayClass",
    "Node",
    "PersistentVolume",
}
TIMEOUT = 120


class KustomizeError(Exception):
    pass


def kustomization_file(path: Path) -> Path | None:
    return next((path / n for n in FILENAMES if (path / n).is_file()), None)


def _read_kustomization(d: Path) -> dict[str, Any]:
    f = kustomization_file(d)
    if f is None:
        raise KustomizeError(f"{d}: no kustomization.yaml")
    try:
        data = yaml.safe_load(f.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KustomizeError(f"{f}: {exc}") from exc
    if not isinstance(data, dict):
        raise KustomizeError(f"{f}: not a mapping")
    return data


def referenced_dirs(d: Path) -> set[Path]:
    """Folders this kustomization builds on (so they are not also scanned as roots of their own)."""
    try:
        k = _read_kustomization(d)
    except KustomizeError:
        return set()
    out: set[Path] = set()
    for r in [*(k.get("resources") or []), *(k.get("bases") or []), *(k.get("components") or [])]:
        if isinstance(r, str) and "://" not in r:
            p = (d / r).resolve()
            if p.is_dir():
                out.add(p)
    return out


def build(d: Path, options: LoadOptions, problems: list[Problem]) -> list[tuple[str, str]]:
    """(label, YAML text) of the built objects; problems name what could not be built or was skipped."""
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        try:
            proc = subprocess.run(
                [kubectl, "kustomize", str(d)], capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            problems.append(Problem(str(d), None, f"kubectl kustomize failed: {exc}"))
            return []
        if proc.returncode == 0:
            return [(f"{d} (kubectl kustomize)", proc.stdout)]
        first = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        # helmCharts need --enable-helm and a helm binary; the native subset renders vendored charts.
        problems.append(Problem(str(d), None, f"kubectl kustomize failed ({first}); built natively instead"))
    try:
        docs = _build_native(d, options, problems, set())
    except KustomizeError as exc:
        problems.append(Problem(str(d), None, f"kustomization cannot be built: {exc}"))
        return []
    text = yaml.safe_dump_all(docs, sort_keys=False)
    return [(f"{d} (kustomize subset, built by vizdoctor)", text)]


def _load_docs(path: Path) -> list[dict[str, Any]]:
    try:
        return [
            doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8-sig")) if isinstance(doc, dict)
        ]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KustomizeError(f"{path}: {exc}") from exc


def _build_native(
    d: Path, options: LoadOptions, problems: list[Problem], seen: set[Path]
) -> list[dict[str, Any]]:
    d = d.resolve()
    if d in seen:
        raise KustomizeError(f"{d}: kustomization refers to itself")
    seen = seen | {d}
    k = _read_kustomization(d)
    skipped = sorted(set(k) - NATIVE)
    if skipped:
        problems.append(
            Problem(
                str(kustomization_file(d)),
                None,
                f"kustomize fields not applied ({', '.join(skipped)}): kubectl is not on PATH and vizdoctor "
                "builds only resources, namespace, namePrefix/nameSuffix, commonLabels, strategic-merge "
                "patches and vendored helmCharts",
            )
        )
    docs: list[dict[str, Any]] = []
    for r in [*(k.get("resources") or []), *(k.get("bases") or [])]:
        if not isinstance(r, str):
            continue
        if "://" in r or r.startswith("github.com/"):
            problems.append(
                Problem(str(d), None, f"remote resource {r} not fetched: its objects are missing")
            )
            continue
        p = d / r
        if p.is_dir():
            docs.extend(_build_native(p, options, problems, seen))
        elif p.is_file():
            docs.extend(_load_docs(p))
        else:
            raise KustomizeError(f"resource {r} does not exist")
    for hc in k.get("helmCharts") or []:
        docs.extend(_helm_chart(d, hc, k.get("helmGlobals") or {}, problems))
    for patch in [*(k.get("patchesStrategicMerge") or []), *(k.get("patches") or [])]:
        _apply_patch(d, patch, docs, problems)
    prefix, suffix = str(k.get("namePrefix") or ""), str(k.get("nameSuffix") or "")
    if prefix or suffix:
        _rename(docs, prefix, suffix)
    labels = k.get("commonLabels")
    if isinstance(labels, dict) and labels:
        _common_labels(docs, {str(a): str(b) for a, b in labels.items()})
    ns = k.get("namespace")
    if isinstance(ns, str) and ns:
        _set_namespace(docs, ns)
    return docs


def _helm_chart(d: Path, hc: Any, glob: dict[str, Any], problems: list[Problem]) -> list[dict[str, Any]]:
    if not isinstance(hc, dict) or not hc.get("name"):
        return []
    home = d / str(glob.get("chartHome") or "charts")
    chart_dir = home / str(hc["name"])
    if not helm.is_chart_dir(chart_dir):
        problems.append(
            Problem(
                str(d),
                None,
                f"helmCharts {hc['name']} {hc.get('version', '')} is not vendored under {home}: not fetched "
                f"from {hc.get('repo', 'its repository')}, its objects are missing",
            )
        )
        return []
    values: dict[str, Any] = {}
    if hc.get("valuesFile"):
        try:
            loaded = yaml.safe_load((d / str(hc["valuesFile"])).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KustomizeError(f"helmCharts {hc['name']} valuesFile: {exc}") from exc
        if isinstance(loaded, dict):
            values = loaded
    if isinstance(hc.get("valuesInline"), dict):
        values = deep_merge(values, hc["valuesInline"])
    rendered = helm.render(
        str(chart_dir),
        values,
        str(hc.get("releaseName") or hc["name"]),
        str(hc.get("namespace") or "default"),
        problems,
    )
    if rendered is None:
        return []
    out: list[dict[str, Any]] = []
    for _, text in rendered.documents:
        try:
            out.extend(doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict))
        except yaml.YAMLError as exc:
            raise KustomizeError(f"helmCharts {hc['name']}: rendered YAML: {exc}") from exc
    return out


def _meta(doc: dict[str, Any]) -> dict[str, Any]:
    m = doc.get("metadata")
    if not isinstance(m, dict):
        m = {}
        doc["metadata"] = m
    return m


def _matches(doc: dict[str, Any], target: dict[str, Any]) -> bool:
    m = _meta(doc)
    for key, value in (("kind", doc.get("kind")), ("name", m.get("name")), ("namespace", m.get("namespace"))):
        if target.get(key) is not None and str(target[key]) != str(value):
            return False
    return True


def _apply_patch(d: Path, patch: Any, docs: list[dict[str, Any]], problems: list[Problem]) -> None:
    target: dict[str, Any] = {}
    if isinstance(patch, str):
        bodies = _load_docs(d / patch)
    elif isinstance(patch, dict):
        target = patch.get("target") if isinstance(patch.get("target"), dict) else {}  # type: ignore[assignment]
        if patch.get("path"):
            bodies = _load_docs(d / str(patch["path"]))
        elif isinstance(patch.get("patch"), str):
            try:
                loaded = yaml.safe_load(patch["patch"])
            except yaml.YAMLError as exc:
                raise KustomizeError(f"inline patch: {exc}") from exc
            bodies = [loaded] if isinstance(loaded, dict) else []
            if isinstance(loaded, list):  # a JSON 6902 patch: outside the subset
                problems.append(Problem(str(d), None, "JSON 6902 patch not applied (kubectl is not on PATH)"))
                return
        else:
            return
    else:
        return
    for body in bodies:
        if isinstance(body, list) or "op" in body:
            problems.append(Problem(str(d), None, "JSON 6902 patch not applied (kubectl is not on PATH)"))
            continue
        sel = dict(target)
        if not sel:
            sel = {"kind": body.get("kind"), "name": _meta(body).get("name")}
            if _meta(body).get("namespace"):
                sel["namespace"] = _meta(body)["namespace"]
        hit = False
        for i, doc in enumerate(docs):
            if _matches(doc, sel):
                docs[i] = strategic_merge(
                    doc,
                    {k: v for k, v in body.items() if k != "metadata"}
                    | {"metadata": {k: v for k, v in _meta(body).items() if k not in ("name", "namespace")}},
                )
                hit = True
        if not hit:
            raise KustomizeError(f"patch target {sel} not found among the resources")


def strategic_merge(base: Any, patch: Any) -> Any:
    """Strategic merge for the common case: maps merge, lists of maps with `name` merge by name,
    `$patch: delete` removes, anything else is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        if patch.get("$patch") == "delete":
            return None
        out = dict(base)
        for k, v in patch.items():
            if k.startswith("$"):
                continue
            if v is None:
                out.pop(k, None)
            elif k in out:
                merged = strategic_merge(out[k], v)
                if merged is None:
                    out.pop(k, None)
                else:
                    out[k] = merged
            else:
                out[k] = v
        return out
    if isinstance(base, list) and isinstance(patch, list):
        key = _merge_key([*base, *patch])
        if key is None:
            return patch
        out_list = list(base)
        for item in patch:
            idx = next((i for i, b in enumerate(out_list) if b.get(key) == item.get(key)), None)
            if idx is None:
                if item.get("$patch") != "delete":
                    out_list.append(item)
            else:
                merged = strategic_merge(out_list[idx], item)
                if merged is None:
                    out_list.pop(idx)
                else:
                    out_list[idx] = merged
        return out_list
    return patch


def _merge_key(items: list[Any]) -> str | None:
    """The patchMergeKey of the Kubernetes list the items belong to: container ports merge by containerPort,
    Service ports by port, containers, webhooks, env and volumes by name (k8s.io/api struct tags)."""
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    for key in ("containerPort", "port", "name"):
        if all(key in x for x in items):
            return key
    return None


def _service_refs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    kind = doc.get("kind")
    refs: list[dict[str, Any]] = []
    if kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for hook in doc.get("webhooks") or []:
            svc = (hook.get("clientConfig") or {}).get("service") if isinstance(hook, dict) else None
            if isinstance(svc, dict):
                refs.append(svc)
    elif kind == "APIService":
        svc = (doc.get("spec") or {}).get("service")
        if isinstance(svc, dict):
            refs.append(svc)
    return refs


def _rename(docs: list[dict[str, Any]], prefix: str, suffix: str) -> None:
    renamed: dict[str, str] = {}
    for doc in docs:
        if doc.get("kind") in ("Namespace", "CustomResourceDefinition", "APIService"):
            continue  # kustomize keeps these names (they are dictated by the API)
        m = _meta(doc)
        if m.get("name"):
            new = f"{prefix}{m['name']}{suffix}"
            if doc.get("kind") == "Service":
                renamed[str(m["name"])] = new
            m["name"] = new
    for doc in docs:
        for ref in _service_refs(doc):
            if str(ref.get("name")) in renamed:
                ref["name"] = renamed[str(ref["name"])]


def _common_labels(docs: list[dict[str, Any]], labels: dict[str, str]) -> None:
    for doc in docs:
        _meta(doc).setdefault("labels", {}).update(labels)
        spec = doc.get("spec")
        if not isinstance(spec, dict):
            continue
        if doc.get("kind") == "Service":
            spec.setdefault("selector", {}).update(labels)
        tmpl = spec.get("template")
        if isinstance(tmpl, dict):
            _meta(tmpl).setdefault("labels", {}).update(labels)
            sel = spec.setdefault("selector", {})
            if isinstance(sel, dict):
                sel.setdefault("matchLabels", {}).update(labels)


def _set_namespace(docs: list[dict[str, Any]], ns: str) -> None:
    for doc in docs:
        if doc.get("kind") not in CLUSTER_SCOPED:
            _meta(doc)["namespace"] = ns
        for ref in _service_refs(doc):
            ref["namespace"] = ns
