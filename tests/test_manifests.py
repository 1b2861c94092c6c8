"""Kubernetes inputs: every object form, port resolution, and bad input that must not stop the scan."""

from __future__ import annotations

import json
import os
from pathlib import Path

from vizdoctor.report import scan

TAP = """
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.tap.linkerd.io}
spec:
  group: tap.linkerd.io
  version: v1alpha1
  service: {name: tap, namespace: linkerd-viz}
---
apiVersion: v1
kind: Service
metadata: {name: tap, namespace: linkerd-viz}
spec:
  selector: {component: tap}
  ports:
  - {name: apiserver, port: 443, targetPort: apiserver}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: tap, namespace: linkerd-viz}
spec:
  template:
    metadata: {labels: {component: tap}}
    spec:
      containers:
      - name: tap
        ports:
        - {name: grpc, containerPort: 8088}
        - {name: apiserver, containerPort: 8089}
"""


def _paths(report):  # type: ignore[no-untyped-def]
    return {p.target.name: p for p in report.paths}


def test_named_target_port_resolves_against_the_selected_workload(tmp_path: Path) -> None:
    (tmp_path / "tap.yaml").write_text(TAP)
    p = _paths(scan([str(tmp_path)]))["v1alpha1.tap.linkerd.io"]
    assert p.target_port == 8089
    assert [w.name for w in p.workloads] == ["tap"]


def test_named_port_missing_from_the_pods_is_unknown_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "tap.yaml").write_text(
        TAP.replace("name: apiserver, containerPort", "name: api, containerPort")
    )
    p = _paths(scan([str(tmp_path)]))["v1alpha1.tap.linkerd.io"]
    assert p.status == "unknown" and p.target_port is None
    assert "no container of Deployment tap declares a port named 'apiserver'" in p.reason


def test_numeric_and_defaulted_target_ports(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hooks}
webhooks:
- name: numeric.example.com
  clientConfig: {service: {name: numeric, namespace: ns}}
- name: defaulted.example.com
  clientConfig: {service: {name: defaulted, namespace: ns, port: 8443}}
- name: wrongport.example.com
  clientConfig: {service: {name: numeric, namespace: ns, port: 9999}}
---
apiVersion: v1
kind: Service
metadata: {name: numeric, namespace: ns}
spec: {ports: [{port: 443, targetPort: 9443}], selector: {app: x}}
---
apiVersion: v1
kind: Service
metadata: {name: defaulted, namespace: ns}
spec: {ports: [{port: 8443}]}
""")
    paths = _paths(scan([str(tmp_path)]))
    assert paths["numeric.example.com"].target_port == 9443
    assert paths["defaulted.example.com"].target_port == 8443  # targetPort defaults to port
    assert paths["wrongport.example.com"].target_port is None
    assert "has no port 9999" in paths["wrongport.example.com"].reason
    assert paths["numeric.example.com"].target.failure_policy == "Fail"  # admissionregistration/v1 default


def test_missing_service_url_webhook_and_v1beta1_default(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("""
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingWebhookConfiguration
metadata: {name: legacy}
webhooks:
- name: missing.example.com
  clientConfig: {service: {name: nowhere, namespace: ns}}
- name: url.example.com
  clientConfig: {url: "https://hooks.example.com/mutate"}
""")
    paths = _paths(scan([str(tmp_path)]))
    assert paths["missing.example.com"].status == "unknown"
    assert "Service ns/nowhere is not among the inputs" in paths["missing.example.com"].reason
    assert paths["missing.example.com"].target.failure_policy == "Ignore"  # v1beta1 defaulted to Ignore
    assert "https://hooks.example.com/mutate" in paths["url.example.com"].reason


def test_kubectl_list_json_crd_conversion_and_host_network(tmp_path: Path) -> None:
    items = [
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "conversion": {
                    "strategy": "Webhook",
                    "webhook": {
                        "clientConfig": {"service": {"name": "conv", "namespace": "sys", "port": 443}}
                    },
                }
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "conv", "namespace": "sys"},
            "spec": {"selector": {"app": "conv"}, "ports": [{"port": 443, "targetPort": "https"}]},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "conv", "namespace": "sys"},
            "spec": {
                "template": {
                    "metadata": {"labels": {"app": "conv"}},
                    "spec": {
                        "hostNetwork": True,
                        "containers": [{"name": "c", "ports": [{"name": "https", "containerPort": 10260}]}],
                    },
                }
            },
        },
    ]
    (tmp_path / "list.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    p = _paths(scan([str(tmp_path)]))["widgets.example.com"]
    assert p.target.kind == "CRDConversion"
    assert p.target_port == 10260 and p.host_network
    assert "hostNetwork" in p.reason


def test_cronjob_and_pod_templates_are_workloads(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text("""
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj, namespace: n}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: cj}}
        spec: {containers: [{name: c, ports: [{containerPort: 1}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: n, labels: {app: p}}
spec: {containers: [{name: c, ports: [{containerPort: 2, name: two}]}]}
""")
    inv = scan([str(tmp_path)]).inventory
    assert {(w.kind, w.ports[0].port) for w in inv.workloads} == {("CronJob", 1), ("Pod", 2)}


def test_objects_without_namespace_take_the_default_namespace_option(tmp_path: Path) -> None:
    (tmp_path / "tap.yaml").write_text(TAP.replace("namespace: linkerd-viz}", "}"))
    (tmp_path / "tap.yaml").write_text(
        (tmp_path / "tap.yaml")
        .read_text()
        .replace("service: {name: tap, }", "service: {name: tap, namespace: linkerd-viz}")
    )
    # Without -n, the namespace-less Service is the one the APIService names (issue 11): inferred, and said.
    inferred = _paths(scan([str(tmp_path)]))["v1alpha1.tap.linkerd.io"]
    assert inferred.target_port == 8089 and inferred.service is not None
    assert inferred.service.namespace == "linkerd-viz" and inferred.target.inferred
    assert "namespace inferred" in (inferred.target.inferred_from or "")
    explicit = _paths(scan([str(tmp_path)], "linkerd-viz"))["v1alpha1.tap.linkerd.io"]
    assert explicit.target_port == 8089 and not explicit.target.inferred


# --- bad input: reported with path and line, the rest still analysed ---------------------------------


def _problems(report) -> dict[str, tuple[int | None, str]]:  # type: ignore[no-untyped-def]
    return {Path(p.path).name: (p.line, p.message) for p in report.inventory.problems}


def test_broken_yaml_document_loses_only_itself(tmp_path: Path) -> None:
    broken = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  bad: [\n"
    (tmp_path / "mixed.yaml").write_text("---\n" + broken + "---" + TAP)
    report = scan([str(tmp_path)])
    line, message = _problems(report)["mixed.yaml"]
    assert message.startswith("not valid YAML") and line is not None and 2 <= line <= 6
    assert _paths(report)["v1alpha1.tap.linkerd.io"].target_port == 8089  # later documents survive
    finding = next(f for f in report.findings if f.check == "input-unreadable")
    assert "mixed.yaml:" in finding.message


def test_broken_json_hcl_binary_empty_and_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "tap.yaml").write_text(TAP)
    (tmp_path / "bad.json").write_text('{"kind": "Service",\n  "metadata": }\n')
    (tmp_path / "bad.tf").write_text('module "eks" {\n  source = "x"\n  version = \n}\n')
    (tmp_path / "blob.yaml").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.yml").write_bytes(b"kind: Service\nname: caf\xe9\n")
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "empty.tf").write_text("")
    os.symlink("/proc/self/mem", tmp_path / "unreadable.yaml")
    report = scan([str(tmp_path), str(tmp_path / "does-not-exist.yaml")])
    problems = _problems(report)
    assert problems["bad.json"][0] == 2 and "not valid JSON" in problems["bad.json"][1]
    assert problems["bad.tf"][0] == 3 and "not valid HCL" in problems["bad.tf"][1]
    assert problems["blob.yaml"] == (None, "binary file, not YAML, JSON or HCL")
    assert problems["latin1.yml"][0] == 2 and "not UTF-8" in problems["latin1.yml"][1]
    assert "cannot read" in problems["unreadable.yaml"][1]
    assert problems["does-not-exist.yaml"][1] == "no such file or directory"
    assert "empty.yaml" not in problems and "empty.tf" not in problems
    assert _paths(report)["v1alpha1.tap.linkerd.io"].target_port == 8089
    assert len([f for f in report.findings if f.check == "input-unreadable"]) == 6


def test_wrong_shapes_are_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "weird.yaml").write_text("""
apiVersion: v1
kind: Service
metadata: {name: s, namespace: n}
spec: {ports: [{port: "not-a-number"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: n}
spec: {template: {spec: {containers: "oops"}}}
---
just a string document
---
- a
- list
""")
    report = scan([str(tmp_path)])
    messages = [p.message for p in report.inventory.problems]
    assert any(m.startswith("Service s: unexpected shape") for m in messages)
    assert any(m.startswith("Deployment d: unexpected shape") for m in messages)
    assert len(messages) == 2


def test_kept_objects_drop_what_no_check_reads(tmp_path: Path) -> None:
    """Memory: bookkeeping, kubectl's last-applied copy and CRD schemas are not kept; what checks read is."""
    (tmp_path / "cm.json").write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "ingress-nginx-controller",
                    "namespace": "ingress-nginx",
                    "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:data": {}}}],
                    "annotations": {
                        "kubectl.kubernetes.io/last-applied-configuration": '{"big": "copy"}',
                        "keep": "me",
                    },
                },
                "data": {"allow-snippet-annotations": "false"},
            }
        )
    )
    (tmp_path / "crd.json").write_text(
        json.dumps(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "widgets.example.com"},
                "spec": {
                    "group": "example.com",
                    "names": {"kind": "Widget", "plural": "widgets"},
                    "scope": "Namespaced",
                    "versions": [
                        {
                            "name": "v1",
                            "served": True,
                            "storage": True,
                            "schema": {"openAPIV3Schema": {"type": "object"}},
                        }
                    ],
                    "conversion": {
                        "strategy": "Webhook",
                        "webhook": {
                            "clientConfig": {"service": {"namespace": "w", "name": "conv", "port": 443}},
                            "conversionReviewVersions": ["v1"],
                        },
                    },
                },
            }
        )
    )
    report = scan([str(tmp_path)])
    (cm,) = report.inventory.objects["ConfigMap"]
    assert "managedFields" not in cm.doc["metadata"]
    assert cm.doc["metadata"]["annotations"] == {"keep": "me"}
    assert cm.doc["data"] == {"allow-snippet-annotations": "false"}
    (crd,) = report.inventory.objects["CustomResourceDefinition"]
    assert "schema" not in crd.doc["spec"]["versions"][0] and crd.doc["spec"]["versions"][0]["name"] == "v1"
    assert [t.kind for t in report.inventory.targets] == ["CRDConversion"]
