"""The exposure checks per controller, from the case table tests/cases/exposure-controllers.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT
from vizdoctor.checks.exposure import CHECK_IDS
from vizdoctor.remediation.dashboard import host_regex
from vizdoctor.report import scan

CASES: list[dict[str, Any]] = yaml.safe_load(
    (ROOT / "tests" / "cases" / "exposure-controllers.yaml").read_text()
)
VIZ = ROOT / "tests" / "fixtures" / "exposure" / "viz-web.yaml"


def _viz(case: dict[str, Any]) -> str:
    docs = list(yaml.safe_load_all(VIZ.read_text()))
    for d in docs:
        if not d:
            continue
        if d["kind"] == "Service" and d["metadata"]["name"] == "web" and case.get("service_annotations"):
            d["metadata"].setdefault("annotations", {}).update(case["service_annotations"])
        if d["kind"] == "Deployment" and case.get("public_host"):
            for c in d["spec"]["template"]["spec"]["containers"]:
                c["args"] = [
                    f"-enforced-host={host_regex(case['public_host'])}"
                    if a.startswith("-enforced-host=")
                    else a
                    for a in c.get("args", [])
                ]
    return yaml.safe_dump_all([d for d in docs if d])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_controller_case(case: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "viz.yaml").write_text(_viz(case))
    (tmp_path / "route.yaml").write_text(case["manifests"])
    report = scan([str(tmp_path)])
    found = {f.check: f for f in report.findings if f.check in CHECK_IDS}
    for check, text in (case.get("findings") or {}).items():
        assert check in found, f"{check} not reported; got {sorted(found)}"
        f = found[check]
        assert text in f"{f.title} {f.full_message}", f"{check}: {text!r} not in {f.title} / {f.full_message}"
    for check in case.get("absent") or []:
        assert check not in found, f"{check} reported: {found[check].title}: {found[check].full_message}"
    titles = [p.title for p in report.passed]
    for text in case.get("passed") or []:
        assert any(text in t for t in titles), titles
