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
from vizdoctor.sources import projection, suppressions
from vizdoctor.sources.parse_errors import yaml_error

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


# Bounds that no real manifest comes near (the largest chart render in the corpus: ~1 MB, ~100 documents,
# nesting < 40 levels) but that keep a hostile file from costing the report: a 560-byte `kind: List` of
# nested aliases expands to 531k objects, a million-document stream or a value nested 100k deep would
# exhaust time, memory or the interpreter's recursion limit in the readers that walk the objects.
MAX_DOCUMENTS = 100_000  # per file
MAX_NODES = 1_000_000  # mappings, lists and scalars of one document, aliases counted each time they are used
MAX_DEPTH = 200  # nesting of one document


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

_STRUCTURE_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _located(constructor: Any) -> Any:
    """A tagged scalar that is no value of its tag (`!!int x`, `!!bool maybe`, `!!timestamp 2020-13-45`)
    raises a bare ValueError, KeyError, ...: give it the node's line and column, and the tag, but not the
    text. Only the value constructors are wrapped: strings, mappings and lists (nearly every node) raise
    PyYAML's own located errors, and a wrapper on every node cost 5 % of a manifest scan."""

    def construct(loader: Any, node: yaml.Node) -> Any:
        try:
            return constructor(loader, node)
        except (ValueError, TypeError, OverflowError, AttributeError, KeyError, IndexError) as exc:
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            raise yaml.constructor.ConstructorError(
                None, None, f"the value is not a valid {tag} ({type(exc).__name__})", node.start_mark
            ) from None

    return construct


for _tag, _constructor in list(_Loader.yaml_constructors.items()):
    if _tag not in _STRUCTURE_TAGS:
        _Loader.add_constructor(_tag, _located(_constructor))


class BadDocument(Exception):
    """A document that parsed but is too big or too deep to analyse (message names the bound)."""


# What a YAML document can raise while it is built: libyaml's errors, and a constructor's ValueError /
# TypeError (`!!int x`, `!!timestamp 2020-13-45`, a mapping used as a mapping key).
YAML_ERRORS = (yaml.YAMLError, ValueError, TypeError, RecursionError, OverflowError)


def check_bounds(doc: Any) -> None:
    """Raise BadDocument when `doc`, walked as the readers walk it (aliases expanded), has more than
    MAX_NODES values or is nested deeper than MAX_DEPTH. Iterative, and it stops at the bound."""
    if not isinstance(doc, dict | list):
        return
    stack: list[tuple[Any, int]] = [(doc, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise BadDocument(
                f"expands to more than {MAX_NODES:,} values (YAML aliases?); not read, to keep memory bounded"
            )
        if depth > MAX_DEPTH:
            raise BadDocument(f"nested deeper than {MAX_DEPTH} levels; not read")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, dict | list))
            nodes += len(value)
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
            nodes += len(value)


def load_bounded(text: str) -> Any:
    """One YAML document (a values file), within the same bounds as manifests. Raises YAML_ERRORS or
    BadDocument."""
    loader = _Loader(text)
    try:
        doc = loader.get_single_data()
    finally:
        loader.dispose()
    check_bounds(doc)
    return doc


def _problem(path: str, line: int | None, exc: BaseException) -> Problem:
    if isinstance(exc, BadDocument):
        return Problem(path, line, f"document {exc}")
    err_line, message = yaml_error(exc)  # never the offending text: it may be a secret
    return Problem(path, err_line if err_line is not None else line, f"not valid YAML: {message}")


def _bounded(path: str, line: int, doc: Any, problems: list[Problem]) -> bool:
    try:
        check_bounds(doc)
    except BadDocument as exc:
        problems.append(_problem(path, line, exc))
        return False
    return True


def _yaml_documents(path: str, text: str, problems: list[Problem]) -> Iterator[tuple[int, Any]]:
    loader = _Loader(text)
    last_ok = 0  # start line of the last document read before a failure
    failed = False
    count = 0
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            count += 1
            if count > MAX_DOCUMENTS:
                problems.append(
                    Problem(
                        path, None, f"more than {MAX_DOCUMENTS:,} documents; the rest of the file is not read"
                    )
                )
                return
            doc = loader.get_data()
            last_ok = loader.doc_line
            if _bounded(path, loader.doc_line, doc, problems):
                yield loader.doc_line, doc
    except YAML_ERRORS:
        failed = True
    finally:
        loader.dispose()
    if failed:
        # Recover: read each remaining `---` document on its own, so one typo loses one object; each
        # broken one is reported with its own line and the kind of error.
        yield from _recover(path, text, last_ok, count, problems)


_SEPARATOR = re.compile(r"^---(?:\s.*)?$", re.MULTILINE)


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """Documents split at `---` lines, with the 1-based line each starts on. Linear: line numbers are
    counted from one separator to the next, not from the start of the text each time."""
    starts = sorted({0, *(m.start() for m in _SEPARATOR.finditer(text))})
    line, prev = 1, 0
    for i, s in enumerate(starts):
        line += text.count("\n", prev, s)
        prev = s
        e = starts[i + 1] if i + 1 < len(starts) else len(text)
        yield line, text[s:e]


def _recover(
    path: str, text: str, last_ok: int, count: int, problems: list[Problem]
) -> Iterator[tuple[int, Any]]:
    chunks = list(_chunks(text))
    for i, (start, chunk) in enumerate(chunks):
        end = chunks[i + 1][0] - 1 if i + 1 < len(chunks) else start + chunk.count("\n")
        if end <= last_ok:
            continue  # read before the failure
        loader = _Loader(chunk)
        try:
            while loader.check_data():  # type: ignore[no-untyped-call]
                count += 1
                if count > MAX_DOCUMENTS:
                    problems.append(
                        Problem(
                            path,
                            None,
                            f"more than {MAX_DOCUMENTS:,} documents; the rest of the file is not read",
                        )
                    )
                    return
                doc = loader.get_data()
                line = start + loader.doc_line - 1
                if line > last_ok and _bounded(path, line, doc, problems):
                    yield line, doc
        except YAML_ERRORS as exc:
            p = _problem(path, start, exc)
            at = p.line
            if at is not None and at != start and not isinstance(exc, BadDocument):
                at = start + at - 1  # the chunk's line -> the file's
            problems.append(Problem(path, at, p.message, partial=len(chunks) > 1 or last_ok > 0))
        finally:
            loader.dispose()


def read_yaml(path: str, text: str, inv: Inventory, default_namespace: str) -> None:
    for line, doc in _yaml_documents(path, text, inv.problems):
        add_document(doc, Location(path, line), inv, default_namespace)


def read_json(path: str, data: Any, inv: Inventory, default_namespace: str) -> None:
    add_document(data, Location(path, 1), inv, default_namespace)


def parse_json(path: str, text: str, problems: list[Problem]) -> Any | None:
    try:
        data = json.loads(text)
        check_bounds(data)
        return data
    except json.JSONDecodeError as exc:
        problems.append(
            Problem(path, exc.lineno, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
        )
    except RecursionError:
        problems.append(Problem(path, None, f"document nested deeper than {MAX_DEPTH} levels; not read"))
    except BadDocument as exc:
        problems.append(Problem(path, None, f"document {exc}"))
    return None


def _type_name(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _expect(value: Any, what: str, types: tuple[type, ...], wanted: str) -> str | None:
    if value is None or (isinstance(value, types) and not isinstance(value, bool)):
        return None
    return f"{what} is {_type_name(value)}, not {wanted}"


_SCALAR = (str, int, float)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shape_problem(kind: str, doc: dict[str, Any]) -> str | None:
    """Why an object cannot be analysed: a field that every reader relies on has the wrong type (the API
    server would refuse such an object). Names the field and the type found, never the value."""
    meta = doc.get("metadata")
    why = _expect(meta, "metadata", (dict,), "a mapping")
    if why:
        return why
    meta = meta or {}
    for field in ("name", "namespace"):
        why = why or _expect(meta.get(field), f"metadata.{field}", _SCALAR, "a string")
        if isinstance(meta.get(field), str) and _CONTROL.search(meta[field]):
            # the API server accepts only DNS names here; a control character can only be an attack on
            # the terminal that prints it
            why = why or f"metadata.{field} holds control characters"
    for field in ("labels", "annotations"):
        m = meta.get(field)
        why = why or _expect(m, f"metadata.{field}", (dict,), "a mapping")
        if isinstance(m, dict):
            for v in m.values():
                why = why or _expect(v, f"a value of metadata.{field}", _SCALAR, "a string")
    for field in ("spec", "status", "data"):
        why = why or _expect(doc.get(field), field, (dict,), "a mapping")
    if why:
        return why
    if kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        hooks = doc.get("webhooks")
        why = _expect(hooks, "webhooks", (list,), "a list")
        for i, hook in enumerate(hooks if isinstance(hooks, list) else []):
            why = why or _expect(hook, f"webhooks[{i}]", (dict,), "a mapping")
            if isinstance(hook, dict) and isinstance(hook.get("name"), str) and _CONTROL.search(hook["name"]):
                why = why or f"webhooks[{i}].name holds control characters"
            if isinstance(hook, dict):
                cc = hook.get("clientConfig")
                if cc is None:
                    why = why or f"webhooks[{i}] has no clientConfig"
                why = why or _expect(cc, f"webhooks[{i}].clientConfig", (dict,), "a mapping")
                if isinstance(cc, dict):
                    why = why or _expect(
                        cc.get("service"), f"webhooks[{i}].clientConfig.service", (dict,), "a mapping"
                    )
        return why
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
    raw_meta = doc.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    name = meta.get("name", "<unnamed>")
    name = str(name) if isinstance(name, str | int | float) else "<unnamed>"
    why = shape_problem(kind, doc)
    if why is not None:
        # One odd object costs only itself: it is left out of every check, and reported.
        inv.problems.append(Problem(loc.path, loc.line, f"{kind} {name}: not analysed: {why}"))
        return
    inv.objects_read += 1
    accepted = suppressions.from_annotations(doc, loc, inv.problems)
    if accepted is not None:
        inv.suppressions.append(accepted)
    if kind == "Secret":
        pass  # Secret data is never kept, so it can never be printed
    elif inv.live is None and projection.ENABLED:
        # scan: only the fields the checks read (sources/projection.py); `doc` stays whole for _add_object
        kept = projection.project(kind, doc)
        if kept is not None:
            inv.objects.setdefault(kind, []).append(RawObject.packed(kept, loc))
    else:
        # check: the items are LiveState.objects' own, read whole by the live checks; trimmed in place
        _slim(kind, doc)
        inv.objects.setdefault(kind, []).append(RawObject(doc, loc))
    namespace = str(meta.get("namespace") or default_namespace)
    try:
        _add_object(kind, doc, name, namespace, loc, inv, defaulted=not meta.get("namespace"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        inv.problems.append(
            Problem(
                loc.path, loc.line, f"{kind} {name}: unexpected shape ({type(exc).__name__})", partial=True
            )
        )


_LAST_APPLIED = projection.LAST_APPLIED


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
