"""Kubernetes manifests (YAML or JSON, Helm output, `kubectl get -o yaml|json`) -> inventory.

Only the objects that decide a control-plane path are kept: Services, workloads' pod templates,
APIServices, webhook configurations and CRD conversion webhooks. Secrets are never read beyond
their kind.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import yaml

from vizdoctor.location import Location
from vizdoctor.model import (
    CallKind,
    CallTarget,
    ContainerPort,
    Inventory,
    ObjectRef,
    Problem,
    RawObject,
    Service,
    ServicePort,
    ServiceRef,
    Workload,
)
from vizdoctor.sources import suppressions

_WORKLOAD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


# YAML 1.1 ints and floats as go-yaml reads them: PyYAML's base-60 forms (`1:30` -> 5400) dropped, so such
# values stay strings as they do for the API server.
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _kubernetes_resolvers() -> dict[Any, list[tuple[str, Any]]]:
    """PyYAML's YAML 1.1 implicit types, less what the API server's reader (sigs.k8s.io/yaml over
    go-yaml) does not have: the `=` "value" type (a plain `=` is a string in CRDs such as
    prometheus-operator's, PyYAML has no constructor for it and would drop the document), timestamps
    (go-yaml keeps an unquoted date as a string when decoding into an untyped object) and base-60 numbers."""
    dropped = {"tag:yaml.org,2002:value", "tag:yaml.org,2002:timestamp"}
    replaced = {"tag:yaml.org,2002:int": _INT, "tag:yaml.org,2002:float": _FLOAT}
    return {
        first: [(tag, replaced.get(tag, rx)) for tag, rx in resolvers if tag not in dropped]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }


class _Loader(yaml.CSafeLoader):
    """libyaml's C loader, recording the line each document starts on."""

    yaml_implicit_resolvers = _kubernetes_resolvers()

    def construct_document(self, node: yaml.Node) -> Any:
        self.doc_line = node.start_mark.line + 1
        return super().construct_document(node)

    def construct_interned_str(self, node: yaml.Node) -> Any:
        """Strings interned: the same keys and values (`apiVersion`, `metadata`, `TCP`, a namespace) recur
        in every object, and libyaml makes a new string each time; one copy of each keeps a third less
        memory for manifests, and is faster than PyYAML's own string constructor."""
        if type(node) is yaml.ScalarNode:
            return sys.intern(node.value)
        return self.construct_scalar(node)  # type: ignore[arg-type]  # not a scalar: PyYAML raises its error


_Loader.add_constructor("tag:yaml.org,2002:str", _Loader.construct_interned_str)


def _yaml_documents(path: str, text: str, problems: list[Problem]) -> Iterator[tuple[int, Any]]:
    loader = _Loader(text)
    last_ok = 0  # start line of the last document read before a failure
    failed = False
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            doc = loader.get_data()
            last_ok = loader.doc_line
            yield loader.doc_line, doc
    except yaml.YAMLError:
        failed = True
    finally:
        loader.dispose()
    if failed:
        # Recover: read each remaining `---` document on its own, so one typo loses one object; each
        # broken one is reported with its own line and libyaml's message.
        yield from _recover(path, text, last_ok, problems)


def _mark_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return int(mark.line) + 1 if mark is not None else None


_SEPARATOR = re.compile(r"^---(?:\s.*)?$", re.MULTILINE)


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """Documents split at `---` lines, with the 1-based line each starts on."""
    starts = [0] + [m.start() for m in _SEPARATOR.finditer(text)]
    starts = sorted(set(starts))
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(text)
        yield text.count("\n", 0, s) + 1, text[s:e]


def _recover(path: str, text: str, last_ok: int, problems: list[Problem]) -> Iterator[tuple[int, Any]]:
    chunks = list(_chunks(text))
    for i, (start, chunk) in enumerate(chunks):
        end = chunks[i + 1][0] - 1 if i + 1 < len(chunks) else start + chunk.count("\n")
        if end <= last_ok:
            continue  # read before the failure
        loader = _Loader(chunk)
        try:
            while loader.check_data():  # type: ignore[no-untyped-call]
                doc = loader.get_data()
                line = start + loader.doc_line - 1
                if line > last_ok:
                    yield line, doc
        except yaml.YAMLError as exc:
            rel = _mark_line(exc)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            context = getattr(exc, "context", None)
            problems.append(
                Problem(
                    path,
                    start + rel - 1 if rel else start,
                    f"not valid YAML: {context + ', ' if context else ''}{problem}",
                    partial=len(chunks) > 1 or last_ok > 0,
                )
            )
        finally:
            loader.dispose()


def read_yaml(path: str, text: str, inv: Inventory, default_namespace: str) -> None:
    for line, doc in _yaml_documents(path, text, inv.problems):
        add_document(doc, Location(path, line), inv, default_namespace)


def read_json(path: str, data: Any, inv: Inventory, default_namespace: str) -> None:
    add_document(data, Location(path, 1), inv, default_namespace)


def parse_json(path: str, text: str, problems: list[Problem]) -> Any | None:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(path, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})"))
        return None


def add_document(doc: Any, loc: Location, inv: Inventory, default_namespace: str) -> None:
    if not isinstance(doc, dict):
        return  # empty documents, comments-only documents, non-Kubernetes YAML
    kind = doc.get("kind")
    if not isinstance(kind, str):
        return
    if kind.endswith("List") and isinstance(doc.get("items"), list):
        # `kubectl get --raw` lists (ServiceList, ...) leave kind and apiVersion off their items.
        item_kind = kind[: -len("List")] if kind != "List" else None
        for item in doc["items"]:
            if item_kind and isinstance(item, dict) and "kind" not in item:
                item = {"kind": item_kind, "apiVersion": doc.get("apiVersion"), **item}
            add_document(item, loc, inv, default_namespace)
        return
    inv.objects_read += 1
    accepted = suppressions.from_annotations(doc, loc, inv.problems)
    if accepted is not None:
        inv.suppressions.append(accepted)
    if kind != "Secret":  # Secret data is never kept, so it can never be printed
        _slim(kind, doc)
        inv.objects.setdefault(kind, []).append(RawObject(doc, loc))
    raw_meta = doc.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    name = str(meta.get("name", "<unnamed>"))
    namespace = str(meta.get("namespace") or default_namespace)
    try:
        _add_object(kind, doc, name, namespace, loc, inv, defaulted=not meta.get("namespace"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        inv.problems.append(
            Problem(
                loc.path,
                loc.line,
                f"{kind} {name}: unexpected shape ({type(exc).__name__}: {exc})",
                partial=True,
            )
        )


_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _slim(kind: str, doc: dict[str, Any]) -> None:
    """Drop what no check reads and what makes objects large, before the object is kept: the server's
    field bookkeeping, kubectl's copy of the whole object as a JSON string, and a CRD's schemas (only its
    conversion webhook matters here; kyverno's CRDs are megabytes of schema)."""
    meta = doc.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(_LAST_APPLIED, None)
    if kind == "CustomResourceDefinition":
        spec = doc.get("spec")
        if isinstance(spec, dict):
            spec.pop("validation", None)  # apiextensions.k8s.io/v1beta1
            for version in spec.get("versions") or []:
                if isinstance(version, dict):
                    version.pop("schema", None)


def _get(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{what} is {value!r}, not a port number")
    return int(value)


def _add_object(
    kind: str,
    doc: dict[str, Any],
    name: str,
    namespace: str,
    loc: Location,
    inv: Inventory,
    defaulted: bool = False,
) -> None:
    spec = doc.get("spec") or {}
    if kind == "Service":
        sports: list[ServicePort] = []
        for p in spec.get("ports") or []:
            tp = p.get("targetPort")
            target: int | str | None
            if tp is None:
                target = None
            elif isinstance(tp, int) or (isinstance(tp, str) and tp.isdigit()):
                target = int(tp)
            else:
                target = str(tp)
            sports.append(
                ServicePort(_int(p.get("port"), "port"), target, p.get("name"), p.get("protocol", "TCP"))
            )
        selector = spec.get("selector")
        inv.add_service(
            Service(
                namespace,
                name,
                {str(k): str(v) for k, v in selector.items()} if isinstance(selector, dict) else None,
                sports,
                loc,
                namespace_defaulted=defaulted,
            )
        )
    elif kind in _WORKLOAD_TEMPLATES or kind == "Pod":
        if kind == "Pod":
            if _get(doc, "status", "phase") in ("Succeeded", "Failed"):
                return  # finished pods serve nothing (live clusters)
            pod_meta, pod_spec = doc.get("metadata") or {}, spec
        else:
            template = _get(doc, *_WORKLOAD_TEMPLATES[kind]) or {}
            pod_meta, pod_spec = template.get("metadata") or {}, template.get("spec") or {}
        labels = {str(k): str(v) for k, v in (pod_meta.get("labels") or {}).items()}
        ports: list[ContainerPort] = []
        for c in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []):
            for p in c.get("ports") or []:
                ports.append(
                    ContainerPort(
                        str(c.get("name", "")),
                        _int(p.get("containerPort"), "containerPort"),
                        p.get("name"),
                        p.get("protocol", "TCP"),
                    )
                )
        workload = Workload(
            kind, namespace, name, labels, ports, bool(pod_spec.get("hostNetwork", False)), loc
        )
        workload.namespace_defaulted = defaulted
        if kind == "Pod":  # live Pods: where they run
            node, ip = pod_spec.get("nodeName"), _get(doc, "status", "podIP")
            workload.node_name = str(node) if node else None
            workload.pod_ip = str(ip) if ip else None
        inv.workloads.append(workload)
    elif kind == "APIService":
        svc = spec.get("service")
        if isinstance(svc, dict):
            inv.targets.append(
                CallTarget(
                    "APIService",
                    name,
                    ObjectRef(kind, None, name),
                    ServiceRef(
                        str(svc.get("namespace", "")), str(svc.get("name", "")), int(svc.get("port") or 443)
                    ),
                    location=loc,
                )
            )
    elif kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        call_kind: CallKind = "MutatingWebhook" if kind.startswith("Mutating") else "ValidatingWebhook"
        # admissionregistration.k8s.io/v1 defaults failurePolicy to Fail; v1beta1 defaulted to Ignore.
        default_policy = "Ignore" if str(doc.get("apiVersion", "")).endswith("v1beta1") else "Fail"
        for hook in doc.get("webhooks") or []:
            cc = hook.get("clientConfig") or {}
            inv.targets.append(
                CallTarget(
                    call_kind,
                    str(hook.get("name", "<unnamed>")),
                    ObjectRef(kind, None, name),
                    _service_ref(cc.get("service")),
                    url=cc.get("url"),
                    failure_policy=str(hook.get("failurePolicy") or default_policy),
                    timeout_seconds=int(hook.get("timeoutSeconds") or 10),
                    operations=_rules_summary(hook.get("rules")),
                    location=loc,
                )
            )
    elif kind == "CustomResourceDefinition":
        conv = spec.get("conversion") or {}
        if conv.get("strategy") == "Webhook":
            cc = _get(conv, "webhook", "clientConfig") or conv.get("webhookClientConfig") or {}
            inv.targets.append(
                CallTarget(
                    "CRDConversion",
                    name,
                    ObjectRef(kind, None, name),
                    _service_ref(cc.get("service")),
                    url=cc.get("url"),
                    location=loc,
                )
            )


def _service_ref(svc: Any) -> ServiceRef | None:
    if not isinstance(svc, dict):
        return None
    return ServiceRef(
        str(svc.get("namespace", "")), str(svc.get("name", "")), int(svc.get("port") or 443), svc.get("path")
    )


def _rules_summary(rules: Any) -> str | None:
    if not isinstance(rules, list):
        return None
    parts: list[str] = []
    for r in rules:
        if not isinstance(r, dict):
            continue
        ops = "/".join(r.get("operations") or ["*"])
        res = ", ".join(r.get("resources") or ["*"])
        parts.append(f"{ops} of {res}")
    return "; ".join(parts) or None
