"""Inputs as users keep them (issue 11): Helm chart folders, kustomize folders, namespace-less output,
Terraform `helm_release`, YAML that only the API server's reader accepts, broken objects beside good ones,
and the exit status of undecided paths. Everything runs the real command in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE, ROOT, SHARED, eks_module

VIZ_CHART = SHARED / "charts-src" / "linkerd-viz"
SEED_TF = EXAMPLE / "terraform"
TAP = "v1alpha1.tap.linkerd.io"


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizdoctor", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env=env,
    )


def scan_json(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    r = run("scan", *args, "-o", "json", env=env)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def path_named(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["paths"] if p["name"] == name)


def svc(p: dict[str, Any]) -> str:
    s = p["service"]
    return f"{s['namespace']}/{s['name']}:{s['port']}"


def need_viz_chart() -> Path:
    if not VIZ_CHART.is_dir():
        pytest.skip(f"needs the linkerd-viz chart source at {VIZ_CHART} (../shared beside the repository)")
    return VIZ_CHART


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root


# A small chart of our own: one APIService whose pod port is a value, so --values/--set/--release matter.
SMALL_CHART = {
    "Chart.yaml": """\
        apiVersion: v2
        name: demo-api
        version: 1.2.3
        """,
    "values.yaml": """\
        port: 7443
        """,
    "templates/_helpers.tpl": """\
        {{- define "demo.fullname" -}}{{ .Release.Name }}-api{{- end -}}
        """,
    "templates/all.yaml": """\
        apiVersion: v1
        kind: Service
        metadata:
          name: {{ include "demo.fullname" . }}
        spec:
          selector: {app: {{ include "demo.fullname" . }}}
          ports:
          - port: 443
            targetPort: https
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ include "demo.fullname" . }}
        spec:
          selector: {matchLabels: {app: {{ include "demo.fullname" . }}}}
          template:
            metadata: {labels: {app: {{ include "demo.fullname" . }}}}
            spec:
              containers:
              - name: api
                ports:
                - {name: https, containerPort: {{ .Values.port }}}
        ---
        apiVersion: apiregistration.k8s.io/v1
        kind: APIService
        metadata:
          name: v1.demo.example.com
        spec:
          group: demo.example.com
          version: v1
          service:
            name: {{ include "demo.fullname" . }}
            namespace: {{ .Release.Namespace }}
        """,
}


# --- Helm chart folders -------------------------------------------------------------------------------


def test_linkerd_viz_chart_folder_is_rendered_and_tap_is_blocked() -> None:
    chart = need_viz_chart()
    rc, doc = scan_json(str(chart), str(SEED_TF), "-n", "linkerd-viz")
    assert rc == 1
    tap = path_named(doc, TAP)
    assert tap["status"] == "blocked" and tap["target_port"] == 8089
    assert svc(tap) == "linkerd-viz/tap:443"
    # chart templates are rendered, not read raw: no "not valid YAML" for {{ }} in templates/
    assert not [f for f in doc["findings"] if f["check"] == "input-unreadable"]


def test_small_chart_values_set_and_release(tmp_path: Path) -> None:
    chart = write(tmp_path / "demo", SMALL_CHART)
    _, doc = scan_json(str(chart), "-n", "apis", "--release", "r1")
    p = path_named(doc, "v1.demo.example.com")
    assert svc(p) == "apis/r1-api:443" and p["target_port"] == 7443
    (tmp_path / "v.yaml").write_text("port: 8111\n")
    _, doc = scan_json(str(chart), "-n", "apis", "--values", str(tmp_path / "v.yaml"))
    assert path_named(doc, "v1.demo.example.com")["target_port"] == 8111
    assert svc(path_named(doc, "v1.demo.example.com")) == "apis/demo-api-api:443"  # release = chart name
    _, doc = scan_json(str(chart), "--values", str(tmp_path / "v.yaml"), "--set", "port=9555")
    assert path_named(doc, "v1.demo.example.com")["target_port"] == 9555


def test_missing_chart_dependency_is_named(tmp_path: Path) -> None:
    files = dict(SMALL_CHART)
    files["Chart.yaml"] = files["Chart.yaml"].rstrip(" ") + (
        "        dependencies:\n        - name: redis\n          version: 17.0.0\n"
        "          repository: https://charts.example.com\n"
    )
    chart = write(tmp_path / "demo", files)
    _, doc = scan_json(str(chart))
    msgs = [f["message"] for f in doc["findings"] if f["check"] == "input-unreadable"]
    assert any("dependency redis" in m and "helm dependency build" in m for m in msgs), msgs
    assert path_named(doc, "v1.demo.example.com")["target_port"] == 7443  # the rest is still rendered


def _hints(doc: dict[str, Any]) -> dict[str, str]:
    """input-unreadable findings: the path of each (its location without `:line`) -> its hint."""
    out: dict[str, str] = {}
    for f in doc["findings"]:
        if f["check"] == "input-unreadable":
            path, _, line = str(f["location"]).rpartition(":")
            out[path if line.isdigit() else str(f["location"])] = f["hint"]
    return out


def test_each_cause_of_an_unreadable_input_gets_its_own_hint(tmp_path: Path) -> None:
    """Not "fix the syntax" for a chart that needs a value, a missing path or a file over the size limit."""
    pytest.importorskip("helm_python")
    from vizdoctor.remediation import inputs as fix

    files = dict(SMALL_CHART)
    files["templates/all.yaml"] = (
        '{{ required "port must be set" .Values.mustSet }}\n' + files["templates/all.yaml"]
    )
    needs_value = write(tmp_path / "needs-value", files)
    files = dict(SMALL_CHART)
    files["Chart.yaml"] = (
        files["Chart.yaml"].rstrip(" ")
        + "        dependencies:\n        - name: redis\n          version: 17.0.0\n"
    )
    needs_dependency = write(tmp_path / "needs-dependency", files)
    (tmp_path / "broken.yaml").write_text("kind: Service\nmetadata: {name: [\n")
    (tmp_path / "big.yaml").write_text("# " + "x" * 3000 + "\n")
    missing = tmp_path / "missing.yaml"
    _, doc = scan_json(
        str(needs_value),
        str(needs_dependency),
        str(tmp_path / "broken.yaml"),
        str(missing),
        "--max-file-size",
        "2KB",
    )
    hints = _hints(doc)
    assert hints[str(needs_value)] == fix.CHART_VALUES
    assert hints[str(needs_dependency / "Chart.yaml")] == fix.CHART_DEPENDENCIES
    assert hints[str(tmp_path / "broken.yaml")] == fix.SYNTAX
    assert hints[str(missing)] == fix.FILE
    _, doc = scan_json(str(tmp_path / "big.yaml"), str(needs_dependency), "--max-file-size", "2KB")
    assert _hints(doc)[str(tmp_path / "big.yaml")] == fix.SIZE


# --- kustomize ------------------------------------------------------------------------------------------

KUSTOMIZE = {
    "base/kustomization.yaml": """\
        resources: [tap.yaml]
        """,
    "base/tap.yaml": """\
        apiVersion: v1
        kind: Service
        metadata: {name: tap}
        spec:
          selector: {component: tap}
          ports: [{name: apiserver, port: 443, targetPort: apiserver}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: tap}
        spec:
          selector: {matchLabels: {component: tap}}
          template:
            metadata: {labels: {component: tap}}
            spec:
              containers:
              - name: tap
                ports: [{name: apiserver, containerPort: 8089}]
        ---
        apiVersion: apiregistration.k8s.io/v1
        kind: APIService
        metadata: {name: v1alpha1.tap.linkerd.io}
        spec:
          group: tap.linkerd.io
          version: v1alpha1
          service: {name: tap, namespace: somewhere}
        """,
    "overlay/kustomization.yaml": """\
        resources: [../base]
        namespace: linkerd-viz
        namePrefix: viz-
        patches:
        - path: port.yaml
        """,
    "overlay/port.yaml": """\
        apiVersion: v1
        kind: Service
        metadata: {name: tap}
        spec:
          ports: [{port: 443, targetPort: 9089}]
        """,
}


def _kustomize_checks(doc: dict[str, Any]) -> None:
    tap = path_named(doc, TAP)
    # namespace and prefix applied to the Service and to the APIService's reference; the patch moved the port
    assert svc(tap) == "linkerd-viz/viz-tap:443"
    assert tap["target_port"] == 9089
    assert tap["status"] == "blocked"


def test_kustomize_overlay_native_subset(tmp_path: Path) -> None:
    root = write(tmp_path, KUSTOMIZE)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no kubectl: the native subset builds
    rc, doc = scan_json(str(root), str(SEED_TF), env=env)
    assert rc == 1
    _kustomize_checks(doc)
    # only the overlay is built (the base is part of it), and the files are never read raw
    assert sum(1 for p in doc["paths"] if p["name"] == TAP) == 1


def test_kustomize_native_subset_names_what_it_skipped(tmp_path: Path) -> None:
    files = dict(KUSTOMIZE)
    files["overlay/kustomization.yaml"] = (
        files["overlay/kustomization.yaml"].rstrip(" ")
        + "        replicas:\n        - name: viz-tap\n          count: 2\n"
    )
    root = write(tmp_path, files)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    _, doc = scan_json(str(root / "overlay"), env=env)
    msgs = " ".join(f["message"] for f in doc["findings"] if f["check"] == "input-unreadable")
    assert "replicas" in msgs and "kubectl is not on PATH" in msgs


def test_kustomize_overlay_with_kubectl(tmp_path: Path) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH: `kubectl kustomize` cannot be compared with the native subset")
    root = write(tmp_path, KUSTOMIZE)
    rc, doc = scan_json(str(root), str(SEED_TF))
    assert rc == 1
    _kustomize_checks(doc)


# --- namespace-less output ------------------------------------------------------------------------------


def _namespace_less_viz(tmp_path: Path) -> Path:
    """`helm template` of linkerd-viz with namespaces left out of metadata (the APIService still names its
    Service's namespace, as a chart does when the namespace is a value)."""
    import helm_python

    with helm_python.Chart.load(str(need_viz_chart())) as chart:
        out = chart.render(values={}, name="linkerd-viz", namespace="linkerd-viz")
    text = "".join(f"---\n# Source: {k}\n{v}" for k, v in sorted(out.items()) if k.endswith(".yaml"))
    lines = [ln for ln in text.splitlines() if ln != "  namespace: linkerd-viz"]  # metadata.namespace only
    f = tmp_path / "viz.yaml"
    f.write_text("\n".join(lines) + "\n")
    return f


def test_namespace_less_helm_template_output_with_seed_terraform(tmp_path: Path) -> None:
    f = _namespace_less_viz(tmp_path)
    assert "  namespace: linkerd-viz" not in f.read_text().splitlines()
    r = run("scan", str(f), str(SEED_TF))  # no -n
    assert r.returncode == 1, r.stderr
    assert f"× APIService {TAP} -> linkerd-viz/tap:443 -> pod port 8089" in r.stdout
    assert "namespace inferred" in r.stdout
    assert "is not among the inputs" not in r.stdout


# --- Terraform helm_release and friends ----------------------------------------------------------------


def _seed_root(tmp_path: Path, extra: str) -> Path:
    root = tmp_path / "tf"
    root.mkdir()
    for f in SEED_TF.glob("*.tf"):
        shutil.copy(f, root / f.name)
    (root / "addons.tf").write_text(textwrap.dedent(extra))
    return root


def test_terraform_only_helm_release_linkerd_viz_reports_tap_blocked(tmp_path: Path) -> None:
    root = _seed_root(
        tmp_path,
        """\
        resource "helm_release" "linkerd_viz" {
          name             = "linkerd-viz"
          repository       = "https://helm.linkerd.io/stable"
          chart            = "linkerd-viz"
          namespace        = "linkerd-viz"
          create_namespace = true
        }
        """,
    )
    r = run("scan", str(root))
    assert r.returncode == 1, r.stderr
    assert f"× APIService {TAP} -> linkerd-viz/tap:443 -> pod port 8089" in r.stdout
    assert "chart catalogue: linkerd/linkerd2@" in r.stdout  # inferred, with its source
    _, doc = scan_json(str(root))
    tap = path_named(doc, TAP)
    assert tap["status"] == "blocked" and tap["inferred"]


def test_helm_release_set_moves_the_catalogue_port(tmp_path: Path) -> None:
    root = _seed_root(
        tmp_path,
        """\
        resource "helm_release" "cm" {
          name       = "cert-manager"
          repository = "https://charts.jetstack.io"
          chart      = "cert-manager"
          namespace  = "cert-manager"
          set {
            name  = "webhook.securePort"
            value = "10260"
          }
        }
        """,
    )
    _, doc = scan_json(str(root))
    hooks = [p for p in doc["paths"] if p["name"] == "webhook.cert-manager.io"]
    assert hooks and all(p["target_port"] == 10260 and p["status"] == "blocked" for p in hooks)
    assert all(svc(p) == "cert-manager/cert-manager-webhook:443" for p in hooks)


def test_helm_release_with_a_local_chart_is_rendered_with_its_values(tmp_path: Path) -> None:
    root = _seed_root(
        tmp_path,
        """\
        resource "helm_release" "demo" {
          name      = "d"
          chart     = "./charts/demo"
          namespace = "apis"
          values    = [file("${path.module}/demo-values.yaml"), yamlencode({ unused = true })]
        }
        """,
    )
    write(root / "charts" / "demo", SMALL_CHART)
    (root / "demo-values.yaml").write_text("port: 8089\n")
    _, doc = scan_json(str(root))
    p = [x for x in doc["paths"] if x["name"] == "v1.demo.example.com"]
    assert len(p) == 1  # rendered once, via the release (the folder is not rendered again on its own)
    assert svc(p[0]) == "apis/d-api:443" and p[0]["target_port"] == 8089 and p[0]["status"] == "blocked"


def test_kubectl_manifest_and_kubernetes_v1_resources(tmp_path: Path) -> None:
    root = _seed_root(
        tmp_path,
        """\
        resource "kubectl_manifest" "apiservice" {
          yaml_body = <<-YAML
            apiVersion: apiregistration.k8s.io/v1
            kind: APIService
            metadata:
              name: v1beta1.custom.metrics.k8s.io
            spec:
              group: custom.metrics.k8s.io
              version: v1beta1
              service:
                name: adapter
                namespace: monitoring
          YAML
        }
        resource "kubernetes_service_v1" "adapter" {
          metadata {
            name      = "adapter"
            namespace = "monitoring"
          }
          spec {
            selector = { app = "adapter" }
            port {
              port        = 443
              target_port = 6443
            }
          }
        }
        """,
    )
    _, doc = scan_json(str(root))
    p = path_named(doc, "v1beta1.custom.metrics.k8s.io")
    # 6443 is one of the module's recommended rules (ingress_cluster_6443_webhook): open
    assert svc(p) == "monitoring/adapter:443" and p["target_port"] == 6443 and p["status"] == "open"


# --- Terraform variables as applied ----------------------------------------------------------------------

RULE_TF = (
    eks_module(
        "20.8.0",
        extra="""
  node_security_group_additional_rules = {
    tap = {
      type = "ingress"
      protocol = "tcp"
      from_port = var.tap_port
      to_port = var.tap_port
      source_cluster_security_group = true
    }
  }""",
    )
    + 'variable "tap_port" {}\n'
)

TAP_MANIFEST = EXAMPLE / "manifests" / "linkerd-viz.yaml"


def test_var_file_and_var_choose_between_disagreeing_tfvars(tmp_path: Path) -> None:
    write(
        tmp_path / "tf",
        {"main.tf": RULE_TF, "dev.tfvars": "tap_port = 8089\n", "prod.tfvars": "tap_port = 1\n"},
    )
    args = [str(tmp_path / "tf"), str(TAP_MANIFEST)]
    r = run("scan", *args)
    assert r.returncode == 0, r.stderr
    assert f"‼ APIService {TAP}" in r.stdout and "--var-file" in r.stdout  # unknown, says how to decide
    assert f"√ APIService {TAP}" not in r.stdout
    r = run("scan", *args, "--fail-on", "warning")
    assert r.returncode == 1
    _, doc = scan_json(*args, "--var-file", str(tmp_path / "tf" / "dev.tfvars"))
    assert path_named(doc, TAP)["status"] == "open"
    _, doc = scan_json(*args, "--var-file", str(tmp_path / "tf" / "prod.tfvars"))
    assert path_named(doc, TAP)["status"] == "blocked"
    _, doc = scan_json(*args, "--var-file", str(tmp_path / "tf" / "prod.tfvars"), "--var", "tap_port=8089")
    assert path_named(doc, TAP)["status"] == "open"


# --- YAML as Kubernetes reads it --------------------------------------------------------------------------


def test_crd_with_plain_equals_scalar_is_read(tmp_path: Path) -> None:
    (tmp_path / "crd.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: probes.monitoring.example.com}
            spec:
              group: monitoring.example.com
              versions:
              - name: v1
                schema:
                  openAPIV3Schema:
                    properties:
                      op:
                        type: string
                        enum:
                        - =
                        - "!="
                        - =~
              conversion:
                strategy: Webhook
                webhook:
                  clientConfig:
                    service: {name: conv, namespace: mon, port: 443}
                  conversionReviewVersions: [v1]
              released: 2024-01-01
            """
        )
    )
    _, doc = scan_json(str(tmp_path))
    assert not [f for f in doc["findings"] if f["check"] == "input-unreadable"]
    assert path_named(doc, "probes.monitoring.example.com")["kind"] == "CRDConversion"


def test_raw_api_list_items_take_the_kind_of_the_list(tmp_path: Path) -> None:
    (tmp_path / "raw.json").write_text(
        json.dumps(
            {
                "kind": "APIServiceList",
                "apiVersion": "apiregistration.k8s.io/v1",
                "items": [
                    {
                        "metadata": {"name": TAP},
                        "spec": {"service": {"name": "tap", "namespace": "linkerd-viz"}},
                    }
                ],
            }
        )
    )
    _, doc = scan_json(str(tmp_path))
    assert svc(path_named(doc, TAP)) == "linkerd-viz/tap:443"


# --- one bad object never costs the report ---------------------------------------------------------------


def test_malformed_objects_beside_the_seed_still_report_tap_blocked(tmp_path: Path) -> None:
    # NOTE: the shape validation itself (input-unreadable per object) is issue 9's part; this test holds
    # the promise end to end once both are merged: the blocked tap path survives, exit 1.
    bad = textwrap.dedent(
        """\
        apiVersion: v1
        kind: Service
        metadata: 5
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d, namespace: x}
        spec: []
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingWebhookConfiguration
        metadata: {name: noclient}
        webhooks:
        - name: a.example.com
        """
    )
    stream = (
        bad
        + "---\n"
        + "".join(f.read_text() + "\n---\n" for f in sorted((EXAMPLE / "manifests").glob("*.yaml")))
    )
    (tmp_path / "stream.yaml").write_text(stream)
    r = run("scan", str(tmp_path / "stream.yaml"), str(SEED_TF))
    assert r.returncode == 1, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    assert f"× APIService {TAP} -> linkerd-viz/tap:443 -> pod port 8089" in r.stdout


# --- exit status ----------------------------------------------------------------------------------------


def test_nothing_analysed_exits_2_with_one_line(tmp_path: Path) -> None:
    for args, stdin in (
        (["README.md"], None),
        (["-"], ""),
        (["-"], 'resource "aws_security_group" "x" {\n  name = "x"\n}\n'),
    ):
        r = run("scan", *args, stdin=stdin)
        assert r.returncode == 2, (args, r.stdout)
        assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
        assert "nothing analysed" in r.stderr or "nothing to analyse" in r.stderr


def test_unknown_path_is_a_warning_never_a_pass() -> None:
    r = run("scan", str(EXAMPLE / "manifests" / "linkerd-viz.yaml"))  # no Terraform: network undecided
    assert r.returncode == 0, r.stderr
    assert f"‼ APIService {TAP}" in r.stdout and f"√ APIService {TAP}" not in r.stdout
    assert "to decide:" in r.stdout
    assert r.stdout.rstrip().splitlines()[-1].startswith("Status check results are ‼")
    assert (
        run("scan", str(EXAMPLE / "manifests" / "linkerd-viz.yaml"), "--fail-on", "warning").returncode == 1
    )


def test_a_check_that_raises_becomes_internal_error_and_the_rest_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import vizdoctor.checks as checks
    from vizdoctor.report import scan

    real = checks.all_checks

    def broken(ctx: checks.Context) -> list[Any]:
        raise KeyError("spec")

    monkeypatch.setattr(checks, "all_checks", lambda: [broken, *real()])
    report = scan([str(EXAMPLE)])
    errors = [f for f in report.findings if f.check == "internal-error"]
    assert len(errors) == 1 and "broken" in errors[0].title and "KeyError" in errors[0].message
    assert any(f.check == "control-plane-unreachable" for f in report.findings)  # the others ran
    assert report.exit_code == 1


# --- webhooks and APIServices registered at run time -------------------------------------------------------


def test_runtime_webhooks_of_crossplane_longhorn_and_calico_operator(tmp_path: Path) -> None:
    (tmp_path / "addons.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: v1
            kind: Service
            metadata: {name: crossplane-webhooks, namespace: crossplane-system}
            spec:
              selector: {app: crossplane}
              ports: [{port: 9443, targetPort: 9443}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: longhorn-admission-webhook, namespace: longhorn-system}
            spec:
              selector: {longhorn.io/admission-webhook: longhorn-admission-webhook}
              ports: [{name: admission-webhook, port: 9502, targetPort: 9502}]
            ---
            apiVersion: operator.tigera.io/v1
            kind: APIServer
            metadata: {name: default}
            spec: {}
            """
        )
    )
    _, doc = scan_json(str(tmp_path), str(SEED_TF))
    by_name = {p["name"]: p for p in doc["paths"]}
    cross = by_name["nousages.protection.crossplane.io"]
    assert svc(cross) == "crossplane-system/crossplane-webhooks:9443" and cross["target_port"] == 9443
    assert cross["inferred"] and cross["status"] == "open"  # 9443 is a module default rule in v20
    for name in ("validator.longhorn.io", "mutator.longhorn.io"):
        p = by_name[name]
        assert svc(p) == "longhorn-system/longhorn-admission-webhook:9502" and p["status"] == "blocked"
    calico = by_name["v3.projectcalico.org"]
    assert calico["target_port"] == 5443 and calico["status"] == "blocked" and calico["inferred"]


def test_helm_release_catalogue_follows_the_chart_version(tmp_path: Path) -> None:
    root = _seed_root(
        tmp_path,
        """\
        resource "helm_release" "ms_old" {
          name       = "metrics-server"
          repository = "https://kubernetes-sigs.github.io/metrics-server/"
          chart      = "metrics-server"
          version    = "3.8.2"
          namespace  = "kube-system"
        }
        resource "helm_release" "istio" {
          name       = "istiod"
          repository = "https://istio-release.storage.googleapis.com/charts"
          chart      = "istiod"
          namespace  = "istio-system"
        }
        resource "helm_release" "karpenter_v1" {
          name       = "karpenter"
          repository = "oci://public.ecr.aws/karpenter"
          chart      = "karpenter"
          version    = "1.0.6"
          namespace  = "karpenter"
        }
        resource "helm_release" "karpenter_new" {
          name       = "karpenter2"
          chart      = "oci://public.ecr.aws/karpenter/karpenter"
          version    = "1.3.0"
          namespace  = "karpenter2"
        }
        """,
    )
    _, doc = scan_json(str(root))
    by_name: dict[str, list[dict[str, Any]]] = {}
    for p in doc["paths"]:
        by_name.setdefault(p["name"], []).append(p)
    (ms,) = by_name["v1beta1.metrics.k8s.io"]
    assert ms["target_port"] == 4443 and ms["status"] == "open"  # 4443 before chart 3.10.0
    assert {p["target_port"] for p in by_name["rev.validation.istio.io"]} == {15017}
    assert all(p["status"] == "blocked" for p in by_name["rev.namespace.sidecar-injector.istio.io"])
    (conv,) = by_name["nodepools.karpenter.sh"]  # only the 1.0.x release converts; 1.3.0 has no webhook
    assert (
        svc(conv) == "karpenter/karpenter:8443" and conv["target_port"] == 8443 and conv["status"] == "open"
    )
    assert "validation.webhook.karpenter.sh" not in by_name


def test_kustomize_helm_charts_with_a_vendored_chart(tmp_path: Path) -> None:
    files = {f"k/charts/demo-api/{k}": v for k, v in SMALL_CHART.items()}
    files["k/kustomization.yaml"] = """\
        helmCharts:
        - name: demo-api
          releaseName: k1
          namespace: apis
          valuesInline: {port: 8089}
        - name: not-vendored
          repo: https://charts.example.com
          version: 1.0.0
        """
    root = write(tmp_path, files)
    for env in (None, {**os.environ, "PATH": str(Path(sys.executable).parent)}):
        _, doc = scan_json(str(root / "k"), str(SEED_TF), env=env)
        p = path_named(doc, "v1.demo.example.com")
        assert svc(p) == "apis/k1-api:443" and p["target_port"] == 8089 and p["status"] == "blocked"
        msgs = " ".join(f["message"] for f in doc["findings"] if f["check"] == "input-unreadable")
        assert "not-vendored" in msgs and "not fetched" in msgs


def test_chart_folder_without_the_helm_engine_says_how_to_get_it(tmp_path: Path) -> None:
    chart = write(tmp_path / "demo", SMALL_CHART)
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    # the engine is an optional extra: hide it from this process as if it were not installed
    code = (
        "import sys; sys.modules['helm_python'] = None; from vizdoctor.cli import main; "
        f"sys.exit(main(['scan', {str(chart)!r}, {str(tmp_path / 'cm.yaml')!r}, '-o', 'json']))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    msgs = [f["message"] for f in doc["findings"] if f["check"] == "input-unreadable"]
    assert any("vizdoctor[helm]" in m and "helm template" in m for m in msgs), msgs
    assert not doc["paths"]  # nothing rendered, nothing read raw from templates/


PROVIDER_WEBHOOK_TF = """\
resource "kubernetes_validating_webhook_configuration_v1" "x" {
  metadata {
    name = "demo-validator"
  }
  webhook {
    name = "validate.demo.example.com"
    failure_policy = "Fail"
    client_config {
      service {
        namespace = "demo"
        name      = "demo-webhook"
        port      = 443
      }
    }
    rule {
      operations   = ["CREATE"]
      api_groups   = ["*"]
      api_versions = ["*"]
      resources    = ["pods"]
    }
  }
}
resource "kubernetes_deployment_v1" "d" {
  metadata {
    name = "demo-webhook"
    namespace = "demo"
  }
  spec {
    selector {
      match_labels = { app = "demo" }
    }
    template {
      metadata {
        labels = { app = "demo" }
      }
      spec {
        container {
          name = "w"
          port {
            container_port = 7000
            name = "https"
          }
        }
      }
    }
  }
}
resource "kubernetes_service" "s" {
  metadata {
    name = "demo-webhook"
    namespace = "demo"
  }
  spec {
    selector = { app = "demo" }
    port {
      port = 443
      target_port = "https"
    }
  }
}
"""


def test_kubernetes_provider_webhook_deployment_and_service(tmp_path: Path) -> None:
    root = _seed_root(tmp_path, PROVIDER_WEBHOOK_TF)
    r = run("scan", str(root))
    assert r.returncode == 1, r.stderr
    # named targetPort resolved against the kubernetes_deployment_v1's container port
    assert (
        "× ValidatingWebhook validate.demo.example.com -> demo/demo-webhook:443 -> pod port 7000" in r.stdout
    )


def test_yaml_scalars_as_the_api_server_reads_them(tmp_path: Path) -> None:
    from vizdoctor.report import scan

    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: n}\n"
        "data: {op: =, when: 2024-01-01, at: 1:30, hex: 0x1F, flag: yes}\n"
    )
    report = scan([str(tmp_path)])
    (cm,) = report.inventory.objects["ConfigMap"]
    # `=`, dates and base-60 forms stay strings (go-yaml); YAML 1.1 hex and booleans are kept as go-yaml has them
    assert cm.doc["data"] == {"op": "=", "when": "2024-01-01", "at": "1:30", "hex": 31, "flag": True}


def test_helm_release_with_count_zero_is_not_installed(tmp_path: Path) -> None:
    root = _seed_root(
        tmp_path,
        """\
        variable "viz" {
          default = false
        }
        resource "helm_release" "linkerd_viz" {
          count     = var.viz ? 1 : 0
          name      = "linkerd-viz"
          chart     = "linkerd-viz"
          namespace = "linkerd-viz"
        }
        """,
    )
    _, doc = scan_json(str(root))
    assert not [p for p in doc["paths"] if p["name"] == TAP]
    _, doc = scan_json(str(root), "--var", "viz=true")
    assert path_named(doc, TAP)["status"] == "blocked"


def test_helm_release_chart_from_helms_cache(tmp_path: Path) -> None:
    import tarfile

    src = write(tmp_path / "src" / "demo-api", SMALL_CHART)
    cache = tmp_path / "helm-cache"
    (cache / "repository").mkdir(parents=True)
    with tarfile.open(cache / "repository" / "demo-api-1.2.3.tgz", "w:gz") as tgz:
        tgz.add(src, arcname="demo-api")
    root = _seed_root(
        tmp_path,
        """\
        resource "helm_release" "demo" {
          name       = "cached"
          repository = "https://charts.example.com"
          chart      = "demo-api"
          version    = "1.2.3"
          namespace  = "apis"
          set {
            name  = "port"
            value = "8089"
          }
        }
        """,
    )
    _, doc = scan_json(str(root), env={**os.environ, "HELM_CACHE_HOME": str(cache)})
    p = path_named(doc, "v1.demo.example.com")
    assert svc(p) == "apis/cached-api:443" and p["target_port"] == 8089 and p["status"] == "blocked"
    assert not p["inferred"]  # rendered from the real chart, not the catalogue
