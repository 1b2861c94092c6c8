"""Differential test: `scan` with the projection (sources/projection.py: only the fields the checks read,
packed) against `scan` keeping every object whole, on every manifest input the project has: the fixtures,
the manifests the tests write inline (collected into tests/fixtures/projection_parity/), the table of
exposure cases, the example, the benchmark's generated estate (with the example's Terraform, so that paths
meet real clusters), and the rendered charts and chart sources under ../shared. The JSON and text reports
must be identical: this is the proof that no field a check reads was dropped.

That the comparison can fail is shown in test_projection.py: a projection that drops one field a check
reads makes `outcome` differ on a three-object input.
"""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLE, ROOT, SHARED
from vizdoctor.errors import VizdoctorError
from vizdoctor.render import json_out, text
from vizdoctor.report import scan
from vizdoctor.sources import projection

sys.path.insert(0, str(ROOT / "bench"))
import bench_scan

_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# The manifests the tests write inline (the suite run once with a recorder on manifests.read_yaml /
# read_json; texts over 20 KB, chart renders of ../shared, and copies of the fixtures left out)
COLLECTED = ROOT / "tests" / "fixtures" / "projection_parity"


def outcome(paths: list[str]) -> tuple[str, str]:
    """The JSON and the plain text report of `scan paths`, or the error a user would see, twice."""
    try:
        report = scan(paths)
    except VizdoctorError as exc:
        return f"error: {exc}", ""
    buf = io.StringIO()
    text.render(report, buf, False)
    return json_out.render(report), buf.getvalue()


def assert_same(paths: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert projection.ENABLED, "the projection is on by default"
    projected = outcome(paths)
    with monkeypatch.context() as m:
        m.setattr(projection, "ENABLED", False)
        whole = outcome(paths)
    assert projected[0] == whole[0], f"JSON report differs for {paths}"
    assert projected[1] == whole[1], f"text report differs for {paths}"


def _fixture_files() -> list[Path]:
    out = [
        p
        for p in (ROOT / "tests" / "fixtures").rglob("*")
        if p.suffix in _MANIFEST_SUFFIXES
        and p.is_file()
        and "schemas" not in p.parts
        and COLLECTED.name not in p.parts
    ]
    return sorted(out)


def test_the_inputs_are_there() -> None:
    files = _fixture_files()
    assert len(files) >= 15
    assert any(p.parent.name == "pod_side" for p in files)
    assert any(p.parent.name == "exposure" for p in files)


@pytest.mark.parametrize(
    "path", _fixture_files(), ids=lambda p: str(p.relative_to(ROOT / "tests" / "fixtures"))
)
def test_each_fixture_alone_and_with_the_example(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same([str(path)], monkeypatch)
    # with the example's Terraform, so the paths get network verdicts, not only "no cluster network"
    assert_same([str(path), str(EXAMPLE)], monkeypatch)


def _collected() -> list[Path]:
    return sorted(COLLECTED.iterdir())


def test_the_collected_inputs_are_there() -> None:
    assert len(_collected()) >= 150


@pytest.mark.parametrize("path", _collected(), ids=lambda p: p.name)
def test_each_manifest_the_tests_write(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same([str(path)], monkeypatch)


def test_the_manifests_the_tests_write_together_with_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same([str(COLLECTED), str(EXAMPLE)], monkeypatch)


def test_each_exposure_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = yaml.safe_load((ROOT / "tests" / "cases" / "exposure-controllers.yaml").read_text())
    assert len(cases) >= 8
    web = ROOT / "tests" / "fixtures" / "exposure" / "viz-web.yaml"
    for i, case in enumerate(cases):
        f = tmp_path / f"case-{i:03d}.yaml"
        f.write_text(case["manifests"])
        assert_same([str(f), str(web)], monkeypatch)


def test_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same([str(EXAMPLE)], monkeypatch)
    assert_same([str(EXAMPLE / "manifests")], monkeypatch)


def test_the_benchmark_estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated manifests of bench/ (Services, Deployments with probes, resources and env,
    ConfigMaps, webhooks, APIServices) at 1,000 objects, with the example's clusters."""
    docs = bench_scan.k8s_objects(random.Random(bench_scan.SEED), 1000)
    for n in range(0, len(docs), 50):
        (tmp_path / f"bundle-{n // 50:03d}.yaml").write_text(bench_scan._dump_all(docs[n : n + 50]))
    assert_same([str(tmp_path)], monkeypatch)
    assert_same([str(tmp_path), str(EXAMPLE)], monkeypatch)


def _shared_inputs() -> list[Path]:
    if not SHARED.is_dir():
        return []
    charts = sorted((SHARED / "corpus" / "charts").glob("*.y*ml"))
    sources = sorted(p for p in (SHARED / "charts-src").iterdir() if p.is_dir())
    return charts + sources


@pytest.mark.parametrize("path", _shared_inputs(), ids=lambda p: p.name)
def test_the_shared_corpus(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same([str(path)], monkeypatch)
    assert_same([str(path), str(EXAMPLE)], monkeypatch)


def test_the_shared_corpus_is_there_or_skipped() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"needs ../shared (the chart corpus and chart sources) at {SHARED}")
    assert len(_shared_inputs()) >= 10
