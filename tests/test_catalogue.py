"""The check catalogue and what is generated from it: docs, SARIF rules, the ClusterRole; the output
contract (JSON Schemas); the library API; the layering of the packages."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

import vizdoctor
from conftest import EXAMPLE, ROOT
from vizdoctor import checks, docsgen, schemas
from vizdoctor.catalogue import CATALOGUE, CATEGORIES, DOCS_BASE, SEVERITIES, CheckSpec
from vizdoctor.checks import Context
from vizdoctor.cli import main
from vizdoctor.findings import Finding, new
from vizdoctor.render import json_out, sarif, text

SRC = ROOT / "src" / "vizdoctor"
ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


# -- the catalogue is well-formed ------------------------------------------------------------------------


@pytest.mark.parametrize("spec", CATALOGUE.values(), ids=list(CATALOGUE))
def test_every_spec_is_complete(spec: CheckSpec) -> None:
    assert ID.match(spec.id)
    assert spec.categories and set(spec.categories) <= set(CATEGORIES)
    assert spec.severities and set(spec.severities) <= set(SEVERITIES)
    assert len(set(spec.severities)) == len(spec.severities)
    assert spec.commands and set(spec.commands) <= {"scan", "check"}
    for text_field in (spec.title, spec.summary, spec.remediation):
        assert text_field.strip() and "\n" not in text_field
    assert len(spec.title) <= 80, "a title is one line of `linkerd check`-style output"
    assert spec.page().strip(), f"src/vizdoctor/checkdocs/{spec.id}.md is empty or missing"
    assert spec.docs_url == f"{DOCS_BASE}/checks.md#{spec.id}" and spec.docs_url.startswith("https://")
    if spec.live_kinds:
        assert "check" in spec.commands


# Checks whose tests still name them by title only, or not at all: this set may only shrink.
NOT_YET_TESTED_BY_ID = {
    "aws-network-note",
    "linkerd-webhook-cert-not-expiring-soon",
}


def test_every_check_id_has_a_test_that_names_it() -> None:
    """kube-linter's rule: every check has at least one test of its own (outside this file), naming it by
    id or by its `linkerd check`-style title."""
    tests = "\n".join(
        p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_catalogue.py"
    )
    missing = {s.id for s in CATALOGUE.values() if s.id not in tests and s.title not in tests}
    assert missing <= NOT_YET_TESTED_BY_ID, (
        f"check ids no test names: {sorted(missing - NOT_YET_TESTED_BY_ID)}"
    )
    assert missing >= NOT_YET_TESTED_BY_ID, (
        f"now tested, drop from the list: {sorted(NOT_YET_TESTED_BY_ID - missing)}"
    )


def test_every_page_belongs_to_a_check() -> None:
    pages = {p.stem for p in (SRC / "checkdocs").glob("*.md")}
    assert pages == set(CATALOGUE)


def test_a_finding_outside_the_catalogue_is_refused() -> None:
    with pytest.raises(KeyError, match="not in the catalogue"):
        Finding("no-such-check", "error", "inputs", "t", "m", "h")
    with pytest.raises(ValueError, match="severity"):
        Finding("input-unreadable", "error", "inputs", "t", "m", "h")
    with pytest.raises(ValueError, match="category"):
        Finding("input-unreadable", "warning", "terraform", "t", "m", "h")
    f = new("control-plane-unreachable", "t", "m", "h")
    assert (f.severity, f.category) == ("error", "control-plane paths")


# -- generated files ---------------------------------------------------------------------------------------


def test_generated_docs_are_up_to_date() -> None:
    stale = [
        str(p.relative_to(ROOT))
        for p, want in docsgen.generated(ROOT).items()
        if p.read_text(encoding="utf-8") != want
    ]
    assert not stale, f"stale generated docs {stale}: run `python -m vizdoctor.docsgen`"


def test_checks_md_lists_every_check_with_its_page() -> None:
    md = (ROOT / "docs" / "checks.md").read_text()
    for spec in CATALOGUE.values():
        assert f"| [`{spec.id}`](#{spec.id}) |" in md
        assert f"\n## {spec.id}\n" in md
        assert spec.page().strip().splitlines()[0] in md


def test_cluster_role_covers_what_the_catalogue_reads() -> None:
    wanted = docsgen.live_kinds()
    readable = {k.kind for k in docsgen.read_specs()}
    assert wanted <= readable, f"the catalogue names kinds `check` never reads: {wanted - readable}"
    assert readable <= wanted, f"`check` reads kinds no check needs: {readable - wanted}"


def test_explain_md_has_every_cause() -> None:
    from vizdoctor.knowledge.errors import CAUSES

    md = (ROOT / "docs" / "explain.md").read_text()
    assert all(f"\n## {c}\n" in md for c in CAUSES)


# -- a new check needs one logic module and one catalogue entry ------------------------------------------------

FIXTURE = CheckSpec(
    "fixture-every-service-named",
    ("inputs",),
    ("warning",),
    "Every Service has a name longer than two letters",
    "A fixture check: it flags Services whose name has two letters or fewer.",
    "Rename the Service.",
    ("scan",),
)


def fixture_check(ctx: Context) -> list[Finding]:
    """The whole logic module of the fixture check."""
    return [
        new(FIXTURE.id, f"Service {o.name} has a short name", "m", FIXTURE.remediation)
        for o in ctx.inventory.objects.get("Service", [])
        if len(o.name) <= 3
    ]


@pytest.fixture
def fixture_catalogue(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setitem(CATALOGUE, FIXTURE.id, FIXTURE)
    real = checks.all_checks
    monkeypatch.setattr(checks, "all_checks", lambda: [*real(), fixture_check])
    yield


def test_a_new_check_flows_to_findings_docs_and_sarif(fixture_catalogue: None, tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\n")
    report = vizdoctor.scan([str(tmp_path)])
    [f] = [f for f in report.findings if f.check == FIXTURE.id]
    assert (f.severity, f.category, f.docs_url) == (
        "warning",
        "inputs",
        f"{DOCS_BASE}/checks.md#{FIXTURE.id}",
    )
    doc = json.loads(sarif.render(report))
    [rule] = [r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == FIXTURE.id]
    assert rule["shortDescription"]["text"] == FIXTURE.title
    assert rule["fullDescription"]["text"] == FIXTURE.summary
    assert rule["help"]["text"].startswith(FIXTURE.remediation)
    md = docsgen.checks_md()
    assert f"| [`{FIXTURE.id}`](#{FIXTURE.id}) | warning | inputs | scan | {FIXTURE.title} |" in md
    assert f"## {FIXTURE.id}" in md


# -- SARIF rules and the JSON contract ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_report() -> vizdoctor.Report:
    return vizdoctor.scan([str(EXAMPLE)])


def test_sarif_rules_come_from_the_catalogue(seed_report: vizdoctor.Report) -> None:
    doc = json.loads(sarif.render(seed_report))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == {f.check for f in seed_report.findings}
    for r in rules:
        spec = CATALOGUE[r["id"]]
        assert r["helpUri"] == spec.docs_url and r["help"]["markdown"]
        assert r["shortDescription"]["text"] == spec.title
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]


@pytest.mark.parametrize("name", ["report", "explain", "probe"])
def test_schemas_are_valid_json_schemas(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schemas.load(name))


def test_scan_json_matches_its_schema(seed_report: vizdoctor.Report) -> None:
    doc = json.loads(json_out.render(seed_report))
    jsonschema.validate(doc, schemas.load("report"))
    assert all(f["docs"].startswith(DOCS_BASE) for f in doc["findings"])
    broken = dict(doc, summary={"error": "many"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schemas.load("report"))


@pytest.mark.parametrize(
    "message",
    [
        "Websocket close error [1011: Internal Error] : HTTP error, status Code [503] (unexpected API response: "
        "service unavailable)",
        "failing or missing response from https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1: Get "
        '"https://10.0.1.23:8089/apis/tap.linkerd.io/v1alpha1": dial tcp 10.0.1.23:8089: i/o timeout',
        "something nobody wrote down",
    ],
)
def test_explain_json_matches_its_schema(message: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["explain", "-o", "json", message])
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, schemas.load("explain"))
    assert status == (1 if doc["cause"] == "unknown" else 0)
    assert doc["docs"] == f"{DOCS_BASE}/explain.md#{doc['cause']}"
    assert [s["text"] for s in doc["steps"]] == doc["next_steps"]


def test_probe_json_matches_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a port on loopback with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status = main(["probe", "-o", "json", "--timeout", "1", f"http://127.0.0.1:{port}/"])
    out = capsys.readouterr()
    assert status == 2 and "vizdoctor:" in out.err and "Traceback" not in out.err


# -- the library API --------------------------------------------------------------------------------------------


def test_every_exported_name_resolves() -> None:
    for name in vizdoctor.__all__:
        assert getattr(vizdoctor, name) is not None, name
    with pytest.raises(AttributeError):
        _ = vizdoctor.no_such_name  # type: ignore[attr-defined]


def test_errors_share_one_base() -> None:
    for name in ("UsageError", "NoInput", "ClusterUnreachable", "ProbeUsageError"):
        assert issubclass(getattr(vizdoctor, name), vizdoctor.VizdoctorError)


def test_library_calls_return_typed_results(seed_report: vizdoctor.Report, tmp_path: Path) -> None:
    assert isinstance(seed_report, vizdoctor.Report)
    blocked = [p for p in seed_report.paths if p.status == "blocked"]
    assert any(p.target_port == 8089 for p in blocked)
    e = vizdoctor.explain("dial tcp 10.0.1.23:8089: i/o timeout")
    assert isinstance(e, vizdoctor.Explanation) and e.cause == "network-blocked" and e.port == 8089
    assert any(s.role == "inspect" for s in e.steps) or e.steps
    with pytest.raises(vizdoctor.NoInput):
        vizdoctor.scan([str(tmp_path)])
    with pytest.raises(vizdoctor.ProbeUsageError):
        vizdoctor.probe(vizdoctor.ProbeOptions(url="ftp://x/"))


def test_check_without_a_cluster_raises_the_library_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-kubeconfig"
    with pytest.raises(vizdoctor.ClusterUnreachable):
        vizdoctor.check(vizdoctor.CheckOptions(kubeconfig=str(missing), timeout=2))


def test_the_cli_speaks_through_the_library_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["check", "--kubeconfig", str(tmp_path / "none"), "--timeout", "2s"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vizdoctor: ") and err.count("\n") == 1 and "Traceback" not in err


# -- `vizdoctor docs` -------------------------------------------------------------------------------------------


def test_docs_prints_a_page_offline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "control-plane-unreachable"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# control-plane-unreachable\n")
    assert CATALOGUE["control-plane-unreachable"].remediation in out
    assert main(["docs"]) == 0 and "`dashboard-no-tls`" in capsys.readouterr().out
    assert main(["docs", "nope"]) == 2 and "no check 'nope'" in capsys.readouterr().err


def test_text_output_links_the_versioned_docs(seed_report: vizdoctor.Report) -> None:
    import io

    buf = io.StringIO()
    text.render(seed_report, buf, False)
    assert f"{DOCS_BASE}/checks.md#control-plane-unreachable" in buf.getvalue()
    assert "docs/checks.md#" not in buf.getvalue().replace(DOCS_BASE + "/checks.md", "")


# -- layering --------------------------------------------------------------------------------------------------


def _imports() -> dict[str, set[str]]:
    """module -> the vizdoctor modules it imports anywhere (function-local imports count too)."""
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        mod = ".".join(rel.parts).removesuffix(".__init__")
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vizdoctor"):
                submodules = {f"{node.module}.{a.name}" for a in node.names}
                deps.update(submodules)
                # `from pkg import submodule` depends on the submodule, not on the package's own code
                if not any((SRC.parent / (m.replace(".", "/") + ".py")).exists() for m in submodules):
                    deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("vizdoctor"))
        graph[mod] = deps
    modules = set(graph)
    return {m: {d for d in deps if d in modules and d != m} for m, deps in graph.items()}


GRAPH = _imports()


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        (
            "vizdoctor.sources",
            ("vizdoctor.checks", "vizdoctor.commands", "vizdoctor.render", "vizdoctor.report"),
        ),
        ("vizdoctor.render", ("vizdoctor.checks", "vizdoctor.commands")),
        ("vizdoctor.checks", ("vizdoctor.commands", "vizdoctor.cli")),
        ("vizdoctor.prober", ("vizdoctor.commands", "vizdoctor.cli")),
        ("vizdoctor.remediation", ("vizdoctor.checks", "vizdoctor.commands", "vizdoctor.render")),
        (
            "vizdoctor.knowledge",
            ("vizdoctor.sources", "vizdoctor.checks", "vizdoctor.commands", "vizdoctor.render"),
        ),
    ],
)
def test_layers_import_only_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    bad = sorted(
        f"{m} -> {d}"
        for m, deps in GRAPH.items()
        if _in(m, layer)
        for d in deps
        if any(_in(d, f) for f in forbidden)
    )
    assert not bad


def test_no_import_cycles() -> None:
    # The package facade (vizdoctor/__init__) only loads names lazily; leave it out.
    graph = {m: {d for d in deps if d != "vizdoctor"} for m, deps in GRAPH.items() if m != "vizdoctor"}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, stack: list[str]) -> bool:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cycle.extend([*stack[stack.index(d) :], d] if d in stack else [m, d])
                return True
            if d not in state and visit(d, [*stack, d]):
                return True
        state[m] = 2
        return False

    for m in sorted(graph):
        if m not in state and visit(m, [m]):
            break
    assert not cycle, " -> ".join(cycle)
