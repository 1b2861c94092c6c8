"""`scan` and `explain` on hostile inputs: no secret in any output, no terminal control sequence, and one odd
file or object costs only itself (one `input-unreadable` finding, everything else analysed), within
bounded time and memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT
from vizdoctor.render.escape import one_line, safe_lines
from vizdoctor.sources import manifests
from vizdoctor.sources.loader import load
from vizdoctor.sources.tf_hcl import MAX_HCL_CHARS

SECRET = "s3cr3tP4ssw0rdXYZ"
SERVICE = """apiVersion: v1
kind: Service
metadata: {name: tap, namespace: linkerd-viz}
spec:
  selector: {app: tap}
  ports: [{port: 443, targetPort: 8089}]
"""


def run(*args: str, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "vizdoctor", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=timeout,
    )


def all_outputs(*args: str) -> list[subprocess.CompletedProcess[bytes]]:
    return [run(*args, "-o", fmt) for fmt in ("text", "json", "sarif")]


def unreadable(args: list[str], stdin: bytes | None = None) -> list[dict[str, object]]:
    r = run(*args, "-o", "json", stdin=stdin)
    assert r.returncode in (0, 1), r.stderr
    assert b"Traceback" not in r.stderr and b"internal error" not in r.stderr
    findings = json.loads(r.stdout)["findings"]
    return [f for f in findings if f["check"] == "input-unreadable"]


# ------------------------------------------------------------------------------------ 2. no secret in output

BROKEN_VALUES = [
    f'controller:\n  auth:\n    password: "{SECRET}\n',  # unterminated quote
    f"controller:\n  password: {SECRET}\n   bad: indent: {SECRET}\n",  # mapping values not allowed
    f"controller:\n\tpassword: {SECRET}\n",  # tab
    f"controller:\n  password: !!int {SECRET}\n",  # a constructor's ValueError
    f"controller: [{SECRET}\n",  # unclosed flow sequence
]
BROKEN_HCL = [
    f'variable "db" {{\n  default = {SECRET} ]\n}}\n',
    f'db_password = "{SECRET}\n',
    f"key = <<EOF\n{SECRET}\n",
    f'password = "{SECRET}" "{SECRET}"\n',
]


@pytest.mark.parametrize("text", BROKEN_VALUES)
def test_values_file_syntax_error_never_prints_the_value(tmp_path: Path, text: str) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(text)
    for r in all_outputs("scan", str(EXAMPLE), "--values", str(values)):
        assert r.returncode == 1, r.stderr
        assert SECRET.encode() not in r.stdout + r.stderr
        assert b"values.yaml" in r.stdout  # the file is named, with its line
    found = unreadable(["scan", str(EXAMPLE), "--values", str(values)])
    assert len(found) == 1 and "line" in str(found[0]["message"])


@pytest.mark.parametrize("text", BROKEN_HCL)
@pytest.mark.parametrize("name", ["main.tf", "prod.tfvars"])
def test_terraform_syntax_error_never_prints_the_token(tmp_path: Path, text: str, name: str) -> None:
    (tmp_path / name).write_text(text)
    (tmp_path / "svc.yaml").write_text(SERVICE)
    for r in all_outputs("scan", str(tmp_path)):
        assert r.returncode in (0, 1), r.stderr
        assert SECRET.encode() not in r.stdout + r.stderr
        assert name.encode() in r.stdout
    found = unreadable(["scan", str(tmp_path)])
    assert len(found) == 1 and "not valid HCL" in str(found[0]["message"])
    assert "line" in str(found[0]["message"])


def test_manifest_syntax_error_never_prints_the_value(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(SERVICE + f'---\nkind: Secret\nstringData:\n  p: "{SECRET}\n')
    for r in all_outputs("scan", str(tmp_path)):
        assert SECRET.encode() not in r.stdout + r.stderr


# ---------------------------------------------------------------------------------- 3. terminal injection

FORGED = "x\r√ all paths open\n√ forged line\x1b[2J\x1b]0;owned\x07\x9b31m\u202e"


def test_escape_function() -> None:
    assert one_line(FORGED) == "x\\r√ all paths open\\n√ forged line\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202e"
    assert safe_lines("a\nb\x1b[1m") == ["a", "b\\x1b[1m"]
    assert one_line("tab\tand [bold]markup[/]") == "tab\tand [bold]markup[/]"


def test_names_and_annotations_cannot_forge_output(tmp_path: Path) -> None:
    name = json.dumps(FORGED)  # a YAML double-quoted string takes JSON escapes
    (tmp_path / "a.yaml").write_text(
        SERVICE
        + f"""---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: {name}
  annotations: {{note: {name}}}
spec:
  service: {{name: {name}, namespace: linkerd-viz, port: 443}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: {name}}}
webhooks:
- name: {name}
  clientConfig: {{service: {{name: tap, namespace: {name}}}}}
"""
    )
    for color in ("never", "always"):
        r = run("scan", str(tmp_path), "--color", color)
        assert r.returncode in (0, 1), r.stderr
        out = r.stdout.decode()
        assert "\r" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
        assert "\x1b[2J" not in out and "\x1b]0" not in out
        if color == "never":
            assert "\x1b" not in out
        # no line of its own: names with control characters are refused like the API server does, any
        # other text is escaped on title lines and stays indented under its finding
        assert not any(ln.startswith("√ forged") for ln in out.splitlines())
        assert "\\x1b[2J" in out  # shown, escaped (the webhook's Service namespace)
        assert "metadata.name holds control characters" in out


def test_explain_escapes_the_pasted_text() -> None:
    text = f'failed calling webhook {json.dumps("x")}: Post "https://a.b.svc:443/?timeout=10s": {FORGED}'
    r = run("explain", "-", stdin=text.encode())
    out = r.stdout.decode()
    assert "\x1b" not in out and "\r" not in out
    assert not any(ln.startswith("√ forged") for ln in out.splitlines())


# ------------------------------------------------------------------------- 5. one odd input costs only itself

ODD_DOCUMENTS = {
    "bad-int-tag": "kind: Service\nmetadata: {name: x}\nspec: {ports: [{port: !!int x}]}\n",
    "list-port": "kind: Service\nmetadata: {name: x}\nspec: {ports: [{port: [443]}]}\n",
    "map-port": "kind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{ports: [{containerPort: {a: 1}}]}]}}}\n",
    "metadata-int": "kind: Service\nmetadata: 5\nspec: {}\n",
    "metadata-list": "kind: Ingress\nmetadata: [a]\n",
    "spec-list": "kind: Ingress\nmetadata: {name: x}\nspec: []\n",
    "labels-list": "kind: Deployment\nmetadata: {name: x, labels: [a]}\n",
    "annotations-map-value": "kind: Ingress\nmetadata: {name: x, annotations: {a: {b: c}}}\n",
    "webhook-no-client": "kind: ValidatingWebhookConfiguration\nmetadata: {name: x}\nwebhooks: [{name: w}]\n",
    "webhooks-map": "kind: MutatingWebhookConfiguration\nmetadata: {name: x}\nwebhooks: {a: b}\n",
    "deep-yaml": "kind: ConfigMap\nmetadata: {name: x}\ndata: " + "[" * 1000 + "]" * 1000 + "\n",
}


@pytest.mark.parametrize("case", sorted(ODD_DOCUMENTS))
def test_odd_object_costs_only_itself(tmp_path: Path, case: str) -> None:
    (tmp_path / "good.yaml").write_text(SERVICE)
    (tmp_path / "odd.yaml").write_text(SERVICE.replace("tap", "other") + "---\n" + ODD_DOCUMENTS[case])
    found = unreadable(["scan", str(tmp_path)])
    assert len(found) == 1, found
    assert "odd.yaml" in str(found[0]["location"])
    inv = load([str(tmp_path)])
    assert len(inv.services) == 2  # both good Services were read, the one next to the odd object too


@pytest.mark.parametrize(
    ("value", "tag", "error"),
    [
        ("!!int x9", "!!int", "ValueError"),
        ("!!float x9", "!!float", "ValueError"),
        ("!!bool x9", "!!bool", "KeyError"),
        ("!!timestamp 2020-13-45", "!!timestamp", "ValueError"),
    ],
)
def test_a_value_that_is_not_of_its_tag_is_located_without_its_text(value: str, tag: str, error: str) -> None:
    """Only the value constructors are wrapped (not strings, mappings and lists, for speed): each one's
    error still names line, column and tag, never the text."""
    import yaml

    from vizdoctor.sources import manifests

    text = f"kind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  a: {value}\n"
    with pytest.raises(yaml.constructor.ConstructorError) as info:
        list(yaml.load_all(text, Loader=manifests._Loader))
    message = str(info.value)
    assert f"not a valid {tag} ({error})" in message and "line 4, column 6" in message
    assert "x9" not in message and "2020-13-45" not in message


DEEP = 1000


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", "[" * DEEP + "]" * DEEP),
        (
            "plan.json",
            '{"format_version": "1.2", "planned_values": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}",
        ),
        ("deep.tfvars", "x = " + "[" * DEEP + "]" * DEEP + "\n"),
        ("deep.tfvars.json", '{"x": ' + "[" * DEEP + "]" * DEEP + "}"),
    ],
)
def test_deeply_nested_files(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    (tmp_path / "svc.yaml").write_text(SERVICE)
    found = unreadable(["scan", str(tmp_path)])
    assert len(found) == 1 and name in str(found[0]["location"])


def test_deep_values_file(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("controller: " + "[" * DEEP + "]" * DEEP + "\n")
    found = unreadable(["scan", str(EXAMPLE), "--values", str(values)])
    assert len(found) == 1 and "values.yaml" in str(found[0]["location"])


def test_invalid_utf8_on_stdin() -> None:
    found = unreadable(["scan", "-", str(EXAMPLE)], stdin=SERVICE.encode() + b"\xff\xfe bad\n")
    assert len(found) == 1 and "UTF-8" in str(found[0]["message"])


# ------------------------------------------------------------------------------------- 6. hostile files


def test_fifo_and_device_symlink_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text(SERVICE)
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    found = unreadable(["scan", str(tmp_path)])
    messages = sorted(str(f["message"]) for f in found)
    assert len(found) == 2
    assert any("named pipe" in m for m in messages) and any("a device" in m for m in messages)


def test_max_file_size(tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text(SERVICE)
    (tmp_path / "big.yaml").write_text(SERVICE + "#" * 5000 + "\n")
    found = unreadable(["scan", str(tmp_path), "--max-file-size", "4KB"])
    assert len(found) == 1 and "--max-file-size" in str(found[0]["message"])
    assert unreadable(["scan", str(tmp_path), "--max-file-size", "1MiB"]) == []


ALIAS_BOMB = """kind: List
a: &a [{kind: Service, metadata: {name: x}, spec: {ports: [{port: 1}]}}]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
items: [*f, *f, *f, *f, *f, *f, *f, *f, *f]
"""


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text(SERVICE)
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB)
    found = unreadable(["scan", str(tmp_path)])
    assert len(found) == 1 and "YAML aliases" in str(found[0]["message"])


def test_document_count_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "MAX_DOCUMENTS", 50)
    (tmp_path / "many.yaml").write_text("---\n".join(SERVICE.replace("tap", f"s{i}") for i in range(80)))
    inv = load([str(tmp_path)])
    assert len(inv.services) == 50
    assert [p.message for p in inv.problems] == ["more than 50 documents; the rest of the file is not read"]


def _recovery_seconds(tmp_path: Path, n: int) -> float:
    # An early typo, then n good documents: every one is read back after the error.
    text = "kind: Service\nmetadata: {name: broken\n---\n" + "---\n".join(
        f"kind: ConfigMap\nmetadata: {{name: c{i}}}\n" for i in range(n)
    )
    f = tmp_path / f"stream{n}.yaml"
    f.write_text(text)
    t0 = time.perf_counter()
    inv = load([str(f)])
    elapsed = time.perf_counter() - t0
    assert len(inv.objects["ConfigMap"]) == n and len(inv.problems) == 1
    return elapsed


def test_recovery_after_a_yaml_error_is_linear(tmp_path: Path) -> None:
    small = min(_recovery_seconds(tmp_path, 4000) for _ in range(2))
    large = min(_recovery_seconds(tmp_path, 16000) for _ in range(2))
    # 4x the documents: linear is ~4x, quadratic ~16x
    assert large / small < 8, (small, large)


def test_hcl_size_limit(tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text(SERVICE)
    (tmp_path / "huge.tf").write_text("locals {\n  x = <<EOT\n" + "a" * (MAX_HCL_CHARS + 10) + "\nEOT\n}\n")
    found = unreadable(["scan", str(tmp_path)])
    assert len(found) == 1 and "MB of HCL" in str(found[0]["message"])
