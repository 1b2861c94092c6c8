"""Start-up: `--version`, `--help` and `explain` load neither the HCL parser, the websocket client, the
cloud clients nor the Kubernetes client (the time itself is measured in bench/, not asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "tree_sitter",
    "tree_sitter_hcl",
    "hcl2",
    "lark",
    "websockets",
    "kubernetes",
    "boto3",
    "botocore",
    "yaml",
)


def _loaded(args: list[str]) -> list[str]:
    code = (
        "import io, json, sys, contextlib\n"
        "from vizdoctor.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout))


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["scan", "--help"],
        ["check", "--help"],
        ["explain", "no endpoints available"],
    ],
)
def test_light_commands_load_no_heavy_module(args: list[str]) -> None:
    loaded = _loaded(args)
    assert "vizdoctor" in loaded
    assert [m for m in HEAVY if m in loaded] == []


def test_scan_does_load_the_hcl_parser_when_it_reads_terraform(tmp_path: object) -> None:
    """The check above could pass by never importing anything: a scan of Terraform must load tree-sitter."""
    from pathlib import Path

    root = Path(str(tmp_path))
    (root / "main.tf").write_text('variable "x" {\n  default = 1\n}\n')
    loaded = _loaded(["scan", str(root), "-o", "json"])
    assert "tree_sitter" in loaded and "websockets" not in loaded and "kubernetes" not in loaded


def _run_without(module: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from vizdoctor.cli import main\n"
        f"sys.exit(main({args!r}))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_check_names_the_live_extra_when_its_http_client_is_missing(tmp_path: object) -> None:
    done = _run_without("urllib3", ["check", "--kubeconfig", f"{tmp_path}/none", "--timeout", "2"])
    assert done.returncode == 2
    assert "pip install 'vizdoctor[live]'" in done.stderr and "Traceback" not in done.stderr


def test_scan_needs_no_live_dependency(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    (root / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\n")
    code = (
        "import sys\n"
        "for m in ('kubernetes', 'boto3', 'botocore', 'cryptography'): sys.modules[m] = None\n"
        "from vizdoctor.cli import main\n"
        f"sys.exit(main(['scan', {str(root)!r}, '-o', 'json']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["command"] == "scan"
