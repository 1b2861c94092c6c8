"""Every `$ vizdoctor ...` command shown in a console block of the README (and the docs pages it sends
users to) is run and its output compared.
`...` in the shown output stands for any number of lines. `check` and `probe` need a cluster or a
dashboard: tests/test_check.py and tests/test_probe.py run them; `--fix` writes files: test_fix_patch.py."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT

_BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def _commands() -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for page in ("README.md", "docs/example-output.md", "docs/configuration.md", "docs/ci.md"):
        for block in _BLOCK.findall((ROOT / page).read_text()):
            current: tuple[str, list[str]] | None = None
            for line in block.splitlines():
                if line.startswith("$ "):
                    current = (line[2:], [])
                    out.append(current)
                elif current is not None:
                    current[1].append(line)
    return [
        (cmd, shown)
        for cmd, shown in out
        if cmd.startswith("vizdoctor ") and not re.search(r"vizdoctor (check|probe)\b|--fix\b", cmd)
    ]


def _matches(shown: list[str], got: list[str]) -> bool:
    """`...` matches any run of lines; every other shown line must appear, in order, exactly."""
    if not shown:
        return True
    if shown[0] == "...":
        return any(_matches(shown[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and got[0].rstrip() == shown[0].rstrip() and _matches(shown[1:], got[1:])


COMMANDS = _commands()


def test_the_readme_shows_commands() -> None:
    assert len(COMMANDS) >= 4


@pytest.mark.parametrize(("command", "shown"), COMMANDS, ids=[c[:60] for c, _ in COMMANDS])
def test_readme_command(command: str, shown: list[str]) -> None:
    argv = shlex.split(command.split("  #")[0])
    r = subprocess.run(
        [sys.executable, "-m", "vizdoctor", *argv[1:]], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.returncode in (0, 1), r.stderr
    got = r.stdout.splitlines()
    assert _matches(shown, got), "\n".join(["shown:", *shown, "got:", *got])
