"""The command as a user runs it: a real subprocess, exit codes, text/JSON/SARIF output, stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT
from vizdoctor.cli import main


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizdoctor", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_seed_example_text_shows_the_blocked_tap_path_and_the_seed_fix() -> None:
    r = run("scan", str(EXAMPLE))
    assert r.returncode == 1, r.stderr
    assert "× APIService v1alpha1.tap.linkerd.io -> linkerd-viz/tap:443 -> pod port 8089" in r.stdout
    assert "Websocket close error [1011: Internal Error]" in r.stdout
    assert (
        "√ MutatingWebhook vault.hashicorp.com -> vault/vault-agent-injector-svc:443 -> pod port 8080"
        in r.stdout
    )
    assert "source_cluster_security_group = true" in r.stdout
    assert "from_port                     = 8089" in r.stdout
    assert "aws ec2 authorize-security-group-ingress" in r.stdout
    assert r.stdout.rstrip().splitlines()[-1].startswith("Status check results are ×")
    assert "\x1b[" not in r.stdout  # no colour when not on a terminal
    assert r.stderr == ""


def test_seed_example_json_schema() -> None:
    r = run("scan", str(EXAMPLE), "--format", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["schema"] == "vizdoctor/v1"
    assert set(doc) >= {"paths", "findings", "summary", "fixes", "inputs", "path_summary"}
    tap = next(p for p in doc["paths"] if p["name"] == "v1alpha1.tap.linkerd.io")
    assert tap["kind"] == "APIService" and tap["service"] == {
        "namespace": "linkerd-viz",
        "name": "tap",
        "port": 443,
    }
    assert tap["target_port"] == 8089 and tap["status"] == "blocked" and tap["inferred"] is False
    assert "node security group of module.eks" in tap["reason"]
    vault = next(p for p in doc["paths"] if p["name"] == "vault.hashicorp.com")
    assert (
        vault["status"] == "open"
        and "ingress_vault_agent_injector_mutating_webhook" in vault["opened_by"]["rule"]
    )
    finding = next(f for f in doc["findings"] if f["check"] == "control-plane-unreachable")
    assert finding["severity"] == "error"
    assert finding["object"] == {"kind": "APIService", "namespace": None, "name": "v1alpha1.tap.linkerd.io"}
    assert "8089" in finding["fix"]["terraform"] and "FromPort=8089" in finding["fix"]["aws_cli"]
    # the tap path, plus the seed's Ingress: Origin kept, snippet refused by ingress-nginx v1.15, no auth;
    # warnings: the dashboard's, and Vault's injector webhook waiting 30 s (webhook-timeout)
    assert doc["summary"] == {"error": 4, "warning": 2, "info": 1}
    assert [f["title"] for f in doc["findings"] if f["check"] == "webhook-timeout"] == [
        "MutatingWebhook vault.hashicorp.com waits 30s"
    ]
    assert sorted(f["check"] for f in doc["findings"]) == [
        "control-plane-unreachable",
        "dashboard-no-tls",
        "dashboard-origin-rejected",
        "dashboard-snippet-disallowed",
        "dashboard-unauthenticated",
        "ingress-nginx-retired",
        "webhook-timeout",
    ]
    assert doc["path_summary"] == {"open": 6, "blocked": 1, "unknown": 0}


def test_sarif_output_is_valid_shape() -> None:
    r = run("scan", str(EXAMPLE), "-o", "sarif")
    doc = json.loads(r.stdout)
    assert doc["version"] == "2.1.0"
    results = doc["runs"][0]["results"]
    rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {x["ruleId"] for x in results} == rules
    assert "control-plane-unreachable" in rules and "dashboard-origin-rejected" in rules
    tap = next(x for x in results if x["ruleId"] == "control-plane-unreachable")
    assert tap["level"] == "error"
    loc = tap["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("linkerd-viz.yaml") and loc["region"]["startLine"] > 1


def test_exit_0_when_nothing_is_blocked(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    r = run("scan", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Status check results are √" in r.stdout


def test_exit_2_with_one_line_when_nothing_can_be_analysed(tmp_path: Path) -> None:
    r = run("scan", str(tmp_path / "missing"))
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "no such file or directory" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("scan", str(empty))
    assert r.returncode == 2 and "nothing to analyse" in r.stderr
    r = run("scan")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run()
    assert r.returncode == 2


def test_stdin_manifests() -> None:
    text = (EXAMPLE / "manifests" / "linkerd-viz.yaml").read_text()
    r = run("scan", "-", "-o", "json", stdin=text)
    assert r.returncode == 0
    doc = json.loads(r.stdout)
    tap = next(p for p in doc["paths"] if p["name"] == "v1alpha1.tap.linkerd.io")
    assert tap["target_port"] == 8089 and tap["status"] == "unknown"
    assert tap["location"].startswith("<stdin>:")


def test_secret_data_is_never_printed(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: n}\ndata: {key: c2VjcmV0LXZhbHVl}\n"
        "stringData: {password: hunter2-plain}\n"
    )
    for fmt in ("text", "json", "sarif"):
        r = run("scan", str(tmp_path), "-o", fmt)
        assert "c2VjcmV0LXZhbHVl" not in r.stdout and "hunter2-plain" not in r.stdout


# -- the never-a-traceback handler, one row per way a command can end -------------------------------------------

HANDLER_CASES = [
    (
        RuntimeError("boom"),
        2,
        "vizdoctor: internal error (RuntimeError: boom); please report it with the inputs",
    ),
    (KeyboardInterrupt(), 2, "vizdoctor: interrupted"),
    (BrokenPipeError(), 2, ""),
]


@pytest.mark.parametrize(
    ("exc", "status", "line"), HANDLER_CASES, ids=["unexpected", "interrupt", "broken-pipe"]
)
def test_the_cli_handler_never_prints_a_traceback(
    exc: BaseException,
    status: int,
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from vizdoctor.commands import explain as explain_command

    def boom(_: object) -> int:
        raise exc

    monkeypatch.setattr(explain_command, "run", boom)
    assert main(["explain", "x"]) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip() == line


@pytest.mark.parametrize("error", ["UsageError", "NoInput", "ClusterUnreachable", "ProbeUsageError"], ids=str)
def test_every_library_error_is_one_line_and_exit_2(
    error: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import vizdoctor
    from vizdoctor.commands import explain as explain_command

    def fail(_: object) -> int:
        raise getattr(vizdoctor, error)("what went wrong")

    monkeypatch.setattr(explain_command, "run", fail)
    assert main(["explain", "x"]) == 2
    assert capsys.readouterr().err == "vizdoctor: what went wrong\n"
