"""Differential test: the tree-sitter HCL reader (sources/hcl_ts.py) against python-hcl2, the parser it
replaced, on every Terraform input the project has: the fixtures, the example, the roots the tests build
inline (collected once into tests/fixtures/hcl_parity/ by running the suite with a recorder on
`hcl_ts.loads`), the benchmark's generated Terraform, and any Terraform under ../shared.

Two levels: the values (token by token, since expression text may differ in spacing, commas and comments
only) and the verdicts (the whole `scan` report, the network model and the problems, with each parser).
python-hcl2 is a dev dependency only, for this test.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE, ROOT, SHARED
from vizdoctor.model import Problem
from vizdoctor.render import json_out
from vizdoctor.report import scan
from vizdoctor.sources import hcl_ts, terraform

hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 (the dev extra) is the reference parser")

sys.path.insert(0, str(ROOT / "bench"))
import bench_scan  # noqa: E402

COLLECTED = ROOT / "tests" / "fixtures" / "hcl_parity"
_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True)


def _files() -> list[Path]:
    roots = [ROOT / "tests" / "fixtures", ROOT / "examples"]
    if SHARED.is_dir():
        roots.append(SHARED)
    out = {
        p
        for r in roots
        for pattern in ("*.tf", "*.tfvars")
        for p in r.rglob(pattern)
        if ".terraform" not in p.parts and p.is_file()
    }
    return sorted(out)


def _estate(root: Path, dirs: int = 3) -> Path:
    """A slice of the benchmark's generated estate: `dirs` cluster roots, all their files."""
    rng = random.Random(bench_scan.SEED)
    for i in range(dirs):
        d = root / f"cluster-{i:02d}"
        d.mkdir(parents=True)
        (d / "main.tf").write_text(bench_scan._tf_main(i, rng))
        (d / "variables.tf").write_text(bench_scan._tf_variables(i))
        (d / "locals.tf").write_text(bench_scan._tf_locals(i))
        (d / "outputs.tf").write_text(bench_scan._tf_outputs(i))
        for k in range(2):
            (d / f"sg-{k:02d}.tf").write_text(bench_scan._tf_security_groups(i, k, rng))
        (d / "terraform.tfvars").write_text(bench_scan._tfvars(i, rng))
    return root


# --- values ----------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"|\d+(?:\.\d+)?|==|!=|&&|\|\||>=|<=|=>|\.\.\.|[A-Za-z_][A-Za-z0-9_-]*|\S'
)


def _tokens(text: str) -> str:
    tokens = _TOKEN.findall(re.sub(r"\s+", " ", text))
    # a trailing comma before a closing bracket is written by one parser and not the other
    kept = [
        t for i, t in enumerate(tokens) if not (t == "," and tokens[i + 1 : i + 2] in (["]"], [")"], ["}"]))
    ]
    return " ".join(kept)


def _norm(v: Any) -> Any:
    if isinstance(v, dict):
        return {
            (_tokens(k) if "${" in k else k): _norm(x)
            for k, x in v.items()
            if k
            not in ("__comments__", "__inline_comments__")  # python-hcl2 keeps comments; no reader uses them
        }
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, str) and "${" in v and not v.startswith("<<"):
        return _tokens(v)
    return v


def _reference(text: str) -> dict[str, Any] | None:
    try:
        body: dict[str, Any] = hcl2.loads(text, serialization_options=_OPTIONS)
    except Exception:  # lark raises many types; all mean "not valid HCL"
        return None
    return body


def _texts() -> list[tuple[str, str]]:
    out = [(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p), p.read_text()) for p in _files()]
    out += [(f"tests/fixtures/hcl_parity/{p.name}", p.read_text()) for p in sorted(COLLECTED.glob("*.tf"))]
    return out


def test_the_inputs_are_there() -> None:
    """The collected inline roots and the example are found, so the parity below is over real inputs."""
    names = [n for n, _ in _texts()]
    assert any(n.startswith("examples/") for n in names)
    assert sum(n.startswith("tests/fixtures/hcl_parity/") for n in names) >= 50


@pytest.mark.parametrize(("name", "text"), _texts(), ids=lambda x: x if len(x) < 60 else None)
def test_values_match_python_hcl2(name: str, text: str) -> None:
    ours, problems = hcl_ts.loads(text)
    ref = _reference(text)
    if ref is None:
        assert problems, f"{name}: python-hcl2 rejects it, the tree-sitter reader must report a problem too"
        return
    assert problems == [], name
    assert _norm(ours) == _norm(ref), name


def test_values_match_on_the_benchmark_estate(tmp_path: Path) -> None:
    for p in sorted(_estate(tmp_path).rglob("*.tf*")):
        text = p.read_text()
        ours, problems = hcl_ts.loads(text)
        assert problems == [] and _norm(ours) == _norm(_reference(text)), p.name


# --- verdicts --------------------------------------------------------------------------------------


def _reference_parse_hcl(path: str, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    body = _reference(text)
    if body is None:
        problems.append(Problem(path, None, "not valid HCL"))
    return body


def _outcome(paths: list[str]) -> tuple[Any, str, list[tuple[str, int | None]]]:
    report = scan(paths)
    inv = report.inventory
    problems = sorted((p.path, p.line) for p in inv.problems)
    return json_out.to_dict(report), repr(inv.network), problems


def _both(paths: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    ours = _outcome(paths)
    with monkeypatch.context() as m:
        m.setattr(terraform, "parse_hcl", _reference_parse_hcl)
        ref = _outcome(paths)
    assert ours[1] == ref[1], "network model differs"
    assert ours[0] == ref[0], "scan report differs"
    assert ours[2] == ref[2], "problems differ"


def test_verdicts_match_on_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    _both([str(EXAMPLE)], monkeypatch)


def test_verdicts_match_on_the_benchmark_estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _both([str(_estate(tmp_path / "tf")), str(EXAMPLE / "manifests")], monkeypatch)


def test_verdicts_match_on_every_collected_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each collected file that python-hcl2 reads as its own root directory, scanned with the example's
    manifests, so that every path meets every root's clusters."""
    n = 0
    for p in sorted(COLLECTED.glob("*.tf")):
        text = p.read_text()
        if _reference(text) is None:
            continue
        d = tmp_path / p.stem
        d.mkdir()
        (d / "main.tf").write_text(text)
        n += 1
    assert n >= 50
    _both([str(tmp_path), str(EXAMPLE / "manifests")], monkeypatch)


# --- error recovery --------------------------------------------------------------------------------


def test_a_syntax_error_costs_only_its_block() -> None:
    text = (
        'resource "aws_security_group_rule" "good" {\n  type = "ingress"\n  from_port = 8089\n}\n'
        'resource "aws_security_group_rule" "broken" {\n  from_port = \n}\n'
        'variable "after" {\n  default = 443\n}\n'
    )
    body, problems = hcl_ts.loads(text)
    assert [p.line for p in problems] == [6]
    assert 'block resource "aws_security_group_rule" "broken" from line 5' in problems[0].message
    assert "from_port" in body["resource"][0]["aws_security_group_rule"]["good"]
    assert body["variable"] == [{"after": {"default": 443, "__is_block__": True}}]
    assert all("broken" not in r.get("aws_security_group_rule", {}) for r in body["resource"])
    assert _reference(text) is None  # python-hcl2 lost the whole file


def test_the_scan_reads_the_rest_of_a_broken_file_and_names_the_line(tmp_path: Path) -> None:
    """The problem names file and line; the variable after the broken block still sets the rule's port."""
    (tmp_path / "main.tf").write_text(
        'resource "aws_security_group" "nodes" {\n  name = "nodes"\n}\n'
        "locals {\n  broken = [\n}\n"
        'resource "aws_security_group_rule" "tap" {\n  type = "ingress"\n  security_group_id = '
        'aws_security_group.nodes.id\n  protocol = "tcp"\n  from_port = var.port\n  to_port = var.port\n'
        '  cidr_blocks = ["10.0.0.0/8"]\n}\n'
        'variable "port" {\n  default = 8089\n}\n'
    )
    report = scan([str(tmp_path)])
    (problem,) = [p for p in report.inventory.problems if p.path.endswith("main.tf")]
    assert (
        problem.line == 5
        and "locals from line 4" in problem.message
        and "not valid HCL" in problem.message
        and "skipped" in problem.message
    )
    rules = [r for r in report.inventory.network.rules if r.from_port == 8089]
    assert rules and rules[0].to_port == 8089


def test_every_block_type_a_reader_uses_gets_values() -> None:
    """parse_hcl builds values only for terraform.HCL_BLOCKS_READ: a reader of another top-level block type
    (`_blocks(body, "data")`, `body.get("provider")`) would silently see nothing, so each one used in
    sources/ must be listed."""
    used: set[str] = set()
    for p in (ROOT / "src" / "vizdoctor" / "sources").glob("*.py"):
        text = p.read_text()
        used |= set(re.findall(r'_blocks\([\w.]+, "(\w+)"\)', text))
        used |= set(re.findall(r'\bbody\.get\("(\w+)"', text))
    used.discard("kind")  # a manifest's field (tf_k8s), not a block
    assert {"resource", "module", "variable", "locals", "output"} <= used
    assert used <= terraform.HCL_BLOCKS_READ, used - terraform.HCL_BLOCKS_READ


def test_blocks_no_reader_uses_are_parsed_but_not_built() -> None:
    text = 'provider "aws" {\n  region = "x"\n}\ndata "aws_caller_identity" "me" {}\nvariable "v" {\n  default = 1\n}\n'
    body, problems = hcl_ts.loads(text, terraform.HCL_BLOCKS_READ)
    assert body == {"variable": [{"v": {"default": 1, "__is_block__": True}}]} and problems == []
    broken, problems = hcl_ts.loads('provider "aws" {\n  region = \n}\n', terraform.HCL_BLOCKS_READ)
    assert broken == {} and [p.line for p in problems] == [2]
