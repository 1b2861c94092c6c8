"""The projection `scan` applies to manifest objects (sources/projection.py), the packed RawObject, and
the streamed JSON report: issue 12, memory."""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE, ROOT
from test_projection_parity import assert_same, outcome
from vizdoctor.location import Location
from vizdoctor.model import RawObject
from vizdoctor.render import json_out
from vizdoctor.report import Policy, apply_policy, scan
from vizdoctor.sources import projection
from vizdoctor.sources.projection import ALL, DROP, Shape, apply

SRC = ROOT / "src" / "vizdoctor"

# --- the helper ------------------------------------------------------------------------------------


def test_a_keep_list_keeps_only_what_it_names() -> None:
    doc = {"a": 1, "b": {"c": 2, "d": 3}, "e": 4}
    assert apply({"a": ALL, "b": {"c": ALL}}, doc) == {"a": 1, "b": {"c": 2}}


def test_star_keeps_the_rest_and_drop_leaves_a_field_out() -> None:
    doc = {"a": 1, "b": {"c": 2, "d": 3}, "e": 4}
    assert apply({"*": ALL, "e": DROP, "b": {"*": ALL, "d": DROP}}, doc) == {"a": 1, "b": {"c": 2}}


def test_a_list_takes_its_shape_for_each_element_and_all_keeps_the_same_object() -> None:
    labels = {"app": "x"}
    doc = {"items": [{"name": "a", "junk": 1}, {"name": "b"}, "scalar"], "labels": labels}
    out = apply({"items": {"name": ALL}, "labels": ALL}, doc)
    assert out == {"items": [{"name": "a"}, {"name": "b"}, "scalar"], "labels": {"app": "x"}}
    assert out["labels"] is labels  # YAML aliases stay shared, nothing copied under ALL
    assert doc["items"][0] == {"name": "a", "junk": 1}  # the input is not changed


def _deployment() -> dict[str, Any]:
    container = {
        "name": "main",
        "image": "registry.example.com/app:1.0",
        "args": ["--port=8443"],
        "command": ["/app"],
        "env": [{"name": "A", "value": "1"}],
        "ports": [{"name": "https", "containerPort": 8443}],
        "resources": {"requests": {"cpu": "100m"}},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "https"}},
        "volumeMounts": [{"name": "certs", "mountPath": "/certs"}],
        "securityContext": {"runAsNonRoot": True},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "app",
            "namespace": "ns",
            "labels": {"app": "x"},
            "annotations": {projection.LAST_APPLIED: "{...}", "keep": "me"},
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "x"}, "annotations": {"linkerd.io/inject": "enabled"}},
                "spec": {
                    "hostNetwork": False,
                    "serviceAccountName": "app",
                    "containers": [container],
                    "initContainers": [dict(container, name="init")],
                    "volumes": [{"name": "certs", "secret": {"secretName": "x"}}],
                    "tolerations": [{"operator": "Exists"}],
                },
            },
        },
    }


def test_a_deployment_keeps_what_its_readers_read() -> None:
    kept = projection.project("Deployment", _deployment())
    assert kept is not None
    assert kept["metadata"] == {
        "name": "app",
        "namespace": "ns",
        "labels": {"app": "x"},
        "annotations": {"keep": "me"},
    }
    pod = kept["spec"]["template"]
    assert pod["metadata"]["annotations"] == {"linkerd.io/inject": "enabled"}
    assert set(pod["spec"]) == {"hostNetwork", "serviceAccountName", "containers", "initContainers"}
    for c in pod["spec"]["containers"] + pod["spec"]["initContainers"]:
        assert set(c) == {"name", "image", "args", "command", "env", "ports"}
    assert kept["spec"]["replicas"] == 2 and kept["spec"]["selector"] == {"matchLabels": {"app": "x"}}


def test_kinds_no_check_reads_are_not_kept_and_others_keep_every_field_but_bookkeeping() -> None:
    assert projection.project("RoleBinding", {"kind": "RoleBinding", "metadata": {"name": "x"}}) is None
    route = {"kind": "HTTPRoute", "metadata": {"name": "r", "managedFields": []}, "spec": {"rules": []}}
    assert projection.project("HTTPRoute", route) == {
        "kind": "HTTPRoute",
        "metadata": {"name": "r"},
        "spec": {"rules": []},
    }


def test_dropped_kinds_are_still_counted_and_checked(tmp_path: Path) -> None:
    f = tmp_path / "rbac.yaml"
    f.write_text(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: n}\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: [not, a, mapping]\n"
    )
    report = scan([str(f)])
    assert report.inventory.objects_read == 1
    assert "ServiceAccount" not in report.inventory.objects
    assert [p.line for p in report.inventory.problems] == [5]  # the broken one is reported with its line


# --- the audit guard: no reader names a field or kind the projection drops ---------------------------

_READERS = [
    *(SRC / "checks").glob("*.py"),
    *(SRC / "network").glob("*.py"),
    *(SRC / "exposure").glob("*.py"),
    *(SRC / "remediation").glob("*.py"),
    *(SRC / "render").glob("*.py"),
    *(SRC / "knowledge").glob("*.py"),
    SRC / "paths.py",
    SRC / "evidence.py",
    SRC / "objindex.py",
    SRC / "report.py",
    SRC / "sources" / "operators.py",
    SRC / "sources" / "suppressions.py",
]

# Every field of a Kubernetes Container (k8s.io/api/core/v1 types.go, `type Container struct`, v1.31)
_CONTAINER_FIELDS = [
    "name",
    "image",
    "command",
    "args",
    "workingDir",
    "ports",
    "envFrom",
    "env",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "volumeMounts",
    "volumeDevices",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
    "securityContext",
    "stdin",
    "stdinOnce",
    "tty",
]


def _constants() -> set[str]:
    out: set[str] = set()
    for path in _READERS:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.add(node.value)
    return out


def _dropped(shape: Shape) -> Iterator[str]:
    if isinstance(shape, str):
        return
    for key, sub in shape.items():
        if sub == DROP:
            yield str(key)
        else:
            yield from _dropped(sub)


def test_the_readers_are_where_the_guard_looks() -> None:
    assert all(p.is_file() for p in _READERS)
    names = _constants()
    assert {"containers", "args", "env", "ConfigMap", "webhooks"} <= names  # read, so named


def test_no_reader_names_a_dropped_field() -> None:
    names = _constants()
    dropped = {k for shape in projection.SHAPES.values() for k in _dropped(shape)}
    dropped |= set(_dropped(projection.DEFAULT_SHAPE))
    assert {"managedFields", "volumes", "schema"} <= dropped
    # the same words with another meaning: the report's "schema" key (render/json_out.py, report.py
    # baseline), "validation" as a word in webhook messages (live_webhooks.py, knowledge/addons.py);
    # no reader of CRDs exists beyond manifests._add_object's conversion webhook
    other_meaning = {"schema", "validation"}
    assert sorted(dropped & names - other_meaning) == []


def test_no_reader_names_a_container_field_the_projection_leaves_out() -> None:
    kept = set(projection.CONTAINER) if isinstance(projection.CONTAINER, dict) else set()
    left_out = set(_CONTAINER_FIELDS) - kept
    assert "resources" in left_out
    assert sorted(left_out & _constants()) == []


def test_no_reader_names_a_dropped_kind() -> None:
    assert sorted(projection.DROPPED_KINDS & _constants()) == []


# --- the differential test can fail ------------------------------------------------------------------

_V1BETA1_WEBHOOK = """\
apiVersion: admissionregistration.k8s.io/v1beta1
kind: ValidatingWebhookConfiguration
metadata: {name: old-hooks}
webhooks:
- name: validate.example.com
  clientConfig: {service: {name: hooks, namespace: hooks, path: /validate}}
---
apiVersion: v1
kind: Service
metadata: {name: hooks, namespace: hooks}
spec:
  selector: {app: hooks}
  ports: [{port: 443, targetPort: 8443}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hooks, namespace: hooks}
spec:
  template:
    metadata: {labels: {app: hooks}}
    spec:
      containers: [{name: hooks, image: hooks:1, ports: [{containerPort: 8443}]}]
"""


def test_dropping_a_field_a_check_reads_makes_the_parity_test_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """webhook-timeout reads the raw configuration's apiVersion (v1beta1 defaulted timeoutSeconds to 30):
    a projection that drops it loses the finding, and the comparison with whole objects says so."""
    f = tmp_path / "hooks.yaml"
    f.write_text(_V1BETA1_WEBHOOK)
    assert '"check": "webhook-timeout"' in outcome([str(f)])[0]
    assert_same([str(f)], monkeypatch)  # the real projection: identical
    broken = {**projection.SHAPES, "ValidatingWebhookConfiguration": {"*": ALL, "apiVersion": DROP}}
    monkeypatch.setattr(projection, "SHAPES", broken)
    assert '"check": "webhook-timeout"' not in outcome([str(f)])[0]
    with pytest.raises(AssertionError, match="JSON report differs"):
        assert_same([str(f)], monkeypatch)


# --- the packed RawObject ----------------------------------------------------------------------------


def test_a_packed_object_unpacks_to_a_fresh_copy_with_its_name_at_hand() -> None:
    doc = {"kind": "Service", "metadata": {"name": "s", "namespace": "n"}, "spec": {"ports": [{"port": 443}]}}
    loc = Location("a.yaml", 3)
    packed = RawObject.packed(doc, loc)
    assert (packed.name, packed.namespace, packed.location) == ("s", "n", loc)
    first = packed.doc
    assert first == doc and first is not doc
    first["spec"]["ports"].clear()  # a reader changing what it read changes nothing for the next one
    assert packed.doc == doc
    assert packed == RawObject(doc, loc) and packed != RawObject(doc, Location("b.yaml", 3))
    assert RawObject({"kind": "Namespace", "metadata": {"name": "x"}}, None).namespace is None


# --- the streamed JSON report ------------------------------------------------------------------------


@pytest.mark.parametrize("skip", [False, True])
def test_the_streamed_json_is_the_rendered_json(skip: bool) -> None:
    report = scan([str(EXAMPLE)])
    if skip:  # every finding suppressed: `findings` empty, `suppressed` full
        report = apply_policy(report, Policy(skip={f.check: "--skip-check" for f in report.findings}))
        assert report.suppressed and not report.findings
    buf = io.StringIO()
    json_out.write(report, buf)
    assert buf.getvalue() == json_out.render(report)
