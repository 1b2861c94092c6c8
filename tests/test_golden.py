"""Golden files: the output of every command on the bundled example, byte for byte.

A change to what users read shows in review as a diff of these files. Regenerate them deliberately with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py` and read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT
from vizdoctor.cli import main

GOLDEN = ROOT / "tests" / "golden"
CASES = {
    "scan-seed-eks.txt": ["scan", "examples/seed-eks", "--color", "never"],
    "scan-seed-eks.json": ["scan", "examples/seed-eks", "-o", "json"],
    "scan-seed-eks.sarif": ["scan", "examples/seed-eks", "-o", "sarif"],
    "explain-seed-banner.txt": [
        "explain",
        "Websocket close error [1011: Internal Error] : HTTP error, status Code [503] (unexpected API "
        "response: service unavailable)",
    ],
    "explain-seed-condition.txt": [
        "explain",
        "FailedDiscoveryCheck: failing or missing response from https://10.0.1.23:8089/apis/tap.linkerd.io/"
        'v1alpha1: Get "https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1": dial tcp 10.0.1.23:8089: '
        "i/o timeout",
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_the_golden_file(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)  # locations are printed relative to the working directory
    monkeypatch.setenv("COLUMNS", "120")
    status = main(CASES[name])
    # SARIF names the checkout as its source root: the golden file says file:///REPO/ wherever it is cloned
    out = capsys.readouterr().out.replace(ROOT.as_uri() + "/", "file:///REPO/")
    path: Path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert status in (0, 1)
    assert path.is_file(), f"{path} is missing: run with UPDATE_GOLDEN=1"
    assert out == path.read_text(encoding="utf-8"), f"output differs from {path.relative_to(ROOT)}"
