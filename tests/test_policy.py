"""Accepting findings the way teams do: .vizdoctor.yaml (found upward, or --config), --check and
--skip-check, the `vizdoctor.io/ignore` annotation, the `# vizdoctor:ignore=` Terraform comment, and a
baseline. Suppressed findings never count and are always listed (JSON `suppressed`, SARIF
`suppressions`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT
from vizdoctor.config import discover, load
from vizdoctor.errors import UsageError


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizdoctor", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    """A copy of the seed example inside a git-like repository root."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "seed")
    (repo / ".git").mkdir()
    return repo


def scan_json(*args: str, cwd: Path = ROOT) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = run("scan", *args, "-o", "json", cwd=cwd)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def checks(doc: dict, key: str = "findings") -> list[str]:  # type: ignore[type-arg]
    return sorted(f["check"] for f in doc[key])


def test_config_is_found_upward_and_stops_at_the_repository_root(seed: Path) -> None:
    (seed / ".vizdoctor.yaml").write_text("checks:\n  disable: [dashboard-no-tls]\n")
    deep = seed / "seed" / "manifests"
    assert discover(deep) == seed / ".vizdoctor.yaml"
    assert discover(deep / "dashboard-ingress.yaml") == seed / ".vizdoctor.yaml"
    # above the repository root nothing applies, even a file in a parent folder
    (seed.parent / ".vizdoctor.yaml").write_text("checks: {disable: [control-plane-unreachable]}\n")
    (seed / ".vizdoctor.yaml").unlink()
    assert discover(deep) is None

    (seed / ".vizdoctor.yaml").write_text("checks:\n  disable: [dashboard-no-tls]\n")
    _, doc = scan_json(str(seed / "seed"))
    assert "dashboard-no-tls" not in checks(doc)
    sup = next(s for s in doc["suppressed"] if s["check"] == "dashboard-no-tls")
    assert sup["suppression"]["kind"] == "skipped"
    assert sup["suppression"]["where"] == f"{seed / '.vizdoctor.yaml'}:2"


def test_config_settings_and_severity_override(seed: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.yaml"
    cfg.write_text(
        "severity:\n  dashboard-unauthenticated: warning\nchecks:\n  enable: [dashboard-unauthenticated, "
        "control-plane-unreachable]\nnamespace: apps\n"
    )
    code, doc = scan_json(str(seed / "seed"), "--config", str(cfg))
    assert code == 1
    assert checks(doc) == ["control-plane-unreachable", "dashboard-unauthenticated"]
    unauth = next(f for f in doc["findings"] if f["check"] == "dashboard-unauthenticated")
    assert unauth["severity"] == "warning"
    assert {s["suppression"]["kind"] for s in doc["suppressed"]} == {"not-selected"}
    assert doc["summary"]["error"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "checks:\n  disable: [no-such-check]\n",
            "elsewhere.yaml:2: checks.disable: no check 'no-such-check'",
        ),
        ("namespace: a\nfail_on: warning\n", "elsewhere.yaml:2: unknown key 'fail_on'"),
        (
            "severity:\n  dashboard-no-tls: fatal\n",
            "elsewhere.yaml:2: severity.dashboard-no-tls: 'fatal' is not",
        ),
        ("checks: [a]\n", "elsewhere.yaml:1: checks: expected a mapping"),
        ("a: [\n", "elsewhere.yaml:2: not valid YAML"),
    ],
)
def test_bad_config_is_one_line_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "elsewhere.yaml"
    cfg.write_text(text)
    with pytest.raises(UsageError) as err:
        load(cfg)
    assert message in str(err.value)
    r = run("scan", str(EXAMPLE), "--config", str(cfg))
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_skip_check_and_check_on_the_command_line() -> None:
    code, doc = scan_json(
        str(EXAMPLE), "--skip-check", "control-plane-unreachable", "--skip-check", "dashboard-origin-rejected"
    )
    assert "control-plane-unreachable" not in checks(doc) and "dashboard-origin-rejected" not in checks(doc)
    assert {"control-plane-unreachable", "dashboard-origin-rejected"} <= set(checks(doc, "suppressed"))
    code, doc = scan_json(str(EXAMPLE), "--check", "dashboard-no-tls")
    assert code == 0 and checks(doc) == ["dashboard-no-tls"]
    r = run("scan", str(EXAMPLE), "--skip-check", "nope")
    assert r.returncode == 2 and "--skip-check nope: no such check" in r.stderr


def test_annotation_suppresses_with_its_reason(seed: Path) -> None:
    ing = seed / "seed" / "manifests" / "dashboard-ingress.yaml"
    ing.write_text(
        ing.read_text().replace(
            "  annotations:\n",
            "  annotations:\n    vizdoctor.io/ignore: dashboard-unauthenticated,dashboard-no-tls\n"
            "    vizdoctor.io/ignore-reason: behind the corporate VPN and oauth2-proxy\n",
            1,
        )
    )
    _, doc = scan_json(str(seed / "seed"))
    assert "dashboard-unauthenticated" not in checks(doc) and "dashboard-no-tls" not in checks(doc)
    assert "dashboard-origin-rejected" in checks(doc)  # not named: still counts
    sups = {s["check"]: s["suppression"] for s in doc["suppressed"]}
    assert sups["dashboard-unauthenticated"]["kind"] == "annotation"
    assert sups["dashboard-unauthenticated"]["reason"] == "behind the corporate VPN and oauth2-proxy"
    assert sups["dashboard-unauthenticated"]["where"].endswith("dashboard-ingress.yaml:2")


def test_annotation_with_an_unknown_id_is_reported_not_ignored(seed: Path) -> None:
    ing = seed / "seed" / "manifests" / "dashboard-ingress.yaml"
    ing.write_text(
        ing.read_text().replace(
            "  annotations:\n", "  annotations:\n    vizdoctor.io/ignore: dashbord-no-tls\n", 1
        )
    )
    _, doc = scan_json(str(seed / "seed"))
    assert "dashboard-no-tls" in checks(doc)
    bad = [
        f for f in doc["findings"] if f["check"] == "input-unreadable" and "dashbord-no-tls" in f["message"]
    ]
    assert bad and bad[0]["location"].endswith("dashboard-ingress.yaml:2")


def test_terraform_comment_suppresses_the_block_it_is_on(seed: Path) -> None:
    main = seed / "seed" / "terraform" / "main.tf"
    main.write_text(
        main.read_text().replace(
            'module "eks" {',
            '# vizdoctor:ignore=control-plane-unreachable tap is reached through konnectivity here\nmodule "eks" {',
            1,
        )
    )
    _, doc = scan_json(str(seed / "seed"))
    assert "control-plane-unreachable" not in checks(doc)
    sup = next(s for s in doc["suppressed"] if s["check"] == "control-plane-unreachable")
    assert sup["suppression"]["kind"] == "comment"
    assert sup["suppression"]["reason"] == "tap is reached through konnectivity here"
    assert sup["suppression"]["where"].endswith("main.tf:15")
    # the same comment on another block does nothing
    main.write_text(
        main.read_text()
        .replace(
            "# vizdoctor:ignore=control-plane-unreachable tap is reached through konnectivity here\n", ""
        )
        .replace(
            'module "vpc" {', 'module "vpc" {\n  # vizdoctor:ignore=control-plane-unreachable wrong block', 1
        )
    )
    _, doc = scan_json(str(seed / "seed"))
    assert "control-plane-unreachable" in checks(doc)


def test_baseline_round_trip(seed: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    r = run("scan", str(seed / "seed"), "--create-baseline", str(baseline))
    assert r.returncode == 0, r.stderr
    recorded = json.loads(baseline.read_text())
    assert recorded["schema"] == "vizdoctor-baseline/v1" and len(recorded["findings"]) == 7
    code, doc = scan_json(str(seed / "seed"), "--baseline", str(baseline))
    assert code == 0 and doc["findings"] == [] and len(doc["suppressed"]) == 7
    assert {s["suppression"]["kind"] for s in doc["suppressed"]} == {"baseline"}
    # the same estate given by absolute path and from another folder: same fingerprints
    code, doc = scan_json(str((seed / "seed").resolve()), "--baseline", str(baseline))
    assert code == 0
    # a new problem fails: a second webhook on a port nothing opens
    (seed / "seed" / "manifests" / "new.yaml").write_text(
        (ROOT / "tests" / "fixtures" / "policy" / "new-webhook.yaml").read_text()
    )
    code, doc = scan_json(str(seed / "seed"), "--baseline", str(baseline))
    assert code == 1 and checks(doc) == ["control-plane-unreachable"]
    assert "new-webhook" in doc["findings"][0]["title"]
    # moving the old object down the file (an edit above it) keeps it accepted
    ing = seed / "seed" / "manifests" / "dashboard-ingress.yaml"
    ing.write_text("# a comment\n\n" + ing.read_text())
    _, doc = scan_json(str(seed / "seed"), "--baseline", str(baseline))
    assert checks(doc) == ["control-plane-unreachable"]


def test_bad_baseline_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("{\n  nope")
    r = run("scan", str(EXAMPLE), "--baseline", str(bad))
    assert r.returncode == 2 and f"--baseline {bad}:2: not valid JSON" in r.stderr
    bad.write_text("[]")
    r = run("scan", str(EXAMPLE), "--baseline", str(bad))
    assert r.returncode == 2 and "not a vizdoctor baseline" in r.stderr
