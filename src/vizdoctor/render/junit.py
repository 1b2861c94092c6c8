"""`-o junit`: JUnit XML (the Ant JUnit schema that Jenkins, GitLab and GitHub test reporters read), one
testcase per check × object: a failure for errors and warnings, skipped for suppressed findings (with
the reason), passing for info findings and the checks that passed. One testsuite per category."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from vizdoctor.catalogue import CATEGORIES
from vizdoctor.findings import Finding
from vizdoctor.paths import describe
from vizdoctor.report import Report


def _name(f: Finding) -> str:
    subject = str(f.object) if f.object else str(f.location) if f.location else ""
    return f"{subject}: {f.title}" if subject and subject not in f.title else f.title


def _body(f: Finding) -> str:
    lines = [f.full_message]
    if f.location:
        lines.append(f"location: {f.location}")
    if f.hint:
        lines.append(f"hint: {f.hint}")
    if f.fix and f.fix.terraform:
        lines.append(
            f"fix ({f.fix.where}):\n{f.fix.terraform}" if f.fix.where else f"fix:\n{f.fix.terraform}"
        )
    lines.append(f"docs: {f.docs_url}")
    return "\n".join(lines)


def render(report: Report) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    host = socket.gethostname() or "localhost"
    cases: dict[str, list[ET.Element]] = {}
    counts: dict[str, list[int]] = {}  # category -> [tests, failures, skipped]

    def case(category: str, classname: str, name: str) -> ET.Element:
        el = ET.Element("testcase", name=name, classname=classname, time="0")
        cases.setdefault(category, []).append(el)
        counts.setdefault(category, [0, 0, 0])[0] += 1
        return el

    for f in report.findings:
        el = case(f.category, f.check, _name(f))
        if f.severity in ("error", "warning"):
            fail = ET.SubElement(el, "failure", message=f.title, type=f.severity)
            fail.text = _body(f)
            counts[f.category][1] += 1
    for s in report.suppressed:
        f = s.finding
        el = case(f.category, f.check, _name(f))
        where = f" ({s.where})" if s.where else ""
        ET.SubElement(el, "skipped", message=f"suppressed: {s.kind}: {s.reason}{where}")
        counts[f.category][2] += 1
    for p in report.passed:
        case(p.category, p.category.replace(" ", "-"), p.title)
    for path in report.paths:
        if path.status == "open":  # blocked and unknown paths are findings above
            case("control-plane paths", "control-plane-paths", describe(path))

    root = ET.Element("testsuites")
    order = [c for c in CATEGORIES if c in cases] + [c for c in cases if c not in CATEGORIES]
    for i, cat in enumerate(order):
        tests, failures, skipped = counts[cat]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=cat,
            package="vizdoctor",
            id=str(i),
            timestamp=now,
            hostname=host,
            tests=str(tests),
            failures=str(failures),
            errors="0",
            skipped=str(skipped),
            time="0",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="command", value=report.command)
        suite.extend(cases[cat])
        ET.SubElement(suite, "system-out")
        ET.SubElement(suite, "system-err")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
