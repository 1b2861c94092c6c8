"""The CI integrations run as their hosts run them: the pre-commit hook's entry and args, the composite
action's shell steps in bash (with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, as a runner sets them),
and the krew shim, all against the installed `vizdoctor` of this venv."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLE, ROOT

BIN = Path(sys.executable).parent


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if not (BIN / "vizdoctor").exists():
        pytest.skip(f"{BIN / 'vizdoctor'} not installed (make setup installs the entry points)")
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    return tmp_path / "repo"


def test_pre_commit_hook(repo: Path) -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "vizdoctor" and hook["pass_filenames"] is False
    import re

    assert re.search(hook["files"], "infra/main.tf") and re.search(hook["files"], "k8s/app.yaml")
    r = subprocess.run(
        [*shlex.split(hook["entry"]), *hook["args"]],
        capture_output=True,
        text=True,
        cwd=repo,
        env=_env(),
        timeout=120,
    )
    assert r.returncode == 1  # pre-commit fails the commit
    assert r.stdout.splitlines()[0].startswith(
        "× [control-plane-unreachable] APIService v1alpha1.tap.linkerd.io"
    )


def _steps() -> dict[str, dict[str, Any]]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return {s.get("name", s.get("uses", "")): s for s in action["runs"]["steps"]}


def test_action_scan_and_result_steps(repo: Path, tmp_path: Path) -> None:
    steps = _steps()
    assert "github/codeql-action/upload-sarif@v3" in [s.get("uses") for s in steps.values()]
    scan = steps["Scan"]["run"]
    out, summary = tmp_path / "github_output", tmp_path / "step_summary"
    env = _env(
        VD_PATHS=".",
        VD_ARGS="--skip-check ingress-nginx-retired",
        VD_SARIF="vizdoctor.sarif",
        VD_FAIL_ON="error",
        GITHUB_OUTPUT=str(out),
        GITHUB_STEP_SUMMARY=str(summary),
    )
    r = subprocess.run(
        ["bash", "-e", "-c", scan], capture_output=True, text=True, cwd=repo, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr  # the step records the status; the Result step fails the job
    assert out.read_text() == "exit-code=1\n"
    assert summary.read_text().startswith("## vizdoctor scan: ❌ failing")
    sarif = json.loads((repo / "vizdoctor.sarif").read_text())
    assert any(x.get("suppressions") for x in sarif["runs"][0]["results"])  # --skip-check went through
    assert "Status check results are ×" in r.stdout
    result = steps["Result"]["run"]
    for code, fail_on, expected in (("1", "error", 1), ("1", "none", 0), ("0", "error", 0), ("2", "none", 2)):
        rr = subprocess.run(
            ["bash", "-e", "-c", result], env=_env(CODE=code, VD_FAIL_ON=fail_on), capture_output=True
        )
        assert rr.returncode == expected, (code, fail_on)


def test_krew_shim(tmp_path: Path) -> None:
    shim = ROOT / "krew" / "kubectl-vizdoctor"
    if (BIN / "vizdoctor").exists():
        r = subprocess.run([str(shim), "--version"], capture_output=True, text=True, env=_env(), timeout=60)
        assert r.returncode == 0 and r.stdout.startswith("vizdoctor ")
    r = subprocess.run(
        [str(shim), "--version"], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}
    )
    assert r.returncode == 2 and "pipx install vizdoctor" in r.stderr
