"""Every output format as CI systems read it: SARIF validated against the OASIS 2.1.0 schema and GitHub
code scanning's requirements, JUnit against the Ant JUnit XSD, Markdown for a PR comment, several
outputs in one run, --quiet/--compact, NO_COLOR on a real pseudo-terminal, shell completion, the
kubectl plugin name and the lazy imports of --version/--help/explain."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from conftest import EXAMPLE, ROOT
from test_check import SEED_MESSAGE, check, cluster, served, tap_unavailable

SCHEMAS = ROOT / "tests" / "fixtures" / "schemas"
BIN = Path(sys.executable).parent


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizdoctor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env=env,
    )


def sarif_valid(doc: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls(schema).validate(doc)


def test_sarif_meets_the_schema_and_github_code_scanning(tmp_path: Path) -> None:
    # absolute paths in, repository-relative uris out
    r = run("scan", str(EXAMPLE.resolve()), "-o", "sarif", "--skip-check", "dashboard-no-tls")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    sarif_valid(doc)
    run_ = doc["runs"][0]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.resolve().as_uri() + "/"
    for rule in run_["tool"]["driver"]["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["helpUri"].startswith("https://") and rule["helpUri"].endswith(f"#{rule['id']}")
        assert rule["properties"]["tags"] and float(rule["properties"]["security-severity"]) > 0
    for res in run_["results"]:
        assert res["partialFingerprints"]["vizdoctor/v1"]
        art = res["locations"][0]["physicalLocation"]["artifactLocation"]
        assert art["uriBaseId"] == "%SRCROOT%" and art["uri"].startswith("examples/seed-eks/"), art
    tap = next(x for x in run_["results"] if x["ruleId"] == "control-plane-unreachable")
    [related] = tap["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "examples/seed-eks/terraform/main.tf"
    assert related["physicalLocation"]["region"]["startLine"] == 34
    assert "[the rules here](1)" in tap["message"]["text"]
    [skipped] = [x for x in run_["results"] if x["ruleId"] == "dashboard-no-tls"]
    assert skipped["suppressions"][0]["kind"] == "external"
    assert "--skip-check" in skipped["suppressions"][0]["justification"]
    # the same scan from another folder, relative paths: the same fingerprints (alerts stay the same)
    r2 = run("scan", "seed-eks", "-o", "sarif", cwd=ROOT / "examples")
    fp = {x["partialFingerprints"]["vizdoctor/v1"] for x in json.loads(r2.stdout)["runs"][0]["results"]}
    assert {x["partialFingerprints"]["vizdoctor/v1"] for x in run_["results"]} <= fp


def test_sarif_inline_suppression_is_in_source(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "seed")
    ing = tmp_path / "seed" / "manifests" / "dashboard-ingress.yaml"
    ing.write_text(
        ing.read_text().replace(
            "  annotations:\n", "  annotations:\n    vizdoctor.io/ignore: dashboard-no-tls\n", 1
        )
    )
    r = run("scan", "seed", "-o", "sarif", cwd=tmp_path)
    doc = json.loads(r.stdout)
    sarif_valid(doc)
    [res] = [x for x in doc["runs"][0]["results"] if x["ruleId"] == "dashboard-no-tls"]
    assert res["suppressions"][0]["kind"] == "inSource"
    assert (
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "seed/manifests/dashboard-ingress.yaml"
    )


def test_check_sarif_locates_results_on_cluster_objects(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    objects, secrets = cluster()
    tap_unavailable(objects, "FailedDiscoveryCheck", SEED_MESSAGE)
    with served(objects, secrets) as server:
        rc, out, _ = check(capsys, server, tmp_path, "-o", "sarif")
    assert rc == 1
    doc = json.loads(out)
    sarif_valid(doc)
    for res in doc["runs"][0]["results"]:
        for loc in res.get("locations", []):
            assert "physicalLocation" not in loc  # no `cluster:<context>` pretending to be a file
    tap = next(x for x in doc["runs"][0]["results"] if x["ruleId"] == "apiservice-unavailable")
    [logical] = tap["locations"][0]["logicalLocations"]
    assert logical["fullyQualifiedName"] == "fake-eks/APIService v1alpha1.tap.linkerd.io"


def test_junit_is_valid_against_the_ant_schema(tmp_path: Path) -> None:
    r = run("scan", str(EXAMPLE), "-o", "junit", "--skip-check", "ingress-nginx-retired")
    assert r.returncode == 1, r.stderr
    xsd = xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd"))
    xsd.validate(r.stdout)
    doc = xsd.to_dict(r.stdout)
    suites = {s["@name"]: s for s in doc["testsuite"]}
    cases = [c for s in suites.values() for c in s.get("testcase", [])]
    tap = [c for c in cases if c["@classname"] == "control-plane-unreachable"]
    assert len(tap) == 1 and tap[0]["failure"]["@type"] == "error"
    assert "v1alpha1.tap.linkerd.io" in tap[0]["@name"]
    skipped = [c for c in cases if c["@classname"] == "ingress-nginx-retired"]
    assert skipped and "--skip-check" in skipped[0]["skipped"]["@message"]
    # the open paths are passing testcases
    assert any(
        c["@classname"] == "control-plane-paths" and "vault.hashicorp.com" in c["@name"] for c in cases
    )
    failures = sum(int(s["@failures"]) for s in suites.values())
    assert failures == 6  # 4 errors + 2 warnings


def test_markdown_is_a_pr_comment() -> None:
    r = run("scan", str(EXAMPLE), "-o", "markdown")
    md = r.stdout
    assert md.startswith("## vizdoctor scan: ❌ failing")
    assert "| 4 | 2 | 1 | 0 | 6 | 1 | 0 |" in md
    assert md.count("\n### ❌ ") == 4
    assert "<details><summary>Fix: Terraform in examples/seed-eks/terraform/main.tf:34</summary>" in md
    assert "```hcl\n" in md and "from_port" in md
    assert "<script" not in md  # user text is escaped


def test_several_outputs_in_one_run(tmp_path: Path) -> None:
    sarif, html, junit = tmp_path / "r.sarif", tmp_path / "r.html", tmp_path / "r.xml"
    r = run(
        "scan",
        str(EXAMPLE),
        "-o",
        "text",
        "-o",
        f"sarif={sarif}",
        "-o",
        f"html={html}",
        "-o",
        f"junit={junit}",
    )
    assert r.returncode == 1
    assert "Status check results are ×" in r.stdout and "\x1b[" not in r.stdout
    sarif_valid(json.loads(sarif.read_text()))
    assert html.read_text().startswith("<!DOCTYPE html>")
    xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd")).validate(str(junit))
    r = run("scan", str(EXAMPLE), "-o", "json", "-o", "sarif")
    assert r.returncode == 2 and "only one output can go to standard output" in r.stderr
    r = run("scan", str(EXAMPLE), "-o", "yaml")
    assert r.returncode == 2 and "unknown format 'yaml'" in r.stderr


def test_compact_and_quiet() -> None:
    r = run("scan", str(EXAMPLE), "--compact")
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 8  # seven findings and the status line
    assert lines[0].startswith("× [control-plane-unreachable] APIService v1alpha1.tap.linkerd.io")
    assert "from_port" not in r.stdout  # fixes only with --show-fix
    r = run("scan", str(EXAMPLE), "--compact", "--show-fix")
    assert "from_port" in r.stdout
    r = run("scan", str(EXAMPLE), "--quiet")
    marks = {ln[:1] for ln in r.stdout.splitlines() if ln and not ln.startswith((" ", "Status"))}
    assert marks == {"×", "‼"}  # no pass, no info
    assert "[control-plane-unreachable]" in r.stdout
    r = run("scan", str(EXAMPLE))
    assert "× APIService v1alpha1.tap.linkerd.io -> linkerd-viz/tap:443 -> pod port 8089" in r.stdout
    assert "[dashboard-origin-rejected]" in r.stdout  # the check id on every finding line


def _pty_run(args: list[str], env: dict[str, str]) -> str:
    """Run on a pseudo-terminal, as a user's shell would, and return what the terminal got."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower, cwd=ROOT, env=env)
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(leader)
    return out.decode("utf-8", "replace")


def test_no_color_on_a_terminal() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env["TERM"] = "xterm-256color"
    cmd = [sys.executable, "-m", "vizdoctor", "scan", str(EXAMPLE), "--compact"]
    coloured = _pty_run(cmd, env)
    assert "\x1b[" in coloured and "control-plane-unreachable" in coloured
    plain = _pty_run(cmd, {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in plain and "control-plane-unreachable" in plain
    forced = _pty_run([*cmd, "--color", "always"], {**env, "NO_COLOR": "1"})
    assert "\x1b[" in forced  # an explicit flag wins over the environment
    never = _pty_run([*cmd, "--color", "never"], env)
    assert "\x1b[" not in never


def test_version_help_and_explain_load_no_heavy_module() -> None:
    heavy = ("hcl2", "lark", "websockets", "kubernetes", "boto3", "rich", "vizdoctor.sources.terraform")
    for argv in (
        ["--version"],
        ["--help"],
        ["scan", "--help"],
        ["check", "--help"],
        ["explain", "x509: certificate signed by unknown authority"],
    ):
        code = (
            "import sys, contextlib, io\nfrom vizdoctor.cli import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n    try:\n        main({argv!r})\n"
            "    except SystemExit:\n        pass\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert r.stdout.strip().splitlines()[-1] == "[]", (argv, r.stdout, r.stderr)


def test_help_has_examples_and_defaults() -> None:
    for cmd in ("scan", "check", "completion"):
        r = run(cmd, "--help")
        assert r.returncode == 0 and "examples:" in r.stdout, cmd
    r = run("check", "--help")
    assert "(default: 30s)" in " ".join(r.stdout.split())


def test_kubectl_plugin_name() -> None:
    plugin = BIN / "kubectl-vizdoctor"
    if not plugin.exists():
        pytest.skip(f"{plugin} not installed (make setup installs the package with its entry points)")
    r = subprocess.run([str(plugin), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("usage: kubectl vizdoctor")
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    r = subprocess.run([kubectl, "vizdoctor", "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0 and "usage: kubectl vizdoctor" in r.stdout


def test_completion_scripts(tmp_path: Path) -> None:
    r = run("completion", "bash")
    assert r.returncode == 0 and "complete -o default -F _vizdoctor vizdoctor" in r.stdout
    assert "--skip-check" in r.stdout and "sarif" in r.stdout
    script = tmp_path / "c.bash"
    script.write_text(r.stdout)
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    # complete `vizdoctor scan --fa` and `vizdoctor completion z` in a real bash
    probe = (
        f"source {script}\n"
        'COMP_WORDS=(vizdoctor scan --fa); COMP_CWORD=2; _vizdoctor; echo "${COMPREPLY[*]}"\n'
        'COMP_WORDS=(vizdoctor completion z); COMP_CWORD=2; _vizdoctor; echo "${COMPREPLY[*]}"\n'
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True).stdout.splitlines()
    assert out == ["--fail-on", "zsh"]
    assert run("completion", "zsh").stdout.startswith("#compdef vizdoctor")
    assert (
        "complete -c vizdoctor -n '__fish_seen_subcommand_from scan' -l skip-check"
        in run("completion", "fish").stdout
    )


def test_krew_manifest_matches_the_archive(tmp_path: Path) -> None:
    before = (ROOT / "krew" / "vizdoctor.yaml").read_text()
    r = subprocess.run(
        [sys.executable, str(ROOT / "krew" / "build.py"), str(tmp_path)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    after = (ROOT / "krew" / "vizdoctor.yaml").read_text()
    assert before == after, "krew/vizdoctor.yaml is stale: run python krew/build.py"
    import hashlib

    digest = hashlib.sha256((tmp_path / "kubectl-vizdoctor.tar.gz").read_bytes()).hexdigest()
    assert f"sha256: {digest}" in after
